from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, Regexp, ValidationError

from tracker.forms import AppForm, MultiCheckboxField, blank_to_none, strip_filter, whole_id
from tracker.models import Invoice, Payment
from tracker.services.money import MAX_TYPED_NUMBER, parse_decimal, with_figures_hint

MAX_PAYMENT = Decimal("10000000")
#: Longest notes printed on an invoice, and longest reason for a credit note (the columns
#: are unbounded TEXT; these keep the printed invoice to a page of notes).
MAX_NOTES = 2000
MAX_CREDIT_REASON = 500


class NewInvoiceForm(AppForm):
    incident_ids = MultiCheckboxField("Whole incidents", coerce=whole_id, validate_choice=True)
    cost_line_ids = MultiCheckboxField("Single cost lines", coerce=whole_id, validate_choice=True)

    def validate_cost_line_ids(self, field: MultiCheckboxField) -> None:
        if not field.data and not self.incident_ids.data:
            raise ValidationError("Choose at least one incident or cost line to invoice")


class DraftDetailsForm(AppForm):
    model = Invoice
    limits = {"notes": MAX_NOTES}
    nouns = {"po_reference": "The reference", "notes": "Notes"}

    po_reference = StringField(
        "Purchase-order or reference number",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Regexp(
                r"^[A-Za-z0-9 /._#-]+$", message="Use letters, digits, spaces and / . _ # - only"
            ),
        ],
    )
    issue_date = DateField(
        "Invoice date",
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    notes = TextAreaField(
        "Notes to print on the invoice",
        filters=[strip_filter],
        validators=[Optional()],
    )


def _money_field(label: str) -> StringField:
    return StringField(
        label, filters=[strip_filter], validators=[DataRequired("Enter the amount, like 1250.00")]
    )


class PaymentForm(AppForm):
    model = Payment
    limits = {"amount": MAX_TYPED_NUMBER}

    amount = _money_field("Amount received")
    paid_on = DateField(
        "Date received",
        format="%Y-%m-%d",
        validators=[DataRequired("Enter the date the payment was received")],
    )
    reference = StringField("Remittance reference", filters=[strip_filter], validators=[Optional()])

    def validate_amount(self, field: StringField) -> None:
        value = parse_decimal(field.data)
        if value is None:
            raise ValidationError(
                with_figures_hint("Enter the amount as a number, like 1250.00", field.data)
            )
        if value <= 0:
            raise ValidationError("Enter an amount greater than £0")
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError("Enter the amount in pounds and pence, like 1250.00")
        if value > MAX_PAYMENT:
            raise ValidationError("Enter an amount under £10,000,000")

    @property
    def amount_value(self) -> Decimal:
        value = parse_decimal(self.amount.data)
        assert value is not None
        return value


class RefundForm(PaymentForm):
    amount = _money_field("Amount refunded")
    paid_on = DateField(
        "Date refunded",
        format="%Y-%m-%d",
        validators=[DataRequired("Enter the date of the refund")],
    )
    reference = StringField("Refund reference", filters=[strip_filter], validators=[Optional()])


class CreditForm(AppForm):
    limits = {"reason": MAX_CREDIT_REASON}
    nouns = {"reason": "The reason"}

    reason = TextAreaField(
        "Why is this invoice being cancelled?",
        filters=[strip_filter],
        validators=[
            DataRequired("Enter the reason for the credit note"),
        ],
    )


class LineCreditForm(AppForm):
    """A credit note for chosen lines or parts of lines: one amount field per invoice line
    (``amount_<line id>``, blank for a line not credited) and the reason. Made for one
    invoice's lines by line_credit_form."""

    limits: ClassVar[Mapping[str, int]] = {"reason": MAX_CREDIT_REASON}
    nouns = {"reason": "The reason"}
    #: the invoice line ids, in print order, each with its amount field
    line_ids: ClassVar[tuple[int, ...]] = ()

    reason = TextAreaField(
        "Why are these amounts being credited?",
        filters=[strip_filter],
        validators=[DataRequired("Enter the reason for the credit note")],
    )

    def amount_field(self, line_id: int) -> StringField:
        field = self[f"amount_{line_id}"]
        assert isinstance(field, StringField)
        return field

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for line_id in self.line_ids:
            field = self.amount_field(line_id)
            if field.errors or not field.data:
                continue
            value = parse_decimal(field.data)
            if value is None:
                message = "Enter the amount as a number, like 450.00"
                problem = with_figures_hint(message, field.data)
            elif value <= 0:
                problem = "Enter an amount greater than £0, or leave it blank"
            elif value != value.quantize(Decimal("0.01")):
                problem = "Enter the amount in pounds and pence, like 450.00"
            else:
                continue
            field.errors = [*field.errors, problem]
            valid = False
        if valid and not self.amounts:
            self.form_errors.append("Enter an amount to credit on at least one line")
            valid = False
        return valid

    @property
    def amounts(self) -> dict[int, Decimal]:
        """The amounts typed, by invoice line id (call after validate)."""
        typed = {i: parse_decimal(self.amount_field(i).data) for i in self.line_ids}
        return {i: value for i, value in typed.items() if value is not None}


def line_credit_form(line_ids: Sequence[int], **kwargs: Any) -> LineCreditForm:
    """A LineCreditForm with an amount field for each of these invoice lines."""
    fields: dict[str, Any] = {
        f"amount_{i}": StringField(
            "Amount to credit", filters=[strip_filter], validators=[Optional()]
        )
        for i in line_ids
    }
    limits = {**LineCreditForm.limits, **{name: MAX_TYPED_NUMBER for name in fields}}
    form_class = type(
        "InvoiceLineCreditForm",
        (LineCreditForm,),
        {**fields, "limits": limits, "line_ids": tuple(line_ids)},
    )
    return form_class(prefix="part", **kwargs)  # type: ignore[no-any-return]


STATUS_CHOICES = [
    ("", "Any status"),
    ("draft", "Draft"),
    ("unpaid", "Issued, not paid"),
    ("part_paid", "Part-paid"),
    ("paid", "Paid"),
    ("settled", "Settled (part credited, rest paid)"),
    ("overdue", "Overdue"),
    ("cancelled", "Cancelled"),
    ("credit_note", "Credit notes"),
]


class RegisterFilterForm(AppForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    practice = SelectField("Practice", coerce=whole_id, validate_choice=False)
    status = SelectField("Status", choices=STATUS_CHOICES, validate_choice=False)
    icb = SelectField("ICB", coerce=whole_id, validate_choice=False)
    date_from = DateField("Issued from", format="%Y-%m-%d", validators=[Optional()])
    date_to = DateField("Issued to", format="%Y-%m-%d", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("“Issued to” must be the same as or after “Issued from”")


class SendForm(AppForm):
    """Confirms sending an invoice to the ICB by email: no fields, only the CSRF token, so
    a send is always a deliberate POST from the confirmation page."""
