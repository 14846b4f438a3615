"""The columns of each kind's import template and paper form, derived from the kinds.

One column per field of a cost kind (tracker.cost_kinds), in the order its form shows them,
so a field added to a kind appears at once in the form, the downloadable template, the
import and the paper form. A column's `name` is the template's header and the paper form's
box label; `key` is the field it fills (a CostLine field or a details key, by the kind's
field name) or a derived input (staff time's "start" and "finish", from which the hours are
computed). Only the words differ from the form's: a header must be short, so a few long
labels ("How were the hours paid?") are worded here as headers ("Paid as").

Staff time may be given as Start and Finish (hh:mm; the hours between them are computed, a
finish earlier than the start is the next morning) or as Hours. When both are given, Hours
wins: it is what was paid and may leave out a break, so Start and Finish are then only a
record, and Hours may not be more than the time between them.

A leaf module: it imports only the standard library, tracker.presentation and
tracker.cost_kinds, so the import service, the templates' builder and the paper forms'
renderer can all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tracker.cost_kinds import CostKind, FieldSpec, FieldType, spec_for

#: Derived inputs: staff time's start and finish times (hh:mm), from which hours are computed.
START = "start"
FINISH = "finish"
#: Value types that are not a cost-kind field's: a time of day, a date and time.
TIME = "time"
DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    """One column of a kind's template (and one box of its paper form)."""

    #: the header in templates and the box label on paper forms, e.g. "Date"
    name: str
    #: what it fills: a cost-kind field name (a CostLine field or a details key), or a
    #: derived input (START, FINISH)
    key: str
    #: how to write it: "dd/mm/yyyy", "hh:mm", "£, e.g. 18.66", a choice list
    hint: str
    #: the example row's value
    example: str
    required: bool
    #: the kind of value: a tracker.cost_kinds.FieldType value, or TIME / DATETIME
    type: str = FieldType.TEXT.value
    #: for a choice: (stored value, the words to write in the cell), in the form's order
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def choice_words(self) -> tuple[str, ...]:
        """The words a cell may hold for a choice, as the template's drop-down lists them."""
        return tuple(words for _value, words in self.choices)


#: Headers worded shorter than the form's labels, by (kind, field) then by field name.
_HEADERS_BY_KIND = {
    ("appointments", "quantity"): "Number of appointments",
    ("appointments", "overtime_pct"): "Overtime premium on admin time",
}
_HEADERS = {
    "line_date": "Date",
    "staff_role": "Staff member or role",
    "pay_basis": "Paid as",
    "unit": "Charged by",
    "locum_pension": "NHS Pension Scheme",
    "locum_invoice_ref": "Locum's invoice number",
    "appointment_type": "Type of appointment",
    "rebook_basis": "Admin time paid as",
}
#: Words written in a choice's cell when the form's wording is too long for one.
_CHOICE_WORDS = {"unit": {"session": "Session", "hour": "Hour"}}

#: The example row of each kind's template, by field name.
_EXAMPLES: dict[str, dict[str, str]] = {
    "staff": {
        "staff_role": "Receptionist (Band 2)",
        "description": "Phoning patients to rebook",
        "line_date": "19/07/2024",
        START: "17:30",
        FINISH: "20:00",
        "quantity": "",
        "unit_rate": "12.45",
        "pay_basis": "overtime",
        "overtime_pct": "50",
        "vat_rate": "",
    },
    "locum": {
        "locum_name": "Dr A Khan",
        "description": "Locum GP cover for the backlog clinic",
        "line_date": "22/07/2024",
        "unit": "session",
        "quantity": "2",
        "unit_rate": "350.00",
        "locum_pension": "none",
        "locum_invoice_ref": "LOC-1234",
        "vat_rate": "",
    },
    "appointments": {
        "appointment_type": "gp",
        "description": "GP appointments cancelled while records were unavailable",
        "line_date": "19/07/2024",
        "quantity": "38",
        "unit_rate": "41.00",
        "vat_rate": "",
        "rebook_hours": "3:30",
        "rebook_rate": "12.45",
        "rebook_basis": "overtime",
        "overtime_pct": "50",
    },
    "expense": {
        "supplier": "Ryman",
        "description": "Paper and toner for paper records",
        "line_date": "19/07/2024",
        "net_amount": "1,250.00",
        "vat_paid": "250.00",
    },
}

_DATE_HINT = "dd/mm/yyyy"
_TIME_HINT = "hh:mm, 24-hour clock"


