"""Analysis 8, then and now (KPI 16): snapshots taken by the real ``take_snapshot`` at
chosen moments, leads moved and closed by the real actions, dates set afterwards.
Period: March–April 2026. Weights: qualification 0.25 (pipeline), proposal 0.50
(best case), negotiation 0.75 (commit). Times are Brussels time.

In the order things happen:
  leads  A rep negotiation 10000 dec 03-20 Installation   (commit, 7500)
         B rep proposal    20000 dec 03-25 Maintenance    (best case, 10000)
         C outsider qualif 40000 dec 03-31 Installation   (pipeline, 10000)
         D outsider negot.  8000 dec 04-10 Maintenance    (commit, 6000)
         E rep qualif      12000 dec 03-15 omitted (override)
         G outsider qualif  3000 dec 05-05
         H rep qualif       4000 Installation: won 2025-03-11 (created 2025-03-01)
  S1 = snapshot of 2026-03-01 06:00: A B C D E G
  A won (03-20 10:00), C lost (03-28), G not going ahead (03-29); new lead F rep
  5000 Consulting won (created 03-10, won 03-15); B moved BACK to qualification
  (pipeline, 0.25 → 5000) and its decision date moved to 04-20.
  S2 = snapshot of 2026-04-01 06:00: B D E
  D won (04-12 11:00 CEST).

(a) March (S1, decisions in March): weighted 7500 + 10000 + 10000 = 27500 (E
omitted); commit 10000 (A); best case 10000 + 20000 = 30000. Won in March: A 10000 +
F 5000 = 15000. Error −12500; WAPE 12500/15000 = 0.8333; bias +0.8333; accuracy
0.1667.
April (S2, decisions in April): B 5000 + D 6000 = 11000; commit 8000; best case 8000.
Won: D 8000. Error −3000; WAPE 0.375; bias 0.375; accuracy 0.625.
Months total: F 38500, A 23000, WAPE (12500 + 3000)/23000 = 0.673913, bias
15500/23000 = 0.673913.
Owner: rep F 7500 + 10000 + 5000 = 22500, A 15000 (WAPE 0.5); outsider F 10000 + 6000
= 16000, A 8000 (WAPE 1.0, accuracy 0).
Service (frozen): Consulting F 0 A 5000 (bias −1); Installation F 17500 A 10000
(WAPE 0.75); Maintenance F 21000 A 8000 (WAPE 1.625, accuracy −0.625); total WAPE
(5000 + 7500 + 13000)/23000 = 1.108696.

(c) Waterfall of S1: won A, D (2, 18000); lost C (1, 40000); not going ahead G (1,
3000); slipped B (1, 20000); on time E (1, 12000); total 6, 93000.

(d) Closed March–April 2026: won A, F, D; lost C; not going ahead G → win rate 3/5 =
0.6, without not going ahead 3/4 = 0.75; won value 23000; cycles (created → won):
A 30 days, F 5, D 61 (10:00 CET → 11:00 CEST, both 09:00 UTC) → median 30, mean 32.
A year earlier (March–April 2025): H won after 10 days → win rate 1.0, median 10.
"""

import csv
import io
from datetime import date, datetime
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from leadflow.analytics.actions import take_snapshot
from leadflow.analytics.reports import REPORTS
from leadflow.analytics.reports.then_and_now import months_back
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.analytics.tests.factories import D, lead
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    close_opportunity,
    move_stage,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db

REPORT = REPORTS["then-and-now"]
PERIOD = {"from": "2026-03", "to": "2026-04"}


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def scope(user, **filters) -> Scope:
    return Scope(
        user=user,
        filters=ReportFilters(
            date_from=filters.pop("date_from", date(2026, 3, 1)),
            date_to=filters.pop("date_to", date(2026, 4, 30)),
            **filters,
        ),
    )


def compute(user, today=date(2026, 5, 2), **filters):
    """The report as seen on ``today`` (the "now" of today's forecast)."""
    with mock.patch(
        "django.utils.timezone.now",
        return_value=local(today.year, today.month, today.day, 12, 0),
    ):
        return REPORT.compute(scope(user, **filters))


def set_dates(lead_, *, created=None, closed=None):
    values = {}
    if created:
        values["created_at"] = created
    if closed:
        values["closed_at"] = closed
    Opportunity.objects.filter(pk=lead_.pk).update(**values)


