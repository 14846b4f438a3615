from __future__ import annotations

import re
from typing import Any

from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from tracker.forms import (
    AppForm,
    MultiCheckboxField,
    blank_to_none,
    strip_filter,
    upper_filter,
    whole_id,
)
from tracker.models import (
    ICB_ROLES,
    ROLE_LABELS_CHOICES,
    Icb,
    Practice,
    Role,
    User,
    is_valid_practice_code,
)
from tracker.models.directory import ICB_ODS_PATTERN
from tracker.services.accounts import MAX_PASSWORD_LENGTH, password_problem
from tracker.services.money import MAX_TYPED_NUMBER
from tracker.services.peppol import SCHEME_CODES, SCHEMES, endpoint_problem, normalise_endpoint
from tracker.services.practices import list_size_problem, parse_list_size
from tracker.services.work_queue import DEFAULT_TARGET_DAYS, MAX_TARGET_DAYS

SORT_CODE = re.compile(r"^\d{2}-?\d{2}-?\d{2}$")


class UserForm(AppForm):
    model = User
    limits = {"password": MAX_PASSWORD_LENGTH}
    nouns = {"name": "Name"}

    name = StringField(
        "Full name",
        filters=[strip_filter],
        validators=[DataRequired("Enter the user's name")],
    )
    email = EmailField(
        "Email",
        filters=[strip_filter],
        validators=[
            DataRequired("Enter an email address"),
            Email(
                "Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )
    password = StringField("Password", validators=[Optional()])
    role = RadioField(
        "Role", choices=[("", "None (administrator only)"), *ROLE_LABELS_CHOICES], default=""
    )
    practice_ids = MultiCheckboxField("Practices", coerce=whole_id, validate_choice=True)
    icb_id = SelectField(
        "ICB (for ICB reviewers and finance approvers)", coerce=whole_id, validate_choice=True
    )
    is_admin = BooleanField("Administrator")
    active = BooleanField("Account active", default=True)

    def validate_password(self, field: StringField) -> None:
        """The service's policy (`services.accounts.password_problem`), against the email
        and name as typed on this form."""
        problem = password_problem(
            field.data or "", email=self.email.data or "", name=self.name.data or ""
        )
        if problem:
            raise ValidationError(problem)

    def validate_role(self, field: RadioField) -> None:
        if field.data in ("practice_manager", "finance") and not self.practice_ids.data:
            raise ValidationError("Choose at least one practice for this role")
        if field.data in ICB_ROLES and not self.icb_id.data:
            who = "approver" if field.data == Role.ICB_FINANCE_APPROVER else "reviewer"
            raise ValidationError(f"Choose the ICB this {who} belongs to")
        if not field.data and not self.is_admin.data:
            raise ValidationError("Choose a role, or make the user an administrator")


def validate_ods_code(_form: AppForm, field: StringField) -> None:
    if not is_valid_practice_code(field.data or ""):
        raise ValidationError(
            "Enter a practice ODS code: one capital letter and five digits, like A81001"
        )


#: Longest postal address (an unbounded TEXT column; a few printed lines on an invoice).
MAX_ADDRESS = 500


class EndpointFields(AppForm):
    """The Peppol electronic address an e-invoice is delivered to (EN 16931 BT-34 for a
    practice, BT-49 for an ICB): a scheme and an identifier, both or neither, checked by
    services.peppol (a GLN's GS1 check digit, a VAT number's form)."""

    #: as long as the column allows (the same on practice and icb, migration 0007)
    limits = {"endpoint_id": 50}

    endpoint_scheme = SelectField(
        "Peppol endpoint scheme",
        choices=[("", "None yet"), *SCHEMES],
        default="",
        # a party with no scheme yet holds None, not "": the check is validate_endpoint_id's
        validate_choice=False,
    )
    endpoint_id = StringField(
        "Peppol endpoint identifier", filters=[normalise_endpoint], validators=[Optional()]
    )

    def validate_endpoint_scheme(self, field: SelectField) -> None:
        if field.data and field.data not in SCHEME_CODES:
            raise ValidationError("Choose one of the schemes listed")

    def validate_endpoint_id(self, field: StringField) -> None:
        if self.endpoint_scheme.data and self.endpoint_scheme.data not in SCHEME_CODES:
            return  # said beside the scheme
        problem = endpoint_problem(self.endpoint_scheme.data or None, field.data)
        if problem:
            raise ValidationError(problem)

    @property
    def data(self) -> dict[str, Any]:
        """The form's values, a scheme left as "None yet" stored as none."""
        values: dict[str, Any] = dict(super().data)
        values["endpoint_scheme"] = values.get("endpoint_scheme") or None
        return values


class PracticeDetailsForm(EndpointFields):
    """What a practice's own staff may edit."""

    model = Practice
    limits = {**EndpointFields.limits, "address": MAX_ADDRESS, "list_size": MAX_TYPED_NUMBER}
    nouns = {"name": "Name"}

    address = TextAreaField(
        "Postal address",
        filters=[strip_filter],
        validators=[DataRequired("Enter the practice's postal address")],
    )
    contact_email = EmailField(
        "Contact email",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Email("Enter an email address in the correct format", check_deliverability=False),
        ],
    )
    contact_phone = StringField(
        "Contact phone",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Regexp(r"^[0-9 +()-]{6,30}$", message="Enter a phone number, like 020 7946 0000"),
        ],
    )
    vat_number = StringField(
        "VAT registration number",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Regexp(
                r"^(GB)?\s?\d{3}\s?\d{4}\s?\d{2}(\s?\d{3})?$",
                message="Enter a UK VAT number, like GB 123 4567 89",
            ),
        ],
    )
    bank_account_name = StringField(
        "Account name", filters=[blank_to_none], validators=[Optional()]
    )
    bank_sort_code = StringField(
        "Sort code",
        filters=[blank_to_none],
        validators=[Optional(), Regexp(SORT_CODE, message="Enter a sort code, like 30-94-57")],
    )
    bank_account_number = StringField(
        "Account number",
        filters=[blank_to_none],
        validators=[Optional(), Regexp(r"^\d{8}$", message="Enter an 8-digit account number")],
    )
    remittance_email = EmailField(
        "Remittance email",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Email("Enter an email address in the correct format", check_deliverability=False),
        ],
    )
    lmc_email = EmailField(
        "LMC email",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Email("Enter an email address in the correct format", check_deliverability=False),
        ],
    )
    payment_terms_days = SelectField(
        "Payment terms",
        coerce=int,
        default=30,
        choices=[(14, "14 days"), (30, "30 days"), (60, "60 days")],
    )
    list_size = StringField("Registered list size", filters=[strip_filter])

    def validate_list_size(self, field: StringField) -> None:
        problem = list_size_problem(None if field.data is None else str(field.data))
        if problem:
            raise ValidationError(problem)

    @property
    def data(self) -> dict[str, Any]:
        """The form's values, the list size as a whole number (None when left blank)."""
        values = super().data
        typed = values.get("list_size")
        values["list_size"] = typed if isinstance(typed, int) else parse_list_size(typed)
        return values


