"""Working-time arithmetic: how long an inquiry has been waiting in working hours."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

WORKDAY_START = time(8, 30)
WORKDAY_END = time(17, 30)
WORKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday to Friday
_DAY_SECONDS = (
    datetime.combine(date.min, WORKDAY_END) - datetime.combine(date.min, WORKDAY_START)
).total_seconds()


def _weekdays_between(first: date, last: date) -> int:
    """Number of Monday–Friday dates in [first, last] (0 when last < first)."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    start = first.weekday()
    count += sum(1 for i in range(rest) if (start + i) % 7 in WORKDAYS)
    return count


def _seconds_on(day: date, start: datetime, end: datetime, tz) -> float:
    if day.weekday() not in WORKDAYS:
        return 0.0
    open_at = timezone.make_aware(datetime.combine(day, WORKDAY_START), tz)
    close_at = timezone.make_aware(datetime.combine(day, WORKDAY_END), tz)
    lo = max(open_at, start)
    hi = min(close_at, end)
    return max((hi - lo).total_seconds(), 0.0)


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Seconds of working time (Mon–Fri, 08:30–17:30 local time) between two instants.

    Constant time: the first and last day are measured, the days between counted."""
    if end <= start:
        return 0.0
    tz = timezone.get_current_timezone()
    start_local = timezone.localtime(start, tz)
    end_local = timezone.localtime(end, tz)
    first, last = start_local.date(), end_local.date()
    if first == last:
        return _seconds_on(first, start_local, end_local, tz)
    total = _seconds_on(first, start_local, end_local, tz)
    total += _seconds_on(last, start_local, end_local, tz)
    total += _weekdays_between(first + timedelta(days=1), last - timedelta(days=1)) * (
        _DAY_SECONDS
    )
    return total


def working_hours_between(start: datetime, end: datetime) -> float:
    return working_seconds_between(start, end) / 3600.0