@pytest.fixture
def story(personas):
    rep, outsider, director = (
        personas["rep"],
        personas["outsider"],
        personas["director"],
    )
    a = lead(
        rep,
        stage="negotiation",
        value="10000",
        decision=date(2026, 3, 20),
        service="Installation",
    )
    b = lead(
        rep,
        stage="proposal",
        value="20000",
        decision=date(2026, 3, 25),
        service="Maintenance",
    )
    c = lead(
        outsider, value="40000", decision=date(2026, 3, 31), service="Installation"
    )
    d = lead(
        outsider,
        stage="negotiation",
        value="8000",
        decision=date(2026, 4, 10),
        service="Maintenance",
    )
    e = lead(rep, value="12000", decision=date(2026, 3, 15), category="omitted")
    g = lead(outsider, value="3000", decision=date(2026, 5, 5))
    h = lead(rep, value="4000", service="Installation")
    close_opportunity(h, actor=rep, result="won", reason="signed")

    s1 = take_snapshot(actor=director, now=local(2026, 3, 1, 6, 0))

    close_opportunity(a, actor=rep, result="won", reason="signed")
    close_opportunity(c, actor=outsider, result="lost", reason="price")
    close_opportunity(g, actor=outsider, result="not_going_ahead", reason="no budget")
    f = lead(rep, value="5000", service="Consulting")
    close_opportunity(f, actor=rep, result="won", reason="signed")
    move_stage(b, actor=rep, stage="qualification", reason="budget unsure again")
    b.refresh_from_db()
    update_opportunity(b, actor=rep, decision_date=date(2026, 4, 20))

    s2 = take_snapshot(actor=director, now=local(2026, 4, 1, 6, 0))

    close_opportunity(d, actor=outsider, result="won", reason="signed")

    set_dates(a, created=local(2026, 2, 18, 10), closed=local(2026, 3, 20, 10))
    set_dates(c, created=local(2026, 2, 1, 10), closed=local(2026, 3, 28, 10))
    set_dates(g, created=local(2026, 2, 1, 10), closed=local(2026, 3, 29, 10))
    set_dates(f, created=local(2026, 3, 10, 10), closed=local(2026, 3, 15, 10))
    set_dates(d, created=local(2026, 2, 10, 10), closed=local(2026, 4, 12, 11))
    set_dates(h, created=local(2025, 3, 1, 10), closed=local(2025, 3, 11, 10))
    set_dates(b, created=local(2026, 2, 1, 10))
    set_dates(e, created=local(2026, 2, 1, 10))
    return {"s1": s1, "s2": s2, "a": a, "b": b, "d": d}


def accuracy_rows(result, key):
    return [
        (
            r["name"],
            r["weighted"],
            r["actual"],
            r["error"],
            None if r["wape"] is None else round(r["wape"], 6),
            None if r["bias"] is None else round(r["bias"], 6),
        )
        for r in result.table(key).rows
    ]


def test_forecast_at_each_month_start_against_the_actual(story, director):
    result = compute(director)
    month = result.table("month")
    assert [
        (r["snapshot"], r["weighted"], r["commit"], r["best_case"], r["actual"])
        for r in month.rows
    ] == [
        (date(2026, 3, 1), D("27500"), D("10000"), D("30000"), D("15000")),
        (date(2026, 4, 1), D("11000"), D("8000"), D("8000"), D("8000")),
    ]
    assert [
        (r["error"], round(r["wape"], 6), round(r["bias"], 6)) for r in month.rows
    ] == [
        (D("-12500"), 0.833333, 0.833333),
        (D("-3000"), 0.375, 0.375),
    ]
    assert round(month.rows[0]["accuracy"], 6) == 0.166667
    assert round(month.rows[1]["accuracy"], 6) == 0.625
    t = month.totals
    assert (t["weighted"], t["actual"], t["error"], t["commit"], t["best_case"]) == (
        D("38500"),
        D("23000"),
        D("-15500"),
        D("18000"),
        D("38000"),
    )
    assert (round(t["wape"], 6), round(t["bias"], 6), round(t["accuracy"], 6)) == (
        0.673913,
        0.673913,
        0.326087,
    )


