"""An ICB's claim policy for an outage event: written by its reviewers, versioned, shown to its
practices before they claim, and the automatic checks of claims against it.

A policy belongs to (outage event, ICB): an event is national, each ICB decides what it
reimburses for it. Every save adds a version (services never change or delete one), so a
line decided under version 2 is always read against version 2: a decided line's checks use
the version in force when it was decided (the latest created at or before its decision),
an undecided or queried line's the latest. Decisions themselves are never touched by a
change of policy.

The checks are services.claim_checks' pure functions; this module reads what they need in a
fixed number of queries whatever the number of claims or lines (`check_claims`), for one
claim, a page of the claims list, a draft invoice or an incident.

Bulk decisions ("approve every line that passes", "part-approve at the cap") are recorded
line by line through services.review.decide_many: the claim is held, the checks are run on
the claim as committed, and each line gets its own decision and audit entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.cost_kinds import APPOINTMENT_TYPES, MAX_EXPENSE, MAX_RATE, CostKind
from tracker.models import (
    ClaimMessage,
    ClaimPolicy,
    ClaimPolicyCap,
    CostLine,
    DocumentKind,
    EventStatus,
    Evidence,
    Icb,
    Incident,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    OutageEvent,
    table_of,
)
from tracker.presentation import (
    cost_kind_label,
    format_money,
    long_date,
    quantity_text,
    shortened,
    utc_to_london,
)
from tracker.services import audit, locks, review
from tracker.services.claim_checks import (
    CAPS,
    CAPS_BY_KEY,
    FLAG_LABELS,
    Flag,
    FlagCode,
    LineFacts,
    LineIndex,
    Outage,
    Pricing,
    Terms,
    check_lines,
    only_over_cap,
)
from tracker.services.errors import Conflict, Invalid
from tracker.services.incidents import lines_with_evidence
from tracker.services.money import to_pence

KIND_ORDER = tuple(kind.value for kind in CostKind)
_DAY = timedelta(days=1)
#: A row of any columns, as the checks' queries select them.
AnyRow = Row[*tuple[Any, ...]]
#: The most hours a person may be allowed in a day, and the longest window after an outage.
MAX_HOURS_A_DAY = Decimal(24)
MAX_WINDOW_DAYS = 366

# --- the policy and its versions -------------------------------------------------------------


@dataclass(frozen=True)
class PolicyInput:
    """A policy as a reviewer typed it; None (or a missing cap) is no limit."""

    claimable: frozenset[str]
    caps: dict[str, Decimal] = field(default_factory=dict)
    deadline: date | None = None
    window_days: int | None = None
    evidence_above: Decimal | None = None
    max_hours_per_day: Decimal | None = None


def policy_input(policy: ClaimPolicy) -> PolicyInput:
    """A saved version as an input, to fill the form and to tell a save that changes nothing."""
    return PolicyInput(
        claimable=frozenset(kinds(policy)),
        caps={cap.key: cap.amount for cap in policy.caps},
        deadline=policy.deadline,
        window_days=policy.window_days,
        evidence_above=policy.evidence_above,
        max_hours_per_day=policy.max_hours_per_day,
    )


def kinds(policy: ClaimPolicy) -> list[str]:
    return [kind for kind in policy.claimable.split(",") if kind]


def _money_problem(name: str, what: str, value: Decimal | None, most: Decimal) -> Invalid | None:
    if value is None:
        return None
    if value <= 0:
        return Invalid(f"{what} must be more than £0.00, or left blank for no limit", name)
    if to_pence(value) != value:
        return Invalid(f"{what} must be in pounds and pence, like 12.50", name)
    if value > most:
        return Invalid(f"{what} must be {format_money(most)} or less", name)
    return None


def policy_problems(inp: PolicyInput, event: OutageEvent) -> list[Invalid]:
    """What is wrong with a typed policy, each naming its form field."""
    found: list[Invalid | None] = []
    if not inp.claimable:
        found.append(Invalid("Choose at least one kind of cost your ICB reimburses", "claimable"))
    elif not inp.claimable <= set(KIND_ORDER):
        found.append(Invalid("Choose kinds of cost from the list", "claimable"))
    for key, value in inp.caps.items():
        spec = CAPS_BY_KEY.get(key)
        if spec is None:
            found.append(Invalid("That cap is not one this policy can set", "caps"))
            continue
        what = f"The cap for {spec.what.lower()}"
        found.append(_money_problem(f"cap_{key}", what, value, MAX_RATE))
    found.append(
        _money_problem(
            "evidence_above",
            "The amount above which evidence is needed",
            inp.evidence_above,
            MAX_EXPENSE,
        )
    )
    hours = inp.max_hours_per_day
    if hours is not None and not (0 < hours <= MAX_HOURS_A_DAY and hours == to_pence(hours)):
        found.append(
            Invalid(
                "Hours a person a day must be more than 0 and at most 24, like 12.5",
                "max_hours_per_day",
            )
        )
    days = inp.window_days
    if days is not None and not 0 <= days <= MAX_WINDOW_DAYS:
        found.append(
            Invalid(
                f"The window must be 0 to {MAX_WINDOW_DAYS} days after the incident", "window_days"
            )
        )
    starts = event.started_on
    if inp.deadline is not None and starts is not None and inp.deadline < starts:
        found.append(
            Invalid(
                f"The deadline must be on or after the day the outage started "
                f"({long_date(starts)})",
                "deadline",
            )
        )
    return [problem for problem in found if problem is not None]


def versions(session: Session, event_id: int, icb_id: int) -> list[ClaimPolicy]:
    """Every version of the ICB's policy for the event, newest first, with its caps."""
    return list(
        session.scalars(
            select(ClaimPolicy)
            .options(selectinload(ClaimPolicy.caps), selectinload(ClaimPolicy.created_by))
            .where(ClaimPolicy.outage_event_id == event_id, ClaimPolicy.icb_id == icb_id)
            .order_by(ClaimPolicy.version.desc())
        )
    )


