"""Calendar periods for the analyses: months and weeks in the company's time zone,
turned into UTC instants so the database compares plain timestamps.

Grouping a million rows by month with the database's date functions is slow on SQLite
(Django truncates dates in a Python function per row) and wrong at month boundaries
when the time zone is ignored. Instead a period becomes a ``CASE`` over its bucket
boundaries: exact in any time zone, native comparisons on every database.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Value, When
from django.utils.formats import date_format


@dataclass(frozen=True)
class Bucket:
    index: int
    key: str  # "2026-03" or "2026-W11"
    label: str
    first_day: date
    last_day: date
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def day_range(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in ``tz``."""
    return start_of_day(first, tz), start_of_day(last + timedelta(days=1), tz)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months(first: date, last: date, tz: ZoneInfo) -> list[Bucket]:
    """Calendar months touching [first, last], clipped to it."""
    buckets: list[Bucket] = []
    cursor = first.replace(day=1)
    while cursor <= last:
        following = _next_month(cursor)
        lo, hi = max(cursor, first), min(following - timedelta(days=1), last)
        buckets.append(
            Bucket(
                index=len(buckets),
                key=f"{cursor.year:04d}-{cursor.month:02d}",
                label=date_format(cursor, "YEAR_MONTH_FORMAT"),
                first_day=lo,
                last_day=hi,
                start=start_of_day(lo, tz),
                end=start_of_day(hi + timedelta(days=1), tz),
            )
        )
        cursor = following
    return buckets


def weeks(first: date, last: date, tz: ZoneInfo) -> list[Bucket]:
    """ISO weeks (Monday to Sunday) touching [first, last], clipped to it."""
    buckets: list[Bucket] = []
    cursor = first - timedelta(days=first.weekday())
    while cursor <= last:
        lo, hi = max(cursor, first), min(cursor + timedelta(days=6), last)
        year, week, _ = cursor.isocalendar()
        buckets.append(
            Bucket(
                index=len(buckets),
                key=f"{year:04d}-W{week:02d}",
                label=f"{year} W{week:02d}",
                first_day=lo,
                last_day=hi,
                start=start_of_day(lo, tz),
                end=start_of_day(hi + timedelta(days=1), tz),
            )
        )
        cursor += timedelta(days=7)
    return buckets


def bucket_expression(field: str, buckets: list[Bucket]) -> Case:
    """SQL: the index of the bucket ``field`` falls in, NULL outside all of them.

    The buckets are contiguous, so the expression is a balanced tree of ``CASE``s: a
    row is compared about log2(n) + 2 times instead of once per bucket (57 weeks or
    ten years of months would otherwise cost seconds per million rows)."""
    if not buckets:
        return Case(default=None, output_field=IntegerField())
    inside = When(
        **{f"{field}__gte": buckets[0].start, f"{field}__lt": buckets[-1].end},
        then=_tree(field, buckets),
    )
    return Case(inside, default=None, output_field=IntegerField())


def _tree(field: str, buckets: list[Bucket]):
    if len(buckets) == 1:
        return Value(buckets[0].index)
    middle = len(buckets) // 2
    return Case(
        When(
            **{f"{field}__lt": buckets[middle].start},
            then=_tree(field, buckets[:middle]),
        ),
        default=_tree(field, buckets[middle:]),
        output_field=IntegerField(),
    )
