"""dated rate card; cost lines keep the parts of their amount and the rates they used

Rate-card rows get a period of validity (valid_from, valid_to), so a line takes the rates in
force on its date; a practice may add its own dated rates (is_own). The 2024/25 rows every
practice has become the 2024/25 periods, and the 2025/26 periods are added (figures frozen
here as published: NHS Employers pay scales, HMRC employer NI, NHSBSA employer pension).
The HCA appointment default moves from PSSRU's Band 4 nurse cost to Band 3 pay with on-costs
where a practice had kept the old default.

Cost lines and invoice lines get the parts of the net amount (base, overtime premium,
employer NI, employer pension) and the rates used with their sources; lines priced before
this revision keep NULL parts (their working is what they have). Expense lines keep the
receipt as typed (receipt_net, receipt_vat). Staff lines say how the hours were paid and
locum lines whether the locum is pensionable, read from the on-costs they were priced with.

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARTS = ("base_amount", "premium_amount", "ni_amount", "pension_amount")

#: (key, label, cost_kind, unit, value, source, valid_from, valid_to, year, sort_order),
#: the default rate card as of this revision.
DEFAULTS = [
    ('gp_appointment', 'GP appointment (10-minute surgery consultation)', 'appointments', 'appointment', '45.00', 'Unit Costs of Health and Social Care 2024 (PSSRU/Kent), 2023/24 prices, table 9.4.2', '2024-04-01', None, 'from 2024/25', 0),
    ('nurse_appointment', 'Practice nurse appointment (15 minutes at £47 an hour)', 'appointments', 'appointment', '11.75', 'Unit Costs of Health and Social Care 2024 (PSSRU/Kent), 2023/24 prices, table 9.3.1', '2024-04-01', None, 'from 2024/25', 1),
    ('hca_appointment', 'HCA appointment (15 minutes of Band 3 pay with employer NI and pension)', 'appointments', 'appointment', '4.21', 'NHS Employers, pay scales for 2024/25, Band 3 top £13.13 an hour + NI 13.8% + pension 14.38%, a quarter hour (PSSRU publishes no Band 3 cost)', '2024-04-01', '2025-03-31', '2024/25', 2),
    ('hca_appointment', 'HCA appointment (15 minutes of Band 3 pay with employer NI and pension)', 'appointments', 'appointment', '4.40', 'NHS Employers, pay scales for 2025/26, Band 3 top £13.60 an hour + NI 15% + pension 14.38%, a quarter hour (PSSRU publishes no Band 3 cost)', '2025-04-01', '2026-03-31', '2025/26', 3),
    ('other_appointment', 'Other clinician appointment (15 minutes at Band 6, £58 an hour)', 'appointments', 'appointment', '14.50', 'Unit Costs of Health and Social Care 2024 (PSSRU/Kent), 2023/24 prices, table 9.2.1', '2024-04-01', None, 'from 2024/25', 4),
    ('gp_hour', 'GP patient-contact time (includes on-costs)', 'staff', 'hour', '268.00', 'Unit Costs of Health and Social Care 2024 (PSSRU/Kent), 2023/24 prices, table 9.4.2', '2024-04-01', None, 'from 2024/25', 5),
    ('nurse_hour', 'Practice nurse, Band 5 (includes on-costs)', 'staff', 'hour', '47.00', 'Unit Costs of Health and Social Care 2024 (PSSRU/Kent), 2023/24 prices, table 9.3.1', '2024-04-01', None, 'from 2024/25', 6),
    ('afc_band_2', 'Agenda for Change Band 2 (e.g. receptionist)', 'staff', 'hour', '12.08', 'NHS Employers, pay scales for 2024/25: £23,615 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 7),
    ('afc_band_2', 'Agenda for Change Band 2 (e.g. receptionist)', 'staff', 'hour', '12.51', 'NHS Employers, pay scales for 2025/26: £24,465 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 8),
    ('afc_band_3_1', 'Agenda for Change Band 3, entry (0-2 years)', 'staff', 'hour', '12.31', 'NHS Employers, pay scales for 2024/25: £24,071 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 9),
    ('afc_band_3_1', 'Agenda for Change Band 3, entry (0-2 years)', 'staff', 'hour', '12.75', 'NHS Employers, pay scales for 2025/26: £24,937 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 10),
    ('afc_band_3', 'Agenda for Change Band 3, top (2+ years) (e.g. senior receptionist, HCA)', 'staff', 'hour', '13.13', 'NHS Employers, pay scales for 2024/25: £25,674 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 11),
    ('afc_band_3', 'Agenda for Change Band 3, top (2+ years) (e.g. senior receptionist, HCA)', 'staff', 'hour', '13.60', 'NHS Employers, pay scales for 2025/26: £26,598 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 12),
    ('afc_band_4_1', 'Agenda for Change Band 4, entry (0-3 years)', 'staff', 'hour', '13.57', 'NHS Employers, pay scales for 2024/25: £26,530 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 13),
    ('afc_band_4_1', 'Agenda for Change Band 4, entry (0-3 years)', 'staff', 'hour', '14.06', 'NHS Employers, pay scales for 2025/26: £27,485 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 14),
    ('afc_band_4', 'Agenda for Change Band 4, top (3+ years) (e.g. administrator)', 'staff', 'hour', '14.89', 'NHS Employers, pay scales for 2024/25: £29,114 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 15),
    ('afc_band_4', 'Agenda for Change Band 4, top (3+ years) (e.g. administrator)', 'staff', 'hour', '15.43', 'NHS Employers, pay scales for 2025/26: £30,162 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 16),
    ('afc_band_5_1', 'Agenda for Change Band 5, entry (0-2 years)', 'staff', 'hour', '15.33', 'NHS Employers, pay scales for 2024/25: £29,970 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 17),
    ('afc_band_5_1', 'Agenda for Change Band 5, entry (0-2 years)', 'staff', 'hour', '15.88', 'NHS Employers, pay scales for 2025/26: £31,049 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 18),
    ('afc_band_5_2', 'Agenda for Change Band 5, middle (2-4 years)', 'staff', 'hour', '16.53', 'NHS Employers, pay scales for 2024/25: £32,324 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 19),
    ('afc_band_5_2', 'Agenda for Change Band 5, middle (2-4 years)', 'staff', 'hour', '17.13', 'NHS Employers, pay scales for 2025/26: £33,487 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 20),
    ('afc_band_5', 'Agenda for Change Band 5, top (4+ years) (e.g. practice nurse)', 'staff', 'hour', '18.66', 'NHS Employers, pay scales for 2024/25: £36,483 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 21),
    ('afc_band_5', 'Agenda for Change Band 5, top (4+ years) (e.g. practice nurse)', 'staff', 'hour', '19.33', 'NHS Employers, pay scales for 2025/26: £37,796 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 22),
    ('afc_band_6_1', 'Agenda for Change Band 6, entry (0-2 years)', 'staff', 'hour', '19.10', 'NHS Employers, pay scales for 2024/25: £37,338 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 23),
    ('afc_band_6_1', 'Agenda for Change Band 6, entry (0-2 years)', 'staff', 'hour', '19.78', 'NHS Employers, pay scales for 2025/26: £38,682 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 24),
    ('afc_band_6_2', 'Agenda for Change Band 6, middle (2-5 years)', 'staff', 'hour', '20.15', 'NHS Employers, pay scales for 2024/25: £39,405 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 25),
    ('afc_band_6_2', 'Agenda for Change Band 6, middle (2-5 years)', 'staff', 'hour', '20.88', 'NHS Employers, pay scales for 2025/26: £40,823 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 26),
    ('afc_band_6', 'Agenda for Change Band 6, top (5+ years)', 'staff', 'hour', '22.99', 'NHS Employers, pay scales for 2024/25: £44,962 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 27),
    ('afc_band_6', 'Agenda for Change Band 6, top (5+ years)', 'staff', 'hour', '23.82', 'NHS Employers, pay scales for 2025/26: £46,580 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 28),
    ('afc_band_7_1', 'Agenda for Change Band 7, entry (0-2 years)', 'staff', 'hour', '23.60', 'NHS Employers, pay scales for 2024/25: £46,148 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 29),
    ('afc_band_7_1', 'Agenda for Change Band 7, entry (0-2 years)', 'staff', 'hour', '24.45', 'NHS Employers, pay scales for 2025/26: £47,810 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 30),
    ('afc_band_7_2', 'Agenda for Change Band 7, middle (2-5 years)', 'staff', 'hour', '24.82', 'NHS Employers, pay scales for 2024/25: £48,526 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 31),
    ('afc_band_7_2', 'Agenda for Change Band 7, middle (2-5 years)', 'staff', 'hour', '25.71', 'NHS Employers, pay scales for 2025/26: £50,273 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 32),
    ('afc_band_7', 'Agenda for Change Band 7, top (5+ years) (e.g. practice manager)', 'staff', 'hour', '27.01', 'NHS Employers, pay scales for 2024/25: £52,809 a year ÷ 52.143 ÷ 37.5', '2024-04-01', '2025-03-31', '2024/25', 33),
    ('afc_band_7', 'Agenda for Change Band 7, top (5+ years) (e.g. practice manager)', 'staff', 'hour', '27.98', 'NHS Employers, pay scales for 2025/26: £54,710 a year ÷ 52.143 ÷ 37.5', '2025-04-01', '2026-03-31', '2025/26', 34),
    ('locum_session', 'Locum GP session (4 h 10 min)', 'locum', 'session', '357.00', 'Management in Practice locum survey, Sept 2024: median £714 a day, 2 sessions a day', '2024-04-01', None, 'from 2024/25', 35),
    ('locum_hour', 'Locum GP hour', 'locum', 'hour', '85.68', 'Management in Practice locum survey, Sept 2024: median £714 a day, 2 sessions a day; £714 ÷ 8 h 20 min', '2024-04-01', None, 'from 2024/25', 36),
    ('overtime_pct', 'Overtime premium (time and a half)', 'staff', '%', '50.00', 'NHS Terms and Conditions of Service Handbook, section 3: time and a half for bands 1-7; edit to match your staff contracts', None, None, '', 37),
    ('pension_pct', 'Employer NHS pension contribution (paid by the practice)', None, '%', '14.38', 'NHSBSA, employer contribution rates 2024/25: 14.38% paid locally (23.78% in all)', '2024-04-01', '2025-03-31', '2024/25', 38),
    ('pension_pct', 'Employer NHS pension contribution (paid by the practice)', None, '%', '14.38', 'NHSBSA, employer contribution rates 2025/26: 14.38% paid locally (23.78% in all)', '2025-04-01', None, 'from 2025/26', 39),
    ('ni_pct', 'Employer National Insurance', None, '%', '13.80', 'HMRC, rates and thresholds for employers 2024 to 2025: 13.8% above £175 a week; assumes the extra pay falls above the threshold', '2024-04-06', '2025-04-05', '2024/25', 40),
    ('ni_pct', 'Employer National Insurance', None, '%', '15.00', 'HMRC, rates and thresholds for employers 2025 to 2026: 15% above £96 a week (NICs (Secondary Class 1 Contributions) Act 2025); assumes the extra pay is above it', '2025-04-06', None, 'from 6 April 2025', 41),
]
OLD_HCA_PENCE = 975  # £9.75: PSSRU Band 4, the default before this revision


def _json(value):
    return value if not isinstance(value, str) else json.loads(value)



def upgrade():
    with op.batch_alter_table("cost_line") as batch:
        for name in PARTS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("rates_used", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("receipt_net", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("receipt_vat", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("invoice_line") as batch:
        for name in PARTS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("rates_used", sa.JSON(), nullable=True))
    with op.batch_alter_table("rate_card_item") as batch:
        batch.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("is_own", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.alter_column(
            "year", existing_type=sa.String(length=10), type_=sa.String(length=20)
        )
        batch.drop_constraint("uq_rate_card_item", type_="unique")
        batch.create_unique_constraint(
            "uq_rate_card_item_period", ["practice_id", "key", "valid_from"]
        )
    conn = op.get_bind()
    _date_rate_card(conn)
    _fill_lines(conn)


def _date_rate_card(conn):
    """Existing rows are the first period of their key; then add the periods a practice lacks."""
    first = {}
    for row in DEFAULTS:
        first.setdefault(row[0], row)
    table = sa.table(
        "rate_card_item",
        sa.column("id", sa.Integer),
        sa.column("practice_id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("label", sa.String),
        sa.column("cost_kind", sa.String),
        sa.column("unit", sa.String),
        sa.column("value", sa.BigInteger),
        sa.column("source", sa.String),
        sa.column("year", sa.String),
        sa.column("valid_from", sa.Date),
        sa.column("valid_to", sa.Date),
        sa.column("is_own", sa.Boolean),
        sa.column("sort_order", sa.Integer),
        sa.column("updated_at", sa.DateTime),
    )
    from datetime import date, datetime

    def day(text):
        return None if text is None else date.fromisoformat(text)

    rows = conn.execute(sa.select(table.c.id, table.c.practice_id, table.c.key, table.c.value))
    have = set()
    practices = set()
    for row_id, practice_id, key, value in rows.all():
        practices.add(practice_id)
        default = first.get(key)
        if default is None:
            have.add((practice_id, key, None))
            continue
        _, label, _, _, new_value, source, valid_from, valid_to, year, order = default
        values = {
            "valid_from": day(valid_from),
            "valid_to": day(valid_to),
            "year": year,
            "label": label,
            "sort_order": order,
        }
        if key == "hca_appointment" and value == OLD_HCA_PENCE:
            values.update(value=int(round(float(new_value) * 100)), source=source)
        conn.execute(sa.update(table).where(table.c.id == row_id).values(**values))
        have.add((practice_id, key, valid_from))
    now = datetime.utcnow()
    for practice_id in sorted(practices):
        for key, label, kind, unit, value, source, valid_from, valid_to, year, order in DEFAULTS:
            if (practice_id, key, valid_from) in have:
                continue
            pounds, _, pence = value.partition(".")
            conn.execute(
                sa.insert(table).values(
                    practice_id=practice_id,
                    key=key,
                    label=label,
                    cost_kind=kind,
                    unit=unit,
                    value=int(pounds) * 100 + int((pence + "00")[:2]),
                    source=source,
                    year=year,
                    valid_from=day(valid_from),
                    valid_to=day(valid_to),
                    is_own=False,
                    sort_order=order,
                    updated_at=now,
                )
            )


def _fill_lines(conn):
    """Expense receipts as typed; how staff hours were paid and whether a locum was
    pensionable, from the on-costs each line was priced with."""
    conn.execute(
        sa.text(
            "UPDATE cost_line SET receipt_net = net_amount, receipt_vat = vat_amount "
            "WHERE kind = 'expense'"
        )
    )
    rows = conn.execute(
        sa.text(
            "SELECT id, kind, overtime_pct, pension_pct, details FROM cost_line "
            "WHERE kind IN ('staff', 'locum')"
        )
    )
    statement = sa.text("UPDATE cost_line SET details = :details WHERE id = :id").bindparams(
        sa.bindparam("details", type_=sa.JSON())
    )
    for line_id, kind, overtime, pension, details in rows.all():
        values = dict(_json(details) or {})
        if kind == "staff":
            basis = "overtime" if overtime else ("additional" if pension else "plain")
            values.setdefault("pay_basis", basis)
        else:
            values.setdefault("locum_pension", "scheme" if pension else "none")
        conn.execute(statement, {"details": values, "id": line_id})


def downgrade():
    conn = op.get_bind()
    # one row per practice and key again: keep each key's earliest period
    conn.execute(
        sa.text(
            "DELETE FROM rate_card_item WHERE id NOT IN ("
            " SELECT MIN(r.id) FROM rate_card_item r"
            " WHERE r.valid_from IS NULL OR r.valid_from = ("
            "  SELECT MIN(s.valid_from) FROM rate_card_item s"
            "  WHERE s.practice_id = r.practice_id AND s.key = r.key)"
            " GROUP BY r.practice_id, r.key)"
        )
    )
    conn.execute(sa.text("UPDATE rate_card_item SET year = SUBSTR(year, 1, 10)"))
    with op.batch_alter_table("rate_card_item") as batch:
        batch.drop_constraint("uq_rate_card_item_period", type_="unique")
        batch.create_unique_constraint("uq_rate_card_item", ["practice_id", "key"])
        batch.alter_column(
            "year", existing_type=sa.String(length=20), type_=sa.String(length=10)
        )
        batch.drop_column("is_own")
        batch.drop_column("valid_to")
        batch.drop_column("valid_from")
    with op.batch_alter_table("invoice_line") as batch:
        batch.drop_column("rates_used")
        for name in PARTS:
            batch.drop_column(name)
    with op.batch_alter_table("cost_line") as batch:
        for name in ("receipt_vat", "receipt_net", "rates_used", *PARTS):
            batch.drop_column(name)