def current(session: Session, event_id: int | None, icb_id: int) -> ClaimPolicy | None:
    """The version in force now, or None when the ICB has written no policy for the event."""
    if event_id is None:
        return None
    return session.scalars(
        select(ClaimPolicy)
        .options(selectinload(ClaimPolicy.caps))
        .where(ClaimPolicy.outage_event_id == event_id, ClaimPolicy.icb_id == icb_id)
        .order_by(ClaimPolicy.version.desc())
        .limit(1)
    ).first()


def version_for_icbs(session: Session, policy_id: int, icb_ids: list[int]) -> ClaimPolicy | None:
    """One version of a policy of one of `icb_ids` (a reviewer's own ICBs), else None."""
    return session.scalars(
        select(ClaimPolicy)
        .options(selectinload(ClaimPolicy.caps))
        .where(ClaimPolicy.id == policy_id, ClaimPolicy.icb_id.in_(icb_ids))
    ).first()


SAVED_MEANWHILE = (
    "Another reviewer saved a new version of this policy a moment ago. Reload the page to see "
    "it, then make your changes again."
)


NOT_CONFIRMED = (
    "A practice proposed this outage event and it is not confirmed: confirm it (or merge it "
    "into the event it duplicates) before writing a claim policy for it."
)


def _hold_confirmed(session: Session, event: OutageEvent) -> None:
    """Only a confirmed event carries a policy (services.events: a merge then never has two
    policies to reconcile, and practices never read terms for an unaccepted event). The
    event's row is held while the policy is written, so a merge cannot slip in between."""
    events = table_of(OutageEvent)
    held = locks.hold(
        session,
        OutageEvent,
        events.c.id == event.id,
        events.c.status == EventStatus.CONFIRMED,
    )
    if not held:
        raise Conflict(NOT_CONFIRMED)


