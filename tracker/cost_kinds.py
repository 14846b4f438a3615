"""What each kind of cost line is, declared once.

A cost kind's fields (label, hint, type, unit, limits), the units it is charged in, the
on-costs that apply to it and which of its details are carried onto an issued invoice all
live here (the arithmetic and the working it prints are services.costing's). The line
forms, the checks in services.cost_lines, the audit trail, the invoice snapshot and the
PDF/Excel builders read this module instead of listing the fields again, so adding a field
to a kind means a change here (plus a migration only if the field needs a column;
kind-specific text details live in the JSON `details` column and need none).

This is a leaf module: it imports only the standard library and tracker.presentation (where
the kinds' names are worded), so models, services, forms and documents can all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tracker.presentation import cost_kind_label


class CostKind(StrEnum):
    STAFF = "staff"
    LOCUM = "locum"
    APPOINTMENTS = "appointments"
    EXPENSE = "expense"

    @property
    def label(self) -> str:
        return COST_KIND_LABELS[self]

    @property
    def spec(self) -> KindSpec:
        return KINDS[self]


class FieldType(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    MONEY = "money"
    QUANTITY = "quantity"
    PERCENT = "percent"
    DATE = "date"


NUMERIC = frozenset({FieldType.MONEY, FieldType.QUANTITY, FieldType.PERCENT})

#: Highest hourly, sessional or per-appointment rate accepted: anything above is a typo.
MAX_RATE = Decimal("10000")
MAX_EXPENSE = Decimal("1000000")
MAX_QUANTITY = {
    "hour": Decimal("10000"),
    "session": Decimal("1000"),
    "appointment": Decimal("100000"),
}
MAX_DESCRIPTION = 500
#: Longest kind-specific text detail (a name, a role, an invoice number, a supplier).
MAX_DETAIL = 120

APPOINTMENT_TYPES = {
    "gp": "GP",
    "nurse": "Nurse",
    "hca": "HCA",
    "other": "Other clinician",
}
#: Rate-card keys that prefill each appointment type's unit cost.
APPOINTMENT_RATE_KEYS = {
    "gp": "gp_appointment",
    "nurse": "nurse_appointment",
    "hca": "hca_appointment",
    "other": "other_appointment",
}
#: Rate-card staff rates (PSSRU unit costs) that already include on-costs: none are added.
#: PSSRU's GP and nurse costs per hour include salary on-costs (employer NI and pension) and
#: overheads: Unit Costs of Health and Social Care 2024 (University of Kent), GP costs table
#: 9.4.2 and nurse costs table 9.2.1, https://kar.kent.ac.uk/109563/
RATES_INCLUDING_ONCOSTS = ("gp_hour", "nurse_hour")
#: The on-cost percentages a line can carry, by field name (the premium is typed; NI and
#: pension come from the rate card for the line's date).
ONCOSTS = ("overtime_pct", "pension_pct", "ni_pct")

#: How extra staff hours were paid (services.costing.PayBasis), as the form offers them.
#: NHSBSA: overtime is not pensionable; a part-timer's additional hours up to whole time are,
#: at the plain rate ("Pensionable pay", nhsbsa.nhs.uk/member-hub/pensionable-pay).
PAY_BASES = (
    ("overtime", "Overtime, paid at a premium (not pensionable)"),
    (
        "additional",
        "Additional hours of a part-time member of the NHS Pension Scheme, at the normal rate",
    ),
    ("plain", "Extra hours at the normal rate, not in the NHS Pension Scheme"),
    ("inclusive", "A rate that already includes on-costs, like a PSSRU unit cost"),
)
PAY_BASES_PRINTED = {
    "overtime": "Overtime",
    "additional": "Additional hours (pensionable)",
    "plain": "Extra hours at the normal rate",
    "inclusive": "Rate includes on-costs",
}
#: Whether a locum GP pays into the NHS Pension Scheme through the practice: only then does
#: the practice pay employer pension, on 90% of the fee (NHSBSA, "GP locums",
#: nhsbsa.nhs.uk/employer-hub/gp-locums; forms GP Locum A and B).
LOCUM_PENSION = (
    (
        "scheme",
        "Yes: the locum pays into the NHS Pension Scheme through the practice (forms A and B)",
    ),
    ("none", "No: through an agency or their own limited company, or not in the scheme"),
)
LOCUM_PENSION_PRINTED = {"scheme": "In the NHS Pension Scheme", "none": "Not pensionable"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a cost kind's form and line.

    `noun` names the field in the service's messages ("Hourly rate must be ..."), which may
    depend on the unit charged (`noun_by_unit`); `label` is what the form shows. `attr` is
    the LineInput attribute that receives it, `column` the cost-line column an edit form is
    filled from. A `detail` is a kind-specific text stored in the line's `details`; with an
    `invoice_label` it is printed on the invoice under the description.
    """

    name: str
    label: str
    type: FieldType
    hint: str = ""
    required: bool = False
    #: message when a required field is left blank on the form
    missing: str = ""
    #: message when what was typed cannot be read (numbers and dates)
    invalid: str = ""
    noun: str = ""
    noun_by_unit: Mapping[str, str] = field(default_factory=dict)
    max_length: int | None = None
    maximum: Decimal | None = None
    maximum_by_unit: Mapping[str, Decimal] = field(default_factory=dict)
    places: int = 2
    allow_zero: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    #: message when a choice is not one of the choices
    choose: str = ""
    #: how a chosen value reads on the invoice and the cost's page, when shorter than the
    #: form's wording
    printed: Mapping[str, str] = field(default_factory=dict)
    #: what the value is measured in, shown beside the box ("£", "hours", "%", "an hour")
    prefix: str = ""
    suffix: str = ""
    width: int | None = None
    inputmode: str | None = None
    #: the LineInput attribute it fills, when not its name (expenses' net amount: unit_rate)
    attr: str = ""
    #: the cost-line column an edit form reads it from: "" its name, None not stored
    column: str | None = ""
    detail: bool = False
    invoice_label: str | None = None
    #: how the detail reads in the incident's list of costs ("{}" or ", invoice {}")
    list_format: str | None = None
    #: the detail's name on the cost's own page and in the audit trail (default: label)
    summary_label: str | None = None
    #: a field of an optional group shown only when adding (appointments' rebooking time)
    group: str | None = None
    #: the line's units in which this field (hours) may also be typed as h:mm ("4:10"),
    #: stored to 4 places (4.1667)
    clock_units: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        return self.attr or self.name

    @property
    def source_column(self) -> str | None:
        return self.name if self.column == "" else self.column

    def noun_for(self, unit: str) -> str:
        return self.noun_by_unit.get(unit, self.noun or self.label)

    def maximum_for(self, unit: str) -> Decimal | None:
        return self.maximum_by_unit.get(unit, self.maximum)

    def choice_label(self, value: str | None) -> str:
        text = value or ""
        return self.printed.get(text) or dict(self.choices).get(text, text)


