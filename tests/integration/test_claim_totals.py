"""The reports' totals kept per claim and cost kind (services.claim_totals, issue 13): after
any sequence of issuing claims, deciding and re-deciding their lines, crediting what the ICB
did not approve and cancelling claims, through the services on SQLite, the kept rows equal a
recomputation from the lines and decisions, and the national and ICB reports (which now read
the kept rows) show, to the penny, what the claims' lines say: claimed, approved, awaiting,
hours, appointments and claims per cost kind and per ICB.
The races of two reviewers deciding one claim at once are in test_races (both databases)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import wipe
from tests.factories import World, build_world, make_claim, make_event
from tracker.documents.report_data import Figures
from tracker.extensions import db
from tracker.models import DocumentKind, Icb, Invoice, InvoiceStatus, OutageEvent
from tracker.services import claim_totals, crediting, reports, review
from tracker.services.errors import DomainError

DAY = date(2024, 8, 1)
DECISIONS = ("approved", "part_approved", "queried", "rejected")


@pytest.fixture
def sqlite_app(app: Flask) -> Flask:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the property tests run through the services on SQLite")
    return app


operations = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.sampled_from(("a", "a2", "b")), st.integers(1, 3)),
        st.tuples(
            st.just("decide"),
            st.integers(0, 5),
            st.integers(0, 3),
            st.sampled_from(DECISIONS),
        ),
        st.tuples(st.just("credit_disallowed"), st.integers(0, 5)),
        st.tuples(st.just("cancel"), st.integers(0, 5)),
    ),
    max_size=12,
)


def _step(world: World, event: OutageEvent, claims: list[int], operation: tuple) -> None:  # type: ignore[type-arg]
    """One operation through the services; one the rules refuse is rolled back."""
    name, *args = operation
    session = db.session
    try:
        if name == "claim":
            practice = {"a": world.practice_a, "a2": world.practice_a2, "b": world.practice_b}
            claims.append(make_claim(session, practice[args[0]], event, scale=args[1]).id)
        elif claims:
            invoice = session.get(Invoice, claims[args[0] % len(claims)])
            assert invoice is not None
            if name == "decide":
                line = invoice.lines[args[1] % len(invoice.lines)]
                reviewer = world.reviewer if invoice.icb_id == world.icb_x.id else world.reviewer_y
                part = (line.total_amount / 2).quantize(Decimal("0.01"))
                data = review.LineDecisionInput(
                    args[2],
                    approved_amount=part if args[2] == "part_approved" else None,
                    reason="" if args[2] == "approved" else "Not an outage cost",
                )
                review.decide_line(session, invoice, line, data, user_id=reviewer.id)
            elif name == "credit_disallowed":
                crediting.credit_disallowed(session, invoice, user_id=world.finance.id, today=DAY)
            else:
                crediting.credit_invoice(
                    session, invoice, user_id=world.finance.id, today=DAY, reason="Wrong claim"
                )
        session.commit()
    except DomainError:
        session.rollback()


def _expected(event: OutageEvent) -> tuple[dict[str, Figures], dict[str, Figures]]:
    """Figures by cost kind and by ICB code, summed here from every line of the event's
    claims still issued, with its decision (the report's definition, module docstring of
    services.reports)."""
    by_kind: dict[str, Figures] = defaultdict(Figures)
    by_icb: dict[str, Figures] = defaultdict(Figures)
    claims = db.session.scalars(
        select(Invoice).where(
            Invoice.outage_event_id == event.id,
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
        )
    )
    codes = {icb_id: code for icb_id, code in db.session.execute(select(Icb.id, Icb.ods_code))}
    for claim in claims:
        code = codes[claim.icb_id]
        kinds: dict[str, Figures] = defaultdict(Figures)
        for line in claim.lines:
            decision = line.decision
            final = decision is not None and decision.decision in review.FINAL_DECISIONS
            hours = line.hours or Decimal(0)
            kinds[line.kind] += Figures(
                0,
                1,
                line.total_amount,
                (decision.approved_amount or Decimal(0)) if final and decision else Decimal(0),
                Decimal(0) if final else line.total_amount,
                hours if line.kind == "staff" else Decimal(0),
                hours if line.kind == "locum" else Decimal(0),
                line.appointments or 0,
            )
        for kind, figures in kinds.items():
            by_kind[kind] += Figures(1) + figures
            by_icb[code] += figures
        by_icb[code] += Figures(1)
    return dict(by_kind), dict(by_icb)


def _check(world: World, event: OutageEvent) -> None:
    session = db.session
    session.expire_all()
    assert claim_totals.differences(session) == []
    national = reports.national_report(session, event, today=DAY)
    by_kind, by_icb = _expected(event)
    assert {k.kind: k.figures for k in national.by_kind if k.figures.lines} == by_kind
    assert {i.ods_code: i.figures for i in national.by_icb} == by_icb
    for icb in (world.icb_x, world.icb_y):
        report = reports.icb_report(session, event, icb, today=DAY)
        assert report.totals == by_icb.get(icb.ods_code, Figures())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_kept_totals_equal_the_lines_after_any_sequence(
    sqlite_app: Flask,
    steps: list[tuple],  # type: ignore[type-arg]
) -> None:
    wipe(sqlite_app)
    with sqlite_app.app_context():
        world = build_world(db.session)
        event = make_event(db.session)
        db.session.commit()
        claims: list[int] = []
        _check(world, event)
        for operation in steps:
            _step(world, event, claims, operation)
            _check(world, event)
        db.session.remove()
