"""Two-step sign-off (issue 14): a reviewer recommends a claim's decisions, an ICB finance
approver authorises them or sends them back, and the practice sees them only once they are
authorised; a one-step ICB's practices see each decision at once, as before. Services and
pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import login
from tests.factories import World, make_claim, make_user
from tests.integration.test_races import Outcome, Request, race, signed_in
from tracker.extensions import db
from tracker.models import AuditEntry, Icb, Invoice, ReviewStatus, Role, User
from tracker.services import crediting, dashboard, directory, review, sign_off
from tracker.services.errors import Conflict, Invalid

D = Decimal
PART = D("100.00")


def decided_claim(world: World, *, practice=None, query_last: bool = False) -> Invoice:
    """A claim of practice A (or `practice`), issued now: line 1 part-approved at £100.00
    with a reason, line 4 rejected, the rest approved (line 4 queried with `query_last`)."""
    claim = make_claim(db.session, practice or world.practice_a, None)
    db.session.commit()
    reviewer = world.reviewer if claim.icb_id == world.icb_x.id else world.reviewer_y
    lines = claim.lines
    decide = review.LineDecisionInput
    review.decide_line(
        db.session,
        claim,
        lines[0],
        decide("part_approved", PART, "Half the overtime agreed"),
        user_id=reviewer.id,
    )
    last = decide("queried", reason="Which printer?") if query_last else None
    review.decide_line(
        db.session,
        claim,
        lines[3],
        last or decide("rejected", reason="Routine running cost"),
        user_id=reviewer.id,
    )
    review.approve_remaining(db.session, claim, user_id=reviewer.id)
    db.session.commit()
    return claim


def recommended_claim(world: World) -> Invoice:
    claim = decided_claim(world)
    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.commit()
    return claim


def expected_approved(claim: Invoice) -> Decimal:
    lines = claim.lines
    return PART + lines[1].total_amount + lines[2].total_amount


def _as(client: FlaskClient, user: User) -> FlaskClient:
    client.post("/logout")
    return login(client, user)


def _reload(claim: Invoice) -> Invoice:
    db.session.expire_all()
    found = db.session.get(Invoice, claim.id)
    assert found is not None
    return found


# --- the state machine -----------------------------------------------------------------------


def test_a_claim_is_signed_off_as_its_icb_did_it_when_it_was_issued(
    world: World, approvers
) -> None:
    two_step = make_claim(db.session, world.practice_a, None)
    one_step = make_claim(db.session, world.practice_b, None)
    db.session.commit()
    assert two_step.two_step_sign_off and not one_step.two_step_sign_off
    assert review.sign_off_stage(two_step) is review.SignOff.TO_RECOMMEND
    assert review.sign_off_stage(one_step) is review.SignOff.ONE_STEP
    assert review.decisions_released(one_step) and not review.decisions_released(two_step)


def test_recommended_then_authorised_decisions_reach_the_practice(world: World, approvers) -> None:
    approver, _ = approvers
    claim = decided_claim(world)
    assert claim.review_status == ReviewStatus.DECIDED
    hidden = review.practice_view(claim)
    assert hidden.status == ReviewStatus.IN_REVIEW and hidden.approved_total is None
    assert hidden.lines_decided == 0 and set(hidden.decisions.values()) == {None}
    assert hidden.tag.label == "In review"

    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.commit()
    claim = _reload(claim)
    assert review.sign_off_stage(claim) is review.SignOff.RECOMMENDED
    assert claim.recommended_by_id == world.reviewer.id and claim.recommended_at is not None
    assert review.status_tag(claim).label == "Awaiting authorisation"
    assert review.practice_view(claim).approved_total is None

    sign_off.authorise(db.session, claim, user_id=approver.id)
    db.session.commit()
    claim = _reload(claim)
    assert claim.authorised_by_id == approver.id and review.decisions_released(claim)
    shown = review.practice_view(claim)
    assert shown.approved_total == expected_approved(claim) == claim.approved_total
    assert shown.status == ReviewStatus.DECIDED and shown.overall == "Part-approved"
    assert shown.decisions[claim.lines[0].id].reason == "Half the overtime agreed"
    assert shown.tag.label == "Authorised"


def test_a_claim_with_a_queried_line_cannot_be_recommended(world: World, approvers) -> None:
    claim = decided_claim(world, query_last=True)
    with pytest.raises(Conflict, match=r"cannot be recommended yet: 3 of 4 lines"):
        sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.rollback()
    assert _reload(claim).recommended_at is None


def test_decisions_are_fixed_while_waiting_for_authorisation_and_after(
    world: World, approvers
) -> None:
    approver, _ = approvers
    claim = recommended_claim(world)
    line = claim.lines[1]
    approve = review.LineDecisionInput("rejected", reason="Changed my mind")
    with pytest.raises(Conflict, match="waiting for authorisation"):
        review.decide_line(db.session, claim, line, approve, user_id=world.reviewer.id)
    db.session.rollback()
    sign_off.authorise(db.session, _reload(claim), user_id=approver.id)
    db.session.commit()
    claim = _reload(claim)
    with pytest.raises(Conflict, match="was authorised"):
        review.decide_line(db.session, claim, claim.lines[1], approve, user_id=world.reviewer.id)
    db.session.rollback()
    assert _reload(claim).lines[1].decision.decision == "approved"


def test_whoever_recommended_a_claim_never_authorises_it(world: World, approvers) -> None:
    claim = recommended_claim(world)
    # the reviewer becomes an approver of the same ICB: still not for their own claim
    directory.set_memberships(world.reviewer, Role.ICB_FINANCE_APPROVER, [], world.icb_x.id)
    db.session.commit()
    with pytest.raises(Conflict, match="another ICB finance approver must authorise it"):
        sign_off.authorise(db.session, claim, user_id=world.reviewer.id)
    db.session.rollback()
    assert _reload(claim).authorised_at is None


def test_sent_back_the_claim_is_in_review_again_with_its_decisions_open(
    world: World, approvers
) -> None:
    approver, _ = approvers
    claim = recommended_claim(world)
    decisions = [(line.decision.decision, line.decision.approved_amount) for line in claim.lines]
    sign_off.send_back(
        db.session, claim, user_id=approver.id, reason="  Check line 1's hours against the rota "
    )
    db.session.commit()
    claim = _reload(claim)
    assert claim.review_status == ReviewStatus.IN_REVIEW and claim.approved_total is None
    assert claim.recommended_at is None and claim.recommended_by_id is None
    assert claim.sent_back_by_id == approver.id
    assert claim.sent_back_reason == "Check line 1's hours against the rota"
    assert [(ln.decision.decision, ln.decision.approved_amount) for ln in claim.lines] == decisions
    assert review.status_tag(claim).label == "Sent back"
    assert review.decisions_open(claim)
    # recommended again as it was, then authorised
    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    sign_off.authorise(db.session, claim, user_id=approver.id)
    db.session.commit()
    claim = _reload(claim)
    assert claim.review_status == ReviewStatus.DECIDED
    assert claim.approved_total == expected_approved(claim)


def test_sending_back_needs_a_reason_and_changes_nothing_without_one(
    world: World, approvers
) -> None:
    approver, _ = approvers
    claim = recommended_claim(world)
    for reason in ("", "   ", "x" * (sign_off.MAX_SEND_BACK_REASON + 1), "bad \x00 byte"):
        with pytest.raises(Invalid) as refused:
            sign_off.send_back(db.session, claim, user_id=approver.id, reason=reason)
        assert refused.value.field == "reason"
        db.session.rollback()
    assert review.sign_off_stage(_reload(claim)) is review.SignOff.RECOMMENDED


def test_each_step_only_from_the_step_before(world: World, approvers) -> None:
    approver, _ = approvers
    claim = decided_claim(world)
    with pytest.raises(Conflict, match="has not been recommended"):
        sign_off.authorise(db.session, claim, user_id=approver.id)
    db.session.rollback()
    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.commit()
    with pytest.raises(Conflict, match="was recommended by Reviewer X"):
        sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.rollback()
    sign_off.authorise(db.session, claim, user_id=approver.id)
    db.session.commit()
    for step in (
        lambda: sign_off.authorise(db.session, claim, user_id=approver.id),
        lambda: sign_off.send_back(db.session, claim, user_id=approver.id, reason="Wait"),
        lambda: sign_off.recommend(db.session, claim, user_id=world.reviewer.id),
    ):
        with pytest.raises(Conflict, match="was authorised by Approver X"):
            step()
        db.session.rollback()


def test_a_one_step_claim_has_no_sign_off(world: World, approvers) -> None:
    claim = decided_claim(world, practice=world.practice_b)
    assert review.decisions_released(claim)
    assert review.practice_view(claim).approved_total == claim.approved_total
    with pytest.raises(Conflict, match="signed off in one step"):
        sign_off.recommend(db.session, claim, user_id=world.reviewer_y.id)
    db.session.rollback()


def test_every_step_is_in_the_audit_trail(world: World, approvers) -> None:
    approver, _ = approvers
    claim = recommended_claim(world)
    sign_off.send_back(db.session, claim, user_id=approver.id, reason="Check the rota")
    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    sign_off.authorise(db.session, claim, user_id=approver.id)
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "Invoice", AuditEntry.entity_id == claim.id)
        .where(AuditEntry.action.in_(("recommend", "authorise", "send_back")))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.user_id) for e in entries] == [
        ("recommend", world.reviewer.id),
        ("send_back", approver.id),
        ("recommend", world.reviewer.id),
        ("authorise", approver.id),
    ]
    assert json.loads(entries[1].changes)["reason"] == "Check the rota"
    assert all(e.practice_id == world.practice_a.id for e in entries)


def test_changing_the_icb_setting_moves_only_claims_not_yet_seen(world: World, approvers) -> None:
    approver, _ = approvers
    # one step: a decided claim the practice has seen, and a new one
    seen = decided_claim(world, practice=world.practice_b)
    new = make_claim(db.session, world.practice_b, None)
    db.session.commit()
    directory.save_icb(db.session, world.icb_y, {"two_step_sign_off": True}, user_id=1)
    db.session.commit()
    assert not _reload(seen).two_step_sign_off, "what the practice saw stays seen"
    assert _reload(new).two_step_sign_off
    # two steps switched off: recommended and unreviewed claims are released, authorised kept
    recommended = recommended_claim(world)
    authorised = recommended_claim(world)
    sign_off.authorise(db.session, authorised, user_id=approver.id)
    db.session.commit()
    directory.save_icb(db.session, world.icb_x, {"two_step_sign_off": False}, user_id=1)
    db.session.commit()
    assert review.decisions_released(_reload(recommended))
    assert not _reload(recommended).two_step_sign_off
    assert _reload(authorised).two_step_sign_off and review.decisions_released(authorised)


# --- what the practice sees, everywhere ------------------------------------------------------

APPROVED_TEXT = "Half the overtime agreed"


def _practice_pages(client: FlaskClient, claim: Invoice) -> dict[str, str]:
    """Every page and file where a practice sees the ICB's decisions on a claim."""
    pages = {
        url: client.get(url).get_data(as_text=True)
        for url in (
            f"/claims/{claim.id}/feedback",
            f"/invoices/{claim.id}",
            f"/invoices/{claim.id}/credit",
            "/invoices",
            "/",
            f"/invoices/{claim.id}/lines.csv",
            "/invoices/register-lines.csv",
            f"/invoices/remittances/new?practice={claim.practice_id}&icb={claim.icb_id}",
        )
    }
    return pages