def save_policy(
    session: Session,
    event: OutageEvent,
    icb: Icb,
    inp: PolicyInput,
    *,
    seen_version: int,
    user_id: int | None,
) -> ClaimPolicy | None:
    """Save the policy as a new version, audited. Returns None when it is the same as the
    version in force (nothing to save). Refuses (Conflict) when a version was saved since
    the reviewer opened the form (`seen_version`, 0 for none), so no change is lost
    silently; two saves at the same moment meet the unique version number."""
    problems = policy_problems(inp, event)
    if problems:
        raise problems[0]
    _hold_confirmed(session, event)
    latest = current(session, event.id, icb.id)
    if (latest.version if latest else 0) != seen_version:
        raise Conflict(SAVED_MEANWHILE)
    if latest is not None and policy_input(latest) == inp:
        return None
    policy = ClaimPolicy(
        outage_event_id=event.id,
        icb_id=icb.id,
        version=seen_version + 1,
        claimable=",".join(kind for kind in KIND_ORDER if kind in inp.claimable),
        deadline=inp.deadline,
        window_days=inp.window_days,
        evidence_above=inp.evidence_above,
        max_hours_per_day=inp.max_hours_per_day,
        created_by_id=user_id,
        caps=[
            ClaimPolicyCap(key=spec.key, amount=inp.caps[spec.key])
            for spec in CAPS
            if inp.caps.get(spec.key) is not None
        ],
    )
    try:
        with session.begin_nested():
            session.add(policy)
            session.flush()
    except IntegrityError as error:
        raise Conflict(SAVED_MEANWHILE) from error
    audit.record(
        session,
        user_id=user_id,
        entity=policy,
        action="policy",
        changes=_changes(latest, inp),
        summary=f"{icb.name}'s claim policy for {event.name}: version {policy.version}",
    )
    return policy


def _as_text(inp: PolicyInput | None) -> dict[str, str | None]:
    if inp is None:
        return {}
    values: dict[str, str | None] = {
        "claimable": ",".join(kind for kind in KIND_ORDER if kind in inp.claimable),
        "deadline": inp.deadline.isoformat() if inp.deadline else None,
        "window_days": None if inp.window_days is None else str(inp.window_days),
        "evidence_above": None if inp.evidence_above is None else f"{inp.evidence_above:.2f}",
        "max_hours_per_day": (
            None if inp.max_hours_per_day is None else f"{inp.max_hours_per_day:.2f}"
        ),
    }
    values.update({f"cap_{key}": f"{amount:.2f}" for key, amount in inp.caps.items()})
    return values


def _changes(latest: ClaimPolicy | None, inp: PolicyInput) -> dict[str, Any]:
    """The audit trail's {field: [old, new]} from the version in force to the new one."""
    before = _as_text(policy_input(latest) if latest else None)
    after = _as_text(inp)
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


# --- the policy as the checks and the practices read it --------------------------------------


def terms(policy: ClaimPolicy, icb_name: str, event_name: str) -> Terms:
    """A saved version as the checks read it (the same fields as its input, named)."""
    return Terms(
        version=policy.version,
        icb_name=icb_name,
        event_name=event_name,
        **vars(policy_input(policy)),
    )


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _caps_text(found: Terms, kind: str) -> str | None:
    caps = [
        spec.phrase.format(format_money(found.caps[spec.key]))
        for spec in CAPS
        if spec.kind == kind and spec.key in found.caps
    ]
    return _listed(caps) if caps else None


def kind_statement(found: Terms, kind: str) -> str:
    """What the ICB reimburses of one kind: "Locum cover: up to £340.00 a session and £85.00
    an hour." or "Lost appointments: not reimbursed for this outage."."""
    label = cost_kind_label(kind)
    if kind not in found.claimable:
        return f"{label}: not reimbursed for this outage."
    caps = _caps_text(found, kind)
    if caps is None:
        return f"{label}: reimbursed, with no cap on the rate."
    if kind == CostKind.STAFF:
        return f"{label}: basic pay up to {caps} an hour, before on-costs."
    return f"{label}: up to {caps}."


def general_statements(found: Terms) -> list[str]:
    """The rules for every kind: hours a day, evidence, the dates accepted, the deadline."""
    said = []
    if found.max_hours_per_day is not None:
        most = quantity_text(found.max_hours_per_day, "hour")
        said.append(f"At most {most} of staff or locum time a person a day.")
    if found.evidence_above is not None:
        said.append(
            f"Attach a receipt or other evidence to any cost over "
            f"{format_money(found.evidence_above)}."
        )
    said.append(
        f"Costs dated from the day the outage started to {found.window} "
        f"day{'' if found.window == 1 else 's'} after your incident ended."
    )
    if found.deadline is not None:
        said.append(f"Deadline for claims: {long_date(found.deadline)}.")
    return said


