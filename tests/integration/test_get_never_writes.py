"""GET never writes: every page and download of every role, crawled on the demo data, leaves
every table exactly as it was.

Looking at a page must be safe to repeat: a reviewer opening a claim, a manager downloading a
draft's PDF or a crawler prefetching links cannot change what an ICB is invoiced for. Signing
in does write (login attempts, last sign-in), so each role's dump is taken after signing in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from tests.conftest import PASSWORD, wipe
from tracker import demo
from tracker.access import SESSION_PRACTICE_KEY
from tracker.documents import paper_forms
from tracker.extensions import db
from tracker.models import (
    Base,
    ClaimMessage,
    ClaimPolicy,
    CostKind,
    CostLine,
    Evidence,
    Icb,
    Incident,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Membership,
    OutageEvent,
    Practice,
    Remittance,
    User,
)

#: Roles to crawl as: the demo's users, plus no one signed in. Finance is a member of both
#: demo practices, so it is crawled once per practice it can work as.
ROLES = (
    None,
    "manager@example.org",
    "finance@example.org",
    "reviewer@example.org",
    "approver@example.org",
    "admin@example.org",
)

#: URL parameters filled from the ids of one table; `line_id` depends on the area.
IDS_BY_PARAMETER = {
    "invoice_id": Invoice,
    "incident_id": Incident,
    "evidence_id": Evidence,
    "event_id": OutageEvent,
    "icb_id": Icb,
    "practice_id": Practice,
    "user_id": User,
    "remittance_id": Remittance,
    "policy_id": ClaimPolicy,
}
#: Parameters that are not ids: every value a route takes, and one it does not.
VALUES_BY_PARAMETER = {
    "key": [*(form.key for form in paper_forms.FORMS), "all", "nonsense"],
}


@pytest.fixture
def demo_app(app: Flask) -> Iterator[Flask]:
    """The demo data (with its receipts) in a clean database, as the browser tests use it.
    No application context stays pushed: each request gets its own, as in production."""
    wipe(app)
    with app.app_context():
        demo.seed_demo(db.session, PASSWORD, upload_folder=app.config["UPLOAD_FOLDER"])
        db.session.commit()
    yield app
    wipe(app)


def dump(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, as the database returns it."""
    with app.app_context(), db.engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def stored_files(app: Flask) -> dict[str, bytes]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _ids(model: type[Any]) -> list[int]:
    if model is Icb:
        return _icb_ids()
    return list(db.session.scalars(select(model.id).order_by(model.id)))


def _icb_ids() -> list[int]:
    """The ICBs the demo's practices belong to, and one with none: the other 40 of the 42
    ICBs render the same empty pages, and crawling them all tripled the test's time."""
    with_practices = sorted(set(db.session.scalars(select(Practice.icb_id))) - {None})
    without = db.session.scalar(
        select(Icb.id).where(Icb.id.not_in(with_practices)).order_by(Icb.id).limit(1)
    )
    return [*with_practices, *([without] if without is not None else [])]


def _pairs(stmt: Any) -> list[tuple[int, int]]:
    return [(a, b) for a, b in db.session.execute(stmt)]


def parameter_sets(rule: Rule) -> Iterator[dict[str, Any]]:
    """Every id of the right kind for each parameter. Parent and child ids (an incident and
    its cost line, a claim and its line or evidence) come as real pairs plus one mismatched
    pair each, so both the page and the not-found answer are crawled."""
    names = sorted(rule.arguments)
    if "line_id" in names or (rule.endpoint == "review.answer_evidence"):
        yield from _child_sets(rule.endpoint)
        return
    if rule.endpoint == "incidents.new_line":
        for incident_id, kind in itertools.product(_ids(Incident), [*CostKind, "nonsense"]):
            yield {"incident_id": incident_id, "kind": str(kind)}
        return
    if rule.endpoint == "imports.template":
        kinds, formats = [*CostKind, "nonsense"], ["xlsx", "csv", "pdf"]
        for incident_id, kind, fmt in itertools.product(_ids(Incident), kinds, formats):
            yield {"incident_id": incident_id, "kind": str(kind), "fmt": fmt}
        return
    choices = [
        VALUES_BY_PARAMETER.get(name) or [*_ids(IDS_BY_PARAMETER[name]), 999_999] for name in names
    ]
    for values in itertools.product(*choices):
        yield dict(zip(names, values, strict=True))