@dataclass(frozen=True)
class Group:
    """A set of optional fields shown together (legend and hint) only when adding a line."""

    name: str
    legend: str
    hint: str


@dataclass(frozen=True)
class KindSpec:
    """One cost kind: its fields in the order the form shows them (the error summary follows
    it), the units it is charged in, the on-costs that apply and what its evidence hint says.
    The arithmetic and the working it prints are services.costing's, by kind."""

    kind: str
    label: str
    fields: tuple[FieldSpec, ...]
    #: units the quantity may be charged in; the first is the default
    units: tuple[str, ...]
    #: on-cost percentages (field names) that apply to the line's own amount
    oncosts: tuple[str, ...] = ()
    evidence_hint: str = (
        "A receipt, invoice or screenshot: PDF, PNG or JPEG, smaller than {max_upload}. "
        "You can add more files later."
    )
    groups: tuple[Group, ...] = ()
    #: the query parameter of the "fill in from your rate card" links
    prefill_param: str | None = None

    def field_named(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def has(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def details(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.detail)

    @property
    def invoice_details(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.details if f.invoice_label)

    @property
    def display_order(self) -> tuple[str, ...]:
        """The order the page shows the fields in, so the error summary follows it."""
        return (*self.names, "evidence")

    def main_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.group is None)

    def grouped_fields(self, group: str) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.group == group)


# --- field builders: the common fields with their kind's hint -----------------------------


def _description(hint: str) -> FieldSpec:
    return FieldSpec(
        "description",
        "Description",
        FieldType.TEXT,
        hint=hint,
        required=True,
        missing="Enter a description",
        max_length=MAX_DESCRIPTION,
    )


def _date(hint: str = "For example, 19/07/2024") -> FieldSpec:
    return FieldSpec(
        "line_date",
        "Date of the cost",
        FieldType.DATE,
        hint=hint,
        required=True,
        missing="Enter the date of the cost",
        invalid="Enter the date as a real date, like 19/07/2024",
        width=10,
    )


