"""Analysis 5, the forecast report: hand-computed sums over the dataset of
``factories.py`` for the period March–June 2026 (decision dates in the period).

Open leads with a decision date in March–June 2026 (L6 has none, L7 is omitted):

lead  owner     month  value   weighted  category   service
L1    rep       03     10000   2500      pipeline   Installation
L2    rep       03     20000   6000      best_case  Maintenance
L5    outsider  03     (none)  0         best_case  (none)
L4    outsider  04     40000   10000     pipeline   Maintenance
L3    rep       05      8000   6000      commit     Installation
L9    inside    06      1000   250       commit     Installation

Months: March 3 leads 30000 / 8500 (best case 6000, pipeline 2500); April 1, 40000 /
10000; May 1, 8000 / 6000; June 1, 1000 / 250. Total 6 leads, 79000 / 24750.
Categories: commit 2, 9000 / 6250; best case 2, 20000 / 6000; pipeline 2, 50000 /
12500. L8 (Installation, 30000) is won on 31 March 23:30 Brussels time (21:30 UTC):
closed in March. Commit forecast = 30000 + 9000 = 39000 unweighted, 30000 + 6250 =
36250 weighted (3 leads); best case = 39000 + 20000 = 59000 / 36250 + 6000 = 42250
(5 leads).
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.analytics.tests.factories import D, lead
from leadflow.intake.tests.factories import make_opportunity
from leadflow.opportunities.actions import update_opportunity
from leadflow.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db

REPORT = REPORTS["forecast"]
PERIOD = {"from": "2026-03", "to": "2026-06"}


def scope(user, **filters) -> Scope:
    return Scope(
        user=user,
        filters=ReportFilters(
            date_from=filters.pop("date_from", date(2026, 3, 1)),
            date_to=filters.pop("date_to", date(2026, 6, 30)),
            **filters,
        ),
    )


def rows(result, key: str) -> list[tuple]:
    table = result.table(key)
    return [(r["name"], r["count"], r["unweighted"], r["weighted"]) for r in table.rows]


@pytest.fixture
def won_in_march(leads):
    """L8 won at 23:30 on the last day of March, Brussels time."""
    closed = timezone.make_aware(datetime(2026, 3, 31, 23, 30))
    Opportunity.objects.filter(pk=leads.L8.pk).update(closed_at=closed)
    return leads


def test_months_categories_and_rollups(won_in_march, director):
    result = REPORT.compute(scope(director))
    month = result.table("month")
    assert [
        (
            r["count"],
            r["unweighted"],
            r["weighted"],
            r["commit"],
            r["best_case"],
            r["pipeline"],
            r["won"],
        )
        for r in month.rows
    ] == [
        (3, D("30000"), D("8500"), D("0"), D("6000"), D("2500"), D("30000")),
        (1, D("40000"), D("10000"), D("0"), D("0"), D("10000"), D("0")),
        (1, D("8000"), D("6000"), D("6000"), D("0"), D("0"), D("0")),
        (1, D("1000"), D("250"), D("250"), D("0"), D("0"), D("0")),
    ]
    assert (
        month.totals["count"],
        month.totals["unweighted"],
        month.totals["weighted"],
    ) == (6, D("79000"), D("24750"))
    assert rows(result, "rollups") == [
        ("Closed (won in the period)", 1, D("30000"), D("30000")),
        ("Commit", 2, D("9000"), D("6250")),
        ("Best case", 2, D("20000"), D("6000")),
        ("Pipeline", 2, D("50000"), D("12500")),
        ("Commit forecast (closed + commit)", 3, D("39000"), D("36250")),
        (
            "Best-case forecast (closed + commit + best case)",
            5,
            D("59000"),
            D("42250"),
        ),
        ("Pipeline view (all open)", 6, D("79000"), D("24750")),
    ]
    figures = {str(label): value for label, value, _kind in result.figures}
    assert figures["Weighted forecast (open)"] == D("24750")
    assert figures["Commit forecast (weighted)"] == D("36250")


def test_chart_stacks_closed_and_categories_with_the_unweighted_line(
    won_in_march, director
):
    chart = REPORT.compute(scope(director)).charts[0]
    assert chart.stacked and chart.type == "bar"
    data = {str(d.label): (d.data, d.type) for d in chart.datasets}
    assert data["Closed (won)"][0] == [D("30000"), D("0"), D("0"), D("0")]
    assert data["Commit (weighted)"][0] == [D("0"), D("0"), D("6000"), D("250")]
    assert data["Pipeline (weighted)"][0] == [D("2500"), D("10000"), D("0"), D("0")]
    assert data["Unweighted (open)"] == (
        [D("30000"), D("40000"), D("8000"), D("1000")],
        "line",
    )


def test_by_service_owner_team_and_category(won_in_march, director, teams):
    result = REPORT.compute(scope(director))
    assert rows(result, "service") == [
        ("Installation", 3, D("19000"), D("8750")),
        ("Maintenance", 2, D("60000"), D("16000")),
        ("No service type", 1, D("0"), D("0")),
    ]
    assert rows(result, "owner") == [
        ("Inside Persona", 1, D("1000"), D("250")),
        ("Outsider Persona", 2, D("40000"), D("10000")),
        ("Rep Persona", 3, D("38000"), D("14500")),
    ]
    assert rows(result, "team") == [
        ("North", 4, D("39000"), D("14750")),
        ("South", 2, D("40000"), D("10000")),
    ]
    assert rows(result, "category") == [
        ("Pipeline", 2, D("50000"), D("12500")),
        ("Best case", 2, D("20000"), D("6000")),
        ("Commit", 2, D("9000"), D("6250")),
    ]


def test_the_period_means_decision_dates_in_it(won_in_march, director):
    # April only: L4; L8 was won in March, so nothing closed.
    result = REPORT.compute(
        scope(director, date_from=date(2026, 4, 1), date_to=date(2026, 4, 30))
    )
    assert rows(result, "rollups")[0][1:] == (0, D("0"), D("0"))
    assert rows(result, "rollups")[-1][1:] == (1, D("40000"), D("10000"))
    # March ends at midnight Brussels time: the won lead (23:30 local, 21:30 UTC)
    # is March's, not April's.
    march = REPORT.compute(
        scope(director, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    assert rows(march, "rollups")[0][1:] == (1, D("30000"), D("30000"))


def test_filters_narrow(won_in_march, director, teams, outsider):
    installation = REPORT.compute(scope(director, service_type="Installation"))
    assert rows(installation, "rollups")[0][1:] == (1, D("30000"), D("30000"))
    assert rows(installation, "rollups")[-1][1:] == (3, D("19000"), D("8750"))
    south = REPORT.compute(scope(director, team=teams["South"].pk))
    assert rows(south, "rollups")[-1][1:] == (2, D("40000"), D("10000"))
    assert rows(south, "rollups")[0][1:] == (0, D("0"), D("0"))
    person = REPORT.compute(scope(director, person=outsider.pk))
    assert rows(person, "owner") == [("Outsider Persona", 2, D("40000"), D("10000"))]


def test_channel_campaign_department_and_industry_filters(leads, director, inside):
    """Leads from an inquiry carry a channel and department; the factory's leads have
    no inquiry, so filtering by channel leaves only the new one."""
    from leadflow.intake.models import Channel

    web = make_opportunity(inside, owner=inside, channel="web_form")
    update_opportunity(
        web,
        actor=director,
        expected_value=Decimal("7000"),
        decision_date=date(2026, 4, 2),
    )
    channel = Channel.objects.get(code="web_form").pk
    result = REPORT.compute(scope(director, channel=channel))
    # qualification stage: weight 0.25 → 1750
    assert rows(result, "rollups")[-1][1:] == (1, D("7000"), D("1750"))
    other = Channel.objects.get(code="email").pk
    assert rows(REPORT.compute(scope(director, channel=other)), "rollups")[-1][1:] == (
        0,
        D("0"),
        D("0"),
    )
    department = inside.department_id
    assert rows(REPORT.compute(scope(director, department=department)), "month")[1][
        1:
    ] == (1, D("7000"), D("1750"))
    assert rows(REPORT.compute(scope(director, industry="Nothing")), "rollups")[-1][
        1:
    ] == (0, D("0"), D("0"))


def test_a_salesperson_sees_their_team_only(won_in_march, rep):
    result = REPORT.compute(scope(rep))
    # L1, L2, L3, L9 (North); L8 won by rep
    assert rows(result, "rollups")[-1][1:] == (4, D("39000"), D("14750"))
    assert rows(result, "rollups")[0][1:] == (1, D("30000"), D("30000"))
    assert [r[0] for r in rows(result, "team")] == ["North"]


def test_a_lead_moved_back_counts_at_its_new_weight(leads, director):
    from leadflow.opportunities.actions import move_stage

    move_stage(leads.L4, actor=leads.L4.owner, stage="negotiation", reason="fast")
    move_stage(leads.L4, actor=leads.L4.owner, stage="proposal", reason="back")
    result = REPORT.compute(scope(director))
    # L4: proposal 0.50 → best case 20000 weighted
    assert rows(result, "rollups")[2][1:] == (3, D("60000"), D("26000"))
    assert result.table("month").rows[1]["best_case"] == D("20000")


def test_one_deal(director, rep):
    lead(rep, value="5000", decision=date(2026, 5, 5), stage="negotiation")
    result = REPORT.compute(scope(director))
    assert rows(result, "rollups")[-1][1:] == (1, D("5000"), D("3750"))
    assert rows(result, "rollups")[4][1:] == (1, D("5000"), D("3750"))


def test_no_data(director):
    result = REPORT.compute(scope(director))
    assert rows(result, "rollups")[-1][1:] == (0, D("0"), D("0"))
    assert result.table("service").rows == []
    assert [r["count"] for r in result.table("month").rows] == [0, 0, 0, 0]


def test_page_csv_and_api(won_in_march, director, api_as):
    client = Client()
    client.force_login(director)
    page = client.get("/analytics/forecast/", PERIOD)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Best-case forecast (closed + commit + best case)" in body
    assert "42,250" in body or "42.250" in body or "42250" in body

    export = client.get(
        "/analytics/forecast/", {**PERIOD, "format": "csv", "table": "rollups"}
    )
    assert export.status_code == 200
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0] == ["Forecast", "Leads", "Unweighted", "Weighted"]
    assert lines[5] == [
        "Commit forecast (closed + commit)",
        "3",
        "39000.00",
        "36250.00",
    ]

    workbook = client.get("/analytics/forecast/", {**PERIOD, "format": "xlsx"})
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"

    data = api_as("director").get("/api/analytics/forecast", PERIOD).json()
    rollups = next(t for t in data["tables"] if t["key"] == "rollups")
    assert rollups["rows"][5] == {
        "name": "Best-case forecast (closed + commit + best case)",
        "count": 5,
        "unweighted": 59000.0,
        "weighted": 42250.0,
    }


def test_api_access_and_bad_filters(leads, api_as):
    assert api_as("colleague").get("/api/analytics/forecast", PERIOD).status_code == 403
    bad = api_as("director").get("/api/analytics/forecast", {**PERIOD, "team": "999"})
    assert bad.status_code == 422
    assert api_as("rep").get("/api/analytics/forecast", PERIOD).status_code == 200


def test_a_fixed_number_of_queries(
    won_in_march, director, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        REPORT.compute(scope(director))
