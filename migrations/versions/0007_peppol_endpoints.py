"""electronic addresses for e-invoices: the Peppol endpoint of each practice and each ICB

A Peppol BIS Billing 3.0 invoice must name the seller's and the buyer's electronic address
(EN 16931 BT-34 and BT-49), each an identifier with its scheme from the EAS code list (for
example 0088 for a GS1 GLN, 9932 for a UK VAT number). This adds both, optional, to
`practice` and `icb`. Down drops them; nothing else changes.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("practice", "icb")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("endpoint_scheme", sa.String(length=4), nullable=True))
            batch.add_column(sa.Column("endpoint_id", sa.String(length=50), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("endpoint_id")
            batch.drop_column("endpoint_scheme")
