"""The automatic checks of claim lines (services.claim_checks), each on crafted lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.services import costing
from tracker.services.claim_checks import (
    DEFAULT_WINDOW_DAYS,
    FlagCode,
    LineFacts,
    LineIndex,
    Outage,
    Pricing,
    Terms,
    cap_key,
    check_lines,
    duplicate_key,
    only_over_cap,
    priced_at,
    staff_grade,
)

DAY = date(2024, 7, 19)
OUTAGE = Outage(starts=DAY, ended=date(2024, 7, 20))
TERMS = Terms(
    version=2,
    icb_name="NHS North Central London ICB",
    event_name="CrowdStrike outage",
    claimable=frozenset({"staff", "locum", "expense"}),
    caps={
        "locum_session": Decimal("340.00"),
        "staff_band_2": Decimal("12.50"),
        "appointments_gp": Decimal("40.00"),
    },
    max_hours_per_day=Decimal("12"),
    evidence_above=Decimal("250.00"),
    deadline=date(2024, 10, 31),
    window_days=14,
)
POLICY = "NHS North Central London ICB's policy for CrowdStrike outage v2"


def locum(**changes: object) -> LineFacts:
    """2 sessions at £357 by a locum in the NHS Pension Scheme: £714.00 + £92.41 pension."""
    amounts = costing.locum_cover(
        Decimal(2),
        Decimal("357.00"),
        "session",
        pays_into_scheme=True,
        pension_pct=Decimal("14.38"),
    )
    line = LineFacts(
        id=1,
        name="line 1",
        order=(1, 1),
        kind="locum",
        line_date=DAY,
        description="Locum GP cover for the backlog clinic",
        unit="session",
        quantity=Decimal(2),
        unit_rate=Decimal("357.00"),
        total=amounts.total,
        person="Dr Łukasz Nowak",
        evidence=1,
        outage=OUTAGE,
        pricing=Pricing(pays_into_scheme=True, pension_pct=Decimal("14.38")),
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def staff(line_id: int, hours: str = "6.5", **changes: object) -> LineFacts:
    """Overtime of a Band 2 receptionist at £12.08 an hour, +50%, employer NI 13.8%."""
    amounts = costing.staff_time(
        Decimal(hours), Decimal("12.08"), overtime_pct=Decimal(50), ni_pct=Decimal("13.8")
    )
    line = LineFacts(
        id=line_id,
        name=f"line {line_id}",
        order=(1, line_id),
        kind="staff",
        line_date=DAY,
        description="Reception overtime phoning patients",
        unit="hour",
        quantity=Decimal(hours),
        unit_rate=Decimal("12.08"),
        total=amounts.total,
        person="Siân Evans, receptionist (Band 2)",
        outage=OUTAGE,
        pricing=Pricing(overtime_pct=Decimal(50), ni_pct=Decimal("13.8")),
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def flags_of(lines: list[LineFacts], others: list[LineFacts] = (), terms: Terms | None = TERMS):
    return check_lines(lines, list(others), {line.id: terms for line in lines}, date(2024, 8, 1))


def codes(found: list) -> list[str]:
    return [flag.code for flag in found]


def test_lines_within_the_policy_pass() -> None:
    at_cap = locum(id=2, order=(1, 2), unit_rate=Decimal("340.00"), total=Decimal("768.01"))
    assert flags_of([staff(1), at_cap]) == {1: [], 2: []}


def test_over_the_cap_names_the_numbers_and_prices_the_line_again_at_the_cap() -> None:
    line = locum()
    [flag] = flags_of([line])[1]
    assert flag.code == FlagCode.OVER_CAP and flag.label == "Over the cap"
    # at the cap: 2 x £340 = £680.00; pension 14.38% of 90% (£612.00) = £88.01; total £768.01
    at_cap = costing.locum_cover(
        Decimal(2),
        Decimal("340.00"),
        "session",
        pays_into_scheme=True,
        pension_pct=Decimal("14.38"),
    )
    assert flag.allowed == at_cap.total == Decimal("768.01")
    assert line.total == Decimal("806.41")
    assert flag.text == (
        "£357.00 a session is over the cap of £340.00 a session (Locum sessions, the ICB's "
        "policy v2): at the cap the line is £768.01 of the £806.41 claimed."
    )
    assert flag.reason == f"Locum sessions capped at £340.00 a session by {POLICY}."
    assert only_over_cap([flag]) is flag


def test_priced_again_at_its_own_rate_a_line_is_what_was_claimed() -> None:
    for line in (locum(), staff(1, "4.1667")):
        assert priced_at(line, line.unit_rate) == line.total


def test_a_line_without_stored_on_costs_is_capped_in_proportion_to_the_penny() -> None:
    line = locum(pricing=None, total=Decimal("714.00"))
    # £714.00 x 340 / 357 = £680.00
    assert flags_of([line])[1][0].allowed == Decimal("680.00")
    odd = locum(pricing=None, total=Decimal("100.01"), unit_rate=Decimal("3"), quantity=Decimal(1))
    capped = replace(TERMS, caps={"locum_session": Decimal("1")})
    # £100.01 / 3 = £33.336..., rounded half up to £33.34
    assert flags_of([odd], terms=capped)[1][0].allowed == Decimal("33.34")


def test_staff_caps_follow_the_band_named_in_the_role_or_description() -> None:
    assert staff_grade("Receptionist (Band 2)") == "band_2"
    assert staff_grade("Receptionist", "Reception team (band 3): extra hours") == "band_3"
    assert staff_grade("Salaried GP") == "gp"
    assert staff_grade("Practice manager") == "other"
    assert staff_grade("Band 8a manager") == "other"  # the rate card stops at Band 7
    # 6.5 h x £13.00 = £84.50; overtime +50% = £126.75; NI 13.8% = £17.49; total £144.24
    over = staff(1, unit_rate=Decimal("13.00"), total=Decimal("144.24"))
    assert cap_key(over) == "staff_band_2"
    [flag] = flags_of([over])[1]
    assert flag.code == FlagCode.OVER_CAP
    cap = "£13.00 an hour is over the cap of £12.50 an hour (Staff time (Band 2), the ICB's"
    assert flag.text.startswith(cap)
    # 6.5 h x £12.50 = £81.25; overtime +50% = £121.88; NI 13.8% = £16.82; total £138.70
    assert flag.allowed == Decimal("138.70")


def test_a_kind_the_policy_does_not_reimburse_is_flagged_and_not_held_to_caps() -> None:
    line = LineFacts(
        id=5,
        name="line 5",
        order=(1, 5),
        kind="appointments",
        line_date=DAY,
        description="GP appointments cancelled",
        unit="appointment",
        quantity=Decimal(38),
        unit_rate=Decimal("45.00"),
        total=Decimal("1710.00"),
        appointment_type="gp",
        outage=OUTAGE,
    )
    [flag] = flags_of([line])[5]
    assert flag.code == FlagCode.NOT_CLAIMABLE
    assert flag.text == "Lost appointments: not reimbursed under the ICB's policy v2."


def test_evidence_is_required_above_the_threshold_only() -> None:
    [flag] = flags_of([locum(evidence=0, unit_rate=Decimal("300"))])[1]
    assert flag.code == FlagCode.NO_EVIDENCE
    assert flag.text == (
        "£806.41 is over the £250.00 above which the ICB's policy v2 asks for evidence, and no "
        "receipt or document is attached."
    )
    assert flags_of([locum(evidence=0, unit_rate=Decimal("300"), total=Decimal("250.00"))]) == {
        1: []
    }


def test_dates_before_the_outage_or_after_its_window_are_flagged() -> None:
    before = staff(1, line_date=date(2024, 7, 17))
    assert flags_of([before])[1][0].text == (
        "Dated 17 July 2024, 2 days before the outage started (19 July 2024)."
    )
    late_cost = staff(2, line_date=date(2024, 8, 5))  # 16 days after 20 July
    [flag] = flags_of([late_cost])[2]
    assert flag.code == FlagCode.OUTSIDE_DATES
    assert flag.text == (
        "Dated 5 August 2024, 16 days after the incident ended (20 July 2024); "
        "the ICB's policy v2 accepts costs up to 14 days after."
    )
    assert flags_of([staff(3, line_date=date(2024, 8, 3))])[3] == []  # 14 days: in the window
    # without a policy the incident page's own window applies
    no_policy = flags_of([late_cost], terms=None)[2]
    assert no_policy == []
    far = staff(4, line_date=OUTAGE.ended + timedelta(days=DEFAULT_WINDOW_DAYS + 1))
    assert codes(flags_of([far], terms=None)[4]) == [FlagCode.OUTSIDE_DATES]


def test_a_claim_issued_after_the_deadline_is_flagged() -> None:
    found = check_lines([staff(1)], [], {1: TERMS}, date(2024, 11, 1))[1]
    assert [f.text for f in found] == [
        "Issued 1 November 2024, after the deadline for claims (31 October 2024) in the ICB's "
        "policy v2."
    ]
    assert check_lines([staff(1)], [], {1: TERMS}, date(2024, 10, 31))[1] == []


def test_the_later_of_two_duplicates_is_flagged_on_this_claim_or_against_another() -> None:
    first, second = staff(1, "3"), staff(2, "3")
    found = flags_of([first, second])
    assert found[1] == []
    assert found[2][0].code == FlagCode.DUPLICATE
    assert found[2][0].text == (
        "The same date (19 July 2024), kind, person (Siân Evans, receptionist (Band 2)) and "
        f"amount (£{first.total}) as line 1."
    )
    elsewhere = replace(staff(7, "3"), name="line 4 of claim Y0990120240001", order=(0, 4))
    [flag] = flags_of([staff(1, "3")], [elsewhere])[1]
    assert flag.text.endswith("as line 4 of claim Y0990120240001.")
    # a different amount is no duplicate
    assert flags_of([staff(1), staff(2, "3")]) == {1: [], 2: []}


def test_one_persons_hours_a_day_over_the_policy_or_over_24_are_flagged() -> None:
    found = flags_of([staff(1, "8"), staff(2, "5", description="Evening re-entry of notes")])
    assert codes(found[1]) == codes(found[2]) == [FlagCode.TOO_MANY_HOURS]
    assert found[2][0].label == "Implausible hours"
    assert found[2][0].text == (
        "Siân Evans, receptionist (Band 2): 13 hours on 19 July 2024 (lines 1 and 2), over "
        "the 12 hours a person a day of the ICB's policy v2."
    )
    over_day = flags_of([staff(1, "20"), staff(2, "4.1667", description="Night")], terms=None)
    assert over_day[2][0].code == FlagCode.OVER_DAY
    assert over_day[2][0].text.startswith(
        "Siân Evans, receptionist (Band 2): 24 h 10 min on 19 July 2024 (lines 1 and 2), more"
    )
    # a team is several people: its hours are not one person's
    team = staff(1, "30", person="Reception team")
    assert flags_of([team], terms=None) == {1: []}
    # locum sessions count 4 h 10 min each
    sessions = locum(quantity=Decimal(3), unit_rate=Decimal("300"), total=Decimal("900.00"))
    assert codes(flags_of([sessions])[1]) == [FlagCode.TOO_MANY_HOURS]


def test_a_night_shift_counted_on_both_dates_is_flagged() -> None:
    night = staff(1, "8", description="Night shift re-entering notes", line_date=DAY)
    again = staff(2, "8", description="Night shift re-entering notes", line_date=date(2024, 7, 20))
    found = flags_of([night, again])
    assert found[1] == []
    assert codes(found[2]) == [FlagCode.NIGHT_TWICE]
    assert found[2][0].text == (
        f"Siân Evans, receptionist (Band 2): the same 8 hours and £{night.total} as line 1 on "
        "19 July 2024, the night before: one night shift counted on both dates?"
    )
    # two ordinary days of the same overtime are not a night counted twice
    day_one = staff(1, "3")
    day_two = staff(2, "3", line_date=date(2024, 7, 20))
    assert flags_of([day_one, day_two]) == {1: [], 2: []}


# --- one index shared by every claim of a practice ---------------------------------------------

_PEOPLE = ("Siân Evans, receptionist (Band 2)", "Dr Ola Bello", "")
_DESCRIPTIONS = ("Night shift re-entering notes", "Reception overtime phoning patients")


@st.composite
def _lines(draw: st.DrawFn, first_id: int, claim: int) -> list[LineFacts]:
    """A claim's lines drawn from a few days, people, hours and amounts, so that
    duplicates, long days and nights counted twice all turn up."""
    count = draw(st.integers(min_value=0, max_value=6))
    lines = []
    for n in range(count):
        hours = draw(st.sampled_from(["3", "8", "13"]))
        lines.append(
            staff(
                first_id + n,
                hours,
                name=f"line {n + 1} of claim {claim}",
                order=(claim, n + 1),
                line_date=DAY + timedelta(days=draw(st.integers(min_value=0, max_value=2))),
                person=draw(st.sampled_from(_PEOPLE)),
                description=draw(st.sampled_from(_DESCRIPTIONS)),
            )
        )
    return lines


def _worded(found: dict[int, list]) -> dict[int, list[tuple[str, str]]]:
    return {line_id: [(flag.code, flag.text) for flag in flags] for line_id, flags in found.items()}


@settings(max_examples=200, deadline=None)
@given(own=_lines(1, 2), before=_lines(100, 1), after=_lines(200, 3))
def test_a_shared_index_of_the_practices_lines_flags_a_claim_as_its_own_lines_would(
    own: list[LineFacts], before: list[LineFacts], after: list[LineFacts]
) -> None:
    """The claims list checks each claim against one index of the practice's lines, the
    claim's own among them under another claim's name: every flag and sentence is the one
    the claim gets checked alone against the other claims' lines."""
    mine = [replace(line, name=f"line {line.order[1]}") for line in own]
    terms = {line.id: TERMS for line in mine}
    alone = check_lines(mine, [*before, *after], terms, date(2024, 8, 1))
    shared = LineIndex([*before, *own, *after])
    assert _worded(check_lines(mine, shared, terms, date(2024, 8, 1))) == _worded(alone)
    # and, by hand, the duplicates: the later of two lines alike, against the first of them
    everyone = sorted([*before, *mine, *after], key=lambda line: line.order)
    for line in mine:
        alike = [x for x in everyone if duplicate_key(x) == duplicate_key(line)]
        expected = alike[0] if alike[0].order < line.order else None
        duplicate = [f for f in alone[line.id] if f.code == FlagCode.DUPLICATE]
        assert bool(duplicate) == (expected is not None)
        if expected is not None:
            assert duplicate[0].text.endswith(f"as {expected.name}.")