def _register_xlsx_approved(client: FlaskClient, number: str) -> object:
    """The Approved cell of the claim's row in the register's Excel file, read back."""
    workbook = load_workbook(io.BytesIO(client.get("/invoices/register.xlsx").data))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    column = rows[0].index("Approved")
    return next(row[column] for row in rows if row[0] == number)


def _approved_column(register_csv: str, number: str) -> set[str]:
    rows = list(csv.DictReader(io.StringIO(register_csv.lstrip("\ufeff"))))
    return {row["ICB approved amount"] for row in rows if row["Number"] == number}


def test_the_practice_sees_nothing_of_the_decisions_until_they_are_authorised(
    client: FlaskClient, world: World, approvers
) -> None:
    approver, _ = approvers
    claim = recommended_claim(world)
    approved = expected_approved(claim)
    _as(client, world.finance)
    pages = _practice_pages(client, claim)
    for name, page in pages.items():
        assert APPROVED_TEXT not in page, name
        assert "Part-approved" not in page and "Routine running cost" not in page, name
    remittance = f"/invoices/remittances/new?practice={claim.practice_id}&icb={claim.icb_id}"
    for url in (f"/invoices/{claim.id}", remittance, "/invoices", "/"):
        assert f"£{approved:,.2f}" not in pages[url], url
    assert "Not decided yet" in pages[f"/invoices/{claim.id}"]
    assert "not approved by the ICB" not in pages[f"/invoices/{claim.id}"]
    assert 'data-testid="awaiting-release"' in pages[f"/claims/{claim.id}/feedback"]
    assert _approved_column(pages[f"/invoices/{claim.id}/lines.csv"], claim.number) == {""}
    assert _register_xlsx_approved(client, claim.number) is None
    assert dashboard.practice_summary(db.session, world.practice_a.id).claims.approved == D(0)
    assert crediting.disallowed_total(db.session, claim) == D(0)
    refused = client.post(f"/invoices/{claim.id}/credit/disallowed", follow_redirects=True)
    assert "Nothing the ICB did not approve is left to credit" in refused.get_data(as_text=True)
    assert _reload(claim).amount_credited == D(0)

    _as(client, approver)
    assert client.post(f"/review/claims/{claim.id}/authorise").status_code == 302
    _as(client, world.finance)
    pages = _practice_pages(client, claim)
    assert APPROVED_TEXT in pages[f"/claims/{claim.id}/feedback"]
    assert f"£{approved:,.2f}" in pages[f"/invoices/{claim.id}"]
    assert "not approved by the ICB" in pages[f"/invoices/{claim.id}"]
    assert "ICB: Part-approved" in pages[f"/invoices/{claim.id}/credit"]
    for url in (remittance, "/invoices", "/"):
        assert f"£{approved:,.2f}" in pages[url], url
    assert D(str(_register_xlsx_approved(client, claim.number))) == approved
    assert _approved_column(pages[f"/invoices/{claim.id}/lines.csv"], claim.number) >= {"100.00"}
    assert dashboard.practice_summary(db.session, world.practice_a.id).claims.approved == approved
    assert client.post(f"/invoices/{claim.id}/credit/disallowed").status_code == 302
    assert _reload(claim).amount_credited == claim.total - approved