def test_per_owner_team_and_service(story, director):
    result = compute(director)
    assert accuracy_rows(result, "owner") == [
        ("Outsider Persona", D("16000"), D("8000"), D("-8000"), 1.0, 1.0),
        ("Rep Persona", D("22500"), D("15000"), D("-7500"), 0.5, 0.5),
    ]
    assert [r[0] for r in accuracy_rows(result, "team")] == ["North", "South"]
    assert accuracy_rows(result, "team")[0][1:3] == (D("22500"), D("15000"))
    assert accuracy_rows(result, "service") == [
        ("Consulting", D("0"), D("5000"), D("5000"), 1.0, -1.0),
        ("Installation", D("17500"), D("10000"), D("-7500"), 0.75, 0.75),
        ("Maintenance", D("21000"), D("8000"), D("-13000"), 1.625, 1.625),
    ]
    assert round(result.table("service").rows[2]["accuracy"], 6) == -0.625
    assert round(result.table("service").totals["wape"], 6) == 1.108696


def test_waterfall_of_the_snapshot_at_the_period_start(story, director):
    result = compute(director)
    table = result.table("waterfall")
    assert [(r["key"], r["count"], r["value_then"]) for r in table.rows] == [
        ("won", 2, D("18000")),
        ("lost", 1, D("40000")),
        ("not_going_ahead", 1, D("3000")),
        ("slipped", 1, D("20000")),
        ("on_time", 1, D("12000")),
    ]
    assert (table.totals["count"], table.totals["value_then"]) == (6, D("93000"))
    chart = next(c for c in result.charts if c.key == "waterfall")
    assert chart.datasets[0].data == [
        D("18000"),
        D("40000"),
        D("3000"),
        D("20000"),
        D("12000"),
    ]


def test_waterfall_from_a_later_period_start_uses_that_snapshot(story, director):
    # From 2 April: S2 (B, D, E): D won, B's decision date unchanged since S2.
    result = compute(director, date_from=date(2026, 4, 2))
    rows = {
        r["key"]: (r["count"], r["value_then"]) for r in result.table("waterfall").rows
    }
    assert rows["won"] == (1, D("8000"))
    assert rows["on_time"] == (2, D("32000"))
    assert rows["slipped"] == (0, D("0"))


def test_todays_forecast_against_a_month_and_a_year_ago(story, director):
    # On 2 May 2026: open now only B (pipeline, 20000 → 5000); a month ago (2 April)
    # is S2: B 5000 pipeline + D 6000 commit; a year ago there is no snapshot.
    result = compute(director)
    rows = {r["name"]: r for r in result.table("today").rows}
    assert (rows["Total"]["count"], rows["Total"]["weighted"]) == (1, D("5000"))
    assert rows["Total"]["month_weighted"] == D("11000")
    assert rows["Total"]["month_change"] == D("-6000")
    assert rows["Commit"]["month_change"] == D("-6000")
    assert rows["Pipeline"]["month_change"] == D("0")
    assert rows["Total"]["year_weighted"] is None
    assert any("No snapshot that old" in str(n) for n in result.notes)


def test_a_year_old_snapshot_is_used_when_there_is_one(story, director):
    take_snapshot(actor=director, now=local(2025, 4, 20, 6, 0))  # B, E open now
    result = compute(director)
    total = next(r for r in result.table("today").rows if r["name"] == "Total")
    # B: qualification 20000 → 5000; E omitted
    assert (total["year_count"], total["year_weighted"]) == (1, D("5000"))
    assert total["year_change"] == D("0")
    assert not any("No snapshot that old" in str(n) for n in result.notes)


def test_efficiency_against_a_year_earlier(story, director, inside):
    result = compute(director)
    now, then, change = result.table("efficiency").rows
    assert (now["won"], now["decided"], now["win_rate"], now["win_rate_excl"]) == (
        3,
        5,
        0.6,
        0.75,
    )
    assert (now["won_value"], now["median_cycle"], now["mean_cycle"]) == (
        D("23000"),
        30.0,
        32.0,
    )
    assert (then["won"], then["win_rate"], then["median_cycle"]) == (1, 1.0, 10.0)
    assert change["win_rate"] == pytest.approx(-0.4)
    assert change["median_cycle"] == 20.0