def _choices(kind: str, spec: FieldSpec) -> tuple[tuple[str, str], ...]:
    words = _CHOICE_WORDS.get(spec.name, {})
    return tuple(
        (value, words.get(value) or spec.choice_label(value)) for value, _label in spec.choices
    )


def _hint(kind: str, spec: FieldSpec, choices: tuple[tuple[str, str], ...]) -> str:
    """How to write the field's value in a cell."""
    if spec.type == FieldType.DATE:
        return _DATE_HINT
    if spec.type == FieldType.CHOICE:
        return "One of: " + "; ".join(words for _value, words in choices)
    if spec.type == FieldType.MONEY:
        return "£, e.g. 18.66"
    if spec.type == FieldType.PERCENT:
        return "%, e.g. 20; blank if none" if spec.name == "vat_rate" else "%, e.g. 50"
    if spec.type == FieldType.QUANTITY:
        if spec.places == 0:
            return "whole number, e.g. 38"
        if kind == CostKind.STAFF:
            return "number, e.g. 6.5, or h:mm, e.g. 6:30; or blank with Start and Finish"
        if "hour" in spec.clock_units and len(spec_for(kind).units) > 1:
            return "number, e.g. 2; hours may be h:mm, e.g. 6:30"
        return "number, e.g. 6.5, or h:mm, e.g. 6:30"
    if spec.max_length:
        return f"text, up to {spec.max_length} characters"
    return "text"


def _example(kind: str, spec: FieldSpec, choices: tuple[tuple[str, str], ...]) -> str:
    value = _EXAMPLES.get(kind, {}).get(spec.name, "")
    if spec.type == FieldType.CHOICE:
        value = value or spec.default or (choices[0][0] if choices else "")
        return dict(choices).get(value, value)
    return value


def _field_column(kind: str, spec: FieldSpec) -> Column:
    choices = _choices(kind, spec)
    required = spec.required and spec.group is None
    if kind == CostKind.STAFF and spec.name == "quantity":
        # hours or start and finish: neither column is required on its own
        required = False
    return Column(
        name=_HEADERS_BY_KIND.get((kind, spec.name)) or _HEADERS.get(spec.name) or spec.label,
        key=spec.name,
        hint=_hint(kind, spec, choices),
        example=_example(kind, spec, choices),
        required=required,
        type=spec.type.value,
        choices=choices,
    )


def _time_column(kind: str, name: str, key: str) -> Column:
    return Column(
        name=name,
        key=key,
        hint=_TIME_HINT,
        example=_EXAMPLES.get(kind, {}).get(key, ""),
        required=False,
        type=TIME,
    )


def columns(kind: CostKind | str) -> tuple[Column, ...]:
    """The columns of a kind's template and paper form, in the form's order. Staff time has
    Start and Finish before its Hours (give those, or the hours)."""
    return _columns(CostKind(kind).value)


@cache
def _columns(value: str) -> tuple[Column, ...]:
    result: list[Column] = []
    for spec in spec_for(value).fields:
        if value == CostKind.STAFF and spec.name == "quantity":
            result.append(_time_column(value, "Start", START))
            result.append(_time_column(value, "Finish", FINISH))
        result.append(_field_column(value, spec))
    return tuple(result)


def column_named(kind: CostKind | str, key: str) -> Column:
    """The column of a kind that fills `key`."""
    return next(c for c in columns(kind) if c.key == key)


def incident_columns() -> tuple[Column, ...]:
    """The outage log's columns (a paper form only): when it started and ended, the systems
    affected, what happened and the supplier's reference, as the incident form asks them."""
    return (
        Column(
            "Start",
            "starts_at",
            f"{_DATE_HINT} and {_TIME_HINT}",
            "19/07/2024 07:10",
            True,
            type=DATETIME,
        ),
        Column(
            "End",
            "ends_at",
            f"{_DATE_HINT} and {_TIME_HINT}; blank while it continues",
            "19/07/2024 13:00",
            False,
            type=DATETIME,
        ),
        Column(
            "Systems affected",
            "systems",
            "e.g. EMIS Web, SystmOne, Telephony, Internet, NHSmail, Docman, EPS, e-RS",
            "EMIS Web, EPS",
            True,
        ),
        Column(
            "What happened",
            "cause",
            "text",
            "EMIS Web would not open: CrowdStrike update on the server",
            True,
        ),
        Column(
            "Supplier's reference",
            "supplier_reference",
            "the supplier's incident or call number",
            "INC-0042",
            False,
        ),
    )
