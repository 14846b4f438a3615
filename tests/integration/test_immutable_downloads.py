"""An issued invoice's files never change, so a repeat download is answered "not modified"
without building the file again (issue 13): each carries a strong ETag and is kept only by
the user's own browser, which checks it with the server every time. A draft changes with its
lines, so it has no tag and is never stored. Whatever changes a file's bytes (a decision in
the CSV, an electronic address in the e-invoice, an incident's impact in the claim pack's
covering statement) changes its tag; what a file does not print (payments) leaves it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import (
    World,
    make_claim,
    make_event,
    make_expense_line,
    make_incident,
    make_payment,
)
from tracker.extensions import db
from tracker.models import Incident, Invoice, Practice
from tracker.services import invoicing, review

#: Each file of an issued invoice, with the builder a 304 must not call.
FILES = {
    ".pdf": "tracker.documents.pdf.build_invoice_pdf",
    ".xlsx": "tracker.documents.xlsx.build_invoice_xlsx",
    ".xml": "tracker.invoices.views.build_ubl",
    "/xero.csv": "tracker.invoices.views._accounts_csv",
    "/quickbooks.csv": "tracker.invoices.views._accounts_csv",
    "/lines.csv": "tracker.invoices.views._accounts_csv",
    "/claim-pack.pdf": "tracker.services.claim_pack.build_claim_pack",
}


@pytest.fixture
def claim(world: World) -> Invoice:
    invoice = make_claim(db.session, world.practice_a, make_event(db.session), user=world.manager)
    db.session.commit()
    return invoice


def _url(invoice: Invoice, suffix: str) -> str:
    return f"/invoices/{invoice.id}{suffix}"


def _refuse_to_build(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"{target} was called for a file the browser already holds")

    monkeypatch.setattr(target, refuse)


@pytest.mark.parametrize("suffix", list(FILES))
def test_a_repeat_download_of_an_issued_file_is_not_modified_and_not_built(
    as_manager: FlaskClient, claim: Invoice, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = as_manager.get(_url(claim, suffix))
    assert first.status_code == 200 and first.data
    tag, weak = first.get_etag()
    assert tag and not weak
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers["X-Content-Type-Options"] == "nosniff"

    _refuse_to_build(monkeypatch, FILES[suffix])
    again = as_manager.get(_url(claim, suffix), headers={"If-None-Match": f'"{tag}"'})
    assert again.status_code == 304 and again.data == b""
    assert again.get_etag() == (tag, False)
    assert again.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("suffix", [".pdf", ".xlsx", "/lines.csv", "/claim-pack.pdf"])
def test_the_same_tag_means_the_same_bytes(
    as_manager: FlaskClient, claim: Invoice, suffix: str
) -> None:
    first, second = (as_manager.get(_url(claim, suffix)) for _ in range(2))
    assert first.get_etag() == second.get_etag()
    assert first.data == second.data


def test_another_file_or_a_stale_tag_is_sent_in_full(
    as_manager: FlaskClient, claim: Invoice
) -> None:
    pdf_tag, _ = as_manager.get(_url(claim, ".pdf")).get_etag()
    xlsx = as_manager.get(_url(claim, ".xlsx"), headers={"If-None-Match": f'"{pdf_tag}"'})
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    stale = as_manager.get(_url(claim, ".pdf"), headers={"If-None-Match": '"0123abcd"'})
    assert stale.status_code == 200 and stale.data.startswith(b"%PDF")


def test_a_draft_has_no_tag_and_is_never_stored(world: World, as_manager: FlaskClient) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident)
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[line.id], user_id=world.manager.id
    )
    db.session.commit()
    for suffix in (".pdf", ".xlsx", "/claim-pack.pdf"):
        response = as_manager.get(_url(draft, suffix), headers={"If-None-Match": "*"})
        assert response.status_code == 200, suffix
        assert response.get_etag() == (None, None)
        assert response.headers["Cache-Control"] == "no-store"


def test_a_tag_never_opens_a_file_to_someone_who_may_not_see_it(
    client: FlaskClient, world: World, claim: Invoice
) -> None:
    tag, _ = login(client, world.manager).get(_url(claim, ".pdf")).get_etag()
    client.post("/logout")
    login(client, world.manager_b)  # practice B, another ICB
    response = client.get(_url(claim, ".pdf"), headers={"If-None-Match": f'"{tag}"'})
    assert response.status_code == 404


def test_the_reviewer_revalidates_the_practice_s_file(
    client: FlaskClient, world: World, claim: Invoice
) -> None:
    tag, _ = login(client, world.manager).get(_url(claim, ".pdf")).get_etag()
    client.post("/logout")
    login(client, world.reviewer)
    response = client.get(_url(claim, ".pdf"), headers={"If-None-Match": f'"{tag}"'})
    assert response.status_code == 304


def test_a_decision_changes_the_csv_but_not_the_invoice(
    as_manager: FlaskClient, world: World, claim: Invoice
) -> None:
    before = {s: as_manager.get(_url(claim, s)).get_etag()[0] for s in (".pdf", "/lines.csv")}
    review.decide_line(
        db.session,
        claim,
        claim.lines[0],
        review.LineDecisionInput("rejected", reason="Not claimable"),
        user_id=world.reviewer.id,
    )
    db.session.commit()
    pdf = as_manager.get(_url(claim, ".pdf"), headers={"If-None-Match": f'"{before[".pdf"]}"'})
    assert pdf.status_code == 304
    csv = as_manager.get(
        _url(claim, "/lines.csv"), headers={"If-None-Match": f'"{before["/lines.csv"]}"'}
    )
    assert csv.status_code == 200 and "Not claimable" in csv.get_data(as_text=True)
    assert csv.get_etag()[0] != before["/lines.csv"]


def test_a_payment_leaves_every_file_as_it_was(
    as_finance: FlaskClient, world: World, claim: Invoice
) -> None:
    """Nothing the files print depends on money received: the balance is on the page only."""
    before = {s: as_finance.get(_url(claim, s)).get_etag()[0] for s in FILES}
    make_payment(db.session, claim, world.finance)
    db.session.commit()
    for suffix, tag in before.items():
        response = as_finance.get(_url(claim, suffix), headers={"If-None-Match": f'"{tag}"'})
        assert response.status_code == 304, suffix


def test_a_new_electronic_address_changes_the_e_invoice(
    as_manager: FlaskClient, world: World, claim: Invoice
) -> None:
    first = as_manager.get(_url(claim, ".xml"))
    practice = db.session.get(Practice, world.practice_a.id)
    practice.endpoint_scheme, practice.endpoint_id = "0088", "5012345678900"
    db.session.commit()
    again = as_manager.get(_url(claim, ".xml"), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and b"5012345678900" in again.data


def test_an_edited_incident_changes_the_claim_pack(as_manager: FlaskClient, claim: Invoice) -> None:
    """The covering statement describes the incident as it is now: so does the tag."""
    first = as_manager.get(_url(claim, "/claim-pack.pdf"))
    incident = db.session.get(Incident, claim.lines[0].incident_id)
    incident.impact = "Phones down all afternoon as well"
    db.session.commit()
    again = as_manager.get(
        _url(claim, "/claim-pack.pdf"), headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 200 and again.get_etag()[0] != first.get_etag()[0]