@dataclass(frozen=True)
class PolicyView:
    """A version of the policy as a practice or a reviewer reads it."""

    policy: ClaimPolicy
    terms: Terms
    kinds: list[tuple[str, str]]  # (kind, what is reimbursed of it)
    general: list[str]

    @property
    def title(self) -> str:
        return self.terms.title


def view(policy: ClaimPolicy, icb_name: str, event_name: str) -> PolicyView:
    found = terms(policy, icb_name, event_name)
    return PolicyView(
        policy=policy,
        terms=found,
        kinds=[(kind, kind_statement(found, kind)) for kind in KIND_ORDER],
        general=general_statements(found),
    )


def practice_view(session: Session, event: OutageEvent | None, icb: Icb) -> PolicyView | None:
    """The practice's own ICB's policy in force for the event, or None."""
    if event is None:
        return None
    policy = current(session, event.id, icb.id)
    return view(policy, icb.name, event.name) if policy else None


# --- reading the facts the checks need --------------------------------------------------------

_FACTS_COLUMNS = (
    InvoiceLine.id,
    InvoiceLine.invoice_id,
    InvoiceLine.position,
    InvoiceLine.kind,
    InvoiceLine.line_date,
    InvoiceLine.description,
    InvoiceLine.unit,
    InvoiceLine.quantity,
    InvoiceLine.unit_rate,
    InvoiceLine.total_amount,
    InvoiceLine.vat_amount,
    InvoiceLine.details,
    InvoiceLine.incident_id,
    Invoice.number,
)


def _detail(details: Sequence[dict[str, str]] | None, name: str) -> str:
    return next((d["value"] for d in details or [] if d.get("name") == name), "")


_PERSON_DETAILS = ("staff_role", "locum_name", "supplier")
_APPOINTMENT_KEYS = {label: key for key, label in APPOINTMENT_TYPES.items()}


def _person(details: Sequence[dict[str, str]] | None) -> str:
    return next((value for name in _PERSON_DETAILS if (value := _detail(details, name))), "")


def _line_name(row: AnyRow, own: bool) -> str:
    return f"line {row.position}" if own else f"line {row.position} of claim {row.number}"


def _facts(
    row: AnyRow,
    *,
    own: bool,
    evidence: int = 0,
    outage: Outage | None = None,
    pricing: Pricing | None = None,
) -> LineFacts:
    """An invoice line (frozen at issue, or on a draft) as the checks read it."""
    return LineFacts(
        id=row.id,
        name=_line_name(row, own),
        order=(row.invoice_id, row.position),
        kind=row.kind,
        line_date=row.line_date,
        description=row.description,
        unit=row.unit,
        quantity=row.quantity,
        unit_rate=row.unit_rate,
        total=row.total_amount,
        person=_person(row.details),
        appointment_type=_APPOINTMENT_KEYS.get(_detail(row.details, "appointment_type"), ""),
        evidence=evidence,
        outage=outage,
        pricing=pricing,
    )


def pricing_of(
    details: dict[str, str] | None,
    percentages: tuple[Decimal, Decimal, Decimal],
    vat_rate: Decimal | None,
    vat_charged: Decimal,
) -> Pricing:
    """What a cost line was priced with besides its rate: its pay basis and pension choice
    (details), its stored overtime, NI and pension percentages, the supplier's VAT rate, and
    whether that VAT was a cost (charged to the practice, not on the claim)."""
    details = details or {}
    overtime_pct, ni_pct, pension_pct = percentages
    return Pricing(
        basis=str(details.get("pay_basis") or "overtime"),
        overtime_pct=overtime_pct,
        ni_pct=ni_pct,
        pension_pct=pension_pct,
        pays_into_scheme=details.get("locum_pension") == "scheme",
        vat_rate=vat_rate,
        vat_as_cost=bool(vat_rate) and not vat_charged,
    )


def outage_of(event_started: date | None, starts_at: datetime, ends_at: datetime | None) -> Outage:
    """The outage's first day (the event's, else the incident's, in UK time) and the
    incident's last."""
    first = utc_to_london(starts_at).date()
    last = utc_to_london(ends_at).date() if ends_at else first
    return Outage(starts=event_started or first, ended=last)