def test_a_query_reaches_the_practice_at_once_in_two_steps(
    client: FlaskClient, world: World, approvers
) -> None:
    claim = decided_claim(world, query_last=True)
    _as(client, world.manager)
    page = client.get(f"/claims/{claim.id}/feedback").get_data(as_text=True)
    assert "Which printer?" in page and "Answer the query" in page
    assert APPROVED_TEXT not in page
    answer = client.get(f"/claims/{claim.id}/lines/{claim.lines[3].id}/answer")
    assert "Which printer?" in answer.get_data(as_text=True)
    first = client.get(f"/claims/{claim.id}/lines/{claim.lines[0].id}/answer")
    assert APPROVED_TEXT not in first.get_data(as_text=True)
    assert [q.number for q in dashboard.queried_claims(db.session, world.practice_a.id)] == [
        claim.number
    ]


def test_a_one_step_icbs_practice_sees_each_decision_at_once(
    client: FlaskClient, world: World, approvers
) -> None:
    claim = decided_claim(world, practice=world.practice_b)
    _as(client, world.manager_b)
    page = client.get(f"/claims/{claim.id}/feedback").get_data(as_text=True)
    assert APPROVED_TEXT in page and 'data-testid="awaiting-release"' not in page
    assert f"£{expected_approved(claim):,.2f}" in client.get(f"/invoices/{claim.id}").get_data(
        as_text=True
    )