def test_declining_inquiry_types(personas, director, inside, departments):
    """This period (Mar–Apr 2026): phone 2, web form 1, e-mail 2 (one at 00:30 on
    1 March = 23:30 UTC on 28 February, one at 23:30 on 30 April); a phone call at
    23:30 on 28 February is not in it. A year earlier: phone 1, web form 3
    (department Service), e-mail 1. Qualified leads: Consulting 1 now, Installation 1
    a year earlier."""
    service = departments["Service"]
    for channel, when, dept in [
        ("phone", local(2026, 3, 3, 9), None),
        ("phone", local(2026, 4, 3, 9), None),
        ("web_form", local(2026, 3, 9, 9), None),
        ("email", local(2026, 3, 1, 0, 30), None),
        ("email", local(2026, 4, 30, 23, 30), None),
        ("phone", local(2026, 2, 28, 23, 30), None),
        ("phone", local(2025, 3, 3, 9), None),
        ("web_form", local(2025, 3, 4, 9), service),
        ("web_form", local(2025, 3, 5, 9), service),
        ("web_form", local(2025, 4, 5, 9), service),
        ("email", local(2025, 4, 6, 9), None),
    ]:
        make_inquiry(inside, channel=channel, received_at=when, department=dept)
    now_lead = lead(personas["rep"], service="Consulting")
    then_lead = lead(personas["rep"], service="Installation")
    set_dates(now_lead, created=local(2026, 3, 10, 10))
    set_dates(then_lead, created=local(2025, 3, 10, 10))

    result = compute(director)
    assert [
        (str(r["dimension"]), r["name"], r["then"], r["now"], r["change"])
        for r in result.table("declining").rows
    ] == [
        ("Department", "Service", 3, 0, -3),
        ("Channel", "Web form", 3, 1, -2),
        ("Service type (qualified leads)", "Installation", 1, 0, -1),
        ("Channel", "E-mail", 1, 2, 1),
        ("Channel", "Phone", 1, 2, 1),
        ("Service type (qualified leads)", "Consulting", 0, 1, 1),
        ("Department", "Sales", 2, 5, 3),
    ]
    rows = result.table("declining").rows
    assert rows[1]["change_pct"] == pytest.approx(-2 / 3)
    assert rows[5]["change_pct"] is None  # nothing a year earlier
    efficiency = result.table("efficiency").rows
    assert (efficiency[0]["inquiries"], efficiency[1]["inquiries"]) == (5, 5)


def test_a_later_snapshot_in_the_month_does_not_replace_its_start(story, director):
    """Re-opening March after a mid-month snapshot (taken when A was already won and
    B moved back): March still compares with the 1 March snapshot."""
    take_snapshot(actor=director, now=local(2026, 3, 16, 6, 0))
    result = compute(director)
    assert result.table("month").rows[0]["weighted"] == D("27500")
    assert result.table("month").rows[0]["snapshot"] == date(2026, 3, 1)
    # A period starting on 16 March starts from the mid-month snapshot instead.
    later = compute(director, date_from=date(2026, 3, 16))
    assert later.table("month").rows[0]["snapshot"] == date(2026, 3, 16)


def test_a_salesperson_sees_their_own_and_team_leads(story, rep):
    result = compute(rep)
    month = result.table("month")
    # March: A 7500 + B 10000; won A + F; April: B 5000, nothing won by North.
    assert [(r["weighted"], r["actual"]) for r in month.rows] == [
        (D("17500"), D("15000")),
        (D("5000"), D("0")),
    ]
    assert month.rows[1]["wape"] is None  # nothing won: undefined
    assert [r["name"] for r in result.table("owner").rows] == ["Rep Persona"]
    waterfall = {r["key"]: r["count"] for r in result.table("waterfall").rows}
    assert waterfall == {
        "won": 1,
        "lost": 0,
        "not_going_ahead": 0,
        "slipped": 1,
        "on_time": 1,
    }


def test_filters_narrow(story, director, teams):
    south = compute(director, team=teams["South"].pk)
    assert [(r["weighted"], r["actual"]) for r in south.table("month").rows] == [
        (D("10000"), D("0")),
        (D("6000"), D("8000")),
    ]
    installation = compute(director, service_type="Installation")
    assert [(r["weighted"], r["actual"]) for r in installation.table("month").rows] == [
        (D("17500"), D("10000")),
        (D("0"), D("0")),
    ]


