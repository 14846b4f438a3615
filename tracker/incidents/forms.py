"""Forms for incidents, their cost lines, evidence and outage events.

The forms only read what was typed (keeping it for redisplay); the rules live in
services.incidents and services.cost_lines, whose refusals are shown next to the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import TextInput

from tracker.columns import FINISH, START, columns
from tracker.cost_kinds import KINDS, CostKind, FieldSpec, FieldType, KindSpec
from tracker.forms import AppForm, MultiCheckboxField, strip_filter, whole_id
from tracker.models import SYSTEMS, Incident, OutageEvent
from tracker.presentation import clock_minutes, clock_text, format_number
from tracker.services.cost_lines import clock_unit_problem, decimal_hours_problem
from tracker.services.incidents import MAX_TEXT
from tracker.services.money import (
    ClockError,
    parse_clock_hours,
    parse_decimal,
    with_figures_hint,
)


class NumberField(Field):
    """A number typed as text ("1,234.50", "£45", "14.38%"); kept as typed on errors.

    A text box whose data is the parsed Decimal (None when blank or not a number), so it builds
    on Field with a text input rather than on StringField, whose data is the text itself.
    With `clock_units`, hours may also be typed as h:mm ("4:10", read as 4.1667 hours), and a
    stored quantity that only h:mm shows exactly is shown back that way.
    """

    widget = TextInput()
    data: Decimal | None

    def __init__(
        self, label: str, invalid: str, clock_units: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        self.invalid = invalid
        self.clock_units = clock_units
        #: whether what was typed was h:mm (decimal hours keep at most 2 places)
        self.typed_clock = False

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        if self.clock_units and ":" in text:
            self.typed_clock = True
            try:
                self.data = parse_clock_hours(text)
            except ClockError as error:
                self.data = None
                raise ValueError(str(error)) from error
            return
        self.data = parse_decimal(text)
        if text and self.data is None:
            raise ValueError(with_figures_hint(self.invalid, text))

    def _value(self) -> str:
        if self.raw_data:
            typed: str = self.raw_data[0]
            return typed
        if isinstance(self.data, Decimal):
            minutes = clock_minutes(self.data, "hour") if self.clock_units else None
            if minutes is not None:
                return clock_text(minutes)
            return format_number(self.data).replace(",", "")
        return ""


class _PlainInvalidMessage(DateTimeField):
    """A date or time field that is blank when empty and says `invalid` in words people
    understand when what was typed is not a date or time.

    Mixed in before DateField or TimeField (both DateTimeField subclasses), so `super()` is
    theirs; the method resolution order is the same as with a plain mixin.
    """

    def __init__(self, label: str, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata([valuelist[0].strip()])
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


class IncidentForm(AppForm):
    model = Incident
    limits = {"cause": MAX_TEXT, "impact": MAX_TEXT}

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
    outage_event_id = SelectField("Outage event", coerce=whole_id, validate_choice=True)

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
            raise ValidationError("Select the systems affected")


class LineForm(AppForm):
    """What every kind of cost line has; the kind's own fields come from its specification
    (tracker.cost_kinds) through `line_form_class`."""

    #: The order the page shows the fields in, so the error summary follows it.
    display_order: tuple[str, ...] = ()
    #: The line's units (the first is the default), to know when h:mm may be typed.
    units: tuple[str, ...] = ()
    evidence = FileField("Evidence")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        unit_field = getattr(self, "unit", None)
        unit = (unit_field.data if unit_field is not None else None) or self.units[0]
        for item in self:
            if not isinstance(item, NumberField) or not item.typed_clock or item.errors:
                continue
            if unit not in item.clock_units:
                item.errors = [clock_unit_problem(unit)]
                valid = False
        return valid


def _whole_number(message: str) -> Callable[[Any, Any], None]:
    def check(form: Any, field: Any) -> None:
        if isinstance(field.data, Decimal) and field.data != field.data.to_integral_value():
            raise ValidationError(message)

    return check


def _decimal_places(spec: FieldSpec) -> Callable[[Any, Any], None]:
    """Hours typed as a decimal keep at most the field's places (services.cost_lines)."""

    def check(form: Any, field: Any) -> None:
        problem = decimal_hours_problem(spec, field.data, field.typed_clock)
        if problem:
            raise ValidationError(problem)

    return check


def form_field(spec: FieldSpec) -> Field:
    """The WTForms field for one field of a cost kind's specification."""
    required = [InputRequired(spec.missing)] if spec.required and spec.missing else []
    if spec.type == FieldType.TEXT:
        return StringField(spec.label, filters=[strip_filter], validators=required)
    if spec.type == FieldType.DATE:
        return UKDateField(spec.label, spec.invalid, validators=required)
    if spec.type == FieldType.CHOICE:
        return RadioField(
            spec.label, choices=list(spec.choices), default=spec.default, validate_choice=True
        )
    validators: list[Any] = list(required)
    if spec.places == 0:
        validators.append(_whole_number(spec.invalid))
    if spec.clock_units:
        validators.append(_decimal_places(spec))
    return NumberField(spec.label, spec.invalid, spec.clock_units, validators=validators)


