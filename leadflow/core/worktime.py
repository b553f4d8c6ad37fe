"""Working-time arithmetic: how long an inquiry has been waiting in working hours."""

from datetime import datetime, time, timedelta

from django.utils import timezone

WORKDAY_START = time(8, 30)
WORKDAY_END = time(17, 30)
WORKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday to Friday


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Seconds of working time (Mon–Fri, 08:30–17:30 local time) between two instants."""
    if end <= start:
        return 0.0
    tz = timezone.get_current_timezone()
    start_local = timezone.localtime(start, tz)
    end_local = timezone.localtime(end, tz)
    total = 0.0
    day = start_local.date()
    while day <= end_local.date():
        if day.weekday() in WORKDAYS:
            open_at = timezone.make_aware(datetime.combine(day, WORKDAY_START), tz)
            close_at = timezone.make_aware(datetime.combine(day, WORKDAY_END), tz)
            lo = max(open_at, start_local)
            hi = min(close_at, end_local)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
        if (day - start_local.date()).days > 3660:  # guard against absurd ranges
            break
    return total


def working_hours_between(start: datetime, end: datetime) -> float:
    return working_seconds_between(start, end) / 3600.0
