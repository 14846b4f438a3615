"""partial credit notes: what is credited on each invoice, and which line each credit line credits

Until now a credit note reversed an invoice in full. Credit notes may now take part of an
invoice off, any number of times, so the invoice keeps `amount_credited` (kept in step by
every credit note, under the invoice row's lock) and each credit-note line names the invoice
line it credits (`invoice_line.credits_line_id`), so a line is never credited beyond itself.

Existing data: every cancelled invoice was credited in full, so its `amount_credited` is its
total, and each line of its credit note credits the invoice line at the same position.
Down drops both columns.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(
            sa.Column("amount_credited", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("invoice_line") as batch:
        batch.add_column(sa.Column("credits_line_id", sa.Integer(), nullable=True))
        batch.create_index(
            batch.f("ix_invoice_line_credits_line_id"), ["credits_line_id"], unique=False
        )
        batch.create_foreign_key(
            batch.f("fk_invoice_line_credits_line_id_invoice_line"),
            "invoice_line",
            ["credits_line_id"],
            ["id"],
        )
    op.execute(
        "UPDATE invoice SET amount_credited = total "
        "WHERE kind = 'invoice' AND status = 'cancelled'"
    )
    op.execute(
        "UPDATE invoice_line SET credits_line_id = ("
        " SELECT original.id FROM invoice AS note"
        " JOIN invoice_line AS original ON original.invoice_id = note.credited_invoice_id"
        " WHERE note.id = invoice_line.invoice_id AND original.position = invoice_line.position"
        ") WHERE invoice_id IN (SELECT id FROM invoice WHERE kind = 'credit_note')"
    )


def downgrade():
    with op.batch_alter_table("invoice_line") as batch:
        batch.drop_constraint(
            batch.f("fk_invoice_line_credits_line_id_invoice_line"), type_="foreignkey"
        )
        batch.drop_index(batch.f("ix_invoice_line_credits_line_id"))
        batch.drop_column("credits_line_id")
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("amount_credited")
