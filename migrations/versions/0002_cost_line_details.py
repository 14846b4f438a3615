"""cost-line details in one JSON column; invoice lines carry their printed details

Moves staff_role, locum_name, locum_invoice_ref, appointment_type and supplier of every
cost line into `cost_line.details` and drops those columns, so a new text detail of a cost
kind needs only its specification (tracker/cost_kinds.py). Invoice lines get `details`, the
details printed on the invoice; lines of invoices issued before this revision are filled
from their (frozen) cost lines.

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_COLUMNS = {
    "staff_role": 120,
    "locum_name": 120,
    "locum_invoice_ref": 60,
    "appointment_type": 20,
    "supplier": 120,
}
#: Printed labels at the time of this revision, by kind (frozen: later spec changes do not
#: rewrite issued invoices).
PRINTED = {
    "staff": [("staff_role", "Staff")],
    "locum": [("locum_name", "Locum"), ("locum_invoice_ref", "Locum invoice")],
    "appointments": [("appointment_type", "Appointment type")],
    "expense": [("supplier", "Supplier")],
}
APPOINTMENT_TYPES = {"gp": "GP", "nurse": "Nurse", "hca": "HCA", "other": "Other clinician"}


def _printed(kind: str, details: dict[str, str]) -> list[dict[str, str]]:
    out = []
    for name, label in PRINTED.get(kind, []):
        value = details.get(name)
        if value:
            if name == "appointment_type":
                value = APPOINTMENT_TYPES.get(value, value)
            out.append({"name": name, "label": label, "value": value})
    return out


def _set_details(conn, table: str, line_id: int, details: object) -> None:
    statement = sa.text(f"UPDATE {table} SET details = :details WHERE id = :id").bindparams(
        sa.bindparam("details", type_=sa.JSON())
    )
    conn.execute(statement, {"details": details, "id": line_id})


def upgrade():
    with op.batch_alter_table("cost_line") as batch:
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("invoice_line") as batch:
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(f"SELECT id, kind, {', '.join(OLD_COLUMNS)} FROM cost_line")
    ).mappings()
    by_line = {}
    for row in rows:
        details = {name: row[name].strip() for name in OLD_COLUMNS if (row[name] or "").strip()}
        by_line[row["id"]] = (row["kind"], details)
    for line_id, (_kind, details) in by_line.items():
        _set_details(conn, "cost_line", line_id, details)
    invoice_rows = conn.execute(sa.text("SELECT id, kind, cost_line_id FROM invoice_line"))
    for line_id, kind, cost_line_id in invoice_rows.all():
        details = by_line.get(cost_line_id, (kind, {}))[1]
        _set_details(conn, "invoice_line", line_id, _printed(kind, details))
    with op.batch_alter_table("cost_line") as batch:
        batch.alter_column("details", existing_type=sa.JSON(), nullable=False)
        for name in OLD_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("invoice_line") as batch:
        batch.alter_column("details", existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table("cost_line") as batch:
        for name, length in OLD_COLUMNS.items():
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    conn = op.get_bind()
    for line_id, details in conn.execute(sa.text("SELECT id, details FROM cost_line")).all():
        values = json.loads(details) if isinstance(details, str) else (details or {})
        conn.execute(
            sa.text(
                "UPDATE cost_line SET "
                + ", ".join(f"{name} = :{name}" for name in OLD_COLUMNS)
                + " WHERE id = :id"
            ),
            {
                "id": line_id,
                **{
                    name: (values.get(name) or None) and values[name][:n]
                    for name, n in OLD_COLUMNS.items()
                },
            },
        )
    with op.batch_alter_table("cost_line") as batch:
        batch.drop_column("details")
    with op.batch_alter_table("invoice_line") as batch:
        batch.drop_column("details")
