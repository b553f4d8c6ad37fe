"""The constant-time working-hours count equals a plain day-by-day count."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.core import worktime


def day_by_day(start, end):
    tz = timezone.get_current_timezone()
    s, e = timezone.localtime(start, tz), timezone.localtime(end, tz)
    total, day = 0.0, s.date()
    while day <= e.date():
        total += worktime._seconds_on(worktime.DEFAULT, day, s, e, tz)
        day += timedelta(days=1)
    return total


moments = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(
    start=moments,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_constant_time_count_matches_day_by_day(start, span):
    end = start + span
    assert worktime.working_seconds_between(start, end) == pytest.approx(
        day_by_day(start, end), abs=1e-3
    )
