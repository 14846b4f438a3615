"""Migration 0015 (claim totals kept per cost kind): down to the revision before it and up
again, on SQLite and PostgreSQL, with claims already issued and decided: up fills the table
from them as services.claim_totals would, down drops it and leaves the claims as they were."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import inspect, text

from tests.conftest import build_app
from tests.factories import build_world, make_claim, make_event
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db
from tracker.services import claim_totals, review

#: The revision 0015 follows; the one line to change when the branches are chained on merge.
PREVIOUS = "0014"


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_migration_0015_fills_the_kept_totals_from_issued_claims_and_goes_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    with app.app_context():
        upgrade()
        world = build_world(db.session)
        event = make_event(db.session)
        claims = [make_claim(db.session, world.practice_a, event, scale=n) for n in (1, 2)]
        line = claims[0].lines[0]
        review.decide_line(
            db.session,
            claims[0],
            line,
            review.LineDecisionInput(
                "part_approved", approved_amount=Decimal("10.00"), reason="Capped"
            ),
            user_id=world.reviewer.id,
        )
        db.session.commit()
        first = claims[0].id
        db.session.remove()

        downgrade(revision=PREVIOUS)
        assert "claim_kind_total" not in _tables()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM invoice_line")).scalar() == 8

        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT kind, lines, approved FROM claim_kind_total "
                    "WHERE invoice_id = :id ORDER BY kind"
                ),
                {"id": first},
            ).all()
            # one row a kind; the part-approved staff line's £10.00 kept as 1,000 pence
            assert [(kind, lines) for kind, lines, _ in rows] == [
                ("appointments", 1),
                ("expense", 1),
                ("locum", 1),
                ("staff", 1),
            ]
            assert dict((kind, approved) for kind, _, approved in rows)["staff"] == 1000
            assert claim_totals.differences(conn) == []
            assert conn.execute(text("SELECT count(*) FROM claim_kind_total")).scalar() == 8
        db.session.remove()
        db.engine.dispose()