def _outages(session: Session, incident_ids: Iterable[int]) -> dict[int, tuple[Outage, int | None]]:
    """Each incident's dates and outage event, in one query."""
    ids = set(incident_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            Incident.id,
            Incident.starts_at,
            Incident.ends_at,
            Incident.outage_event_id,
            OutageEvent.started_on,
        )
        .outerjoin(OutageEvent, OutageEvent.id == Incident.outage_event_id)
        .where(Incident.id.in_(ids))
    ).all()
    return {
        row.id: (outage_of(row.started_on, row.starts_at, row.ends_at), row.outage_event_id)
        for row in rows
    }


def _evidence_counts(session: Session, invoice_ids: list[int]) -> dict[int, int]:
    """Files per invoice line: on its cost line, and on the practice's answers about it."""
    counts: dict[int, int] = defaultdict(int)
    on_costs = (
        select(InvoiceLine.id, func.count(Evidence.id))
        .join(Evidence, Evidence.cost_line_id == InvoiceLine.cost_line_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .group_by(InvoiceLine.id)
    )
    on_answers = (
        select(ClaimMessage.invoice_line_id, func.count(Evidence.id))
        .join(Evidence, Evidence.claim_message_id == ClaimMessage.id)
        .where(ClaimMessage.invoice_id.in_(invoice_ids), ClaimMessage.invoice_line_id.is_not(None))
        .group_by(ClaimMessage.invoice_line_id)
    )
    for query in (on_costs, on_answers):
        for line_id, count in session.execute(query).all():
            if line_id is not None:  # answers about the claim as a whole are left out above
                counts[line_id] += count
    return counts


class Policies:
    """Every version of the policies of some (event, ICB) pairs, read in two queries, and
    the one a line is judged by."""

    def __init__(self, session: Session, event_ids: set[int], icb_ids: set[int]) -> None:
        self.by_pair: dict[tuple[int, int], list[ClaimPolicy]] = defaultdict(list)
        self.names: dict[tuple[int, int], tuple[str, str]] = {}
        self._terms: dict[int, Terms] = {}
        if not event_ids or not icb_ids:
            return
        rows = session.execute(
            select(ClaimPolicy, Icb.name, OutageEvent.name)
            .join(Icb, Icb.id == ClaimPolicy.icb_id)
            .join(OutageEvent, OutageEvent.id == ClaimPolicy.outage_event_id)
            .options(selectinload(ClaimPolicy.caps))
            .where(ClaimPolicy.outage_event_id.in_(event_ids), ClaimPolicy.icb_id.in_(icb_ids))
            .order_by(ClaimPolicy.version)
        ).all()
        for policy, icb_name, event_name in rows:
            pair = (policy.outage_event_id, policy.icb_id)
            self.by_pair[pair].append(policy)
            self.names[pair] = (icb_name, event_name)

    def judged_by(
        self, event_id: int | None, icb_id: int, decided_at: datetime | None
    ) -> Terms | None:
        """The version in force when a line was finally decided (`decided_at`), else the
        latest; None when there was none."""
        if event_id is None:
            return None
        history = self.by_pair.get((event_id, icb_id), [])
        if decided_at is not None:
            history = [policy for policy in history if policy.created_at <= decided_at]
        if not history:
            return None
        policy = history[-1]
        if policy.id not in self._terms:
            self._terms[policy.id] = terms(policy, *self.names[(event_id, icb_id)])
        return self._terms[policy.id]


@dataclass
class ClaimChecks:
    """The checks of one claim: the flags of each line (by invoice line id) and the policy
    in force for the claim now (None when its ICB has written none for its event)."""

    flags: dict[int, list[Flag]]
    terms: Terms | None

    @property
    def flagged(self) -> int:
        return sum(1 for found in self.flags.values() if found)

    def by_label(self) -> list[tuple[str, int]]:
        """How many lines carry each kind of flag, in the order of FLAG_LABELS."""
        counts: dict[str, int] = defaultdict(int)
        for found in self.flags.values():
            for label in {flag.label for flag in found}:
                counts[label] += 1
        order = list(dict.fromkeys(FLAG_LABELS.values()))
        return sorted(counts.items(), key=lambda item: order.index(item[0]))


def _standing(practice_ids: set[int]) -> ColumnElement[bool]:
    return and_(
        Invoice.practice_id.in_(practice_ids),
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
    )


def check_claims(
    session: Session, invoice_ids: Sequence[int], *, today: date | None = None
) -> dict[int, ClaimChecks]:
    """The checks of each claim (or draft: checked as if issued `today`), in six queries
    whatever their number: their lines with decisions and cost lines, their incidents,
    evidence counts (two), the policies' versions (two), the practices' lines on their
    other standing claims."""
    if not invoice_ids:
        return {}
    invoices = {
        row.id: row
        for row in session.execute(
            select(
                Invoice.id,
                Invoice.practice_id,
                Invoice.icb_id,
                Invoice.issue_date,
                Invoice.status,
                Invoice.outage_event_id,
            ).where(Invoice.id.in_(invoice_ids))
        ).all()
    }
    rows = session.execute(
        select(
            *_FACTS_COLUMNS,
            LineDecision.decision,
            LineDecision.decided_at,
            CostLine.overtime_pct,
            CostLine.ni_pct,
            CostLine.pension_pct,
            CostLine.vat_rate,
            CostLine.details.label("cost_details"),
            CostLine.id.label("cost_line_id"),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(LineDecision, LineDecision.invoice_line_id == InvoiceLine.id)
        .outerjoin(CostLine, CostLine.id == InvoiceLine.cost_line_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
    ).all()
    outages = _outages(session, {row.incident_id for row in rows if row.incident_id})
    evidence = _evidence_counts(session, list(invoice_ids))
    events = {inv.outage_event_id for inv in invoices.values() if inv.outage_event_id} | {
        event for _outage, event in outages.values() if event
    }
    policies = Policies(session, events, {inv.icb_id for inv in invoices.values()})
    others = _other_lines(session, invoices, rows)
    by_claim: dict[int, list[AnyRow]] = defaultdict(list)
    for row in rows:
        by_claim[row.invoice_id].append(row)
    _add_checked_claims(others, invoices, by_claim)
    indexes = {practice_id: LineIndex(lines) for practice_id, lines in others.items()}
    return {
        invoice_id: _check_one(
            invoices[invoice_id], by_claim[invoice_id], outages, evidence, policies, indexes, today
        )
        for invoice_id in invoice_ids
        if invoice_id in invoices
    }


def _other_lines(
    session: Session, invoices: dict[int, AnyRow], rows: Sequence[AnyRow]
) -> dict[int, list[LineFacts]]:
    """Each practice's lines on its standing claims dated within a day of its own lines being
    checked (what a duplicate or a day's hours can be made of), by practice.

    The window is each practice's own days, not one span over every claim checked: a page of
    claims from the 19th of July and from February read every line a busy practice claimed in
    between (1,330 lines for a page of 723, issue 13)."""
    if not rows:
        return {}
    practice_of = {invoice_id: inv.practice_id for invoice_id, inv in invoices.items()}
    days = {
        (practice_of[row.invoice_id], row.line_date + step)
        for row in rows
        for step in (-_DAY, timedelta(0), _DAY)
    }
    found: dict[int, list[LineFacts]] = defaultdict(list)
    for row in session.execute(
        select(*_FACTS_COLUMNS, Invoice.practice_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            _standing(set(practice_of.values())),
            Invoice.id.not_in(list(invoices)),  # those being checked are read already
            tuple_(Invoice.practice_id, InvoiceLine.line_date).in_(sorted(days)),
        )
    ).all():
        found[row.practice_id].append(_facts(row, own=False))
    return found


def _add_checked_claims(
    others: dict[int, list[LineFacts]],
    invoices: dict[int, AnyRow],
    by_claim: dict[int, list[AnyRow]],
) -> None:
    """The standing claims being checked are each other's "other claims" too, when a
    practice has several of them among those being checked."""
    claims_of: dict[int, list[int]] = defaultdict(list)
    for invoice in invoices.values():
        if invoice.status == InvoiceStatus.ISSUED:
            claims_of[invoice.practice_id].append(invoice.id)
    for practice_id, claim_ids in claims_of.items():
        if len(claim_ids) > 1:
            others[practice_id] += [
                _facts(row, own=False) for claim_id in claim_ids for row in by_claim[claim_id]
            ]


def _check_one(
    invoice: AnyRow,
    rows: list[AnyRow],
    outages: dict[int, tuple[Outage, int | None]],
    evidence: dict[int, int],
    policies: Policies,
    indexes: dict[int, LineIndex],
    today: date | None,
) -> ClaimChecks:
    lines, terms_of = [], {}
    for row in rows:
        outage, event_id = outages.get(row.incident_id, (None, None))
        event_id = event_id or invoice.outage_event_id
        final = row.decision is not None and review.Decision(row.decision).is_final
        terms_of[row.id] = policies.judged_by(
            event_id, invoice.icb_id, row.decided_at if final else None
        )
        pricing = None
        if row.cost_line_id is not None:
            percentages = (row.overtime_pct, row.ni_pct, row.pension_pct)
            pricing = pricing_of(row.cost_details, percentages, row.vat_rate, row.vat_amount)
        lines.append(
            _facts(row, own=True, evidence=evidence.get(row.id, 0), outage=outage, pricing=pricing)
        )
    claimed_on = invoice.issue_date if invoice.status != InvoiceStatus.DRAFT else today
    flags = check_lines(
        lines,
        indexes.get(invoice.practice_id) or LineIndex(),
        terms_of,
        claimed_on,
        "Issued" if invoice.status != InvoiceStatus.DRAFT else "Today is",
    )
    return ClaimChecks(
        flags=flags, terms=policies.judged_by(invoice.outage_event_id, invoice.icb_id, None)
    )


# --- a practice's incident: its lines not yet invoiced, checked before it claims --------------


def _cost_facts(line: CostLine, evidence: int, outage: Outage, *, invoiced: bool) -> LineFacts:
    details = line.details or {}
    percentages = (line.overtime_pct, line.ni_pct, line.pension_pct)
    return LineFacts(
        id=line.id,
        name=f"“{line.description}” of {long_date(line.line_date)}",
        order=(0 if invoiced else 1, line.id),
        kind=line.kind,
        line_date=line.line_date,
        description=line.description,
        unit=line.unit,
        quantity=line.quantity,
        unit_rate=line.unit_rate,
        total=line.total_amount,
        person=next((str(details[n]) for n in _PERSON_DETAILS if details.get(n)), ""),
        appointment_type=str(details.get("appointment_type") or ""),
        evidence=evidence,
        outage=outage,
        pricing=pricing_of(details, percentages, line.vat_rate, line.vat_amount),
    )


@dataclass
class IncidentChecks:
    """The checks of an incident's lines not yet invoiced, by cost line id, against its own
    ICB's policy for the incident's outage event (None when there is none)."""

    flags: dict[int, list[Flag]]
    policy: PolicyView | None


def check_incident(
    session: Session,
    incident: Incident,
    today: date,
    lines: Sequence[CostLine] | None = None,
) -> IncidentChecks:
    """Check the incident's lines not yet on an issued invoice as the ICB will (as if the
    claim were issued today); its invoiced lines count for duplicates and hours. `lines` are
    the incident's lines with their evidence loaded (services.incidents.lines_with_evidence),
    read here unless the caller has them already, as the incident's page does."""
    practice = incident.practice
    policy = practice_view(session, incident.outage_event, practice.icb)
    if lines is None:
        lines = lines_with_evidence(session, incident.id)
    event = incident.outage_event
    outage = outage_of(event.started_on if event else None, incident.starts_at, incident.ends_at)
    facts = [
        (line.is_locked, _cost_facts(line, len(line.evidence), outage, invoiced=line.is_locked))
        for line in lines
    ]
    open_lines = [line for locked, line in facts if not locked]
    invoiced = [line for locked, line in facts if locked]
    found = policy.terms if policy else None
    flags = check_lines(
        open_lines, invoiced, {line.id: found for line in open_lines}, today, "Today is"
    )
    return IncidentChecks(flags=for_practice(flags, found), policy=policy)


def flag_sentences(flags: dict[int, list[Flag]], names: dict[int, str]) -> list[str]:
    """Each flag as one sentence naming its line, for a list of warnings."""
    return [
        f"{names[line_id]}: {flag.label}. {flag.text}"
        for line_id, found in flags.items()
        for flag in found
        if line_id in names
    ]


# --- bulk decisions ---------------------------------------------------------------------------


def _passing(
    session: Session, claim: Invoice
) -> list[tuple[InvoiceLine, review.LineDecisionInput]]:
    flags = check_claims(session, [claim.id])[claim.id].flags
    approve = review.LineDecisionInput(review.Decision.APPROVED)
    return [(line, approve) for line in review.undecided(claim) if not flags.get(line.id)]


def _at_cap(session: Session, claim: Invoice) -> list[tuple[InvoiceLine, review.LineDecisionInput]]:
    flags = check_claims(session, [claim.id])[claim.id].flags
    chosen = []
    for line in review.undecided(claim):
        capped = _part_approvable(line, flags.get(line.id, []))
        if capped is not None:
            decision = review.LineDecisionInput(
                review.Decision.PART_APPROVED, capped.allowed, capped.reason
            )
            chosen.append((line, decision))
    return chosen


def _part_approvable(line: InvoiceLine, found: list[Flag]) -> Flag | None:
    """The over-the-cap flag of a line flagged for nothing else, when the cap allows more
    than nothing and less than was claimed: what "part-approve at the cap" decides."""
    capped = only_over_cap(found)
    allowed = capped.allowed if capped is not None else None
    return capped if allowed is not None and 0 < allowed < line.total_amount else None


def approve_passing(session: Session, claim: Invoice, *, user_id: int) -> int:
    """Approve in full every undecided line the checks do not flag, each as its own decision
    (services.review.decide_many: the claim held, the checks run on it as committed).
    Returns how many: none when another reviewer did it a moment ago."""
    return review.decide_many(session, claim, lambda held: _passing(session, held), user_id=user_id)


def part_approve_at_caps(session: Session, claim: Invoice, *, user_id: int) -> int:
    """Part-approve, at the amount the cap allows, every undecided line flagged only for
    being over a cap, with the reason written from the policy ("Locum sessions capped at
    £340.00 a session by NHS ... ICB's policy for ... v2.")."""
    return review.decide_many(session, claim, lambda held: _at_cap(session, held), user_id=user_id)


@dataclass(frozen=True)
class BulkChoices:
    """How many undecided lines each bulk action would decide, for its button."""

    passing: int
    at_cap: int
    at_cap_total: Decimal


def bulk_choices(claim: Invoice, checks: ClaimChecks) -> BulkChoices:
    passing = at_cap = 0
    total = Decimal("0.00")
    for line in review.undecided(claim):
        found = checks.flags.get(line.id, [])
        capped = _part_approvable(line, found)
        if not found:
            passing += 1
        elif capped is not None and capped.allowed is not None:
            at_cap += 1
            total += capped.allowed
    return BulkChoices(passing=passing, at_cap=at_cap, at_cap_total=total)


#: A bulk decision on a claim: claim_policy.approve_passing or part_approve_at_caps.
BulkDecision = Callable[..., int]


def for_practice(flags: dict[int, list[Flag]], policy: Terms | None) -> dict[int, list[Flag]]:
    """The flags a practice is shown: without a policy, the date check is the incident page's
    own warning (cost_lines.date_warning, the same window), so it is not said twice."""
    if policy is not None:
        return flags
    return {
        line_id: [flag for flag in found if flag.code != FlagCode.OUTSIDE_DATES]
        for line_id, found in flags.items()
    }


def draft_warnings(session: Session, invoice: Invoice, today: date) -> list[str]:
    """A draft's lines as the ICB's checks will flag them once issued (today), to read
    before issuing: "Line 2, Locum GP cover: Over the cap. £357.00 a session is ..."."""
    checks = check_claims(session, [invoice.id], today=today).get(invoice.id)
    if checks is None:
        return []
    names = {
        line.id: f"Line {line.position}, {shortened(line.description)}" for line in invoice.lines
    }
    return flag_sentences(for_practice(checks.flags, checks.terms), names)