def test_no_snapshot_is_a_message_not_an_error(director, rep):
    lead(rep, value="1000", decision=date(2026, 4, 9))
    result = compute(director)
    month = result.table("month")
    assert [(r["snapshot"], r["weighted"], r["wape"]) for r in month.rows] == [
        (None, None, None),
        (None, None, None),
    ]
    assert month.totals["wape"] is None
    assert result.table("waterfall").rows == []
    assert "No forecast snapshot has been taken yet." in [str(n) for n in result.notes]
    assert any("No snapshot on or before" in str(n) for n in result.notes)


def test_wape_is_undefined_when_nothing_was_won(director, rep):
    lead(rep, value="1000", decision=date(2026, 4, 9))  # pipeline: 250
    take_snapshot(actor=director, now=local(2026, 2, 27, 6, 0))
    result = compute(director)
    april = result.table("month").rows[1]
    assert (april["weighted"], april["actual"], april["error"]) == (
        D("250"),
        D("0"),
        D("-250"),
    )
    assert (april["wape"], april["bias"], april["accuracy"]) == (None, None, None)


def test_won_at_2330_on_the_last_day_counts_in_that_month(director, rep):
    won = lead(rep, value="6000", decision=date(2026, 3, 31), stage="negotiation")
    take_snapshot(actor=director, now=local(2026, 2, 27, 6, 0))
    close_opportunity(won, actor=rep, result="won", reason="signed")
    set_dates(won, closed=local(2026, 3, 31, 23, 30))  # 21:30 UTC
    rows = compute(director).table("month").rows
    assert [(r["weighted"], r["actual"]) for r in rows] == [
        (D("4500"), D("6000")),
        (D("0"), D("0")),
    ]
    assert rows[0]["bias"] == pytest.approx(-0.25)


def test_months_back_clamps_to_the_month_end():
    assert months_back(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_back(date(2026, 1, 15), 1) == date(2025, 12, 15)
    assert months_back(date(2024, 2, 29), 12) == date(2023, 2, 28)


def test_page_csv_and_api(story, director, api_as):
    client = Client()
    client.force_login(director)
    with mock.patch("django.utils.timezone.now", return_value=local(2026, 5, 2, 12, 0)):
        page = client.get("/analytics/then-and-now/", PERIOD)
    assert page.status_code == 200
    body = page.content.decode()
    assert "27,500.00" in body and "15,000.00" in body
    assert (
        "Bias (&gt; 0 = over-forecast)" in body or "Bias (> 0 = over-forecast)" in body
    )

    export = client.get(
        "/analytics/then-and-now/", {**PERIOD, "format": "csv", "table": "month"}
    )
    assert export.status_code == 200
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0][:6] == [
        "Month",
        "Snapshot of",
        "Weighted forecast then",
        "Commit then (unweighted)",
        "Best case then (unweighted)",
        "Actual (won)",
    ]
    assert lines[1][2:7] == [
        "27500.00",
        "10000.00",
        "30000.00",
        "15000.00",
        "-12500.00",
    ]

    workbook = client.get("/analytics/then-and-now/", {**PERIOD, "format": "xlsx"})
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"

    data = api_as("director").get("/api/analytics/then-and-now", PERIOD).json()
    month = next(t for t in data["tables"] if t["key"] == "month")
    assert month["rows"][1]["weighted"] == 11000.0
    assert month["rows"][1]["wape"] == pytest.approx(0.375)
    assert month["totals"]["bias"] == pytest.approx(15500 / 23000)


def test_page_shows_a_dash_for_an_undefined_wape(director, rep):
    lead(rep, value="1000", decision=date(2026, 4, 9))
    take_snapshot(actor=director, now=local(2026, 2, 27, 6, 0))
    client = Client()
    client.force_login(director)
    page = client.get("/analytics/then-and-now/", PERIOD)
    assert page.status_code == 200
    assert "—" in page.content.decode()


def test_api_access_and_bad_filters(api_as, personas):
    assert (
        api_as("colleague").get("/api/analytics/then-and-now", PERIOD).status_code
        == 403
    )
    bad = api_as("director").get(
        "/api/analytics/then-and-now", {**PERIOD, "channel": "abc"}
    )
    assert bad.status_code == 422
    assert api_as("rep").get("/api/analytics/then-and-now", PERIOD).status_code == 200
    assert (
        api_as("marketer").get("/api/analytics/then-and-now", PERIOD).status_code == 200
    )


def test_a_fixed_number_of_queries(story, director, django_assert_max_num_queries):
    """Grouped SQL, no query per lead, month or snapshot line."""
    with django_assert_max_num_queries(24):
        compute(director)