# --- who may do what -------------------------------------------------------------------------


def test_who_may_recommend_authorise_and_send_back(
    client: FlaskClient, world: World, approvers
) -> None:
    approver, approver_y = approvers
    claim = recommended_claim(world)
    waiting = decided_claim(world)
    urls = {
        "read": ("get", f"/review/claims/{claim.id}"),
        "recommend": ("post", f"/review/claims/{waiting.id}/recommend"),
        "authorise": ("post", f"/review/claims/{claim.id}/authorise"),
        "send back": ("post", f"/review/claims/{claim.id}/send-back"),
        "decide": ("get", f"/review/claims/{waiting.id}/lines/{waiting.lines[0].id}"),
    }
    expected = {
        world.reviewer_y: [404, 404, 403, 403, 404],  # another ICB's reviewer
        approver_y: [404, 403, 404, 404, 403],  # another ICB's approver
        world.manager: [403, 403, 403, 403, 403],
        world.finance: [403, 403, 403, 403, 403],
        world.admin: [200, 403, 403, 403, 403],  # reads every ICB's claims, signs off none
        approver: [200, 403, None, None, 403],  # reads and signs off, never decides
        world.reviewer: [200, None, 403, 403, None],  # decides and recommends, never signs off
    }
    for user, statuses in expected.items():
        _as(client, user)
        for (method, url), status in zip(urls.values(), statuses, strict=True):
            if status is None:
                continue
            got = getattr(client, method)(url, data={"reason": "No"} if method == "post" else None)
            assert got.status_code == status, (user.email, url)
    claim, waiting = _reload(claim), _reload(waiting)
    assert review.sign_off_stage(claim) is review.SignOff.RECOMMENDED
    assert review.sign_off_stage(waiting) is review.SignOff.TO_RECOMMEND


