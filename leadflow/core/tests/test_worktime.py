"""Working time: Monday to Friday, 08:30–17:30 in Europe/Brussels, DST included."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leadflow.core.worktime import working_hours_between, working_seconds_between

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


@pytest.fixture(autouse=True)
def brussels():
    with timezone.override("Europe/Brussels"):
        yield


def test_hours_inside_one_working_day_count_fully():
    # Monday 2026-11-30
    assert working_hours_between(local(2026, 11, 30, 9), local(2026, 11, 30, 11)) == 2


def test_evening_and_night_do_not_count():
    assert (
        working_hours_between(local(2026, 11, 30, 17), local(2026, 11, 30, 23)) == 0.5
    )
    assert working_hours_between(local(2026, 11, 30, 18), local(2026, 12, 1, 8)) == 0
    assert working_hours_between(local(2026, 12, 1, 6), local(2026, 12, 1, 9)) == 0.5


def test_across_days_counts_the_end_of_one_day_and_the_start_of_the_next():
    assert (
        working_hours_between(local(2026, 11, 30, 17), local(2026, 12, 1, 9, 30)) == 1.5
    )
    # Monday 08:30 to Wednesday 17:30: three full days of nine hours
    assert (
        working_hours_between(local(2026, 11, 30, 8, 30), local(2026, 12, 2, 17, 30))
        == 27
    )


def test_weekends_do_not_count():
    # Friday 17:00 -> Monday 09:00: half an hour on Friday, half an hour on Monday
    assert working_hours_between(local(2026, 12, 4, 17), local(2026, 12, 7, 9)) == 1
    assert working_hours_between(local(2026, 12, 5, 9), local(2026, 12, 6, 17)) == 0


def test_a_whole_week_is_forty_five_hours():
    assert working_hours_between(local(2026, 11, 30), local(2026, 12, 7)) == 45


def test_end_before_or_at_start_is_zero():
    start = local(2026, 11, 30, 10)
    assert working_seconds_between(start, start) == 0
    assert working_seconds_between(start, local(2026, 11, 30, 9)) == 0


def test_spring_forward_weekend_keeps_local_office_hours():
    # DST starts Sunday 2026-03-29: Friday is UTC+1, Monday UTC+2.
    friday = datetime(2026, 3, 27, 15, 30, tzinfo=UTC)  # 16:30 local
    monday = datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # 09:30 local
    assert working_hours_between(friday, monday) == 2
    # 06:30 UTC on Monday is already 08:30 in Brussels
    opens = datetime(2026, 3, 30, 6, 30, tzinfo=UTC)
    assert working_hours_between(opens, monday) == 1


def test_fall_back_weekend_keeps_local_office_hours():
    # DST ends Sunday 2026-10-25: Friday is UTC+2, Monday UTC+1.
    friday = datetime(2026, 10, 23, 14, 30, tzinfo=UTC)  # 16:30 local
    monday = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # 09:30 local
    assert working_hours_between(friday, monday) == 2


def test_instants_in_other_time_zones_are_counted_in_brussels_time():
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Brussels
    end = datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("America/New_York"))  # 18:00
    assert working_hours_between(start, end) == 8.5
