"""Automatic checks of claim lines against the ICB's claim policy and common sense.

Pure functions over plain data (`LineFacts`, `Terms`): services.claim_policy reads the
database once per claim (or once for a page of claims) and hands the facts in, so the same
checks run on a reviewer's claim, the claims list, a practice's incident and its draft
invoice. Each flag has a code, a short label and a sentence naming the numbers.

The checks:

- not claimable: the line's kind is not one the ICB's policy reimburses;
- over the cap: the line's rate is above the policy's cap for its kind (a staff band, a
  locum session or hour, an appointment type); the flag carries the amount at the cap,
  priced again by the cost model's own steps (services.costing: each step rounded to the
  penny, ROUND_HALF_UP) so a part-approval at the cap is what the line would have been;
- evidence missing: the line is above the policy's evidence threshold and has no receipt or
  document (on the cost line or on the practice's answers to a query on it);
- outside the outage: dated before the outage started (the outage event's first day, else
  the incident's) or more than the window after the incident ended (the policy's
  `window_days`, else DEFAULT_WINDOW_DAYS, the incident page's own rule);
- after the deadline: the claim was issued (or, for a practice, would be issued today) after
  the policy's deadline for claims;
- possible duplicate: the same date, kind, person (or, without one, description) and amount
  as another line of this claim or of another standing claim of the practice; the later of
  the two is flagged;
- implausible hours: one person's staff and locum time on one day adds up to more than 24
  hours, or to more than the policy's hours a person a day, or the same hours and amount
  are claimed for a night on two consecutive dates (a night shift counted on both).

Staff caps are by Agenda for Change band (the bands of the rate card, NHS Employers' pay
scales): a staff line's band is the first "Band N" named in its staff role, else in its
description; a role naming a GP or doctor takes the GP cap; anything else the "any other
staff" cap. A role naming a team ("Reception team") is several people, so it is left out of
the hours-a-person checks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property, partial

from tracker.cost_kinds import APPOINTMENT_TYPES, CostKind
from tracker.presentation import (
    cost_kind_label,
    format_money,
    long_date,
    minutes_to_hours,
    quantity_text,
    whole_minutes,
)
from tracker.services import costing
from tracker.services.money import ZERO, to_pence

#: Costs dated up to this many days after the incident ended are in the outage's window when
#: the policy names none (the incident page warns from the same day: cost_lines.date_warning).
DEFAULT_WINDOW_DAYS = 28
#: A GP session is 4 hours 10 minutes (services.costing.SESSION_HOURS).
SESSION_MINUTES = 250
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class CapSpec:
    """One cap a policy may set: the kind it limits, how the form names it, what it is per,
    what is capped (a decision's reason: "Locum sessions capped at ...") and how a practice
    reads it ("{} a GP appointment", the cap's amount in the braces)."""

    key: str
    kind: str
    label: str
    per: str
    what: str
    phrase: str


STAFF_GRADES = (
    *((f"band_{n}", f"Band {n}", f"Band {n}") for n in range(2, 8)),
    ("gp", "GP or doctor", "a GP or doctor"),
    ("other", "Any other staff", "any other staff"),
)
APPOINTMENT_PHRASES = {
    "gp": "{} a GP appointment",
    "nurse": "{} a nurse appointment",
    "hca": "{} an HCA appointment",
    "other": "{} an appointment with another clinician",
}
CAPS: tuple[CapSpec, ...] = (
    *(
        CapSpec(
            f"staff_{grade}",
            CostKind.STAFF,
            label,
            "an hour",
            f"Staff time ({label})",
            f"{{}} ({reads})",
        )
        for grade, label, reads in STAFF_GRADES
    ),
    CapSpec(
        "locum_session",
        CostKind.LOCUM,
        "Per session",
        "a session",
        "Locum sessions",
        "{} a session",
    ),
    CapSpec("locum_hour", CostKind.LOCUM, "Per hour", "an hour", "Locum hours", "{} an hour"),
    *(
        CapSpec(
            f"appointments_{key}",
            CostKind.APPOINTMENTS,
            f"{label} appointment",
            "an appointment",
            f"{label} appointments",
            APPOINTMENT_PHRASES[key],
        )
        for key, label in APPOINTMENT_TYPES.items()
    ),
)
CAPS_BY_KEY = {cap.key: cap for cap in CAPS}

BAND = re.compile(r"\bband\s*([1-9])\b", re.IGNORECASE)
DOCTOR = re.compile(r"\b(gp|gps|doctor|salaried)\b", re.IGNORECASE)
TEAM = re.compile(r"\b(team|staff)\b", re.IGNORECASE)
NIGHT = re.compile(r"\b(night|nights|overnight)\b", re.IGNORECASE)


class FlagCode:
    NOT_CLAIMABLE = "not_claimable"
    OVER_CAP = "over_cap"
    NO_EVIDENCE = "no_evidence"
    OUTSIDE_DATES = "outside_dates"
    LATE = "late"
    DUPLICATE = "duplicate"
    OVER_DAY = "over_24_hours"
    TOO_MANY_HOURS = "too_many_hours"
    NIGHT_TWICE = "night_twice"


FLAG_LABELS = {
    FlagCode.NOT_CLAIMABLE: "Not claimable",
    FlagCode.OVER_CAP: "Over the cap",
    FlagCode.NO_EVIDENCE: "Evidence missing",
    FlagCode.OUTSIDE_DATES: "Outside the outage",
    FlagCode.LATE: "After the deadline",
    FlagCode.DUPLICATE: "Possible duplicate",
    FlagCode.OVER_DAY: "Implausible hours",
    FlagCode.TOO_MANY_HOURS: "Implausible hours",
    FlagCode.NIGHT_TWICE: "Implausible hours",
}


@dataclass(frozen=True, eq=False)
class Flag:
    """Why a line needs a reviewer's look. An over-the-cap flag also carries the amount the
    cap allows and the reason a part-approval at the cap records.

    The sentence, the amount and the reason are worded (and the amount priced) only when
    read: the claims list counts the flags of 25 claims and shows none of their sentences,
    and wording money in pounds (Babel) is the slowest step of a check."""

    code: str
    words: Callable[[], str] = field(repr=False)
    pricing: Callable[[], Decimal] | None = field(default=None, repr=False)
    because: Callable[[], str] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return FLAG_LABELS[self.code]

    @cached_property
    def text(self) -> str:
        return self.words()

    @cached_property
    def allowed(self) -> Decimal | None:
        return self.pricing() if self.pricing is not None else None

    @cached_property
    def reason(self) -> str:
        return self.because() if self.because is not None else ""

    def __repr__(self) -> str:
        return f"Flag({self.code}: {self.text})"


@dataclass(frozen=True)
class Terms:
    """A version of an ICB's policy for an outage, as the checks read it."""

    version: int
    icb_name: str
    event_name: str
    claimable: frozenset[str]
    caps: Mapping[str, Decimal] = field(default_factory=dict)
    max_hours_per_day: Decimal | None = None
    evidence_above: Decimal | None = None
    deadline: date | None = None
    window_days: int | None = None

    @property
    def title(self) -> str:
        """ "NHS North Central London ICB's policy for CrowdStrike outage v2" """
        return f"{self.icb_name}'s policy for {self.event_name} v{self.version}"

    @property
    def short(self) -> str:
        """How a flag names the policy: the page it is shown on names it in full."""
        return f"the ICB's policy v{self.version}"

    @property
    def window(self) -> int:
        return DEFAULT_WINDOW_DAYS if self.window_days is None else self.window_days


@dataclass(frozen=True)
class Pricing:
    """What a line was priced with besides its rate (the cost line's stored on-costs), so it
    can be priced again at a cap by the same steps."""

    basis: str = costing.PayBasis.OVERTIME.value
    overtime_pct: Decimal = ZERO
    ni_pct: Decimal = ZERO
    pension_pct: Decimal = ZERO
    pays_into_scheme: bool = False
    #: the supplier's VAT rate, and whether the practice could not recover that VAT
    vat_rate: Decimal | None = None
    vat_as_cost: bool = False


@dataclass(frozen=True)
class Outage:
    """The dates a line is checked against: the outage's first day (the event's, else the
    incident's) and the incident's last day (its first while it has no end)."""

    starts: date
    ended: date


@dataclass(frozen=True)
class LineFacts:
    """One line as the checks read it. `name` is how another line's flag refers to it ("line
    3", "line 2 of claim Y0990120240001"); `order` decides which of two duplicates is the
    later (claim, then position)."""

    id: int
    name: str
    order: tuple[int, int]
    kind: str
    line_date: date
    description: str
    unit: str
    quantity: Decimal
    unit_rate: Decimal
    total: Decimal
    person: str = ""
    appointment_type: str = ""
    evidence: int = 0
    outage: Outage | None = None
    pricing: Pricing | None = None

    @cached_property
    def minutes(self) -> int | None:
        """Staff or locum time in minutes (a session is 4 h 10 min), else None."""
        if self.kind not in (CostKind.STAFF, CostKind.LOCUM):
            return None
        if self.unit == "session":
            return int(to_pence(self.quantity * SESSION_MINUTES))
        exact = whole_minutes(self.quantity)
        return exact if exact is not None else int(to_pence(self.quantity * 60))

    @cached_property
    def who(self) -> str:
        """The person (or, without one, the description) as compared: case and spaces aside."""
        return _plain(self.person or self.description)

    @cached_property
    def one_person(self) -> bool:
        """A line of one named person's time: staff or locum, a person named, not a team."""
        return self.minutes is not None and bool(self.person) and not TEAM.search(self.person)


# --- which cap a line falls under ------------------------------------------------------------


def staff_grade(role: str, description: str = "") -> str:
    """The staff cap a line falls under: "band_3" for the first band named in its role (else
    its description) when the rate card has that band, "gp" for a GP or doctor, else "other"."""
    for text in (role, description):
        match = BAND.search(text or "")
        if match:
            grade = f"band_{match.group(1)}"
            return grade if f"staff_{grade}" in CAPS_BY_KEY else "other"
    return "gp" if DOCTOR.search(role or "") else "other"


def cap_key(line: LineFacts) -> str | None:
    """The key of the cap a line's rate is held to, or None (expenses have no rate cap)."""
    if line.kind == CostKind.STAFF:
        return f"staff_{staff_grade(line.person, line.description)}"
    if line.kind == CostKind.LOCUM:
        return f"locum_{line.unit}"
    if line.kind == CostKind.APPOINTMENTS:
        return f"appointments_{line.appointment_type or 'other'}"
    return None


def priced_at(line: LineFacts, rate: Decimal) -> Decimal:
    """The line's total had it been charged at `rate`, by the cost model's own steps. A line
    with no stored on-costs (no cost line to read them from) is scaled in proportion,
    rounded to the penny by the one rule."""
    pricing = line.pricing
    if pricing is None:
        return to_pence(line.total * rate / line.unit_rate) if line.unit_rate else line.total
    if line.kind == CostKind.STAFF:
        amounts = costing.staff_time(
            line.quantity,
            rate,
            basis=pricing.basis,
            overtime_pct=pricing.overtime_pct,
            ni_pct=pricing.ni_pct,
            pension_pct=pricing.pension_pct,
            vat_rate=pricing.vat_rate,
        )
    elif line.kind == CostKind.LOCUM:
        amounts = costing.locum_cover(
            line.quantity,
            rate,
            line.unit,
            pays_into_scheme=pricing.pays_into_scheme,
            pension_pct=pricing.pension_pct,
            vat_rate=pricing.vat_rate,
        )
    else:
        amounts = costing.lost_appointments(line.quantity, rate, pricing.vat_rate)
    return (costing.vat_as_cost(amounts) if pricing.vat_as_cost else amounts).total


# --- checks of one line ---------------------------------------------------------------------


def not_claimable(line: LineFacts, terms: Terms) -> Flag | None:
    if line.kind in terms.claimable:
        return None
    return Flag(
        FlagCode.NOT_CLAIMABLE,
        lambda: f"{cost_kind_label(line.kind)}: not reimbursed under {terms.short}.",
    )


def over_cap(line: LineFacts, terms: Terms) -> Flag | None:
    key = cap_key(line)
    cap = terms.caps.get(key) if key else None
    if key is None or cap is None or line.unit_rate <= cap:
        return None
    spec = CAPS_BY_KEY[key]
    flag = Flag(
        FlagCode.OVER_CAP,
        lambda: (
            f"{format_money(line.unit_rate)} {spec.per} is over the cap of {format_money(cap)} "
            f"{spec.per} ({spec.what}, {terms.short}): at the cap the line is "
            f"{format_money(flag.allowed)} of the {format_money(line.total)} claimed."
        ),
        pricing=lambda: priced_at(line, cap),
        because=lambda: f"{spec.what} capped at {format_money(cap)} {spec.per} by {terms.title}.",
    )
    return flag


def evidence_missing(line: LineFacts, terms: Terms) -> Flag | None:
    threshold = terms.evidence_above
    if threshold is None or line.total <= threshold or line.evidence:
        return None
    return Flag(
        FlagCode.NO_EVIDENCE,
        lambda: (
            f"{format_money(line.total)} is over the {format_money(threshold)} above which "
            f"{terms.short} asks for evidence, and no receipt or document is attached."
        ),
    )


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


def outside_dates(line: LineFacts, terms: Terms | None) -> Flag | None:
    outage = line.outage
    if outage is None:
        return None
    if line.line_date < outage.starts:
        before = (outage.starts - line.line_date).days
        return Flag(
            FlagCode.OUTSIDE_DATES,
            lambda: (
                f"Dated {long_date(line.line_date)}, {_days(before)} before the outage "
                f"started ({long_date(outage.starts)})."
            ),
        )
    window = terms.window if terms else DEFAULT_WINDOW_DAYS
    after = (line.line_date - outage.ended).days
    if after <= window:
        return None
    accepts = f"{terms.short} accepts costs" if terms else "costs are expected"
    return Flag(
        FlagCode.OUTSIDE_DATES,
        lambda: (
            f"Dated {long_date(line.line_date)}, {_days(after)} after the incident ended "
            f"({long_date(outage.ended)}); {accepts} up to {_days(window)} after."
        ),
    )


def late(terms: Terms, claimed_on: date | None, claimed: str) -> Flag | None:
    deadline = terms.deadline
    if deadline is None or claimed_on is None or claimed_on <= deadline:
        return None
    return Flag(
        FlagCode.LATE,
        lambda: (
            f"{claimed} {long_date(claimed_on)}, after the deadline for claims "
            f"({long_date(deadline)}) in {terms.short}."
        ),
    )


def line_flags(
    line: LineFacts, terms: Terms | None, claimed_on: date | None, claimed: str = "Issued"
) -> list[Flag]:
    """The checks of one line on its own. Without a policy only the dates are checked (with
    the default window). A kind the policy does not reimburse is not checked against caps."""
    found: list[Flag | None] = []
    if terms is not None:
        found.append(not_claimable(line, terms))
        if found[0] is None:
            found += [over_cap(line, terms), evidence_missing(line, terms)]
    found.append(outside_dates(line, terms))
    if terms is not None:
        found.append(late(terms, claimed_on, claimed))
    return [flag for flag in found if flag is not None]


# --- checks across lines ---------------------------------------------------------------------


def _plain(text: str) -> str:
    return " ".join((text or "").lower().split())


def _names(lines: Iterable[LineFacts]) -> str:
    """ "line 1", "lines 1 and 5", "line 2 and line 4 of claim Y09901..." """
    names = [line.name for line in sorted(lines, key=lambda item: item.order)]
    if all(name.startswith("line ") and " " not in name[5:] for name in names) and len(names) > 1:
        numbers = [name[5:] for name in names]
        return f"lines {', '.join(numbers[:-1])} and {numbers[-1]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def duplicate_key(line: LineFacts) -> tuple[date, str, str, Decimal]:
    return (line.line_date, line.kind, line.who, line.total)


def _duplicate_text(line: LineFacts, first: LineFacts) -> str:
    return (
        f"The same date ({long_date(line.line_date)}), kind, "
        f"{'person' if line.person else 'description'} ({line.person or line.description}) "
        f"and amount ({format_money(line.total)}) as {first.name}."
    )


class LineIndex:
    """Lines grouped the two ways the checks across lines look them up: by duplicate key
    (kept in `order`, the earliest first) and, for one person's time, by person and day
    (with the day's minutes added up). Built once for a practice's lines however many of its
    claims are checked against them: the claims list grouped every line of a practice again
    for each of its claims on the page (issue 13)."""

    def __init__(self, lines: Iterable[LineFacts] = ()) -> None:
        self.ids: set[int] = set()
        self.by_key: dict[tuple[date, str, str, Decimal], list[LineFacts]] = defaultdict(list)
        self.by_day: dict[tuple[str, date], list[LineFacts]] = defaultdict(list)
        self.day_minutes: dict[tuple[str, date], int] = defaultdict(int)
        for line in lines:
            if line.id in self.ids:
                continue
            self.ids.add(line.id)
            self.by_key[duplicate_key(line)].append(line)
            if line.one_person:
                day = (line.who, line.line_date)
                self.by_day[day].append(line)
                self.day_minutes[day] += line.minutes or 0
        for group in self.by_key.values():
            group.sort(key=lambda item: item.order)


class Neighbours:
    """What one set of lines (a claim's, an incident's) is checked against: its own lines
    and the `others` (an index shared by several claims, or built here). A line of this
    claim that the shared index also holds, as a standing claim of the practice, is read as
    this claim's own ("line 3", not "line 3 of claim ..."), and counted once."""

    def __init__(self, lines: Sequence[LineFacts], others: Sequence[LineFacts] | LineIndex):
        self.index = others if isinstance(others, LineIndex) else LineIndex(others)
        self.own = {line.id: line for line in lines}
        self.positions = {line.id: n for n, line in enumerate(lines)}
        self.extra = LineIndex(line for line in lines if line.id not in self.index.ids)

    def first_like(self, line: LineFacts) -> LineFacts | None:
        """The earliest line with `line`'s duplicate key, if it comes before `line`."""
        key = duplicate_key(line)
        heads = [group[0] for index in (self.index, self.extra) if (group := index.by_key.get(key))]
        first = min(heads, key=lambda item: item.order, default=None)
        if first is None or not first.order < line.order:
            return None
        return self.own.get(first.id, first)

    def day(self, who: str, day: date) -> list[LineFacts]:
        """One person's lines on one day: this claim's own first, in its order, then the
        others in theirs (the night before names the first of them that matches)."""
        key = (who, day)
        group = (*self.index.by_day.get(key, ()), *self.extra.by_day.get(key, ()))
        own = sorted((line for line in group if line.id in self.own), key=self._position)
        return [self.own[line.id] for line in own] + [x for x in group if x.id not in self.own]

    def _position(self, line: LineFacts) -> int:
        return self.positions[line.id]

    def day_minutes(self, who: str, day: date) -> int:
        key = (who, day)
        return self.index.day_minutes.get(key, 0) + self.extra.day_minutes.get(key, 0)


def duplicates(lines: Sequence[LineFacts], near: Neighbours) -> dict[int, Flag]:
    """The later of two lines with the same date, kind, person (or description) and amount."""
    found = {}
    for line in lines:
        first = near.first_like(line)
        if first is not None:
            found[line.id] = Flag(FlagCode.DUPLICATE, partial(_duplicate_text, line, first))
    return found


def _hours(minutes: int) -> str:
    return quantity_text(minutes_to_hours(minutes), "hour")


def _day_text(line: LineFacts, near: Neighbours, minutes: int, rest: str) -> str:
    where = _names(near.day(line.who, line.line_date))
    return f"{line.person}: {_hours(minutes)} on {long_date(line.line_date)} ({where}), {rest}"


def hours_a_day(
    lines: Sequence[LineFacts], near: Neighbours, terms_of: Mapping[int, Terms | None]
) -> dict[int, Flag]:
    """One person's time on one day: more than 24 hours, or more than the policy allows."""
    found = {}
    for line in lines:
        if not line.one_person:
            continue
        minutes = near.day_minutes(line.who, line.line_date)
        terms = terms_of.get(line.id)
        if minutes > DAY_MINUTES:
            rest = "more than there are in a day."
            found[line.id] = Flag(FlagCode.OVER_DAY, partial(_day_text, line, near, minutes, rest))
        elif terms and terms.max_hours_per_day is not None:
            most = terms.max_hours_per_day
            if Decimal(minutes) > most * 60:
                rest = f"over the {quantity_text(most, 'hour')} a person a day of {terms.short}."
                found[line.id] = Flag(
                    FlagCode.TOO_MANY_HOURS, partial(_day_text, line, near, minutes, rest)
                )
    return found


def _night_text(line: LineFacts, other: LineFacts) -> str:
    return (
        f"{line.person}: the same {_hours(line.minutes or 0)} and {format_money(line.total)} "
        f"as {other.name} on {long_date(other.line_date)}, the night before: one night shift "
        "counted on both dates?"
    )


def nights_twice(lines: Sequence[LineFacts], near: Neighbours) -> dict[int, Flag]:
    """A night's hours and amount claimed for one person on two consecutive dates: the shift
    that crossed midnight counted on the day it started and again on the next."""
    found = {}
    for line in lines:
        if not line.one_person:
            continue
        for other in near.day(line.who, line.line_date - timedelta(days=1)):
            same = other.minutes == line.minutes and other.total == line.total
            if same and any(NIGHT.search(f"{x.description} {x.person}") for x in (line, other)):
                found[line.id] = Flag(FlagCode.NIGHT_TWICE, partial(_night_text, line, other))
                break
    return found


def check_lines(
    lines: Sequence[LineFacts],
    others: Sequence[LineFacts] | LineIndex,
    terms_of: Mapping[int, Terms | None],
    claimed_on: date | None,
    claimed: str = "Issued",
) -> dict[int, list[Flag]]:
    """Every check of `lines` (one claim, or one incident's lines), against the policy each
    line is judged by (`terms_of`, by line id) and the practice's `others` (its lines on
    other standing claims). `claimed` words the deadline check ("Issued", "Today is")."""
    flags = {
        line.id: line_flags(line, terms_of.get(line.id), claimed_on, claimed) for line in lines
    }
    near = Neighbours(lines, others)
    for found in (
        duplicates(lines, near),
        hours_a_day(lines, near, terms_of),
        nights_twice(lines, near),
    ):
        for line_id, flag in found.items():
            flags[line_id].append(flag)
    return flags


def passes(flags: Sequence[Flag]) -> bool:
    return not flags


def only_over_cap(flags: Sequence[Flag]) -> Flag | None:
    """The over-the-cap flag of a line flagged for nothing else, or None."""
    if len(flags) == 1 and flags[0].code == FlagCode.OVER_CAP:
        return flags[0]
    return None
