"""Forecast snapshots: what is frozen, once a day automatically, the worker's rule,
the command, reading a snapshot back, and a constant number of queries."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from leadflow.analytics.actions import take_scheduled_snapshot, take_snapshot
from leadflow.analytics.models import ForecastSnapshot, ForecastSnapshotLine
from leadflow.analytics.queries import ForecastFilters, forecast_for
from leadflow.analytics.tests.factories import D, lead, table
from leadflow.audit.models import AuditEvent
from leadflow.core.models import Holiday
from leadflow.core.worktime import current_calendar, forget_calendar
from leadflow.opportunities.actions import update_opportunity
from leadflow.workflows.scheduler import job_named

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 6) -> datetime:
    """A moment on ``day`` in the company's time zone (Europe/Brussels by default)."""
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def test_a_snapshot_freezes_every_open_lead(leads, director, teams):
    snapshot = take_snapshot(actor=director)
    lines = {
        line.opportunity_id: line
        for line in ForecastSnapshotLine.objects.filter(snapshot=snapshot)
    }
    # every open lead, omitted ones included (L7); not the won L8
    assert set(lines) == {
        o.pk
        for o in (
            leads.L1,
            leads.L2,
            leads.L3,
            leads.L4,
            leads.L5,
            leads.L6,
            leads.L7,
            leads.L9,
        )
    }
    l2 = lines[leads.L2.pk]
    assert (l2.owner_id, l2.team_id, l2.stage.code) == (
        leads.L2.owner_id,
        teams["North"].pk,
        "proposal",
    )
    assert (l2.value, l2.p_win, l2.p_go, l2.weight) == (
        Decimal("20000.00"),
        Decimal("0.600"),
        Decimal("0.500"),
        Decimal("0.300000"),
    )
    assert (l2.category, l2.decision_date, l2.service_type) == (
        "best_case",
        date(2026, 3, 25),
        "Maintenance",
    )
    l3 = lines[leads.L3.pk]
    assert (l3.p_win, l3.p_go, l3.weight, l3.category) == (
        Decimal("0.800"),
        None,
        Decimal("0.750000"),
        "commit",
    )
    assert lines[leads.L7.pk].category == "omitted"
    assert lines[leads.L6.pk].team_id is None
    assert lines[leads.L5.pk].value is None
    # totals over all 8 lines: 84000 + L7's 12000; weighted 29250 + 3000
    assert (snapshot.line_count, snapshot.unweighted, snapshot.weighted) == (
        8,
        D("96000"),
        D("32250"),
    )
    assert (snapshot.kind, snapshot.taken_by) == ("manual", director)
    event = AuditEvent.objects.get(event_type="forecast.snapshot_taken")
    assert (event.actor, event.new) == (director, {"kind": "manual", "leads": 8})


def test_reading_a_snapshot_gives_the_forecast_as_it_was(leads, director, rep):
    snapshot = take_snapshot(actor=director)
    before = forecast_for(director, by="month")
    # later: L1 doubles and L4 gets a date in June
    update_opportunity(leads.L1, actor=rep, expected_value=Decimal("20000"))
    update_opportunity(leads.L4, actor=leads.L4.owner, decision_date=date(2026, 6, 1))
    frozen = forecast_for(director, by="month", snapshot=snapshot)
    assert table(frozen) == table(before)
    assert (frozen.count, frozen.unweighted, frozen.weighted) == (
        7,
        D("84000"),
        D("29250"),
    )
    now = forecast_for(director, by="month")
    assert now.weighted == D("31750")  # + 10000 × 0.25


@pytest.mark.parametrize(
    "by", ["month", "quarter", "service", "owner", "team", "category"]
)
def test_a_snapshot_answers_every_grouping_like_the_live_forecast(leads, director, by):
    snapshot = take_snapshot(actor=director)
    assert table(forecast_for(director, by=by, snapshot=snapshot)) == table(
        forecast_for(director, by=by)
    )


def test_a_snapshot_read_by_a_salesperson_holds_only_leads_they_see(
    leads, director, rep, outsider
):
    snapshot = take_snapshot(actor=director)
    assert forecast_for(rep, snapshot=snapshot).weighted == D("14750")  # L1 L2 L3 L9
    assert table(forecast_for(outsider, by="owner", snapshot=snapshot)) == [
        ("outsider", 2, D("40000"), D("10000"))
    ]
    filtered = forecast_for(
        director,
        snapshot=snapshot,
        filters=ForecastFilters(categories=("omitted",)),
    )
    assert filtered.weighted == D("3000")


def test_the_automatic_snapshot_is_taken_once_a_day(leads):
    monday = at(date(2026, 6, 1), 6)
    first = take_snapshot(kind="auto", now=monday)
    again = take_snapshot(kind="auto", now=monday + timedelta(hours=5))
    assert again.pk == first.pk
    assert ForecastSnapshotLine.objects.count() == 8
    next_day = take_snapshot(kind="auto", now=monday + timedelta(days=1))
    assert next_day.pk != first.pk
    assert first.taken_on == date(2026, 6, 1) and first.taken_by is None


