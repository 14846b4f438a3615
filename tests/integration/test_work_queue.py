"""The work queue (issue 14): claims waiting for an ICB, oldest first, days waiting and the
warning past the ICB's target; the approvers' sign-off list; assignment of claims to the
ICB's reviewers (atomic, raced on SQLite and PostgreSQL); the target; the header's count."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import World, make_claim, make_user
from tests.integration.test_races import race, signed_in
from tests.integration.test_sign_off import _as, _reload, decided_claim
from tracker.extensions import db
from tracker.models import AuditEntry, Icb, Invoice, Role, User
from tracker.services import crediting, review, sign_off, work_queue
from tracker.services.dates import today_in_london
from tracker.services.errors import Conflict, Invalid

TODAY = date(2024, 9, 2)


def claim_issued(world: World, days_ago: int, *, practice=None, today: date = TODAY) -> Invoice:
    claim = make_claim(
        db.session, practice or world.practice_a, None, today=today - timedelta(days=days_ago)
    )
    db.session.commit()
    return claim


def numbers(queue: work_queue.Queue) -> list[str | None]:
    return [row.invoice.number for row in queue.rows]


def _queue(world: World, show: work_queue.Show = work_queue.Show.ALL, **kw) -> work_queue.Queue:
    return work_queue.review_queue(
        db.session,
        [world.icb_x.id],
        show=show,
        user_id=world.reviewer.id,
        today=kw.pop("today", TODAY),
        **kw,
    )


def test_oldest_first_with_days_waiting_and_the_warning_past_the_target(world: World) -> None:
    middle = claim_issued(world, 12)
    oldest = claim_issued(world, 31)
    on_target = claim_issued(world, 30, practice=world.practice_a2)
    newest = claim_issued(world, 0)
    claim_issued(world, 40, practice=world.practice_b)  # another ICB's
    queue = _queue(world)
    assert numbers(queue) == [oldest.number, on_target.number, middle.number, newest.number]
    assert [row.days_waiting for row in queue.rows] == [31, 30, 12, 0]
    assert [row.over_target for row in queue.rows] == [True, False, False, False]
    assert (queue.count, queue.over_target) == (4, 1)
    world.icb_x.review_target_days = 10
    db.session.commit()
    queue = _queue(world)
    assert [row.over_target for row in queue.rows] == [True, True, True, False]
    assert queue.over_target == 3


def test_the_queue_holds_what_waits_for_the_reviewers_and_pages_it(world: World, approvers) -> None:
    approver, _ = approvers
    waiting = claim_issued(world, 20)
    to_recommend = decided_claim(world)  # two steps: decided, still the reviewers' to recommend
    recommended = decided_claim(world)
    sign_off.recommend(db.session, recommended, user_id=world.reviewer.id)
    authorised = decided_claim(world)
    sign_off.recommend(db.session, authorised, user_id=world.reviewer.id)
    sign_off.authorise(db.session, authorised, user_id=approver.id)
    withdrawn = claim_issued(world, 25)
    crediting.credit_invoice(db.session, withdrawn, user_id=None, today=TODAY, reason="Sent twice")
    one_step_decided = decided_claim(world, practice=world.practice_b)
    db.session.commit()
    today = today_in_london()
    queue = _queue(world, today=today)
    assert set(numbers(queue)) == {waiting.number, to_recommend.number}
    for_sign_off = work_queue.sign_off_queue(db.session, [world.icb_x.id], today=today)
    assert numbers(for_sign_off) == [recommended.number]
    icb_y = work_queue.review_queue(
        db.session, [world.icb_y.id], show=work_queue.Show.ALL, user_id=1, today=today
    )
    assert one_step_decided.number not in numbers(icb_y)
    paged = _queue(world, today=today, per_page=1, page=2)
    assert (paged.count, paged.pages, paged.page, len(paged.rows)) == (2, 2, 2, 1)


def test_assigned_to_me_unassigned_or_all(world: World) -> None:
    mine, theirs, nobodys = (claim_issued(world, days) for days in (3, 2, 1))
    other = make_user(db.session, Role.ICB_REVIEWER, icb=world.icb_x, email="r2.x@example.org")
    db.session.commit()
    for claim, user in ((mine, world.reviewer), (theirs, other)):
        work_queue.assign(
            db.session, claim, assignee_id=user.id, seen_assignee_id=None, user_id=user.id
        )
    db.session.commit()
    assert numbers(_queue(world, work_queue.Show.MINE)) == [mine.number]
    assert numbers(_queue(world, work_queue.Show.UNASSIGNED)) == [nobodys.number]
    assert numbers(_queue(world, work_queue.Show.ALL)) == [
        mine.number,
        theirs.number,
        nobodys.number,
    ]


def test_claims_are_assigned_only_to_reviewers_of_their_icb(world: World, approvers) -> None:
    approver, _ = approvers
    claim = claim_issued(world, 5)
    for wrong in (world.reviewer_y, approver, world.manager):
        with pytest.raises(Invalid, match="Choose a reviewer of this claim's ICB"):
            work_queue.assign(
                db.session, claim, assignee_id=wrong.id, seen_assignee_id=None, user_id=1
            )
    work_queue.assign(
        db.session, claim, assignee_id=world.reviewer.id, seen_assignee_id=None, user_id=1
    )
    db.session.commit()
    assert _reload(claim).assigned_to_id == world.reviewer.id
    # someone else saw it unassigned a moment ago: refused, saying who has it
    with pytest.raises(Conflict, match="was assigned to Reviewer X a moment ago"):
        work_queue.assign(db.session, claim, assignee_id=None, seen_assignee_id=None, user_id=1)
    db.session.rollback()
    work_queue.assign(
        db.session, claim, assignee_id=None, seen_assignee_id=world.reviewer.id, user_id=1
    )
    db.session.commit()
    assert _reload(claim).assigned_to_id is None
    entries = db.session.scalars(
        select(AuditEntry.summary).where(AuditEntry.action == "assign").order_by(AuditEntry.id)
    ).all()
    assert entries == [
        f"Claim {claim.number} assigned to Reviewer X",
        f"Claim {claim.number} unassigned",
    ]


# --- the pages -------------------------------------------------------------------------------


def _rows(page: str) -> list[str]:
    return re.findall(r'data-testid="queue-([A-Z0-9]+)"', page)


def test_the_queue_page_lists_oldest_first_and_flags_those_past_the_target(
    client: FlaskClient, world: World
) -> None:
    today = today_in_london()
    late = claim_issued(world, 31, today=today)
    fresh = claim_issued(world, 2, today=today)
    _as(client, world.reviewer)
    page = client.get("/review/queue").get_data(as_text=True)
    assert _rows(page) == [late.number, fresh.number]
    assert page.count('data-testid="over-target"') == 1 and "Over 30 days" in page
    assert "31 days" in page and "2 days" in page
    assert "1 over target" in page
    mine = client.get("/review/queue?show=mine").get_data(as_text=True)
    assert _rows(mine) == [] and "No claim waiting for the reviewers is assigned to you" in mine
    assert client.get("/review/queue?show=nonsense").status_code == 200


def test_assigning_from_the_queue(client: FlaskClient, world: World, approvers) -> None:
    approver, _ = approvers
    claim = claim_issued(world, 4, today=today_in_london())
    _as(client, approver)  # an approver may share the work out too
    response = client.post(
        f"/review/claims/{claim.id}/assign",
        data={"assignee": str(world.reviewer.id), "seen": "0", "next": "/review/queue?show=all"},
    )
    assert response.status_code == 302 and response.location.endswith("/review/queue?show=all")
    assert _reload(claim).assigned_to_id == world.reviewer.id
    # a stale form: the message, nothing changed
    response = client.post(
        f"/review/claims/{claim.id}/assign",
        data={"assignee": "0", "seen": "0", "next": "//evil.example/"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "was assigned to Reviewer X a moment ago" in page
    assert response.request.path == f"/review/claims/{claim.id}", "never off the site"
    assert _reload(claim).assigned_to_id == world.reviewer.id
    # a reviewer of another ICB is not offered, and refused if sent
    response = client.post(
        f"/review/claims/{claim.id}/assign",
        data={"assignee": str(world.reviewer_y.id), "seen": str(world.reviewer.id)},
        follow_redirects=True,
    )
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert _reload(claim).assigned_to_id == world.reviewer.id
    _as(client, world.reviewer)
    mine = client.get("/review/queue?show=mine").get_data(as_text=True)
    assert _rows(mine) == [claim.number]
    assert 'data-testid="queue-count">1<' in mine


def test_who_may_see_the_queue_and_assign(client: FlaskClient, world: World, approvers) -> None:
    approver_y = approvers[1]
    claim = claim_issued(world, 4, today=today_in_london())
    assign = {"assignee": str(world.reviewer.id), "seen": "0"}
    expected = {
        world.manager: (403, 403),
        world.finance: (403, 403),
        world.admin: (403, 403),
        world.reviewer_y: (200, 404),
        approver_y: (200, 404),
    }
    for user, (queue_status, assign_status) in expected.items():
        _as(client, user)
        page = client.get("/review/queue")
        assert page.status_code == queue_status, user.email
        assert claim.number not in page.get_data(as_text=True)
        post = client.post(f"/review/claims/{claim.id}/assign", data=assign)
        assert post.status_code == assign_status, user.email
        nav = client.get("/").get_data(as_text=True)
        assert ('href="/review/queue"' in nav) == (queue_status == 200), user.email
    assert _reload(claim).assigned_to_id is None


def test_the_approver_sees_the_sign_off_list_and_the_header_counts_it(
    client: FlaskClient, world: World, approvers
) -> None:
    approver, _ = approvers
    claim = decided_claim(world)
    _as(client, approver)
    page = client.get("/review/queue").get_data(as_text=True)
    assert "No claim is waiting for sign-off" in page and 'data-testid="queue-count"' not in page
    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.commit()
    page = client.get("/review/queue").get_data(as_text=True)
    assert f'data-testid="sign-off-{claim.number}"' in page
    assert 'data-testid="queue-count">1<' in page
    assert claim.number not in _rows(page), "no longer the reviewers'"
    _as(client, world.reviewer)
    page = client.get("/review/queue").get_data(as_text=True)
    assert 'data-testid="sign-off-queue"' not in page


def test_the_approver_sets_the_target_and_bad_input_is_kept_beside_the_field(
    client: FlaskClient, world: World, approvers
) -> None:
    approver = approvers[0]
    today = today_in_london()
    claim_issued(world, 12, today=today)
    _as(client, approver)
    for typed, message in (
        ("0", "Enter a number of days from 1 to 365"),
        ("abc", "Not a valid integer value"),
        ("99999999999999999999", "Enter a number of days from 1 to 365"),
    ):
        response = client.post(
            f"/review/queue/target/{world.icb_x.id}", data={"review_target_days": typed}
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page, typed
        assert 'id="review_target_days-error"' in page and f'value="{typed}"' in page
    assert db.session.get(Icb, world.icb_x.id).review_target_days == 30
    response = client.post(
        f"/review/queue/target/{world.icb_x.id}",
        data={"review_target_days": "10"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Claims waiting more than 10 days are now flagged" in page
    assert "Over 10 days" in page
    assert (
        client.post(
            f"/review/queue/target/{world.icb_y.id}", data={"review_target_days": "5"}
        ).status_code
        == 404
    )
    _as(client, world.reviewer)
    assert (
        client.post(
            f"/review/queue/target/{world.icb_x.id}", data={"review_target_days": "5"}
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(Icb, world.icb_x.id).review_target_days == 10
    assert db.session.get(Icb, world.icb_y.id).review_target_days == 30


def test_two_people_assigning_one_claim_at_once_both_know_the_outcome(
    app_ctx: Flask, world: World, approvers
) -> None:
    approver, _ = approvers
    other = make_user(
        db.session, Role.ICB_REVIEWER, icb=world.icb_x, email="r3.x@example.org", name="Rev Two"
    )
    db.session.commit()
    first, second = signed_in(app_ctx, world.reviewer), signed_in(app_ctx, approver)
    for number in range(8):
        claim = claim_issued(world, 3, today=today_in_london())

        def to(user: User, claim: Invoice = claim):
            data = {"assignee": str(user.id), "seen": "0"}
            url = f"/review/claims/{claim.id}/assign"
            return lambda client: client.post(url, data=data, follow_redirects=True)

        outcomes = race([(first, to(world.reviewer)), (second, to(other))])
        assignee = db.session.get(User, _reload(claim).assigned_to_id)
        assert assignee is not None, number
        pages = [o.text for o in outcomes]
        assert all(o.error is None and o.status == 200 for o in outcomes), number
        assert sum(f"is now assigned to {assignee.name}" in p for p in pages) == 1, number
        assert sum(f"was assigned to {assignee.name} a moment ago" in p for p in pages) == 1
        assert (
            db.session.scalar(
                select(db.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "assign", AuditEntry.entity_id == claim.id
                )
            )
            == 1
        )


def test_review_helpers_agree_with_the_queue(world: World, approvers) -> None:
    """What the reviewers' queue counts as theirs is what review.decisions_open lets them
    change, for every stage of a two-step claim."""
    approver, _ = approvers
    claim = decided_claim(world)
    today = today_in_london()
    in_queue = lambda: claim.number in numbers(_queue(world, today=today))  # noqa: E731
    assert review.decisions_open(claim) and in_queue()
    sign_off.recommend(db.session, claim, user_id=world.reviewer.id)
    db.session.commit()
    assert not review.decisions_open(claim) and not in_queue()
    sign_off.send_back(db.session, claim, user_id=approver.id, reason="Check")
    db.session.commit()
    assert review.decisions_open(claim) and in_queue()
