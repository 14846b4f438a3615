"""email notifications: the outbox and each user's preference

Issue 14 asks that practices hear by email when a line is queried or their claim's decisions
are released, and reviewers when a query is answered, each person choosing an email per
event, a daily digest or none. This adds `notification` (the outbox: one row per person
and event, written with the event, sent by `flask send-notifications` or `flask
send-digest`) and `user_account.notify` ("each", "digest" or "off"; every existing user
starts on the daily digest). Down drops both; nothing else changes.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("notify", sa.String(length=10), nullable=False, server_default="digest")
        )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("invoice_line_id", sa.Integer(), nullable=True),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link_path", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_notification_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_line.id"],
            name=op.f("fk_notification_invoice_line_id_invoice_line"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_notification_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification") as batch:
        batch.create_index(batch.f("ix_notification_user_id"), ["user_id"], unique=False)
        batch.create_index(batch.f("ix_notification_invoice_id"), ["invoice_id"], unique=False)
        batch.create_index("ix_notification_unsent", ["sent_at", "delivery"], unique=False)


def downgrade():
    with op.batch_alter_table("notification") as batch:
        batch.drop_index("ix_notification_unsent")
        batch.drop_index(batch.f("ix_notification_invoice_id"))
        batch.drop_index(batch.f("ix_notification_user_id"))
    op.drop_table("notification")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("notify")
