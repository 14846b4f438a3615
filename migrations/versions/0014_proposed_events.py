"""proposed outage events: practices propose, their ICB confirms or merges

A practice hit by an outage its ICB has not added yet proposes the event itself (issue 14)
and uses it at once for its own incidents; its ICB's reviewer then confirms it (it becomes an
ordinary event) or merges it into an existing one (services.events). This adds to
`outage_event`: `status` (confirmed, proposed, merged), the proposing practice, the event a
merged proposal points to, who decided and when, and the systems a proposal names.

Existing data: every event is confirmed, as every event was an ordinary one before; none has
a proposer, a target or systems. Down drops the columns (a proposal then reads as an
ordinary event: run it only before any practice has proposed one).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
#: The revision this one follows (re-chained after 0013, email notifications, on merge).
down_revision = "0013"
branch_labels = None
depends_on = None

#: (column, table it refers to) added to outage_event, each with its foreign key
REFERENCES = (
    ("proposed_by_practice_id", "practice"),
    ("merged_into_id", "outage_event"),
    ("decided_by_id", "user_account"),
)


def upgrade():
    with op.batch_alter_table("outage_event") as batch:
        batch.add_column(
            sa.Column("status", sa.String(10), nullable=False, server_default="confirmed")
        )
        batch.add_column(sa.Column("systems", sa.String(200), nullable=False, server_default=""))
        for column, table in REFERENCES:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch.create_foreign_key(
                batch.f(f"fk_outage_event_{column}_{table}"), table, [column], ["id"]
            )
        batch.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch.create_index(batch.f("ix_outage_event_status"), ["status"], unique=False)
        batch.create_index(
            batch.f("ix_outage_event_proposed_by_practice_id"),
            ["proposed_by_practice_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("outage_event") as batch:
        batch.drop_index(batch.f("ix_outage_event_proposed_by_practice_id"))
        batch.drop_index(batch.f("ix_outage_event_status"))
        for column, table in REFERENCES:
            batch.drop_constraint(batch.f(f"fk_outage_event_{column}_{table}"), type_="foreignkey")
            batch.drop_column(column)
        batch.drop_column("decided_at")
        batch.drop_column("systems")
        batch.drop_column("status")
