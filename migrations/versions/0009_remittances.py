"""remittances: one payment from an ICB allocated across several invoices

An ICB pays a practice in batches: one bank payment, with a remittance advice listing the
invoices it pays. `remittance` keeps that payment (practice, ICB, date received, the ICB's
reference, amount; one reference once per practice and ICB, so the same advice cannot be
recorded twice), and `payment.remittance_id` links each invoice's share of it. Payments
recorded before this revision were recorded one invoice at a time: they keep no remittance.
Down drops the link and the table (the payments themselves stay, as single payments).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "remittance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["icb_id"], ["icb.id"], name=op.f("fk_remittance_icb_id_icb")),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practice.id"], name=op.f("fk_remittance_practice_id_practice")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_remittance_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittance")),
        sa.UniqueConstraint(
            "practice_id", "icb_id", "reference", name=op.f("uq_remittance_reference")
        ),
    )
    with op.batch_alter_table("remittance") as batch:
        batch.create_index(batch.f("ix_remittance_icb_id"), ["icb_id"], unique=False)
        batch.create_index(batch.f("ix_remittance_practice_id"), ["practice_id"], unique=False)
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("remittance_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_payment_remittance_id"), ["remittance_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_payment_remittance_id_remittance"),
            "remittance",
            ["remittance_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("payment") as batch:
        batch.drop_constraint(batch.f("fk_payment_remittance_id_remittance"), type_="foreignkey")
        batch.drop_index(batch.f("ix_payment_remittance_id"))
        batch.drop_column("remittance_id")
    with op.batch_alter_table("remittance") as batch:
        batch.drop_index(batch.f("ix_remittance_practice_id"))
        batch.drop_index(batch.f("ix_remittance_icb_id"))
    op.drop_table("remittance")
