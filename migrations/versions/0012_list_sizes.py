"""registered list sizes: the patients registered at each practice

The ICB's comparison of claims with peer practices (services.peers) divides each practice's
claimed amount, staff hours and appointments lost by its registered list size, per 1,000
patients. This adds `practice.list_size`, a whole number, blank until the practice (or an
administrator) enters it; a practice without one is listed but left out of the statistics.
Down drops the column; nothing else changes.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("practice") as batch:
        batch.add_column(sa.Column("list_size", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("practice") as batch:
        batch.drop_column("list_size")
