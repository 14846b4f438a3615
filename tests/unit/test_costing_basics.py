from decimal import Decimal

from tracker.services import costing


def test_staff_time_worked_example_from_the_brief() -> None:
    amounts = costing.staff_time(
        Decimal("6.5"), Decimal("18.66"), Decimal("50"), Decimal("14.38"), Decimal("13.8")
    )
    # 6.5 x 18.66 x 1.5 x 1.2818 = 233.2044... -> 233.20
    assert amounts.net == Decimal("233.20")
    assert amounts.total == Decimal("233.20")
    assert amounts.working == "6.5 h × £18.66 + 50% overtime + 14.38% pension + 13.8% NI"
