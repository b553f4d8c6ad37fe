"""Working-time arithmetic: how long something has waited, and when a deadline of N
working hours falls, on the company's working calendar (days, hours, time zone,
holidays). Pure functions over a :class:`Calendar`; :func:`current_calendar` loads
the configured one (cached for a minute per process)."""

import time as _time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

WORKDAY_START = time(8, 30)
WORKDAY_END = time(17, 30)
WORKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday to Friday


@dataclass(frozen=True)
class Calendar:
    workdays: frozenset[int] = WORKDAYS  # 0 = Monday
    start: time = WORKDAY_START
    end: time = WORKDAY_END
    holidays: tuple[date, ...] = ()  # sorted
    tz_name: str = ""  # "" = the current Django time zone

    @property
    def tz(self):
        return (
            ZoneInfo(self.tz_name) if self.tz_name else timezone.get_current_timezone()
        )

    @property
    def day_seconds(self) -> float:
        return (
            datetime.combine(date.min, self.end)
            - datetime.combine(date.min, self.start)
        ).total_seconds()

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.workdays:
            return False
        i = bisect_left(self.holidays, day)
        return not (i < len(self.holidays) and self.holidays[i] == day)

    # Instants are returned in UTC: arithmetic on aware datetimes that share a tzinfo
    # is wall-clock arithmetic in Python, which is wrong across a clock change.
    def opens(self, day: date, tz) -> datetime:
        return timezone.make_aware(datetime.combine(day, self.start), tz).astimezone(
            UTC
        )

    def closes(self, day: date, tz) -> datetime:
        return timezone.make_aware(datetime.combine(day, self.end), tz).astimezone(UTC)

    def day_length(self, day: date, tz) -> float:
        """Real seconds of work on a working day (shorter or longer than
        ``day_seconds`` only when the hours hold a clock change)."""
        return max((self.closes(day, tz) - self.opens(day, tz)).total_seconds(), 0.0)

    @property
    def holds_clock_changes(self) -> bool:
        """Clocks change between midnight and 04:00 local time: a calendar whose hours
        start before 04:00 is measured day by day instead of week by week."""
        return self.start < time(4)


DEFAULT = Calendar()


def _workdays_between(cal: Calendar, first: date, last: date) -> int:
    """Number of working days in [first, last] (0 when last < first), holidays off.

    Constant time in the span: whole weeks are multiplied, holidays found by bisection."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * len(cal.workdays)
    start = first.weekday()
    count += sum(1 for i in range(rest) if (start + i) % 7 in cal.workdays)
    lo = bisect_left(cal.holidays, first)
    hi = bisect_right(cal.holidays, last)
    count -= sum(1 for d in cal.holidays[lo:hi] if d.weekday() in cal.workdays)
    return count


def _seconds_on(cal: Calendar, day: date, start: datetime, end: datetime, tz) -> float:
    if not cal.is_working_day(day):
        return 0.0
    lo = max(cal.opens(day, tz), start)
    hi = min(cal.closes(day, tz), end)
    return max((hi - lo).total_seconds(), 0.0)


def working_seconds_between(
    start: datetime, end: datetime, cal: Calendar | None = None
) -> float:
    """Seconds of working time between two instants (local working hours, so a
    working day is as long in a DST week as in any other)."""
    cal = cal or DEFAULT
    if end <= start:
        return 0.0
    tz = cal.tz
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = timezone.localtime(start, tz).date()
    last = timezone.localtime(end, tz).date()
    if first == last:
        return _seconds_on(cal, first, start, end, tz)
    total = _seconds_on(cal, first, start, end, tz)
    total += _seconds_on(cal, last, start, end, tz)
    inner_first, inner_last = first + timedelta(days=1), last - timedelta(days=1)
    if cal.holds_clock_changes:
        day = inner_first
        while day <= inner_last:
            if cal.is_working_day(day):
                total += cal.day_length(day, tz)
            day += timedelta(days=1)
    else:
        total += _workdays_between(cal, inner_first, inner_last) * cal.day_seconds
    return total


def working_hours_between(
    start: datetime, end: datetime, cal: Calendar | None = None
) -> float:
    return working_seconds_between(start, end, cal) / 3600.0


def add_working_seconds(
    start: datetime, seconds: float, cal: Calendar | None = None
) -> datetime:
    """The instant at which ``seconds`` of working time have passed since ``start``.

    A deadline that lands exactly on closing time stays there (it does not jump to the
    next morning). Whole weeks are skipped arithmetically; only the last days and the
    holidays in between are walked."""
    cal = cal or DEFAULT
    if seconds <= 0:
        return start
    if not cal.workdays or cal.day_seconds <= 0:
        raise ValueError("A calendar without working time has no deadlines.")
    tz = cal.tz
    start = start.astimezone(UTC)
    day = timezone.localtime(start, tz).date()
    remaining = seconds
    # The rest of the first day.
    if cal.is_working_day(day):
        begin = max(start, cal.opens(day, tz))
        left_today = max((cal.closes(day, tz) - begin).total_seconds(), 0.0)
        if remaining <= left_today:
            return timezone.localtime(begin + timedelta(seconds=remaining), tz)
        remaining -= left_today
    day += timedelta(days=1)
    # Whole weeks at once while more than a week of work remains (holidays are paid
    # back by walking the extra days below).
    week = len(cal.workdays) * cal.day_seconds
    if remaining > week and not cal.holds_clock_changes:
        weeks = int(remaining // week) - 1
        if weeks > 0:
            skipped_last = day + timedelta(days=7 * weeks - 1)
            worked = _workdays_between(cal, day, skipped_last) * cal.day_seconds
            remaining -= worked
            day = skipped_last + timedelta(days=1)
    guard = 0
    while True:
        if cal.is_working_day(day):
            length = cal.day_length(day, tz)
            if remaining <= length:
                return timezone.localtime(
                    cal.opens(day, tz) + timedelta(seconds=remaining), tz
                )
            remaining -= length
        day += timedelta(days=1)
        guard += 1
        if guard > 3700:  # ten years of holidays: the calendar is broken
            raise ValueError("No working time found within ten years.")


def add_working_hours(
    start: datetime, hours: float, cal: Calendar | None = None
) -> datetime:
    return add_working_seconds(start, hours * 3600.0, cal)


# --- the configured calendar ----------------------------------------------------------

_CACHE_SECONDS = 60.0
_cached: tuple[float, Calendar] | None = None


def current_calendar() -> Calendar:
    """The company's calendar from the database (working week + holidays), cached per
    process for a minute; saving the calendar through the settings action forgets it."""
    global _cached
    now = _time.monotonic()
    if _cached is not None and now - _cached[0] < _CACHE_SECONDS:
        return _cached[1]
    from leadflow.core.models import Holiday, WorkingCalendar

    row = WorkingCalendar.objects.first()
    holidays = tuple(Holiday.objects.order_by("day").values_list("day", flat=True))
    if row is None:
        cal = Calendar(holidays=holidays)
    else:
        cal = Calendar(
            workdays=frozenset(
                i for i, name in enumerate(WorkingCalendar.DAYS) if getattr(row, name)
            ),
            start=row.starts_at,
            end=row.ends_at,
            holidays=holidays,
            tz_name=row.time_zone,
        )
    _cached = (now, cal)
    return cal


def forget_calendar() -> None:
    global _cached
    _cached = None