def _vat_rate(hint: str) -> FieldSpec:
    return FieldSpec(
        "vat_rate",
        "VAT rate",
        FieldType.PERCENT,
        hint=hint,
        invalid="Enter the VAT rate as a number, like 20",
        maximum=Decimal(100),
        suffix="%",
        width=4,
        inputmode="decimal",
    )


def _text_detail(
    name: str, label: str, hint: str = "", *, required: bool = True, **extra: Any
) -> FieldSpec:
    lower = label[0].lower() + label[1:]
    return FieldSpec(
        name,
        label,
        FieldType.TEXT,
        hint=hint,
        required=required,
        missing=f"Enter the {lower}" if required else "",
        max_length=MAX_DETAIL,
        detail=True,
        **extra,
    )


def _money(
    name: str, label: str, hint: str = "", *, required: bool = True, **extra: Any
) -> FieldSpec:
    lower = label.lower()
    extra.setdefault("maximum", MAX_RATE)
    extra.setdefault("width", 5)
    return FieldSpec(
        name,
        label,
        FieldType.MONEY,
        hint=hint,
        required=required,
        missing=f"Enter the {lower}" if required else "",
        invalid=f"Enter the {lower} as an amount, like 18.66",
        prefix="£",
        inputmode="decimal",
        **extra,
    )


def _percent(
    name: str, label: str, hint: str = "", *, required: bool = True, **extra: Any
) -> FieldSpec:
    lower = label.lower()
    return FieldSpec(
        name,
        label,
        FieldType.PERCENT,
        hint=hint,
        required=required,
        missing=f"Enter the {lower}, or 0" if required else "",
        invalid=f"Enter the {lower} as a percentage, like 14.38",
        suffix="%",
        width=4,
        inputmode="decimal",
        **extra,
    )


_OVERTIME: dict[str, Any] = dict(noun="Overtime premium", maximum=Decimal(200))

STAFF = KindSpec(
    kind="staff",
    label=cost_kind_label("staff"),
    units=("hour",),
    oncosts=("overtime_pct",),
    prefill_param="rate",
    fields=(
        _text_detail(
            "staff_role",
            "Staff member or role",
            "Name or role, for example Receptionist (Band 2)",
            invoice_label="Staff",
            list_format="{}",
        ),
        _description("What the time was spent on"),
        _date(),
        FieldSpec(
            "quantity",
            "Hours",
            FieldType.QUANTITY,
            hint="Extra hours worked. For example, 6.5 or 6:30",
            required=True,
            missing="Enter the hours",
            invalid="Enter hours in figures, like 6.5 or 6:30",
            noun="Hours",
            maximum=MAX_QUANTITY["hour"],
            allow_zero=False,
            suffix="hours",
            width=5,
            # no inputmode: a phone's decimal keypad has no colon for h:mm
            clock_units=("hour",),
        ),
        _money(
            "unit_rate",
            "Hourly rate",
            "Basic hourly pay before on-costs",
            suffix="an hour",
            noun="Hourly rate",
        ),
        FieldSpec(
            "pay_basis",
            "How were the hours paid?",
            FieldType.CHOICE,
            hint=(
                "Employer National Insurance (13.8% until 5 April 2025, 15% from 6 April 2025)"
                " is added from your rate card for the date of the cost; employer pension"
                " (14.38%) only on a part-timer's additional hours, never on overtime."
            ),
            choices=PAY_BASES,
            printed=PAY_BASES_PRINTED,
            default="overtime",
            choose="Choose how the hours were paid",
            required=True,
            detail=True,
            invoice_label="Paid as",
            summary_label="Paid as",
        ),
        # Agenda for Change overtime: time and a half for bands 1-7 (NHS Terms and Conditions
        # of Service Handbook, section 3, NHS Employers)
        _percent(
            "overtime_pct",
            "Overtime premium",
            "50 for time and a half; used only for overtime",
            required=False,
            **_OVERTIME,
        ),
        _vat_rate("Leave blank: staff costs carry no VAT"),
    ),
)