def line_form_class(spec: KindSpec) -> type[LineForm]:
    """The form of one cost kind, built from its specification."""
    attrs: dict[str, Any] = {
        "display_order": spec.display_order,
        "units": spec.units,
        # the kind's own limits: a description as long as its column (CostLine.description
        # is declared with MAX_DESCRIPTION), a detail (kept in JSON) MAX_DETAIL
        "limits": {f.name: f.max_length for f in spec.fields if f.max_length is not None},
    }
    attrs.update({item.name: form_field(item) for item in spec.fields})
    name = spec.kind.title().replace("_", "") + "Form"
    return type(name, (LineForm,), attrs)


FORMS: dict[str, type[LineForm]] = {
    kind.value: line_form_class(spec) for kind, spec in KINDS.items()
}


def _optional(spec: FieldSpec) -> Field:
    """A field of the specification that may be left blank (its blank is checked elsewhere)."""
    return form_field(replace(spec, required=False))


_STAFF = KINDS[CostKind.STAFF]
_StaffForm = FORMS[CostKind.STAFF.value]


class TimesheetRowForm(_StaffForm):  # type: ignore[misc, valid-type]
    """One person's row of the timesheet page: the staff-time form's fields (so its checks
    and messages), less the evidence, plus Start and Finish, from which the hours are worked
    out when Hours is blank (services.cost_lines.worked_hours). Posted under a prefix per row
    ("row-2-quantity") within the page's form, which holds the CSRF token."""

    class Meta:
        csrf = False

    evidence = None
    start = UKTimeField("Start", "Enter the start time in the 24-hour clock, like 17:30")
    finish = UKTimeField("Finish", "Enter the finish time in the 24-hour clock, like 20:00")
    quantity = _optional(_STAFF.field_named("quantity"))
    display_order = tuple(column.key for column in columns(CostKind.STAFF))

    #: What someone typed for a person: a row with none of these is blank and left out
    #: (the date, rate, basis and premium are filled in for every row).
    typed_fields = ("staff_role", "description", START, FINISH, "quantity")

    def is_blank(self) -> bool:
        return not any(
            str(value).strip()
            for name in self.typed_fields
            for value in (self[name].raw_data or ())
        )


class TimesheetForm(AppForm):
    """The timesheet page: its CSRF token; the rows are TimesheetRowForms."""


class EvidenceForm(AppForm):
    evidence = FileField("Add a file", validators=[FileRequired("Select a PDF, PNG or JPEG file")])


class EventForm(AppForm):
    model = OutageEvent
    limits = {"description": MAX_TEXT}

    name = StringField(
        "Name", filters=[strip_filter], validators=[InputRequired("Enter a name for the event")]
    )
    started_on = UKDateField("Date it started", "Enter the date as a real date, like 19/07/2024")
    description = TextAreaField("Description", filters=[strip_filter])


class ProposeEventForm(AppForm):
    """A practice proposes an outage event its ICB has not added (services.events)."""

    model = OutageEvent
    limits = {"description": MAX_TEXT, "back": 20}

    name = StringField(
        "Name", filters=[strip_filter], validators=[InputRequired("Enter a name for the event")]
    )
    started_on = UKDateField(
        "Date it started",
        "Enter the date as a real date, like 19/07/2024",
        validators=[InputRequired("Enter the date the outage started")],
    )
    systems = MultiCheckboxField("Systems affected", choices=list(SYSTEMS.items()))
    description = TextAreaField("What happened", filters=[strip_filter])
    #: Where to go back to with the new event chosen: "new" (the incident form) or an
    #: incident's id (its edit form); blank for the events page.
    back = HiddenField()


class MergeEventForm(AppForm):
    """An ICB reviewer merges a proposal into a confirmed event."""

    target_id = SelectField("Merge it into", coerce=whole_id, validate_choice=True)


class DecideEventForm(AppForm):
    """Confirm a proposal: a button, with the form's CSRF token."""


class FilterForm(AppForm):
    """The incident list's filters (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[("", "Any status"), ("open", "Open"), ("closed", "Closed")],
        validate_choice=False,
    )
    event = SelectField("Outage event", validate_choice=False)


class ImportForm(AppForm):
    """A spreadsheet of one kind of cost to import into an incident."""

    kind = RadioField(
        "What does the file hold?",
        choices=[(kind.value, spec.label) for kind, spec in KINDS.items()],
        validate_choice=False,  # checked below, in words people understand
    )
    upload = FileField("Spreadsheet", validators=[FileRequired("Select a CSV or Excel file")])

    def validate_kind(self, field: RadioField) -> None:
        if field.data not in {kind.value for kind in KINDS}:
            raise ValidationError("Choose what the file holds")


class ConfirmImportForm(AppForm):
    """Confirm an import checked on the preview page: the upload is named by its token."""

    limits = {"token": 64}

    token = HiddenField()
    only_valid = BooleanField("Import only the valid rows")
    again = BooleanField("Import this file again")
