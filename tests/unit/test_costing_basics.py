from decimal import Decimal

from tracker.services import costing


def test_staff_time_worked_example_from_the_issue() -> None:
    """6.5 h overtime at £18.66 with a 50% premium on 15 July 2025: NI 15% on the gross pay,
    no pension (overtime is not pensionable)."""
    amounts = costing.staff_time(
        Decimal("6.5"), Decimal("18.66"), overtime_pct=Decimal("50"), ni_pct=Decimal("15")
    )
    assert amounts.net == amounts.total == Decimal("209.23")
    assert amounts.working == (
        "6.5 h × £18.66 = £121.29; overtime +50% = £181.94; employer NI 15% = £27.29; total £209.23"
    )


def test_pension_on_overtime_is_never_charged_even_if_a_rate_is_given() -> None:
    amounts = costing.staff_time(
        Decimal("6.5"), Decimal("18.66"), overtime_pct=Decimal("50"), pension_pct=Decimal("14.38")
    )
    assert amounts.pension == 0
    assert amounts.total == Decimal("181.94")