LOCUM = KindSpec(
    kind="locum",
    label=cost_kind_label("locum"),
    units=("session", "hour"),
    prefill_param="unit",
    fields=(
        _text_detail(
            "locum_name",
            "Locum's name",
            invoice_label="Locum",
            list_format="{}",
            summary_label="Locum",
        ),
        _description("For example, Locum GP cover for the backlog clinic"),
        _date(),
        FieldSpec(
            "unit",
            "Charged by",
            FieldType.CHOICE,
            choices=(("session", "Session (4 hours 10 minutes)"), ("hour", "Hour")),
            default="session",
            choose="Choose sessions or hours",
            required=True,
        ),
        FieldSpec(
            "quantity",
            "Sessions or hours",
            FieldType.QUANTITY,
            hint="For example, 2 sessions, or 6.5 or 6:30 hours",
            required=True,
            missing="Enter the number of sessions or hours",
            invalid="Enter the number of sessions or hours in figures, like 2 or 6:30",
            noun_by_unit={"session": "Sessions", "hour": "Hours"},
            maximum_by_unit=MAX_QUANTITY,
            allow_zero=False,
            width=5,
            # no inputmode: a phone's decimal keypad has no colon for h:mm
            clock_units=("hour",),
        ),
        _money(
            "unit_rate",
            "Rate per session or hour",
            "As on the locum's invoice",
            noun_by_unit={"session": "Rate per session", "hour": "Hourly rate"},
        ),
        FieldSpec(
            "locum_pension",
            "Does the locum pay into the NHS Pension Scheme through the practice?",
            FieldType.CHOICE,
            hint=(
                "If so, the practice pays employer pension (14.38%) on 90% of the fee, from"
                " your rate card for the date of the cost."
            ),
            choices=LOCUM_PENSION,
            printed=LOCUM_PENSION_PRINTED,
            choose="Say whether the locum pays into the NHS Pension Scheme through the practice",
            required=True,
            detail=True,
            invoice_label="Pension",
            summary_label="NHS Pension Scheme",
        ),
        _text_detail(
            "locum_invoice_ref",
            "Locum's invoice number",
            required=False,
            width=10,
            invoice_label="Locum invoice",
            list_format=", invoice {}",
        ),
        _vat_rate("Leave blank unless the locum charged VAT"),
    ),
)

APPOINTMENTS = KindSpec(
    kind="appointments",
    label=cost_kind_label("appointments"),
    units=("appointment",),
    prefill_param="type",
    groups=(
        Group(
            "rebook",
            "Admin time to rebook (optional)",
            "If staff spent time rebooking these patients, it is added as its own staff-time cost.",
        ),
    ),
    fields=(
        FieldSpec(
            "appointment_type",
            "Type of appointment",
            FieldType.CHOICE,
            choices=tuple(APPOINTMENT_TYPES.items()),
            choose="Select the type of appointment",
            required=True,
            detail=True,
            invoice_label="Appointment type",
            summary_label="Appointment type",
        ),
        _description("For example, GP appointments cancelled while records were unavailable"),
        _date(),
        FieldSpec(
            "quantity",
            "Number of appointments lost or cancelled",
            FieldType.QUANTITY,
            required=True,
            missing="Enter the number of appointments",
            invalid="Enter the number of appointments as a whole number, like 38",
            noun="Number of appointments",
            maximum=MAX_QUANTITY["appointment"],
            places=0,
            allow_zero=False,
            width=5,
            inputmode="numeric",
        ),
        _money(
            "unit_rate", "Cost per appointment", "The cost of one appointment", noun="Unit cost"
        ),
        _vat_rate("Leave blank: appointments carry no VAT"),
        FieldSpec(
            "rebook_hours",
            "Admin hours to rebook",
            FieldType.QUANTITY,
            hint="For example, 6.5 or 6:30",
            invalid="Enter the hours in figures, like 3 or 2:45",
            noun="Admin hours",
            maximum=MAX_QUANTITY["hour"],
            allow_zero=False,
            suffix="hours",
            width=5,
            # no inputmode: a phone's decimal keypad has no colon for h:mm
            column=None,
            group="rebook",
            # the line is charged by the appointment; its admin time is hours all the same
            clock_units=("appointment",),
        ),
        _money(
            "rebook_rate",
            "Admin hourly rate",
            required=False,
            suffix="an hour",
            column=None,
            group="rebook",
        ),
        FieldSpec(
            "rebook_basis",
            "How was the admin time paid?",
            FieldType.CHOICE,
            choices=PAY_BASES[:3],
            printed=PAY_BASES_PRINTED,
            default="overtime",
            choose="Choose how the admin time was paid",
            column=None,
            group="rebook",
        ),
        _percent(
            "overtime_pct",
            "Overtime premium on admin time",
            "50 for time and a half; used only for overtime",
            required=False,
            noun="Overtime premium",
            maximum=Decimal(200),
            column=None,
            group="rebook",
        ),
    ),
)

