"""The sign-off rules on claims held in memory: where a claim's sign-off is, whether the
practice sees its decisions, what the practice sees of each line, and how ICB users and the
practice are told where it is."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from tracker.models import Invoice, InvoiceLine, LineDecision
from tracker.services import review

AT = datetime(2024, 8, 1, 9, 30)
D = Decimal


def claim(**fields: object) -> Invoice:
    """A two-step claim of two lines: the first approved in full, the second queried."""
    values: dict[str, object] = {
        "id": 7,
        "number": "Y0990120240007",
        "status": "issued",
        "kind": "invoice",
        "total": D("300.00"),
        "review_status": "in_review",
        "approved_total": None,
        "two_step_sign_off": True,
    }
    invoice = Invoice(**(values | fields))
    approved = InvoiceLine(id=1, position=1, total_amount=D("100.00"))
    approved.decision = LineDecision(decision="approved", approved_amount=D("100.00"), reason="")
    queried = InvoiceLine(id=2, position=2, total_amount=D("200.00"))
    queried.decision = LineDecision(decision="queried", reason="Which rota?")
    invoice.lines = [approved, queried]
    return invoice


@pytest.mark.parametrize(
    ("fields", "stage", "released"),
    [
        ({"two_step_sign_off": False}, review.SignOff.ONE_STEP, True),
        ({}, review.SignOff.TO_RECOMMEND, False),
        ({"recommended_at": AT}, review.SignOff.RECOMMENDED, False),
        ({"recommended_at": AT, "authorised_at": AT}, review.SignOff.AUTHORISED, True),
    ],
)
def test_the_stage_says_whether_the_practice_sees_the_decisions(
    fields: dict[str, object], stage: review.SignOff, released: bool
) -> None:
    invoice = claim(**fields)
    assert review.sign_off_stage(invoice) is stage
    assert review.decisions_released(invoice) is released
    assert review.decisions_open(invoice) is (stage in ("one_step", "to_recommend"))


def test_the_practice_sees_a_query_at_once_and_a_decision_once_released() -> None:
    hidden = claim()
    first, second = hidden.lines
    assert review.decision_for_practice(hidden, first) is None
    assert review.decision_for_practice(hidden, second) is second.decision
    view = review.practice_view(hidden)
    assert view.lines_decided == 0 and view.queried == 1 and not view.released
    released = claim(two_step_sign_off=False)
    assert review.decision_for_practice(released, released.lines[0]) is released.lines[0].decision


def test_a_decided_claim_not_yet_authorised_reads_in_review_to_the_practice() -> None:
    invoice = claim(review_status="decided", approved_total=D("100.00"), recommended_at=AT)
    view = review.practice_view(invoice)
    assert (view.status, view.approved_total, view.overall) == ("in_review", None, None)
    assert view.tag.label == "In review"
    assert view.undecided_note == "Not decided yet: the ICB is still reviewing this claim"
    assert review.approved_for_practice(invoice) is None
    icb = review.icb_view(invoice)
    assert (icb.status, icb.overall) == ("decided", "Part-approved")
    assert icb.approved_total == D("100.00")
    assert icb.tag.label == "Awaiting authorisation"


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({}, "In review"),
        ({"sent_back_at": AT}, "Sent back"),
        ({"sent_back_at": AT, "review_status": "decided"}, "Decided, to recommend"),
        ({"review_status": "decided", "recommended_at": AT}, "Awaiting authorisation"),
        ({"review_status": "decided", "recommended_at": AT, "authorised_at": AT}, "Authorised"),
        ({"two_step_sign_off": False, "review_status": "decided"}, "Decided"),
        ({"status": "cancelled", "recommended_at": AT}, "Withdrawn"),
    ],
)
def test_icb_users_see_where_the_sign_off_is(fields: dict[str, object], label: str) -> None:
    assert review.status_tag(claim(**fields)).label == label
