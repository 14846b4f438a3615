from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, Regexp, ValidationError

from tracker.forms import AppForm, MultiCheckboxField, blank_to_none, strip_filter, whole_id
from tracker.models import Invoice, Payment, Remittance
from tracker.services.dates import today_in_london
from tracker.services.money import MAX_TYPED_NUMBER, parse_decimal, with_figures_hint

MAX_PAYMENT = Decimal("10000000")
POSITIVE = "Enter an amount greater than £0"
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


def amount_problem(text: str | None, *, example: str, zero: str | None = None) -> str | None:
    """What is wrong with an amount typed in pounds, or None. `zero`: how to say that an
    amount must be more than £0 (None: £0.00 is accepted, a negative amount is not)."""
    value = parse_decimal(text)
    if value is None:
        return with_figures_hint(f"Enter the amount as a number, like {example}", text)
    if zero is not None and value <= 0:
        return zero
    if value < 0:
        return "Enter an amount of £0.00 or more, or leave it blank"
    if value != value.quantize(Decimal("0.01")):
        return f"Enter the amount in pounds and pence, like {example}"
    if value > MAX_PAYMENT:
        return "Enter an amount under £10,000,000"
    return None


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
        problem = amount_problem(field.data, example="1250.00", zero=POSITIVE)
        if problem:
            raise ValidationError(problem)

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
            problem = amount_problem(
                field.data, example="450.00", zero=f"{POSITIVE}, or leave it blank"
            )
            if problem:
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


# --- remittances and statements ----------------------------------------------------------


class RemittanceForm(AppForm):
    """A remittance: the ICB's reference, the date and amount received, and an amount to
    allocate to each of the practice's open invoices (``allocate_<invoice id>``, blank for
    an invoice it does not pay). Made for those invoices by remittance_form; that the
    allocations add up is the service's rule (services.remittances), shown beside the
    amount."""

    model = Remittance
    limits: ClassVar[Mapping[str, int]] = {"amount": MAX_TYPED_NUMBER}
    nouns = {"reference": "The reference"}
    #: the invoice ids, in the order the page lists them, each with its allocation field
    invoice_ids: ClassVar[tuple[int, ...]] = ()

    reference = StringField(
        "The ICB's remittance reference",
        filters=[strip_filter],
        validators=[DataRequired("Enter the ICB's remittance reference")],
    )
    received_on = DateField(
        "Date received",
        format="%Y-%m-%d",
        validators=[DataRequired("Enter the date the money was received")],
    )
    amount = _money_field("Amount received")

    def validate_amount(self, field: StringField) -> None:
        problem = amount_problem(field.data, example="1250.00", zero=POSITIVE)
        if problem:
            raise ValidationError(problem)

    def allocation(self, invoice_id: int) -> StringField:
        field = self[f"allocate_{invoice_id}"]
        assert isinstance(field, StringField)
        return field

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for invoice_id in self.invoice_ids:
            field = self.allocation(invoice_id)
            if field.errors or not field.data:
                continue
            problem = amount_problem(field.data, example="450.00")
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        return valid

    @property
    def amount_value(self) -> Decimal:
        """The amount received (call after validate)."""
        return parse_decimal(self.amount.data) or Decimal("0")

    @property
    def allocations(self) -> dict[int, Decimal]:
        """The amounts typed, by invoice id; blanks left out (call after validate)."""
        typed = {i: parse_decimal(self.allocation(i).data) for i in self.invoice_ids}
        return {i: value for i, value in typed.items() if value is not None}


def remittance_form(invoices: Mapping[int, str], **kwargs: Any) -> RemittanceForm:
    """A RemittanceForm with an allocation field for each of these invoices (number by
    id, in the order listed)."""
    fields: dict[str, Any] = {
        f"allocate_{i}": StringField(
            f"Allocate to invoice {number}", filters=[strip_filter], validators=[Optional()]
        )
        for i, number in invoices.items()
    }
    limits = {**RemittanceForm.limits, **{name: MAX_TYPED_NUMBER for name in fields}}
    form_class = type(
        "InvoicesRemittanceForm",
        (RemittanceForm,),
        {**fields, "limits": limits, "invoice_ids": tuple(invoices)},
    )
    return form_class(**kwargs)  # type: ignore[no-any-return]


class AccountForm(AppForm):
    """Which practice's account with which ICB: the remittance and statement pages' choice
    (a GET, so no CSRF token: choosing changes nothing)."""

    class Meta:
        csrf = False

    practice = SelectField("Practice", coerce=whole_id, validate_choice=False)
    icb = SelectField("ICB", coerce=whole_id, validate_choice=False)


class StatementForm(AccountForm):
    as_at = DateField("Statement date", format="%Y-%m-%d", validators=[Optional()])

    def validate_as_at(self, field: DateField) -> None:
        if field.data and field.data > today_in_london():
            raise ValidationError("The statement date cannot be in the future")
