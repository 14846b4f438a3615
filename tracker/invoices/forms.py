from __future__ import annotations

from decimal import Decimal

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


STATUS_CHOICES = [
    ("", "Any status"),
    ("draft", "Draft"),
    ("unpaid", "Issued, not paid"),
    ("part_paid", "Part-paid"),
    ("paid", "Paid"),
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
