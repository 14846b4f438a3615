"""End-to-end journeys in headless Chromium (Debian's), driven by Playwright.

Each test gets a real server, in a thread, on its own copy of a SQLite file loaded with the
demo data, so the journeys do not depend on each other or on their order.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import build_app, create_schema, missing
from tracker import demo
from tracker.extensions import db

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-password-for-tests"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder (SQLite file and uploads) with the demo data, built once per run."""
    instance = tmp_path_factory.mktemp("browser-demo")
    app = build_app(f"sqlite:///{instance / 'browser.db'}", instance)
    create_schema(app)
    with app.app_context():
        demo.seed_demo(db.session, DEMO_PASSWORD, upload_folder=app.config["UPLOAD_FOLDER"])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # closes the file, so a copy of the folder is the whole database
    return instance


@pytest.fixture
def live_server(demo_instance: Path, tmp_path: Path) -> Iterator[str]:
    """A server of its own for each test, on a fresh copy of the demo data, so no journey sees
    what another one did and they pass in any order."""
    instance = tmp_path / "instance"
    shutil.copytree(demo_instance, instance)
    app = build_app(f"sqlite:///{instance / 'browser.db'}", instance, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        missing(f"Chromium not found at {CHROMIUM}: browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_server, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    elsewhere: list[str] = []
    console_errors: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(live_server) or r.url.startswith(("data:", "blob:"))
            else elsewhere.append(r.url)
        ),
    )
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    # no page may reach beyond this machine, nor break its own Content-Security-Policy
    assert elsewhere == [], f"requests left 127.0.0.1: {elsewhere}"
    assert [e for e in console_errors if "Content Security Policy" in e] == []


def sign_in(page: object, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def page_width(page: object) -> int:
    """The page's laid-out width once it has settled: loaded, and two animation frames later.
    The NHS.UK header moves navigation items that do not fit into its "More" menu on the
    frame after a load or a resize (requestAnimationFrame), so a width read at once can
    catch the frame before, which no user sees."""
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return int(page.evaluate("document.documentElement.scrollWidth"))


def screenshot(page: object, name: str) -> None:
    """Keep a picture of what the user saw (git-ignored test-artifacts/)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def decide_appointments_claim(page: object) -> str:
    """The demo reviewer decides and recommends Riverside's appointments claim
    (recommend_appointments_claim); the demo ICB signs off in two steps, so the approver
    authorises it. Signed out after. Returns the claim's id."""
    from playwright.sync_api import expect

    claim_id, _ = recommend_appointments_claim(page)
    sign_in(page, "approver@example.org")
    page.goto(f"/review/claims/{claim_id}")
    page.get_by_role("button", name="Authorise £1,500.00").click()
    expect(page.get_by_test_id("authorised")).to_be_visible()
    page.context.clear_cookies()
    return claim_id


def recommend_appointments_claim(page: object) -> tuple[str, str]:
    """The demo reviewer decides Riverside's appointments claim (£1,710.00 and £141.00):
    £1,500.00 of the first line approved, the second rejected, each with a reason, and
    recommends it. Signed out after. Returns the claim's id and number."""
    import re

    from playwright.sync_api import expect

    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Claims to review").first.click()
    page.get_by_label("Review status").select_option("new")
    page.get_by_role("button", name="Apply filters").click()
    appointments = re.compile(r"Y09901\d{4}0002")  # Riverside's second invoice
    row = page.get_by_test_id("claims").locator("tr", has_text=appointments).first
    row.get_by_role("link").first.click()
    heading = page.get_by_role("heading", name=re.compile(r"^Claim Y09901\d{8}$"))
    number = heading.inner_text().removeprefix("Claim ")
    claim_id = str(page.url.rstrip("/").split("/")[-1])
    page.get_by_test_id("line-1").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Part-approved").check()
    page.get_by_label("Amount approved").fill("1500.00")
    page.get_by_label("Reason").fill("Agreed for 50 of the 57 appointments cancelled.")
    page.get_by_role("button", name="Save decision").click()
    page.get_by_test_id("line-2").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Rejected").check()
    page.get_by_label("Reason").fill("Nurse appointments were rebooked the same week.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("approved")).to_contain_text("£1,500.00")
    page.get_by_role("button", name="Recommend for authorisation").click()
    page.context.clear_cookies()
    return claim_id, number