def test_the_day_is_the_company_calendars_day(leads):
    # 23:30 UTC on Sunday 31 May is already Monday 1 June in Brussels
    late = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    snapshot = take_snapshot(kind="auto", now=late)
    assert snapshot.taken_on == date(2026, 6, 1)


def test_manual_snapshots_are_not_limited(leads, director):
    take_snapshot(actor=director)
    take_snapshot(actor=director)
    assert ForecastSnapshot.objects.filter(kind="manual").count() == 2


def test_a_snapshot_of_an_empty_pipeline(db):
    snapshot = take_snapshot()
    assert (snapshot.line_count, snapshot.unweighted, snapshot.weighted) == (
        0,
        D("0"),
        D("0"),
    )


def test_snapshot_queries_do_not_grow_with_the_number_of_leads(
    personas, django_assert_num_queries
):
    rep = personas["rep"]
    for _ in range(3):
        lead(rep, value="100")
    current_calendar()  # cached for a minute: not part of what is measured
    # savepoint, header, INSERT … SELECT, totals, their UPDATE, audit row, release
    with django_assert_num_queries(7) as small:
        take_snapshot(actor=rep)
    for _ in range(30):
        lead(rep, value="100")
    with django_assert_num_queries(len(small.captured_queries)):
        snapshot = take_snapshot(actor=rep)
    assert snapshot.line_count == 33
    insert = [q["sql"] for q in small.captured_queries if "INSERT INTO" in q["sql"]]
    assert any("SELECT" in sql for sql in insert)  # one INSERT … SELECT


# --- the worker's rule -------------------------------------------------------------------


def test_the_worker_job_runs_daily_at_six():
    job = job_named("forecast_snapshot")
    assert job.daily_at == time(6, 0) and job.every is None
    assert job.func == "leadflow.analytics.actions.take_scheduled_snapshot"


def test_the_job_takes_a_snapshot_on_mondays_only_once(leads):
    monday = at(date(2026, 6, 8))
    assert take_scheduled_snapshot(now=monday).startswith("snapshot ")
    take_scheduled_snapshot(now=monday + timedelta(minutes=1))
    assert ForecastSnapshot.objects.filter(kind="auto").count() == 1


def test_the_job_skips_ordinary_days(leads):
    assert take_scheduled_snapshot(now=at(date(2026, 6, 9))) == "not a snapshot day"
    assert not ForecastSnapshot.objects.exists()


def test_the_job_takes_one_on_the_first_working_day_after_a_holiday_on_the_first(
    leads,
):
    Holiday.objects.create(day=date(2026, 1, 1), name="New Year")
    forget_calendar()
    assert take_scheduled_snapshot(now=at(date(2026, 1, 1))) == "not a snapshot day"
    assert take_scheduled_snapshot(now=at(date(2026, 1, 2))).startswith("snapshot")
    snapshot = ForecastSnapshot.objects.get()
    assert (snapshot.kind, snapshot.taken_on) == ("auto", date(2026, 1, 2))


def test_the_job_through_the_scheduler(leads):
    from leadflow.workflows.scheduler import run_due_jobs

    monday = date(2026, 6, 1)
    # a fresh install at 05:00 waits for 06:00, then takes Monday's snapshot
    assert run_due_jobs(now=at(monday, 5), only="forecast_snapshot") == {}
    results = run_due_jobs(now=at(monday, 6), only="forecast_snapshot")
    assert results["forecast_snapshot"].startswith("snapshot ")
    assert ForecastSnapshot.objects.get().taken_on == monday


# --- the command ---------------------------------------------------------------------------


def test_the_command_takes_a_manual_snapshot(leads, capsys):
    call_command("take_snapshot")
    call_command("take_snapshot")
    out = capsys.readouterr().out
    assert "8 open leads" in out and "weighted 32250.00" in out
    assert ForecastSnapshot.objects.filter(kind="manual").count() == 2


def test_the_command_with_auto_is_idempotent(leads):
    call_command("take_snapshot", "--auto")
    call_command("take_snapshot", "--auto")
    assert ForecastSnapshot.objects.filter(kind="auto").count() == 1


# --- two workers at once ------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two connections that wait for each other's locks",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_take_one_automatic_snapshot(personas):
    rep = personas["rep"]
    for value in ("100", "200", "300"):
        lead(rep, value=value)
    monday = at(date(2026, 6, 1))
    barrier = threading.Barrier(2, timeout=10)
    results: list = []

    def worker():
        try:
            barrier.wait()
            results.append(take_snapshot(kind="auto", now=monday).pk)
        except Exception as exc:  # shows in the assertion below
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    snapshot = ForecastSnapshot.objects.get()
    assert results == [snapshot.pk, snapshot.pk]
    assert ForecastSnapshotLine.objects.count() == 3
    assert snapshot.line_count == 3
