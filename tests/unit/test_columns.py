"""The import and paper-form columns follow the cost-kind specification."""

from __future__ import annotations

import pytest

from tracker.columns import FINISH, START, columns, incident_columns
from tracker.cost_kinds import CostKind


@pytest.mark.parametrize("kind", list(CostKind))
def test_every_field_of_a_kind_is_a_column_in_the_form_order(kind: CostKind) -> None:
    keys = [c.key for c in columns(kind) if c.key not in (START, FINISH)]
    assert keys == list(kind.spec.names)
    names = [c.name for c in columns(kind)]
    assert len(set(names)) == len(names)


def test_staff_time_takes_start_and_finish_or_hours() -> None:
    by_key = {c.key: c for c in columns(CostKind.STAFF)}
    keys = [c.key for c in columns(CostKind.STAFF)]
    assert keys.index(START) + 1 == keys.index(FINISH) == keys.index("quantity") - 1
    assert not by_key["quantity"].required and not by_key[START].required
    assert by_key[START].hint.startswith("hh:mm")
    assert by_key["line_date"].name == "Date" and by_key["line_date"].hint == "dd/mm/yyyy"


def test_choices_are_written_in_the_words_the_app_prints() -> None:
    by_key = {c.key: c for c in columns(CostKind.STAFF)}
    assert by_key["pay_basis"].choice_words[0] == "Overtime"
    assert by_key["pay_basis"].example == "Overtime"
    locum = {c.key: c for c in columns("locum")}
    assert locum["unit"].choice_words == ("Session", "Hour")


def test_required_columns_follow_the_form_and_the_optional_group_is_optional() -> None:
    appointments = {c.key: c for c in columns(CostKind.APPOINTMENTS)}
    assert appointments["appointment_type"].required
    assert not appointments["rebook_hours"].required
    expense = {c.key: c for c in columns(CostKind.EXPENSE)}
    assert expense["net_amount"].required and not expense["vat_paid"].required


def test_the_outage_log_columns() -> None:
    assert [c.name for c in incident_columns()] == [
        "Start",
        "End",
        "Systems affected",
        "What happened",
        "Supplier's reference",
    ]
