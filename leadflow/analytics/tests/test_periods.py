"""Months and weeks in the company's time zone (Europe/Brussels), and the SQL CASE that
puts a timestamp in its bucket.

Hand-worked facts used below (Europe/Brussels):
- summer time starts on Sunday 2026-03-29 (02:00 CET → 03:00 CEST) and ends on Sunday
  2026-10-25 (03:00 CEST → 02:00 CET);
- so March 2026 lasts 31 × 24 − 1 = 743 hours, October 2026 31 × 24 + 1 = 745 hours,
  ISO week 2026-W13 (23–29 March) 167 hours and 2026-W43 (19–25 October) 169 hours;
- 2026 has 53 ISO weeks (1 January 2026 is a Thursday): Monday 28 December 2026 starts
  2026-W53, Monday 4 January 2027 starts 2027-W01; Monday 29 December 2025 starts
  2026-W01.
- 31 March 2026 23:30 in Brussels (CEST) is 21:30 UTC; 1 April 2026 00:30 is 22:30 UTC
  on 31 March; 31 December 2026 23:30 (CET) is 22:30 UTC.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count
from django.utils import translation

from leadflow.analytics import periods
from leadflow.core.worktime import current_calendar
from leadflow.intake.models import Inquiry
from leadflow.intake.tests.factories import make_inquiry

BRUSSELS = ZoneInfo("Europe/Brussels")
HOUR = timedelta(hours=1)


def hours(bucket: periods.Bucket) -> float:
    # Elapsed time: in UTC (Python subtracts two times of one tzinfo as wall times).
    return (bucket.end.astimezone(UTC) - bucket.start.astimezone(UTC)) / HOUR


def test_months_across_the_spring_dst_change():
    buckets = periods.months(date(2026, 3, 1), date(2026, 4, 30), BRUSSELS)
    assert [b.key for b in buckets] == ["2026-03", "2026-04"]
    march, april = buckets
    assert march.start == datetime(2026, 3, 1, tzinfo=BRUSSELS)
    assert march.start.astimezone(UTC) == datetime(2026, 2, 28, 23, tzinfo=UTC)
    # March ends at midnight CEST (+02:00), an hour earlier in UTC than in February.
    assert march.end.astimezone(UTC) == datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert hours(march) == 743
    assert april.start == march.end
    assert hours(april) == 30 * 24
    assert [b.index for b in buckets] == [0, 1]


def test_months_across_the_autumn_dst_change():
    (october,) = periods.months(date(2026, 10, 1), date(2026, 10, 31), BRUSSELS)
    assert october.start.astimezone(UTC) == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert october.end.astimezone(UTC) == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert hours(october) == 745


def test_months_across_a_year_end_are_clipped_to_the_period():
    buckets = periods.months(date(2025, 12, 15), date(2026, 1, 10), BRUSSELS)
    assert [b.key for b in buckets] == ["2025-12", "2026-01"]
    december, january = buckets
    assert (december.first_day, december.last_day) == (
        date(2025, 12, 15),
        date(2025, 12, 31),
    )
    assert (january.first_day, january.last_day) == (
        date(2026, 1, 1),
        date(2026, 1, 10),
    )
    assert december.start == datetime(2025, 12, 15, tzinfo=BRUSSELS)
    assert january.end == datetime(2026, 1, 11, tzinfo=BRUSSELS)
    assert december.end == january.start


def test_month_labels_follow_the_language():
    (march,) = periods.months(date(2026, 3, 1), date(2026, 3, 31), BRUSSELS)
    with translation.override("en"):
        assert periods.months(date(2026, 3, 1), date(2026, 3, 31), BRUSSELS)[
            0
        ].label == ("March 2026")
    with translation.override("nl"):
        assert periods.months(date(2026, 3, 1), date(2026, 3, 31), BRUSSELS)[
            0
        ].label == ("maart 2026")
    assert march.key == "2026-03"


def test_a_single_day_is_one_month_bucket():
    (day,) = periods.months(date(2026, 2, 14), date(2026, 2, 14), BRUSSELS)
    assert (day.key, day.first_day, day.last_day) == (
        "2026-02",
        date(2026, 2, 14),
        date(2026, 2, 14),
    )
    assert hours(day) == 24


def test_weeks_across_the_dst_changes():
    spring = periods.weeks(date(2026, 3, 23), date(2026, 4, 5), BRUSSELS)
    assert [b.key for b in spring] == ["2026-W13", "2026-W14"]
    assert [hours(b) for b in spring] == [167, 168]
    assert spring[0].end == datetime(2026, 3, 30, tzinfo=BRUSSELS)
    autumn = periods.weeks(date(2026, 10, 19), date(2026, 10, 25), BRUSSELS)
    assert [(b.key, hours(b)) for b in autumn] == [("2026-W43", 169)]


def test_weeks_across_the_year_end_use_iso_weeks_and_clip():
    buckets = periods.weeks(date(2026, 12, 30), date(2027, 1, 6), BRUSSELS)
    assert [b.key for b in buckets] == ["2026-W53", "2027-W01"]
    assert [b.label for b in buckets] == ["2026 W53", "2027 W01"]
    assert (buckets[0].first_day, buckets[0].last_day) == (
        date(2026, 12, 30),
        date(2027, 1, 3),
    )
    assert (buckets[1].first_day, buckets[1].last_day) == (
        date(2027, 1, 4),
        date(2027, 1, 6),
    )
    # The first ISO week of 2026 starts in December 2025.
    (first,) = periods.weeks(date(2025, 12, 29), date(2026, 1, 4), BRUSSELS)
    assert first.key == "2026-W01"


def test_day_range_is_midnight_to_midnight_local():
    start, end = periods.day_range(date(2026, 3, 29), date(2026, 3, 29), BRUSSELS)
    assert start.astimezone(UTC) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def _received(inside, local: datetime) -> Inquiry:
    inquiry = make_inquiry(inside)
    Inquiry.objects.filter(pk=inquiry.pk).update(received_at=local)
    return inquiry


@pytest.mark.django_db
def test_bucket_expression_counts_by_the_local_month(inside):
    """Runs on SQLite and, via scripts/with-postgres.sh, on PostgreSQL.

    inquiry                         local            UTC               bucket
    a  31 March 23:30 (CEST)        March            21:30 31/3        0 (March)
    b   1 April 00:30 (CEST)        April            22:30 31/3        1 (April)
    c  28 February 23:59 (CET)      before           22:59 28/2        None
    d   1 May 00:00 (CEST)          after            22:00 30/4        None
    e  30 April 23:59 (CEST)        April            21:59 30/4        1
    """
    tz = current_calendar().tz
    assert str(tz) == "Europe/Brussels"
    a = _received(inside, datetime(2026, 3, 31, 23, 30, tzinfo=tz))
    b = _received(inside, datetime(2026, 4, 1, 0, 30, tzinfo=tz))
    c = _received(inside, datetime(2026, 2, 28, 23, 59, tzinfo=tz))
    d = _received(inside, datetime(2026, 5, 1, 0, 0, tzinfo=tz))
    e = _received(inside, datetime(2026, 4, 30, 23, 59, tzinfo=tz))
    buckets = periods.months(date(2026, 3, 1), date(2026, 4, 30), tz)
    found = dict(
        Inquiry.objects.annotate(
            m=periods.bucket_expression("received_at", buckets)
        ).values_list("pk", "m")
    )
    assert found == {a.pk: 0, b.pk: 1, c.pk: None, d.pk: None, e.pk: 1}
    grouped = dict(
        Inquiry.objects.annotate(m=periods.bucket_expression("received_at", buckets))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("m", "n")
    )
    assert grouped == {0: 1, 1: 2, None: 2}


@pytest.mark.django_db
def test_bucket_expression_at_the_year_end(inside):
    """31 December 2026 23:30 CET (22:30 UTC) is December; 1 January 00:30 is January,
    in week 2026-W53 both."""
    tz = current_calendar().tz
    dec = _received(inside, datetime(2026, 12, 31, 23, 30, tzinfo=tz))
    jan = _received(inside, datetime(2027, 1, 1, 0, 30, tzinfo=tz))
    months = periods.months(date(2026, 12, 1), date(2027, 1, 31), tz)
    weeks = periods.weeks(date(2026, 12, 1), date(2027, 1, 31), tz)
    rows = dict(
        Inquiry.objects.annotate(m=periods.bucket_expression("received_at", months))
        .values_list("pk", "m")
        .order_by()
    )
    assert rows == {dec.pk: 0, jan.pk: 1}
    week_keys = {
        pk: weeks[w].key
        for pk, w in Inquiry.objects.annotate(
            w=periods.bucket_expression("received_at", weeks)
        ).values_list("pk", "w")
    }
    assert week_keys == {dec.pk: "2026-W53", jan.pk: "2026-W53"}


@pytest.mark.django_db
def test_bucket_expression_with_no_buckets_and_no_rows(inside):
    buckets = periods.months(date(2026, 3, 1), date(2026, 3, 31), BRUSSELS)
    assert (
        list(
            Inquiry.objects.annotate(
                m=periods.bucket_expression("received_at", buckets)
            ).values_list("m", flat=True)
        )
        == []
    )
