from datetime import datetime, timedelta

import pytest

from tracker.presentation import duration_text, london_datetime, long_date
from tracker.services.dates import NonexistentLocalTime, london_to_utc, utc_to_london


def test_summer_time_is_one_hour_ahead_of_utc() -> None:
    assert london_to_utc(datetime(2024, 7, 19, 7, 10)) == datetime(2024, 7, 19, 6, 10)
    assert utc_to_london(datetime(2024, 7, 19, 6, 10)) == datetime(2024, 7, 19, 7, 10)


def test_winter_time_equals_utc() -> None:
    assert london_to_utc(datetime(2024, 1, 10, 9, 0)) == datetime(2024, 1, 10, 9, 0)


def test_duration_across_the_clocks_going_forward_counts_real_time() -> None:
    start = london_to_utc(datetime(2024, 3, 31, 0, 30))
    end = london_to_utc(datetime(2024, 3, 31, 3, 30))
    assert end - start == timedelta(hours=2)


def test_the_skipped_hour_in_march_is_refused() -> None:
    with pytest.raises(NonexistentLocalTime):
        london_to_utc(datetime(2024, 3, 31, 1, 30))


def test_the_repeated_hour_in_october_reads_as_summer_time() -> None:
    assert london_to_utc(datetime(2024, 10, 27, 1, 30)) == datetime(2024, 10, 27, 0, 30)


def test_dates_read_the_nhs_way() -> None:
    assert long_date(datetime(2024, 7, 19)) == "19 July 2024"
    assert london_datetime(datetime(2024, 7, 19, 13, 5)) == "19 July 2024 at 2:05pm"
    assert duration_text(timedelta(days=1, hours=5, minutes=50)) == "1 day 5 hours 50 minutes"
