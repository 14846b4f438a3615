"""Issue 14, part A: an ICB's claim policy per outage event (versioned), the policy shown to
its practices before they claim, the automatic checks on the reviewer's pages, and the bulk
decisions. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask, current_app, g
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import (
    World,
    make_claim,
    make_event,
    make_incident,
    make_locum_line,
    make_staff_line,
)
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    ClaimPolicy,
    ClaimPolicyCap,
    CostLine,
    Icb,
    Invoice,
    LineDecision,
    OutageEvent,
    ReviewStatus,
    User,
)
from tracker.services import claim_policy, costing
from tracker.services.claim_checks import FlagCode
from tracker.services.errors import Conflict

LOCUM_CAP = Decimal("340.00")


def policy_input(**changes: object) -> claim_policy.PolicyInput:
    values: dict[str, object] = {
        "claimable": frozenset({"staff", "locum", "appointments", "expense"}),
        "caps": {"locum_session": LOCUM_CAP},
        "evidence_above": Decimal("5000.00"),
        "max_hours_per_day": Decimal("12"),
        "window_days": 28,
    }
    values.update(changes)
    return claim_policy.PolicyInput(**values)  # type: ignore[arg-type]


def save(
    event: OutageEvent, icb: Icb, user_id: int, seen: int = 0, **changes: object
) -> ClaimPolicy:
    saved = claim_policy.save_policy(
        db.session, event, icb, policy_input(**changes), seen_version=seen, user_id=user_id
    )
    assert saved is not None
    db.session.commit()
    return saved


def form(**changes: str) -> dict[str, object]:
    """The policy form as a reviewer fills it in."""
    data: dict[str, object] = {
        "claimable": ["staff", "locum", "expense"],
        "cap_locum_session": "340.00",
        "cap_locum_hour": "81.60",
        "cap_staff_band_2": "12.50",
        "max_hours_per_day": "12",
        "evidence_above": "250",
        "window_days": "28",
        "deadline": "2024-10-31",
        "seen_version": "0",
    }
    data.update(changes)
    return data


def page_of(response) -> str:
    return response.get_data(as_text=True)


def signed_in_as(user: User) -> FlaskClient:
    """A new client signed in as `user` (the test's application context keeps the last
    user signed in in `g`, and the sign-in page sends a signed-in user away)."""
    g.pop("_login_user", None)
    return login(current_app.test_client(), user)


# --- writing the policy ----------------------------------------------------------------------


def test_a_reviewer_writes_the_policy_and_every_save_is_a_new_version(
    as_reviewer: FlaskClient, world: World
) -> None:
    event = make_event(db.session)
    db.session.commit()
    url = f"/review/events/{event.id}/policy"
    response = as_reviewer.post(url, data=form())
    assert response.status_code == 302
    first = db.session.scalars(select(ClaimPolicy)).one()
    assert (first.version, first.icb_id, first.claimable) == (
        1,
        world.icb_x.id,
        "staff,locum,expense",
    )
    assert {cap.key: cap.amount for cap in first.caps} == {
        "staff_band_2": Decimal("12.50"),
        "locum_session": Decimal("340.00"),
        "locum_hour": Decimal("81.60"),
    }
    assert (first.deadline, first.window_days) == (date(2024, 10, 31), 28)
    assert (first.evidence_above, first.max_hours_per_day) == (Decimal("250.00"), Decimal(12))
    page = page_of(as_reviewer.get(url))
    assert "Version 1, in force" in page
    assert "Locum cover: up to £340.00 a session and £81.60 an hour." in page
    assert "Lost appointments: not reimbursed for this outage." in page

    # the same again is no new version; a change is version 2, version 1 kept as it was
    as_reviewer.post(url, data=form(seen_version="1"))
    assert db.session.scalar(select(func.count(ClaimPolicy.id))) == 1
    as_reviewer.post(url, data=form(seen_version="1", cap_locum_session="320"))
    versions = claim_policy.versions(db.session, event.id, world.icb_x.id)
    assert [v.version for v in versions] == [2, 1]
    assert {c.key: c.amount for c in versions[1].caps}["locum_session"] == Decimal("340.00")
    assert {c.key: c.amount for c in versions[0].caps}["locum_session"] == Decimal("320.00")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "policy")).all()
    assert len(entries) == 2
    assert json.loads(entries[-1].changes) == {"cap_locum_session": ["340.00", "320.00"]}


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("cap_locum_session", "lots", "Enter the cap as an amount, like 340.00"),
        ("cap_locum_session", "-5", "must be more than £0.00, or left blank for no limit"),
        ("cap_staff_band_3", "12.345", "must be in pounds and pence"),
        ("max_hours_per_day", "30", "Hours a person a day must be more than 0 and at most 24"),
        ("window_days", "-1", "Enter the number of days as a whole number, like 28"),
        ("window_days", "400", "The window must be 0 to 366 days"),
        ("evidence_above", "1e3", "Enter the amount in figures, like 250.00 (not 1e3)"),
        ("deadline", "2024-07-01", "The deadline must be on or after the day the outage started"),
        ("deadline", "31/31/2024", "Enter the deadline as a real date"),
        ("claimable", "", "Choose at least one kind of cost your ICB reimburses"),
    ],
)
def test_a_bad_figure_is_refused_beside_its_field_with_what_was_typed_kept(
    as_reviewer: FlaskClient, world: World, field: str, typed: str, message: str
) -> None:
    event = make_event(db.session)
    db.session.commit()
    data = form(**{field: typed})
    if field == "claimable":
        data["claimable"] = []
    response = as_reviewer.post(f"/review/events/{event.id}/policy", data=data)
    page = page_of(response)
    assert response.status_code == 200
    assert message in page
    assert f'id="{field}-error"' in page
    if field not in ("claimable", "deadline"):
        assert f'value="{typed}"' in page
    assert 'value="81.60"' in page  # the rest of what was typed is kept too
    assert db.session.scalar(select(func.count(ClaimPolicy.id))) == 0


def test_a_version_saved_meanwhile_is_not_overwritten(world: World) -> None:
    event = make_event(db.session)
    save(event, world.icb_x, world.reviewer.id)
    with pytest.raises(Conflict, match="Another reviewer saved a new version"):
        claim_policy.save_policy(
            db.session,
            event,
            world.icb_x,
            policy_input(caps={}),
            seen_version=0,
            user_id=world.reviewer.id,
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count(ClaimPolicy.id))) == 1


# --- who sees which policy ---------------------------------------------------------------------


def test_a_reviewer_never_sees_nor_writes_another_icbs_policy(app_ctx: Flask, world: World) -> None:
    event = make_event(db.session)
    policy_x = save(event, world.icb_x, world.reviewer.id)
    client = signed_in_as(world.reviewer_y)
    own = page_of(client.get(f"/review/events/{event.id}/policy"))
    assert world.icb_y.name in own and "£340.00" not in own
    assert "has no policy for this outage yet" in own
    assert client.get(f"/review/policies/{policy_x.id}").status_code == 404
    assert client.get(f"/review/events/{event.id}/policy?icb={world.icb_x.id}").status_code == 404
    refused = client.post(
        f"/review/events/{event.id}/policy?icb={world.icb_x.id}", data=form(seen_version="1")
    )
    assert refused.status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ClaimPolicy.id))) == 1
    event_page = page_of(client.get(f"/outage-events/{event.id}"))
    assert "£340.00" not in event_page and world.icb_y.name in event_page
    # the reviewer of the policy's own ICB reads the version; practices and admins write none
    client = signed_in_as(world.reviewer)
    assert client.get(f"/review/policies/{policy_x.id}").status_code == 200
    for user in (world.manager, world.admin):
        client = signed_in_as(user)
        assert client.get(f"/review/events/{event.id}/policy").status_code == 403
        assert client.post(f"/review/events/{event.id}/policy", data=form()).status_code == 403


def test_a_practice_sees_its_own_icbs_policy_only(app_ctx: Flask, world: World) -> None:
    event = make_event(db.session)
    save(event, world.icb_x, world.reviewer.id)
    save(event, world.icb_y, world.reviewer_y.id, caps={"locum_session": Decimal("300.00")})
    client = signed_in_as(world.manager)
    page = page_of(client.get(f"/outage-events/{event.id}"))
    assert world.icb_x.name in page and "£340.00 a session" in page and "£300.00" not in page
    client = signed_in_as(world.manager_b)
    page = page_of(client.get(f"/outage-events/{event.id}"))
    assert world.icb_y.name in page and "£300.00 a session" in page and "£340.00" not in page


# --- the practice, before it claims -------------------------------------------------------------


def test_a_manager_sees_the_cap_beside_the_locum_form_and_is_warned_not_refused(
    as_manager: FlaskClient, world: World
) -> None:
    event = make_event(db.session)
    save(event, world.icb_x, world.reviewer.id, evidence_above=Decimal("500.00"))
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    db.session.commit()
    url = f"/incidents/{incident.id}/costs/new/locum"
    panel = page_of(as_manager.get(url))
    assert 'data-testid="policy-panel"' in panel
    assert "Locum cover: up to £340.00 a session." in panel
    response = as_manager.post(
        url,
        data={
            "locum_name": "Dr A Khan",
            "description": "Locum GP cover",
            "line_date": "2024-07-19",
            "unit": "session",
            "quantity": "2",
            "unit_rate": "357",
            "locum_pension": "none",
        },
        follow_redirects=True,
    )
    page = page_of(response)
    assert "Over the cap: £357.00 a session" in page
    assert "£357.00 a session is over the cap of £340.00 a session" in page
    assert "at the cap the line is £680.00 of the £714.00 claimed" in page
    assert "Evidence missing: £714.00 is over the £500.00" in page  # and no file attached
    assert db.session.scalar(select(func.count(CostLine.id))) == 1  # saved all the same
    assert 'data-flag="over_cap"' in page  # and on the incident's list of costs


def test_the_draft_invoice_warns_of_each_flag_before_issuing(
    as_finance: FlaskClient, world: World
) -> None:
    from tracker.services import invoicing

    event = make_event(db.session)
    save(event, world.icb_x, world.reviewer.id, deadline=date(2024, 10, 31))
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    locum = make_locum_line(db.session, incident)
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, user_id=world.finance.id, cost_line_ids=[locum.id]
    )
    db.session.commit()
    page = page_of(as_finance.get(f"/invoices/{draft.id}"))
    assert "Line 1, Locum GP cover: Over the cap." in page
    assert "after the deadline for claims (31 October 2024) in the ICB&#39;s policy v1" in page


# --- the reviewer's pages: flags and counts -----------------------------------------------------


@pytest.fixture
def flagged_claim(world: World) -> Invoice:
    """A claim of practice A for an event whose ICB policy caps locum sessions at £340: a staff
    line, a locum line over the cap, the same staff line again, GP appointments, paper."""
    from tracker.services import invoicing

    event = make_event(db.session)
    save(event, world.icb_x, world.reviewer.id)
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    lines = [
        make_staff_line(db.session, incident, hours="3"),
        make_locum_line(db.session, incident),
        make_staff_line(db.session, incident, hours="3"),
        make_staff_line(db.session, incident, hours="2", description="Nurse paper clinic"),
    ]
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, user_id=None, cost_line_ids=[x.id for x in lines]
    )
    db.session.flush()
    claim = invoicing.issue_invoice(db.session, draft, user_id=None, today=date(2024, 7, 26))
    db.session.commit()
    return claim


def test_the_claim_page_and_the_list_show_each_lines_flags(
    as_reviewer: FlaskClient, flagged_claim: Invoice
) -> None:
    page = page_of(as_reviewer.get(f"/review/claims/{flagged_claim.id}"))
    assert "2 lines flagged" in page
    row = page.split('data-testid="line-4"')[1].split("</tr>")[0]
    assert 'data-flag="over_cap"' in row
    duplicate = page.split('data-testid="line-2"')[1].split("</tr>")[0]
    assert 'data-flag="duplicate"' in duplicate and "as line 1." in duplicate
    # lines 1, 2 and 3 are one nurse's 8 hours, within the day: lines 1 and 3 pass
    assert "Approve the 2 undecided lines that pass the checks" in page
    assert "Part-approve 1 line at the cap (£768.01)" in page
    listing = page_of(as_reviewer.get("/review"))
    cell = listing.split(f'data-testid="flags-{flagged_claim.number}"')[1].split("</td>")[0]
    assert "2 lines" in cell and "Over the cap 1" in cell and "Possible duplicate 1" in cell


def test_the_checks_take_the_same_queries_for_one_claim_or_many(world: World) -> None:
    event = make_event(db.session)
    save(event, world.icb_x, world.reviewer.id)
    claims = [make_claim(db.session, world.practice_a, event, scale=n) for n in (1, 2, 3, 1, 2)]
    db.session.commit()
    ids = [claim.id for claim in claims]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        claim_policy.check_claims(db.session, ids[:1])
        one = len(statements)
        statements.clear()
        found = claim_policy.check_claims(db.session, ids)
        many = len(statements)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert one == many <= 8
    # the same lines on five claims of one practice: each later claim's are duplicates
    assert found[ids[3]].flagged >= 1


# --- bulk decisions --------------------------------------------------------------------------


def test_approving_the_lines_that_pass_decides_only_those(
    as_reviewer: FlaskClient, world: World, flagged_claim: Invoice
) -> None:
    response = as_reviewer.post(f"/review/claims/{flagged_claim.id}/approve-passing")
    assert response.status_code == 302
    db.session.expire_all()
    claim = db.session.get(Invoice, flagged_claim.id)
    decided = {ln.position: ln.decision for ln in claim.lines}
    for position in (1, 3):
        assert decided[position] is not None and decided[position].decision == "approved"
        line = claim.lines[position - 1]
        assert decided[position].approved_amount == line.total_amount
    assert decided[2] is None and decided[4] is None
    assert claim.review_status == ReviewStatus.IN_REVIEW
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "decide").order_by(AuditEntry.id)
    ).all()
    assert [e.summary.split(": ")[0].split()[-2:] for e in entries] == [
        ["line", "1"],
        ["line", "3"],
    ]
    again = as_reviewer.post(f"/review/claims/{flagged_claim.id}/approve-passing")
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(LineDecision.id))) == 2


def test_part_approving_at_the_cap_records_the_capped_amount_and_the_policys_reason(
    as_reviewer: FlaskClient, world: World, flagged_claim: Invoice
) -> None:
    as_reviewer.post(f"/review/claims/{flagged_claim.id}/part-approve-at-cap")
    db.session.expire_all()
    claim = db.session.get(Invoice, flagged_claim.id)
    locum = claim.lines[3]
    assert locum.decision is not None and locum.decision.decision == "part_approved"
    at_cap = costing.locum_cover(
        Decimal(2), LOCUM_CAP, "session", pays_into_scheme=True, pension_pct=Decimal("14.38")
    )
    assert locum.decision.approved_amount == at_cap.total == Decimal("768.01")
    event = db.session.get(OutageEvent, claim.outage_event_id)
    assert locum.decision.reason == (
        f"Locum sessions capped at £340.00 a session by {world.icb_x.name}'s policy for "
        f"{event.name} v1."
    )
    assert [ln.decision for ln in claim.lines if ln.position != 4] == [None, None, None]
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "decide")).all()
    assert "line 4: Part-approved £768.01" in entry.summary


def test_a_policy_change_never_alters_a_decided_line(
    as_reviewer: FlaskClient, world: World, flagged_claim: Invoice
) -> None:
    as_reviewer.post(f"/review/claims/{flagged_claim.id}/part-approve-at-cap")
    as_reviewer.post(f"/review/claims/{flagged_claim.id}/approve-passing")
    db.session.expire_all()
    claim = db.session.get(Invoice, flagged_claim.id)
    before = {
        ln.id: (ln.decision.decision, ln.decision.approved_amount, ln.decision.reason)
        for ln in claim.lines
        if ln.decision
    }
    assert len(before) == 3
    event = db.session.get(OutageEvent, claim.outage_event_id)
    save(
        event,
        world.icb_x,
        world.reviewer.id,
        seen=1,
        caps={"locum_session": Decimal("300.00"), "staff_band_5": Decimal("10.00")},
        claimable=frozenset({"locum"}),
    )
    db.session.expire_all()
    claim = db.session.get(Invoice, flagged_claim.id)
    after = {
        ln.id: (ln.decision.decision, ln.decision.approved_amount, ln.decision.reason)
        for ln in claim.lines
        if ln.decision
    }
    assert after == before
    checks = claim_policy.check_claims(db.session, [claim.id])[claim.id]
    lines = {ln.position: ln.id for ln in claim.lines}
    # decided lines are read against version 1, in force when they were decided
    assert checks.flags[lines[1]] == checks.flags[lines[3]] == []
    assert "£340.00 a session" in checks.flags[lines[4]][0].text
    # an undecided line is read against version 2: staff time is no longer reimbursed
    assert FlagCode.NOT_CLAIMABLE in [f.code for f in checks.flags[lines[2]]]
    # and the bulk actions leave decided lines alone under the new version too
    as_reviewer.post(f"/review/claims/{claim.id}/part-approve-at-cap")
    db.session.expire_all()
    claim = db.session.get(Invoice, flagged_claim.id)
    assert claim.lines[3].decision.approved_amount == Decimal("768.01")


def test_bulk_decisions_are_refused_to_other_icbs_and_administrators(
    app_ctx: Flask, world: World, flagged_claim: Invoice
) -> None:
    client = signed_in_as(world.reviewer_y)
    for action in ("approve-passing", "part-approve-at-cap"):
        assert client.post(f"/review/claims/{flagged_claim.id}/{action}").status_code == 404
    client = signed_in_as(world.admin)
    assert client.post(f"/review/claims/{flagged_claim.id}/approve-passing").status_code == 403
    assert db.session.scalar(select(func.count(LineDecision.id))) == 0


def test_the_demo_policy_raises_each_kind_of_flag(app_ctx: Flask) -> None:
    from tests.conftest import PASSWORD
    from tracker import demo

    demo.seed_demo(db.session, PASSWORD)
    db.session.commit()
    ids = list(db.session.scalars(select(Invoice.id).where(Invoice.number.is_not(None))))
    found = claim_policy.check_claims(db.session, ids)
    codes = {flag.code for checks in found.values() for f in checks.flags.values() for flag in f}
    assert codes >= {
        FlagCode.NOT_CLAIMABLE,
        FlagCode.OVER_CAP,
        FlagCode.NO_EVIDENCE,
        FlagCode.OUTSIDE_DATES,
        FlagCode.LATE,
        FlagCode.DUPLICATE,
        FlagCode.TOO_MANY_HOURS,
        FlagCode.NIGHT_TWICE,
    }
    policies = db.session.scalars(select(ClaimPolicy).order_by(ClaimPolicy.version)).all()
    assert [p.version for p in policies] == [1, 2]
    assert "appointments" in policies[0].claimable and "appointments" not in policies[1].claimable
    assert db.session.scalar(select(func.count(ClaimPolicyCap.id))) == 20
    # decided lines were decided under version 1 and keep it; the created dates say so
    decided_at = db.session.scalar(select(func.min(LineDecision.decided_at)))
    assert policies[0].created_at <= decided_at < policies[1].created_at