def _child_sets(endpoint: str) -> Iterator[dict[str, Any]]:
    if endpoint.startswith("incidents."):
        pairs = _pairs(select(CostLine.incident_id, CostLine.id))
        names = ("incident_id", "line_id")
    elif endpoint == "review.answer_evidence":
        pairs = _pairs(
            select(ClaimMessage.invoice_id, Evidence.id).join(
                ClaimMessage, Evidence.claim_message_id == ClaimMessage.id
            )
        ) + _pairs(
            select(InvoiceLine.invoice_id, Evidence.id).join(
                Evidence, Evidence.cost_line_id == InvoiceLine.cost_line_id
            )
        )
        names = ("invoice_id", "evidence_id")
    else:
        pairs = _pairs(select(InvoiceLine.invoice_id, InvoiceLine.id))
        names = ("invoice_id", "line_id")
    if pairs:  # a child under someone else's parent must be refused, not written
        pairs.append((pairs[0][0], pairs[-1][1] if pairs[-1][0] != pairs[0][0] else 999_999))
    for parent, child in pairs:
        yield dict(zip(names, (parent, child), strict=True))


#: Pages whose query string chooses what they show (a practice's account with an ICB), and
#: what else each takes: crawled for every practice and ICB, as well as without a query.
ACCOUNT_PAGES = {
    "invoices.remittance_new": {"fill": "all"},
    "invoices.statement": {"as_at": "2024-08-01"},
    "invoices.statement_pdf": {"as_at": "2024-08-01"},
    "invoices.statement_xlsx": {},
}


def _account_queries(endpoint: str) -> Iterator[dict[str, Any]]:
    extra = ACCOUNT_PAGES.get(endpoint)
    if extra is None:
        return
    for practice_id, icb_id in itertools.product(_ids(Practice), _icb_ids()):
        yield {"practice": practice_id, "icb": icb_id, **extra}


def get_urls(app: Flask) -> list[str]:
    """Every GET route of the application, with its parameters filled in."""
    urls = []
    with app.test_request_context(), app.app_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
                continue
            for values in parameter_sets(rule):
                urls.append(url_for(rule.endpoint, **values))
            urls += [url_for(rule.endpoint, **query) for query in _account_queries(rule.endpoint)]
    return urls


def sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.data[:500]


def practices_of(app: Flask, email: str | None) -> list[int | None]:
    """The practices a user can work as (switched in the session, so no POST is needed)."""
    if email is None:
        return [None]
    with app.app_context():
        ids = db.session.scalars(
            select(Membership.practice_id)
            .join(User, Membership.user_id == User.id)
            .where(User.email == email, Membership.practice_id.is_not(None))
            .order_by(Membership.practice_id)
        ).all()
    return list(ids) or [None]


def draft_ids(app: Flask) -> list[int]:
    with app.app_context():
        stmt = select(Invoice.id).where(Invoice.status == InvoiceStatus.DRAFT)
        ids = list(db.session.scalars(stmt))
    assert ids, "the demo has a draft invoice"
    return ids


def crawl(client: FlaskClient, urls: list[str]) -> dict[str, int]:
    statuses = {}
    for url in urls:
        response = client.get(url)
        statuses[url] = response.status_code
        response.close()
    return statuses


@pytest.mark.parametrize("email", ROLES, ids=lambda e: (e or "anonymous").split("@")[0])
def test_every_get_page_leaves_the_database_unchanged(demo_app: Flask, email: str | None) -> None:
    urls = get_urls(demo_app)
    assert len(urls) > 100, "the demo data should give a real crawl"
    practice_ids = practices_of(demo_app, email)
    if email == "finance@example.org":
        assert len(practice_ids) > 1, "the demo's finance user works for several practices"
    for practice_id in practice_ids:
        client = demo_app.test_client()
        if email is not None:
            sign_in(client, email)
        if practice_id is not None:
            with client.session_transaction() as session:
                session[SESSION_PRACTICE_KEY] = practice_id
        before, files_before = dump(demo_app), stored_files(demo_app)

        statuses = crawl(client, urls)

        after = dump(demo_app)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"GET pages as {email} changed tables {changed}"
        assert before == after
        assert stored_files(demo_app) == files_before
        failed = [url for url, status in statuses.items() if status >= 500]
        assert not failed, f"GET answered 500 as {email}: {failed}"
        if email is not None:
            assert any(status == 200 for status in statuses.values())
        if email in ("manager@example.org", "finance@example.org"):
            # the pages that used to rewrite a draft were really shown
            for draft_id in draft_ids(demo_app):
                for url in (f"/invoices/{draft_id}", f"/invoices/{draft_id}.pdf"):
                    assert statuses[url] == 200, url
