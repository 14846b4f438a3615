"""The cost-kind specification is the one source: forms, checks and prefill follow it."""

from datetime import date
from decimal import Decimal

import pytest

from tracker.cost_kinds import COST_KIND_LABELS, KINDS, details_text, invoice_details, list_text
from tracker.models import CostKind, RateCardItem
from tracker.services.cost_lines import LineInput, line_problems, prefill

D = Decimal
TODAY = date(2024, 8, 1)


def test_every_kind_has_a_spec_and_the_labels_agree() -> None:
    assert set(KINDS) == set(CostKind)
    assert {kind: kind.label for kind in CostKind} == COST_KIND_LABELS
    assert CostKind.LOCUM.label == "Locum cover"


@pytest.mark.parametrize("kind", list(CostKind))
def test_the_form_of_a_kind_has_exactly_its_spec_fields(kind: CostKind) -> None:
    from flask import Flask

    from tracker.incidents.forms import FORMS

    with Flask(__name__).test_request_context():
        form = FORMS[kind.value](meta={"csrf": False})
    spec = kind.spec
    assert {f.name for f in form} == {*spec.names, "evidence"}
    assert form.display_order == (*spec.names, "evidence")
    for item in spec.fields:
        assert form[item.name].label.text == item.label
        assert bool(form[item.name].flags.required) == bool(item.required and item.missing)


def test_appointments_are_whole_numbers_in_the_service_too() -> None:
    line = LineInput(
        kind="appointments",
        line_date=TODAY,
        description="GP",
        quantity=D("3.5"),
        unit="appointment",
        unit_rate=D(45),
        details={"appointment_type": "gp"},
    )
    problems = {p.field: p.message for p in line_problems(line, TODAY)}
    assert problems == {"quantity": "Number of appointments must be a whole number"}


def test_a_locum_charged_by_the_day_is_refused() -> None:
    line = LineInput(
        kind="locum",
        line_date=TODAY,
        description="Locum",
        quantity=D(1),
        unit="day",
        unit_rate=D(700),
        details={"locum_name": "Dr N"},
    )
    problems = {p.field: p.message for p in line_problems(line, TODAY)}
    assert problems == {"unit": "Choose sessions or hours"}


def test_editing_ignores_the_rebooking_time_that_adding_checks() -> None:
    line = LineInput(
        kind="appointments",
        line_date=TODAY,
        description="GP",
        quantity=D(3),
        unit="appointment",
        unit_rate=D(45),
        rebook_hours=D(2),
        details={"appointment_type": "gp"},
    )
    assert [p.field for p in line_problems(line, TODAY)] == ["rebook_rate"]
    assert line_problems(line, TODAY, editing=True) == []


def _card() -> dict[str, RateCardItem]:
    items = [
        RateCardItem(
            key="afc_band_2", label="Band 2", cost_kind="staff", unit="hour", value=D("12.45")
        ),
        RateCardItem(key="gp_hour", label="GP time", cost_kind="staff", unit="hour", value=D(268)),
        RateCardItem(
            key="locum_session",
            label="Locum session",
            cost_kind="locum",
            unit="session",
            value=D(357),
        ),
        RateCardItem(
            key="pension_pct", label="Pension", cost_kind=None, unit="%", value=D("14.38")
        ),
        RateCardItem(key="ni_pct", label="NI", cost_kind=None, unit="%", value=D("13.8")),
    ]
    return {item.key: item for item in items}


def test_prefill_marks_rates_that_include_on_costs() -> None:
    band_2 = prefill(_card(), "staff", None)
    assert band_2.chosen == "afc_band_2"
    assert band_2.values["unit_rate"] == D("12.45")
    assert band_2.values["staff_role"] == "Band 2"
    # NI and pension are not typed: they come from the card for the line's own date
    assert "pension_pct" not in band_2.values and "ni_pct" not in band_2.values
    assert band_2.values["pay_basis"] == "overtime"
    gp = prefill(_card(), "staff", "gp_hour")
    assert gp.values["unit_rate"] == D(268)
    assert gp.values["pay_basis"] == "inclusive" and gp.values["overtime_pct"] == 0
    locum = prefill(_card(), "locum", "fortnight")
    assert locum.values == {"unit": "session", "unit_rate": D(357)}
    assert prefill(_card(), "expense", None).options == []


def test_details_read_the_same_on_the_invoice_and_in_the_list() -> None:
    details = {"locum_name": "Dr A Khan", "locum_invoice_ref": "LOC-1234", "supplier": "stray"}
    printed = invoice_details("locum", details)
    assert details_text(printed) == "Locum: Dr A Khan · Locum invoice: LOC-1234"
    assert list_text("locum", details) == "Dr A Khan, invoice LOC-1234"
    assert details_text(invoice_details("appointments", {"appointment_type": "hca"})) == (
        "Appointment type: HCA"
    )
