"""invoices are sent to the ICB by email: the practice's LMC address, and a log of sends

The ICB's invoice email address is already a column of `icb` (0001). This adds the practice's
local medical committee address (copied on every invoice sent, as the BMA advised after the
outage) and `invoice_send`, one row per attempt to email an invoice: to, copy, message id,
size, outcome and the server's error. Down drops both; nothing else changes.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("lmc_email", sa.String(length=254), nullable=True))
    op.create_table(
        "invoice_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("cc_addresses", sa.String(length=600), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("attachment_name", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("attachment_bytes", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_send_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["user_account.id"],
            name=op.f("fk_invoice_send_sent_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_send")),
    )
    with op.batch_alter_table("invoice_send") as batch:
        batch.create_index(batch.f("ix_invoice_send_invoice_id"), ["invoice_id"], unique=False)


def downgrade():
    with op.batch_alter_table("invoice_send") as batch:
        batch.drop_index(batch.f("ix_invoice_send_invoice_id"))
    op.drop_table("invoice_send")
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("lmc_email")