def test_the_claim_page_offers_each_user_their_next_step(
    client: FlaskClient, world: World, approvers
) -> None:
    approver, _ = approvers
    claim = decided_claim(world)
    _as(client, world.reviewer)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert "Recommend for authorisation" in page and "Decided, to recommend" in page
    response = client.post(f"/review/claims/{claim.id}/recommend", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"Claim {claim.number} recommended" in page and "Awaiting authorisation" in page
    assert f"/review/claims/{claim.id}/lines/" not in page, "no line can be changed now"
    old_link = client.get(
        f"/review/claims/{claim.id}/lines/{claim.lines[0].id}", follow_redirects=True
    )
    assert "is waiting for authorisation: its decisions cannot be changed" in old_link.get_data(
        as_text=True
    )
    _as(client, approver)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert f"Authorise £{claim.approved_total:,.2f}" in page and "Send back" in page
    # sending back without a reason: the message beside the field, nothing changed
    response = client.post(f"/review/claims/{claim.id}/send-back", data={"reason": " "})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert review.sign_off_stage(_reload(claim)) is review.SignOff.RECOMMENDED
    response = client.post(
        f"/review/claims/{claim.id}/send-back",
        data={"reason": "Line 1: which band?"},
        follow_redirects=True,
    )
    assert "sent back to the reviewers" in response.get_data(as_text=True)
    _as(client, world.reviewer)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert "Line 1: which band?" in page and "Recommend for authorisation" in page


def test_an_approver_who_recommended_is_told_to_ask_another(
    client: FlaskClient, world: World, approvers
) -> None:
    claim = recommended_claim(world)
    directory.set_memberships(world.reviewer, Role.ICB_FINANCE_APPROVER, [], world.icb_x.id)
    db.session.commit()
    _as(client, world.reviewer)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert 'data-testid="own-recommendation"' in page and "Authorise £" not in page
    response = client.post(f"/review/claims/{claim.id}/authorise", follow_redirects=True)
    assert "another ICB finance approver must authorise it" in response.get_data(as_text=True)
    assert _reload(claim).authorised_at is None


def test_an_icb_finance_approver_is_made_in_the_admin_pages(
    client: FlaskClient, world: World, app: Flask
) -> None:
    _as(client, world.admin)
    form = {
        "name": "Fin Approver",
        "email": "fin@example.org",
        "password": "Correct-Horse-Battery-9",
        "role": "icb_finance_approver",
        "icb_id": "0",
        "active": "y",
    }
    refused = client.post("/admin/users/new", data=form)
    assert "Choose the ICB this approver belongs to" in refused.get_data(as_text=True)
    assert client.post("/admin/users/new", data={**form, "icb_id": str(world.icb_x.id)}).status_code
    user = db.session.scalars(select(User).where(User.email == "fin@example.org")).one()
    assert user.roles == {Role.ICB_FINANCE_APPROVER} and user.icb is not None
    assert user.icb.id == world.icb_x.id
    icb_form = {"ods_code": "QXA", "name": world.icb_x.name, "two_step_sign_off": "y"}
    assert client.post(f"/admin/icbs/{world.icb_x.id}/edit", data=icb_form).status_code == 302
    icb = db.session.get(Icb, world.icb_x.id)
    db.session.refresh(icb)
    assert icb.two_step_sign_off and icb.review_target_days == 30


# --- races: real threads released together, on SQLite and PostgreSQL --------------------------

SIGN_OFF_ROUNDS = 8


def _page(outcome: Outcome) -> str:
    assert outcome.error is None, outcome.error
    return outcome.text


def _post(url: str, **data: str) -> Request:
    return lambda client: client.post(url, data=data, follow_redirects=True)


def _audit_actions(claim: Invoice) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "Invoice", AuditEntry.entity_id == claim.id)
            .where(AuditEntry.action.in_(("recommend", "authorise", "send_back")))
            .order_by(AuditEntry.id)
        )
    )


