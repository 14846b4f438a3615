"""Generated bad input to every form and every query parameter: never a server error, and a
refused request leaves every table as it was (issue 12, defect 6).

Nothing here lists the forms. The routes come from `app.url_map` (each filled with real
demo ids); the fields come from the forms the application itself renders on those pages
(names, and the values the page offers), and the query parameters from every GET form the
pages show, plus `page`. A new form, field or filter is fuzzed without touching this file.

Each role's client posts Hypothesis-generated values: huge and exponent numbers, 28 digits,
over-long text at every column length the models declare, control characters, a file part
where text is expected. The run is derandomised (the same requests on every run, so CI is
stable) and bounded by FUZZ_EXAMPLES (examples per role and database; default below keeps
the module within about a minute on SQLite and PostgreSQL together). Every failing request
is collected and reported at the end, so one run gives the whole count ("x of N").

OWASP ASVS 4.0.3 V5.1 (input validation) and V7.4.1 (a generic message, never a stack trace,
when something unexpected happens); OWASP Testing Guide WSTG-INPV (fuzzing inputs).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, func, select, union_all
from sqlalchemy import literal as sql_literal

from tests.conftest import PASSWORD, wipe
from tests.integration.test_get_never_writes import parameter_sets
from tracker import demo
from tracker.cost_kinds import MAX_DETAIL
from tracker.extensions import db
from tracker.models import Base, Invoice, InvoiceLine, InvoiceStatus, LineDecision, User

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
ROLES = (
    "manager@example.org",
    "finance@example.org",
    "reviewer@example.org",
    "approver@example.org",
    "admin@example.org",
    None,
)
#: Endpoints a fuzzer must not post to: signing out would end the run's session.
SKIPPED_POSTS = frozenset({"auth.logout"})
#: Tables a refused request may still write: a failed sign-in is counted for throttling.
WRITTEN_WHEN_REFUSED = {"auth.login": frozenset({"login_attempt"})}
DOWNLOADS = (".pdf", ".xlsx", ".zip", ".csv")
#: The downloads that take the register's filters.
REGISTER_DOWNLOADS = (
    "invoices.register_xlsx",
    "invoices.register_zip",
    "invoices.register_xero",
    "invoices.register_xero_credit_notes",
    "invoices.register_quickbooks",
    "invoices.register_quickbooks_credit_notes",
    "invoices.register_lines",
)


# --- what the pages offer ---------------------------------------------------------------


@dataclass
class FoundForm:
    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)


class FormParser(HTMLParser):
    """The forms of a page: method, action, each named control with the values offered."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page_url
            self._form = FoundForm(a.get("method", "get").upper(), urlsplit(action).path)
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select and self._form is not None:
                self._form.fields[self._select].append(a.get("value", ""))
            return
        name = a["name"]
        if tag == "input" and a.get("type") == "file":
            self._form.files.add(name)
        elif tag == "input" and a.get("type") not in ("submit", "button"):
            self._form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea":
            self._form.fields.setdefault(name, []).append("")
        elif tag == "select":
            self._select = name
            self._form.fields.setdefault(name, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@dataclass(frozen=True)
class Target:
    """One place to send input: a form's action (POST) or a page's query string (GET)."""

    method: str
    url: str
    endpoint: str
    fields: tuple[tuple[str, tuple[str, ...]], ...]
    files: tuple[str, ...] = ()


def _urls_by_rule(app: Flask) -> list[tuple[str, str, set[str]]]:
    """(endpoint, url, methods) for every route: the first real ids, and one URL per value of
    a parameter that is not an id (each cost kind's form)."""
    out = []
    with app.test_request_context(), app.app_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint == "static":
                continue
            seen: set[tuple[Any, ...]] = set()
            for values in parameter_sets(rule):
                kinds = tuple(v for k, v in sorted(values.items()) if not k.endswith("_id"))
                if kinds in seen:
                    continue
                seen.add(kinds)
                out.append((rule.endpoint, url_for(rule.endpoint, **values), set(rule.methods)))
    return out


def _endpoint_of(app: Flask, path: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:
        return None
    return str(endpoint)


def discover(app: Flask, client: FlaskClient, email: str | None) -> list[Target]:
    """Every POST form the role's pages render, and every GET route with the query
    parameters of every GET form seen (plus `page`)."""
    routes = _urls_by_rule(app)
    posts: dict[str, Target] = {}
    query_fields: dict[str, set[str]] = {"page": {"1", "2"}}
    own_edit = None
    if email:
        with app.app_context():
            own = db.session.scalar(select(User.id).where(User.email == email))
        own_edit = f"/admin/users/{own}/edit"
    for _endpoint, url, methods in routes:
        if "GET" not in methods or url.endswith(DOWNLOADS):
            continue
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.mimetype:
            continue
        parser = FormParser(url)
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            if form.method == "GET":
                for name, values in form.fields.items():
                    query_fields.setdefault(name, set()).update(values)
                continue
            target_endpoint = _endpoint_of(app, form.action, "POST")
            if (
                target_endpoint is None
                or target_endpoint in SKIPPED_POSTS
                or form.action == own_edit
                or form.action in posts
            ):
                continue
            posts[form.action] = Target(
                "POST",
                form.action,
                target_endpoint,
                tuple((k, tuple(v)) for k, v in sorted(form.fields.items())),
                tuple(sorted(form.files)),
            )
    query = tuple((k, tuple(sorted(v))) for k, v in sorted(query_fields.items()))
    gets = [
        Target("GET", url, endpoint, query)
        for endpoint, url, methods in routes
        if "GET" in methods and not url.endswith(DOWNLOADS)
    ]
    # the downloads that take the register's filters
    gets += [
        Target("GET", url, endpoint, query)
        for endpoint, url, methods in routes
        if endpoint in REGISTER_DOWNLOADS
    ]
    return [*posts.values(), *gets]


# --- generated values --------------------------------------------------------------------


@dataclass(frozen=True)
class FilePart:
    """A generated value sent as a multipart file part rather than text."""

    name: str
    content: bytes

    def __repr__(self) -> str:
        return f"<file {self.name}>"


#: Junk where text is expected (or as evidence), and a real image for the file inputs: a
#: form refused for another field must then leave no stored file behind.
FILE_PART = FilePart("part.txt", b"not really a file")
PNG_PART = FilePart("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


def _column_lengths() -> list[int]:
    """One over every String length the models declare (and the cost kinds' detail limit):
    the boundaries where a database would cut or refuse."""
    lengths = {
        column.type.length
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }
    return sorted({n + 1 for n in lengths} | {MAX_DETAIL + 1, 2001, 5001})


SPECIAL = [
    "1e30",
    "1E-999999999",
    "1E+999999999",
    "9" * 28,
    "0." + "0" * 40 + "1",
    "-1",
    "-0",
    "NaN",
    "Infinity",
    "12,08",
    "1,000,000,000,000,000,000,000",
    "99999999999999999999",
    "-99999999999999999999",
    "2147483648",
    "9223372036854775808",
    "0x10",
    "١٢٣",
    " ",
    "",
    "\x00",
    "a\x00b",
    "line\r\nbreak",
    "tab\there",
    "\x1b[31mred",
    "\u202e",
    "2024-02-30",
    "99:99",
    "0:60",
    "9999-12-31",
    "0001-01-01",
    "<script>alert(1)</script>",
    "王小明 דוד כהן محمد",  # printable in every script our PDFs draw
    "Dr 🦄\ue000",  # refused: no font of ours draws these
]

NASTY = st.one_of(
    st.sampled_from(SPECIAL),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=40),
    # text that passes the printable rule (most of the above is refused by it), so the checks
    # behind it are fuzzed too
    st.text(st.characters(codec="latin-1"), max_size=40),
    st.builds(lambda n, c: c * n, st.sampled_from(_column_lengths()), st.sampled_from("xé1 ")),
    st.just(FILE_PART),
)


def _encode(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (io.BytesIO(v.content), v.name) if isinstance(v, FilePart) else v
        for k, v in values.items()
    }


# --- what a request left behind ---------------------------------------------------------


def row_counts(app: Flask) -> dict[str, int]:
    tables = Base.metadata.sorted_tables
    stmt = union_all(*(select(sql_literal(t.name), func.count()).select_from(t) for t in tables))
    with app.app_context(), db.engine.connect() as conn:
        return {name: count for name, count in conn.execute(stmt)}


def file_count(app: Flask) -> int:
    return sum(1 for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file())


@dataclass
class Outcome:
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def send(app: Flask, client: FlaskClient, target: Target, values: dict[str, Any]) -> str | None:
    """Send one request; what went wrong with it, or None."""
    before, files_before = row_counts(app), file_count(app)
    try:
        if target.method == "GET":
            response = client.get(target.url, query_string=values)
        else:
            sent = {k: v for k, v in values.items() if v is not None}
            response = client.post(target.url, data=_encode(sent))
        status = response.status_code
        response.close()
    except Exception as error:  # TESTING propagates what would be a 500
        return f"500 {type(error).__name__}: {str(error)[:120]}"
    if status >= 500:
        return f"{status}"
    if status in (301, 302, 303):
        return None
    allowed = WRITTEN_WHEN_REFUSED.get(target.endpoint, frozenset())
    after = row_counts(app)
    changed = [t for t in after if after[t] != before[t] and t not in allowed]
    if changed:
        return f"refused with {status} but changed {changed}"
    if file_count(app) != files_before:
        return f"refused with {status} but left a stored file"
    return None


# --- the tests ---------------------------------------------------------------------------


@pytest.fixture
def demo_app(app: Flask) -> Iterator[Flask]:
    """The demo data with its receipts, and no application context left pushed."""
    wipe(app)
    with app.app_context():
        demo.seed_demo(db.session, PASSWORD, upload_folder=app.config["UPLOAD_FOLDER"])
        db.session.commit()
    yield app
    wipe(app)


def _client(app: Flask, email: str | None) -> FlaskClient:
    client = app.test_client()
    if email:
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302
    return client


@pytest.mark.parametrize("email", ROLES, ids=lambda e: (e or "anonymous").split("@")[0])
def test_generated_input_never_gives_a_server_error_or_a_half_save(
    demo_app: Flask, email: str | None
) -> None:
    client = _client(demo_app, email)
    targets = discover(demo_app, client, email)
    posts = [t for t in targets if t.method == "POST"]
    if email is not None:
        assert len(posts) >= 4, f"the demo should show {email} its forms: {posts}"
    outcome = Outcome()

    @settings(
        max_examples=EXAMPLES if email else max(EXAMPLES // 6, 5),
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(targets), label="target")
        values = {name: data.draw(_shape(offered)) for name, offered in target.fields}
        for name in target.files:
            values[name] = data.draw(st.sampled_from([None, FILE_PART, PNG_PART]))
        outcome.requests += 1
        problem = send(demo_app, client, target, values)
        if problem:
            shown = {
                k: (v if not isinstance(v, str) or len(v) < 40 else f"{v[:20]}…×{len(v)}")
                for k, v in values.items()
            }
            outcome.failures.append(f"{target.method} {target.endpoint} {shown} | {problem}")

    run()
    kinds: dict[str, str] = {}
    for failure in outcome.failures:
        where, _, problem = failure.partition(" | ")
        kinds.setdefault(f"{where.split(' {')[0]}: {problem}", failure)
    assert not outcome.failures, (
        f"{len(outcome.failures)} of {outcome.requests} generated requests failed as {email}, "
        f"{len(kinds)} distinct:\n" + "\n".join(list(kinds.values())[:40])
    )


def _shape(offered: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """A field's value: one the page offers (so the rest of the form gets through to the
    check under test) or a generated bad one."""
    if offered:
        return st.one_of(st.sampled_from(offered), NASTY)
    return NASTY


# --- the issue's own examples, as fixed cases -------------------------------------------


def _first(app: Flask, stmt: Any) -> Any:
    with app.app_context():
        return db.session.scalars(stmt).first()


BAD_AMOUNTS = ["1e30", "9" * 28, "1E-999999999", "0." + "0" * 30 + "1"]


def test_bad_amounts_in_payments_refunds_and_part_approvals_are_refused(demo_app: Flask) -> None:
    issued = _first(demo_app, select(Invoice.id).where(Invoice.status == InvoiceStatus.ISSUED))
    assert issued is not None, "the demo has an issued invoice"
    undecided = _first(
        demo_app,
        select(InvoiceLine.id)
        .where(InvoiceLine.invoice_id == issued)
        .where(~InvoiceLine.id.in_(select(LineDecision.invoice_line_id))),
    )
    assert undecided is not None, "the demo's issued claim has an undecided line"
    finance = _client(demo_app, "finance@example.org")
    reviewer = _client(demo_app, "reviewer@example.org")
    counts = row_counts(demo_app)
    for amount in BAD_AMOUNTS:
        for url in (f"/invoices/{issued}/payments", f"/invoices/{issued}/refunds"):
            response = finance.post(url, data={"amount": amount, "paid_on": "2024-08-01"})
            assert response.status_code < 500, (url, amount)
        response = reviewer.post(
            f"/review/claims/{issued}/lines/{undecided}",
            data={"decision": "part_approved", "approved_amount": amount, "reason": "Part"},
        )
        assert response.status_code == 200, amount
        assert "Enter the amount approved as a number" in response.get_data(as_text=True)
    assert row_counts(demo_app) == counts


HUGE = "99999999999999999999"
HUGE_QUERIES = (
    ("manager@example.org", f"/incidents?page={HUGE}"),
    ("manager@example.org", f"/incidents?event={HUGE}"),
    ("manager@example.org", "/incidents?event=²"),
    ("finance@example.org", f"/invoices?page={HUGE}"),
    ("finance@example.org", f"/invoices?icb={HUGE}&practice={HUGE}"),
    ("finance@example.org", f"/invoices/register.xlsx?icb={HUGE}"),
    ("finance@example.org", f"/invoices/register-lines.csv?icb={HUGE}&practice={HUGE}"),
    ("reviewer@example.org", f"/review?page={HUGE}"),
    ("reviewer@example.org", f"/review?outage_event_id={HUGE}&practice_id={HUGE}"),
)


def test_huge_numbers_in_list_queries_are_ignored(demo_app: Flask) -> None:
    clients = {email: _client(demo_app, email) for email, _ in HUGE_QUERIES}
    for email, url in HUGE_QUERIES:
        assert clients[email].get(url).status_code == 200, url


def test_a_file_part_in_a_text_field_is_an_error_beside_it(demo_app: Flask) -> None:
    from tests.integration.test_incidents import incident_form

    counts = row_counts(demo_app)
    response = _client(demo_app, "manager@example.org").post(
        "/incidents/new",
        data=incident_form(title=(io.BytesIO(b"not text"), "title.txt")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and "Enter text here, not a file" in page
    assert row_counts(demo_app)["incident"] == counts["incident"]


#: Ids one past what an INTEGER column holds (PostgreSQL refused it) and past what SQLite's
#: driver can bind (2**63): both were a 500 in a route's path, such as /invoices/<id>.
HUGE_IDS = (2**31, 10**20)


def test_huge_ids_in_a_page_address_are_page_not_found(demo_app: Flask) -> None:
    """Every route with an id in its path, GET and POST, as a user who could see such a page:
    an id no column can hold names nothing, so the answer is 404, never a server error."""
    rules = [rule for rule in demo_app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(rules) > 20, "the app's routes with ids"
    client = _client(demo_app, "admin@example.org")
    managers = _client(demo_app, "manager@example.org")
    answers: dict[str, int] = {}
    for rule in rules:
        for huge in HUGE_IDS:
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", str(huge))
            if "<" in path:
                continue  # another kind of parameter too (none today): not this test's case
            for who in (client, managers):
                for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                    answers[f"{method} {path}"] = who.open(path, method=method).status_code
    assert {url: code for url, code in answers.items() if code != 404} == {}
