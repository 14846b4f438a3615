"""Forms for incidents, their cost lines, evidence and outage events.

The forms only read what was typed (keeping it for redisplay); the rules live in
services.incidents and services.cost_lines, whose refusals are shown next to the field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired

from tracker.forms import MultiCheckboxField, strip_filter
from tracker.models import SYSTEMS
from tracker.presentation import format_number
from tracker.services.cost_lines import APPOINTMENT_TYPES
from tracker.services.money import parse_decimal


class NumberField(StringField):
    """A number typed as text ("1,234.50", "£45", "14.38%"); kept as typed on errors."""

    def __init__(self, label: str, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = parse_decimal(text)
        if text and self.data is None:
            raise ValueError(self.invalid)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, Decimal):
            return format_number(self.data).replace(",", "")
        return ""


class _PlainInvalidMessage:
    """A date or time field that is blank when empty and says `invalid` in words people
    understand when what was typed is not a date or time."""

    def __init__(self, label: str, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)  # type: ignore[call-arg]
        self.invalid = invalid

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata([valuelist[0].strip()])  # type: ignore[misc]
        except ValueError as error:
            raise ValueError(self.invalid) from error


class UKDateField(_PlainInvalidMessage, DateField):
    """A date with a message people understand when it is not one."""


class UKTimeField(_PlainInvalidMessage, TimeField):
    """A time with a message people understand when it is not one."""


def combine(day: date | None, clock: time | None) -> datetime | None:
    """A date and a time together; None unless both were given (never a silent midnight)."""
    if day is None or clock is None:
        return None
    return datetime.combine(day, clock)


class IncidentForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[strip_filter],
        validators=[InputRequired("Enter a title for the incident")],
    )
    start_date = UKDateField(
        "Start date",
        "Enter the start date as a real date, like 19/07/2024",
        validators=[InputRequired("Enter the date the outage started")],
    )
    start_time = UKTimeField(
        "Start time",
        "Enter the start time in the 24-hour clock, like 07:10",
        validators=[InputRequired("Enter the time the outage started")],
    )
    end_date = UKDateField("End date", "Enter the end date as a real date, like 20/07/2024")
    end_time = UKTimeField("End time", "Enter the end time in the 24-hour clock, like 13:00")
    systems = MultiCheckboxField("Systems affected", choices=list(SYSTEMS.items()))
    systems_other = StringField("Other system affected", filters=[strip_filter])
    cause = TextAreaField("Cause", filters=[strip_filter])
    supplier_reference = StringField("Supplier's incident reference", filters=[strip_filter])
    impact = TextAreaField("Impact on the practice", filters=[strip_filter])
    outage_event_id = SelectField("Outage event", coerce=int, validate_choice=True)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # the end needs both a date and a time, or neither (while the outage continues);
        # a field that failed to parse has its own message already
        has_date = self.end_date.data is not None or bool(self.end_date.errors)
        has_time = self.end_time.data is not None or bool(self.end_time.errors)
        if has_time and not has_date:
            self.end_date.errors = ["Enter the end date, or clear the end time"]
            valid = False
        elif has_date and not has_time:
            self.end_time.errors = ["Enter the end time, or clear the end date"]
            valid = False
        return valid

    def validate_systems(self, field: MultiCheckboxField) -> None:
        if not field.data:
            field.errors.append("Select the systems affected")


class LineForm(FlaskForm):
    """What every kind of cost line has."""

    line_date = UKDateField(
        "Date of the cost",
        "Enter the date as a real date, like 19/07/2024",
        validators=[InputRequired("Enter the date of the cost")],
    )
    description = StringField(
        "Description", filters=[strip_filter], validators=[InputRequired("Enter a description")]
    )
    vat_rate = NumberField("VAT rate", "Enter the VAT rate as a number, like 20")
    evidence = FileField("Evidence")


def _hours(label: str = "Hours") -> NumberField:
    return NumberField(
        label,
        f"Enter {label.lower()} as a number, like 6.5",
        validators=[InputRequired(f"Enter the {label.lower()}")],
    )


def _money(label: str, required: bool = True) -> NumberField:
    validators = [InputRequired(f"Enter the {label.lower()}")] if required else []
    return NumberField(
        label, f"Enter the {label.lower()} as an amount, like 18.66", validators=validators
    )


def _percent(label: str, required: bool = True) -> NumberField:
    validators = [InputRequired(f"Enter the {label.lower()}, or 0")] if required else []
    return NumberField(
        label, f"Enter the {label.lower()} as a percentage, like 14.38", validators=validators
    )


class StaffForm(LineForm):
    #: The order the page shows the fields in, so the error summary follows it.
    display_order = (
        "staff_role",
        "description",
        "line_date",
        "quantity",
        "unit_rate",
        "overtime_pct",
        "pension_pct",
        "ni_pct",
        "vat_rate",
        "evidence",
    )

    staff_role = StringField(
        "Staff member or role",
        filters=[strip_filter],
        validators=[InputRequired("Enter the staff member or role")],
    )
    quantity = _hours()
    unit_rate = _money("Hourly rate")
    overtime_pct = _percent("Overtime premium")
    pension_pct = _percent("Employer pension")
    ni_pct = _percent("Employer National Insurance")


class LocumForm(LineForm):
    #: The order the page shows the fields in, so the error summary follows it.
    display_order = (
        "locum_name",
        "description",
        "line_date",
        "unit",
        "quantity",
        "unit_rate",
        "pension_pct",
        "locum_invoice_ref",
        "vat_rate",
        "evidence",
    )

    locum_name = StringField(
        "Locum's name", filters=[strip_filter], validators=[InputRequired("Enter the locum's name")]
    )
    unit = RadioField(
        "Charged by",
        choices=[("session", "Session (4 hours 10 minutes)"), ("hour", "Hour")],
        default="session",
        validate_choice=True,
    )
    quantity = NumberField(
        "Sessions or hours",
        "Enter the number of sessions or hours, like 2",
        validators=[InputRequired("Enter the number of sessions or hours")],
    )
    unit_rate = _money("Rate per session or hour")
    pension_pct = _percent("Employer pension")
    locum_invoice_ref = StringField("Locum's invoice number", filters=[strip_filter])


class AppointmentsForm(LineForm):
    #: The order the page shows the fields in, so the error summary follows it.
    display_order = (
        "appointment_type",
        "description",
        "line_date",
        "quantity",
        "unit_rate",
        "vat_rate",
        "rebook_hours",
        "rebook_rate",
        "overtime_pct",
        "pension_pct",
        "ni_pct",
        "evidence",
    )

    appointment_type = RadioField(
        "Type of appointment", choices=list(APPOINTMENT_TYPES.items()), validate_choice=True
    )
    quantity = NumberField(
        "Number of appointments lost or cancelled",
        "Enter the number of appointments as a whole number, like 38",
        validators=[InputRequired("Enter the number of appointments")],
    )
    unit_rate = _money("Cost per appointment")
    rebook_hours = NumberField("Admin hours to rebook", "Enter the hours as a number, like 3")
    rebook_rate = _money("Admin hourly rate", required=False)
    overtime_pct = _percent("Overtime premium on admin time", required=False)
    pension_pct = _percent("Employer pension on admin time", required=False)
    ni_pct = _percent("Employer National Insurance on admin time", required=False)

    def validate_quantity(self, field: NumberField) -> None:
        if field.data is not None and field.data != field.data.to_integral_value():
            field.errors.append("Enter the number of appointments as a whole number, like 38")


class ExpenseForm(LineForm):
    #: The order the page shows the fields in, so the error summary follows it.
    display_order = (
        "supplier",
        "description",
        "line_date",
        "net_amount",
        "vat_paid",
        "evidence",
    )

    supplier = StringField(
        "Supplier", filters=[strip_filter], validators=[InputRequired("Enter the supplier")]
    )
    net_amount = _money("Net amount")
    vat_paid = NumberField("VAT paid", "Enter the VAT paid as an amount, like 8.50")


FORMS: dict[str, type[LineForm]] = {
    "staff": StaffForm,
    "locum": LocumForm,
    "appointments": AppointmentsForm,
    "expense": ExpenseForm,
}


class EvidenceForm(FlaskForm):
    evidence = FileField("Add a file", validators=[FileRequired("Select a PDF, PNG or JPEG file")])


class EventForm(FlaskForm):
    name = StringField(
        "Name", filters=[strip_filter], validators=[InputRequired("Enter a name for the event")]
    )
    started_on = UKDateField("Date it started", "Enter the date as a real date, like 19/07/2024")
    description = TextAreaField("Description", filters=[strip_filter])


class FilterForm(FlaskForm):
    """The incident list's filters (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[("", "Any status"), ("open", "Open"), ("closed", "Closed")],
        validate_choice=False,
    )
    event = SelectField("Outage event", validate_choice=False)
