"""two-step sign-off and the work queue: the ICB's settings and each claim's sign-off

An ICB may sign claims off in two steps (a reviewer recommends, an ICB finance approver
authorises or sends back), as NHS England's CQRS Local does with its Tier 1 and Tier 2
approvers; it sets a target for how long a claim may wait. Each claim keeps whether it
needs the second step (the ICB's setting when it was issued), who recommended, authorised
or last sent it back and when, and the reviewer it is assigned to.

Existing data: every ICB signs off in one step, as before, with a 30-day target; every
claim is one-step, so practices keep seeing what they saw. Down drops the columns.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: (column, with a foreign key to user_account) added to invoice
PEOPLE = ("recommended_by_id", "authorised_by_id", "sent_back_by_id", "assigned_to_id")


def upgrade():
    with op.batch_alter_table("icb") as batch:
        batch.add_column(
            sa.Column("two_step_sign_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("review_target_days", sa.Integer(), nullable=False, server_default="30")
        )
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(
            sa.Column("two_step_sign_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for column in PEOPLE:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch.create_foreign_key(
                batch.f(f"fk_invoice_{column}_user_account"), "user_account", [column], ["id"]
            )
        batch.add_column(sa.Column("recommended_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("authorised_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sent_back_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sent_back_reason", sa.Text(), nullable=True))
        batch.create_index(batch.f("ix_invoice_assigned_to_id"), ["assigned_to_id"], unique=False)


def downgrade():
    with op.batch_alter_table("invoice") as batch:
        batch.drop_index(batch.f("ix_invoice_assigned_to_id"))
        for column in PEOPLE:
            batch.drop_constraint(batch.f(f"fk_invoice_{column}_user_account"), type_="foreignkey")
            batch.drop_column(column)
        for column in ("recommended_at", "authorised_at", "sent_back_at", "sent_back_reason"):
            batch.drop_column(column)
        batch.drop_column("two_step_sign_off")
    with op.batch_alter_table("icb") as batch:
        batch.drop_column("review_target_days")
        batch.drop_column("two_step_sign_off")