class PracticeForm(PracticeDetailsForm):
    """What an administrator sets when adding or editing a practice."""

    ods_code = StringField(
        "ODS code",
        filters=[upper_filter],
        validators=[DataRequired("Enter the practice's ODS code"), validate_ods_code],
    )
    name = StringField(
        "Practice name",
        filters=[strip_filter],
        validators=[DataRequired("Enter the practice's name")],
    )
    icb_id = SelectField("ICB", coerce=whole_id, validate_choice=True)
    pcn_name = StringField("Primary care network", filters=[blank_to_none], validators=[Optional()])
    active = BooleanField("Practice active", default=True)


class IcbForm(EndpointFields):
    model = Icb
    limits = {**EndpointFields.limits, "invoice_address": MAX_ADDRESS}
    nouns = {"name": "Name"}

    ods_code = StringField(
        "ODS code",
        filters=[upper_filter],
        validators=[
            DataRequired("Enter the ICB's ODS code"),
            Regexp(ICB_ODS_PATTERN, message="Enter a 3-character ODS code, like QMJ"),
        ],
    )
    name = StringField(
        "Name",
        filters=[strip_filter],
        validators=[DataRequired("Enter the ICB's name")],
    )
    region = StringField("NHS England region", filters=[blank_to_none], validators=[Optional()])
    payables_code = StringField(
        "Payables code",
        filters=[upper_filter],
        validators=[
            Optional(),
            Regexp(
                r"^[A-Z0-9]{4}$", message="Enter the 4-character payables code the ICB gave you"
            ),
        ],
    )
    invoice_address = TextAreaField(
        "Invoice address", filters=[blank_to_none], validators=[Optional()]
    )
    invoice_email = EmailField(
        "Invoice email",
        filters=[blank_to_none],
        validators=[
            Optional(),
            Email("Enter an email address in the correct format", check_deliverability=False),
        ],
    )
    retired = BooleanField("Retired (merged or closed)")
    two_step_sign_off = BooleanField("Two-step sign-off")
    review_target_days = IntegerField(
        "Review target, in days",
        default=DEFAULT_TARGET_DAYS,
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_TARGET_DAYS,
                message=f"Enter a number of days from 1 to {MAX_TARGET_DAYS}",
            ),
        ],
    )

    @property
    def data(self) -> dict[str, Any]:
        """The form's values; a review target left blank keeps the one set (a new ICB's is
        the default)."""
        values = super().data
        if values.get("review_target_days") is None:
            values.pop("review_target_days", None)
        return values