EXPENSE = KindSpec(
    kind="expense",
    label=cost_kind_label("expense"),
    units=("item",),
    evidence_hint=(
        "Attach the receipt: PDF, PNG or JPEG, smaller than {max_upload}. "
        "You can add more files later."
    ),
    fields=(
        _text_detail(
            "supplier",
            "Supplier",
            "Who you paid, for example Ryman",
            invoice_label="Supplier",
            list_format="{}",
        ),
        _description("What you bought and why"),
        _date("The date on the receipt"),
        _money(
            "net_amount",
            "Net amount",
            "The amount before VAT",
            maximum=MAX_EXPENSE,
            allow_zero=False,
            width=10,
            attr="unit_rate",
            column="receipt_net",
        ),
        FieldSpec(
            "vat_paid",
            "VAT paid",
            FieldType.MONEY,
            hint="The VAT shown on the receipt; leave blank if none",
            invalid="Enter the VAT paid as an amount, like 8.50",
            maximum=MAX_EXPENSE,
            prefix="£",
            width=10,
            inputmode="decimal",
            column="receipt_vat",
        ),
    ),
)

KINDS: dict[CostKind, KindSpec] = {
    CostKind.STAFF: STAFF,
    CostKind.LOCUM: LOCUM,
    CostKind.APPOINTMENTS: APPOINTMENTS,
    CostKind.EXPENSE: EXPENSE,
}
COST_KIND_LABELS = {kind: spec.label for kind, spec in KINDS.items()}
#: Every detail field name, with the label the audit trail shows it under.
DETAIL_LABELS = {
    f.name: f.summary_label or f.label for spec in KINDS.values() for f in spec.details
}


#: The choices of detail fields that are choices, to show a stored key as its label.
DETAIL_CHOICES = {
    f.name: dict(f.choices) for spec in KINDS.values() for f in spec.details if f.choices
}


def spec_for(kind: str) -> KindSpec:
    """The specification of a kind given by its stored value ("staff", ...)."""
    return KINDS[CostKind(kind)]


def clean_details(kind: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The kind's text details as stored: trimmed, blanks left out, other kinds' ignored."""
    cleaned = {}
    for spec in spec_for(kind).details:
        text = str(values.get(spec.name) or "").strip()
        if text:
            cleaned[spec.name] = text
    return cleaned


def invoice_details(kind: str, details: Mapping[str, Any]) -> list[dict[str, str]]:
    """The details printed on an invoice, with their printed labels, frozen at issue."""
    return [
        {"name": f.name, "label": f.invoice_label or f.label, "value": f.choice_label(text)}
        for f in spec_for(kind).invoice_details
        if (text := str(details.get(f.name) or "").strip())
    ]


def details_text(printed: list[dict[str, str]] | None) -> str:
    """A line's printed details in one line: "Locum: Dr A Khan · Locum invoice: LOC-1234"."""
    return " · ".join(f"{item['label']}: {item['value']}" for item in printed or [])


def summary_rows(kind: str, details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of each detail a line has, for the cost's own page."""
    return [
        (f.summary_label or f.label, f.choice_label(details[f.name]))
        for f in spec_for(kind).details
        if details.get(f.name)
    ]


def list_text(kind: str, details: Mapping[str, Any]) -> str:
    """How a line's details read in the incident's list of costs ("Dr A, invoice L-1")."""
    return "".join(
        f.list_format.format(details[f.name])
        for f in spec_for(kind).details
        if f.list_format and details.get(f.name)
    )


# --- money spent and notional value ---------------------------------------------------------

#: Kinds whose lines are a notional value, not money the practice spent: lost or cancelled
#: appointments price clinical capacity that could not be used. Every total keeps them in a
#: section of their own after the costs incurred, so a reader never mistakes them for spend.
NOTIONAL_KINDS = frozenset({CostKind.APPOINTMENTS.value})
#: Kinds of time spent that could be catching up the same appointments (double counting).
CATCH_UP_KINDS = frozenset({CostKind.STAFF.value, CostKind.LOCUM.value})
COSTS_INCURRED = "Costs incurred"
CAPACITY_LOST = "Value of clinical capacity lost (notional)"


def is_notional(kind: str) -> bool:
    """True for a kind whose amount is a notional value (capacity lost), not money spent."""
    return kind in NOTIONAL_KINDS


def section_title(kind: str) -> str:
    """The totals section a kind's lines fall in."""
    return CAPACITY_LOST if is_notional(kind) else COSTS_INCURRED