def test_two_approvers_authorising_at_once_authorise_once(
    app_ctx: Flask, world: World, approvers
) -> None:
    approver, _ = approvers
    second = make_user(
        db.session,
        Role.ICB_FINANCE_APPROVER,
        icb=world.icb_x,
        email="approver2.x@example.org",
        name="Second Approver",
    )
    db.session.commit()
    clients = {approver.name: signed_in(app_ctx, approver), second.name: signed_in(app_ctx, second)}
    for number in range(SIGN_OFF_ROUNDS):
        claim = recommended_claim(world)
        url = f"/review/claims/{claim.id}/authorise"
        outcomes = race([(client, _post(url)) for client in clients.values()])
        pages = [_page(o) for o in outcomes]
        claim = _reload(claim)
        winner = db.session.get(User, claim.authorised_by_id)
        assert winner is not None, f"round {number}: not authorised"
        assert _audit_actions(claim) == ["recommend", "authorise"], f"round {number}"
        assert sum("the practice now sees the ICB" in page for page in pages) == 1
        assert sum(f"was authorised by {winner.name}" in page for page in pages) == 1, number


def test_authorising_and_sending_back_at_once_does_one_of_them(
    app_ctx: Flask, world: World, approvers
) -> None:
    approver, _ = approvers
    second = make_user(
        db.session, Role.ICB_FINANCE_APPROVER, icb=world.icb_x, email="approver3.x@example.org"
    )
    db.session.commit()
    authoriser, sender = signed_in(app_ctx, approver), signed_in(app_ctx, second)
    seen = set()
    for number in range(SIGN_OFF_ROUNDS):
        claim = recommended_claim(world)
        authorised, sent = race(
            [
                (authoriser, _post(f"/review/claims/{claim.id}/authorise")),
                (sender, _post(f"/review/claims/{claim.id}/send-back", reason="Check line 2")),
            ]
        )
        claim = _reload(claim)
        actions = _audit_actions(claim)
        assert actions in (["recommend", "authorise"], ["recommend", "send_back"]), actions
        if actions[-1] == "authorise":
            assert claim.authorised_at is not None and claim.sent_back_at is None
            assert "was authorised by" in _page(sent), number
        else:
            assert claim.authorised_at is None and claim.review_status == ReviewStatus.IN_REVIEW
            assert "was sent back to the reviewers by" in _page(authorised), number
        seen.add(actions[-1])
    assert seen, "no round ran"


def test_recommending_while_another_reviewer_queries_a_line_stays_consistent(
    app_ctx: Flask, world: World, approvers
) -> None:
    second = make_user(
        db.session, Role.ICB_REVIEWER, icb=world.icb_x, email="reviewer2.x@example.org"
    )
    db.session.commit()
    recommender, querier = signed_in(app_ctx, world.reviewer), signed_in(app_ctx, second)
    for number in range(SIGN_OFF_ROUNDS):
        claim = decided_claim(world)
        line = claim.lines[1]
        recommended, queried = race(
            [
                (recommender, _post(f"/review/claims/{claim.id}/recommend")),
                (
                    querier,
                    _post(
                        f"/review/claims/{claim.id}/lines/{line.id}",
                        decision="queried",
                        reason="Which rota?",
                    ),
                ),
            ]
        )
        claim = _reload(claim)
        final = [ln.decision.decision for ln in claim.lines]
        if claim.recommended_at is not None:
            assert "queried" not in final, f"round {number}: recommended with a query"
            # refused while deciding (409), or, when the query's page was opened after the
            # recommendation, sent back to the claim with the same message (302, followed)
            assert queried.status in (200, 409) and "waiting for authorisation" in _page(queried)
        else:
            assert final[1] == "queried" and claim.review_status == ReviewStatus.IN_REVIEW
            assert "cannot be recommended yet" in _page(recommended), number
