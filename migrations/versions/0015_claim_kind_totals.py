"""claim totals per cost kind: each claim's lines summed per kind, kept for the reports

The national outage report added up every line of every claim with its decision on each
request (315,000 lines at national scale: past its 300 ms target on SQLite and PostgreSQL,
issue 13). This adds `claim_kind_total`: one row per issued claim and cost kind with its line
count, amount claimed, approved (final decisions), awaiting decision, hours and appointments
lost, kept by services.claim_totals in the transactions that issue a claim or decide its
lines. Up fills it from the claims already issued; down drops it (nothing else reads it).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: The claims' lines summed per claim and kind, as services.claim_totals.summed does it at
#: this revision (final decisions: approved, part-approved, rejected).
BACKFILL = """
INSERT INTO claim_kind_total
    (invoice_id, kind, lines, claimed, approved, awaiting, hours, appointments)
SELECT invoice_line.invoice_id, invoice_line.kind, count(*),
    coalesce(sum(invoice_line.total_amount), 0),
    coalesce(sum(CASE WHEN line_decision.decision IN ('approved', 'part_approved', 'rejected')
        THEN line_decision.approved_amount ELSE 0 END), 0),
    coalesce(sum(CASE WHEN line_decision.decision IN ('approved', 'part_approved', 'rejected')
        THEN 0 ELSE invoice_line.total_amount END), 0),
    coalesce(sum(invoice_line.hours), 0),
    coalesce(sum(invoice_line.appointments), 0)
FROM invoice_line
JOIN invoice ON invoice.id = invoice_line.invoice_id
LEFT OUTER JOIN line_decision ON line_decision.invoice_line_id = invoice_line.id
WHERE invoice.kind = 'invoice' AND invoice.status != 'draft'
GROUP BY invoice_line.invoice_id, invoice_line.kind
"""


def upgrade():
    op.create_table(
        "claim_kind_total",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.BigInteger(), nullable=False),
        sa.Column("approved", sa.BigInteger(), nullable=False),
        sa.Column("awaiting", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.BigInteger(), nullable=False),
        sa.Column("appointments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_claim_kind_total_invoice_id_invoice"),
        ),
        sa.PrimaryKeyConstraint("invoice_id", "kind", name=op.f("pk_claim_kind_total")),
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table("claim_kind_total")
