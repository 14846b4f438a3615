"""an ICB's claim policy for each outage event, versioned, with its caps

`claim_policy` holds one row per version of an ICB's policy for an outage event (what kinds
it reimburses, the claim deadline, the window of dates it accepts, the amount above which
evidence is required, the most hours a person may claim in a day); `claim_policy_cap` holds
that version's caps (staff hourly rates by band, locum rates, appointment unit costs). Rows
are only ever added. Down drops both tables; nothing else changes.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "claim_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outage_event_id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claimable", sa.String(length=100), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=True),
        sa.Column("evidence_above", sa.BigInteger(), nullable=True),
        sa.Column("max_hours_per_day", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outage_event_id"],
            ["outage_event.id"],
            name=op.f("fk_claim_policy_outage_event_id_outage_event"),
        ),
        sa.ForeignKeyConstraint(["icb_id"], ["icb.id"], name=op.f("fk_claim_policy_icb_id_icb")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_claim_policy_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_policy")),
        sa.UniqueConstraint(
            "outage_event_id", "icb_id", "version", name=op.f("uq_claim_policy_version")
        ),
    )
    with op.batch_alter_table("claim_policy") as batch:
        batch.create_index(
            batch.f("ix_claim_policy_outage_event_id"), ["outage_event_id"], unique=False
        )
        batch.create_index(batch.f("ix_claim_policy_icb_id"), ["icb_id"], unique=False)
    op.create_table(
        "claim_policy_cap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["claim_policy.id"],
            name=op.f("fk_claim_policy_cap_policy_id_claim_policy"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_policy_cap")),
        sa.UniqueConstraint("policy_id", "key", name=op.f("uq_claim_policy_cap_key")),
    )
    with op.batch_alter_table("claim_policy_cap") as batch:
        batch.create_index(batch.f("ix_claim_policy_cap_policy_id"), ["policy_id"], unique=False)


def downgrade():
    with op.batch_alter_table("claim_policy_cap") as batch:
        batch.drop_index(batch.f("ix_claim_policy_cap_policy_id"))
    op.drop_table("claim_policy_cap")
    with op.batch_alter_table("claim_policy") as batch:
        batch.drop_index(batch.f("ix_claim_policy_icb_id"))
        batch.drop_index(batch.f("ix_claim_policy_outage_event_id"))
    op.drop_table("claim_policy")
