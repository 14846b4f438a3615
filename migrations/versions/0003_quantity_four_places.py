"""cost-line and invoice-line quantities to 4 decimal places

Hours may be typed as h:mm: 4:10 is 4 hours 10 minutes, 4.1667 hours, which 2 places
cannot hold (4.17 hours is 4 h 10.2 min, and prices as such). Quantities are scaled
integers (tracker.models.base.Fixed), so going from Fixed(2) to Fixed(4) multiplies every
stored value by 100; the column type (BIGINT) does not change. Going down divides by 100,
rounding halves away from zero as services.money.to_pence does (credit-note lines carry
negative quantities).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("cost_line", "invoice_line")


def upgrade():
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET quantity = quantity * 100"))


def downgrade():
    # integer division truncates on both SQLite and PostgreSQL: add half before dividing,
    # on the magnitude, so 4.1650 -> 4.17 and -4.1650 -> -4.17
    for table in TABLES:
        op.execute(
            sa.text(
                f"UPDATE {table} SET quantity = CASE WHEN quantity >= 0 "
                "THEN (quantity + 50) / 100 ELSE -((50 - quantity) / 100) END"
            )
        )
