"""7. Performance against a hand-computed dataset (made through the real actions).

Period: March 2026 (Europe/Brussels, before the DST change of 29 March).

lead  owner     team   value  start (local)            quotes sent (local)    result
P1    rep       North  10000  inquiry 2026-03-01 10:00  1 on 2026-03-05        won  2026-03-11 10:00 (10 d)
P2    rep       North  30000  inquiry 2026-02-01 10:00  2 on 2026-02-20        won  2026-03-03 10:00 (30 d)
P3    rep       North  20000  inquiry 2026-03-02 10:00  1 on 2026-03-10        lost 2026-03-20
P4    rep       North   5000  –                         –                      open
P5    rep       North   7000  –                         –                      open
P6    inside    North   4000  created 2026-02-25 10:00  –                      won  2026-03-02 10:00 (5 d)
P7    inside    North      –  –                         –                      open
P8    outsider  South  50000  inquiry 2026-03-03 10:00  1 on 2026-03-08        not going ahead 2026-03-15
P9    outsider  South   1000  –                         –                      open

P1 was moved to proposal and back before it was won.

per owner  open  won lost nga  win rate  by value        won value  avg deal  median  mean  velocity                    quotes  hit rate
rep        2     2   1    0    2/3       40000/60000     40000      20000     20      20    2 × 2/3 × 20000 / 20 = 1333.33  2   2/3
inside     1     1   0    0    1         4000/4000       4000       4000      5       5     1 × 1 × 4000 / 5 = 800        0       –
outsider   1     0   0    1    0         0/50000         0          –         –       –     –                           1       0/1

per team   open  won lost nga  win rate  by value        won value  avg deal  median  mean  velocity                    quotes  hit rate
North      3     3   1    0    3/4       44000/64000     44000      14666.67  10      15    3 × 0.75 × 14666.67 / 15 = 2200  2   2/3
South      (as outsider)
total      4     3   1    1    3/5       44000/114000    44000      14666.67  10      15    4 × 0.6 × 14666.67 / 15 = 2346.67 3  2/4
"""

from decimal import Decimal

import pytest
from django.test import Client

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.reports.performance import velocity
from leadflow.analytics.scope import Scope, parse_filters
from leadflow.analytics.tests.test_report_win_rates import (
    close,
    inquiry,
    local,
    qualify,
    quotes,
)
from leadflow.opportunities.actions import move_stage, update_opportunity
from leadflow.opportunities.models import Opportunity, Quote
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
REPORT = REPORTS["performance"]


def lead_without_inquiry(owner, value: str | None) -> Opportunity:
    lead = make_lead(owner, owner=owner)
    if value is not None:
        update_opportunity(lead, actor=owner, expected_value=Decimal(value))
    lead.refresh_from_db()
    return lead


def sent_on(lead: Opportunity, when) -> None:
    Quote.objects.filter(opportunity=lead).update(sent_at=when)


@pytest.fixture
def data(personas) -> dict:
    inside, rep, outsider = personas["inside"], personas["rep"], personas["outsider"]
    i1 = inquiry(inside, "P1 NV", local(2026, 3, 1, 10, 0))
    i2 = inquiry(inside, "P2 NV", local(2026, 2, 1, 10, 0))
    i3 = inquiry(inside, "P3 NV", local(2026, 3, 2, 10, 0))
    i8 = inquiry(inside, "P8 NV", local(2026, 3, 3, 10, 0))
    p1 = qualify(inside, i1, rep, value="10000", service="Installation")
    p2 = qualify(inside, i2, rep, value="30000", service="Installation")
    p3 = qualify(inside, i3, rep, value="20000", service="Maintenance")
    p8 = qualify(inside, i8, outsider, value="50000", service="Maintenance")
    lead_without_inquiry(rep, "5000")
    lead_without_inquiry(rep, "7000")
    p6 = lead_without_inquiry(inside, "4000")
    Opportunity.objects.filter(pk=p6.pk).update(created_at=local(2026, 2, 25, 10, 0))
    lead_without_inquiry(inside, None)
    lead_without_inquiry(outsider, "1000")

    move_stage(p1, actor=rep, stage="proposal", reason="quote coming")
    move_stage(p1, actor=rep, stage="qualification", reason="scope changed")
    quotes(p1, rep)
    quotes(p2, rep, 2)
    quotes(p3, rep)
    quotes(p8, outsider)
    sent_on(p1, local(2026, 3, 5, 12, 0))
    sent_on(p2, local(2026, 2, 20, 12, 0))
    sent_on(p3, local(2026, 3, 10, 12, 0))
    sent_on(p8, local(2026, 3, 8, 12, 0))

    close(p1, rep, "won", local(2026, 3, 11, 10, 0))
    close(p2, rep, "won", local(2026, 3, 3, 10, 0))
    close(p3, rep, "lost", local(2026, 3, 20, 10, 0))
    close(p6, inside, "won", local(2026, 3, 2, 10, 0))
    close(p8, outsider, "not_going_ahead", local(2026, 3, 15, 10, 0))
    return {"p1": p1}


def compute(user, **params):
    return REPORT.compute(Scope(user=user, filters=parse_filters({**MARCH, **params})))


FIELDS = (
    "open",
    "won",
    "lost",
    "not_going_ahead",
    "win_rate",
    "win_rate_value",
    "won_value",
    "average_deal",
    "cycle_median",
    "cycle_mean",
    "velocity",
    "quotes_sent",
    "hit_rate",
)
approx = pytest.approx


def table(result, key: str) -> dict:
    return {r["name"]: tuple(r[f] for f in FIELDS) for r in result.table(key).rows}


def test_per_owner(data, director):
    assert table(compute(director), "person") == {
        "Rep Persona": (
            2,
            2,
            1,
            0,
            approx(2 / 3),
            approx(2 / 3),
            Decimal("40000"),
            Decimal("20000"),
            approx(20.0),
            approx(20.0),
            approx(1333.3333),
            2,
            approx(2 / 3),
        ),
        "Inside Persona": (
            1,
            1,
            0,
            0,
            1.0,
            1.0,
            Decimal("4000"),
            Decimal("4000"),
            approx(5.0),
            approx(5.0),
            approx(800.0),
            0,
            None,
        ),
        "Outsider Persona": (
            1,
            0,
            0,
            1,
            0.0,
            0.0,
            Decimal("0"),
            None,
            None,
            None,
            None,
            1,
            0.0,
        ),
    }


def test_per_team_and_totals(data, director):
    result = compute(director)
    teams = table(result, "team")
    assert teams["North"] == (
        3,
        3,
        1,
        0,
        approx(0.75),
        approx(44000 / 64000),
        Decimal("44000"),
        approx(Decimal("14666.67"), abs=Decimal("0.01")),
        approx(10.0),
        approx(15.0),
        approx(2200.0),
        2,
        approx(2 / 3),
    )
    assert teams["South"][:5] == (1, 0, 0, 1, 0.0)
    assert set(teams) == {"North", "South"}
    totals = result.table("person").totals
    assert (
        totals["open"],
        totals["won"],
        totals["lost"],
        totals["not_going_ahead"],
    ) == (
        4,
        3,
        1,
        1,
    )
    assert totals["win_rate"] == approx(0.6)
    assert totals["win_rate_value"] == approx(44000 / 114000)
    assert totals["cycle_median"] == approx(10.0)
    assert totals["cycle_mean"] == approx(15.0)
    assert totals["velocity"] == approx(2346.6667)
    assert totals["quotes_sent"] == 3
    assert totals["hit_rate"] == approx(0.5)


def test_chart_won_value_with_win_rate_on_the_right_axis(data, director):
    chart = compute(director).charts[0]
    assert chart.labels == ["Rep Persona", "Inside Persona", "Outsider Persona"]
    won_value, win_rate = chart.datasets
    assert won_value.data == [Decimal("40000"), Decimal("4000"), Decimal("0")]
    assert (win_rate.type, win_rate.axis) == ("line", "y2")
    assert win_rate.data == [approx(2 / 3), 1.0, 0.0]


def test_velocity_formula():
    assert velocity(10, 0.25, Decimal("8000"), 40.0) == 500.0
    assert velocity(10, None, Decimal("8000"), 40.0) is None
    assert velocity(10, 0.25, None, 40.0) is None
    assert velocity(10, 0.25, Decimal("8000"), None) is None
    assert velocity(0, 0.25, Decimal("8000"), 40.0) == 0.0


def test_no_data(personas, director):
    result = compute(director)
    assert result.table("person").rows == []
    assert result.table("team").rows == []
    assert result.table("person").totals is None
    figures = {label: value for label, value, _kind in result.figures}
    assert figures["Win rate"] is None
    assert figures["Sales velocity (per day)"] is None


def test_a_period_without_closings_still_counts_open_leads(data, director):
    result = compute(director, **{"from": "2026-01-01", "to": "2026-01-31"})
    rows = table(result, "person")
    assert rows["Rep Persona"][:5] == (2, 0, 0, 0, None)
    assert rows["Rep Persona"][10] is None  # no velocity without a win rate


def test_filters_narrow(data, director, personas):
    assert set(table(compute(director, person="outsider"), "person")) == {
        "Outsider Persona"
    }
    south = personas["outsider"].team_id
    assert set(table(compute(director, team=str(south)), "team")) == {"South"}
    maintenance = table(compute(director, service_type="Maintenance"), "person")
    assert maintenance["Rep Persona"][:4] == (0, 0, 1, 0)  # P3 lost only
    assert maintenance["Outsider Persona"][:4] == (0, 0, 0, 1)


def test_a_salesperson_sees_their_own_team(data, rep):
    result = compute(rep)
    assert set(table(result, "person")) == {"Rep Persona", "Inside Persona"}
    assert set(table(result, "team")) == {"North"}


def test_page_csv_and_api(data, director, api_as):
    client = Client()
    client.force_login(director)
    response = client.get("/analytics/performance/", MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="table-person"' in html
    assert "€ 40,000.00" in html
    assert "1,333.33" in html  # the rep's velocity

    response = client.get(
        "/analytics/performance/", {**MARCH, "format": "csv", "table": "team"}
    )
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Team,Open leads,Won,Lost,Not going ahead,Win rate")
    assert lines[1].startswith("North,3,3,1,0,0.75,")

    response = api_as("director").get("/api/analytics/performance", MARCH)
    assert response.status_code == 200
    person = next(t for t in response.json()["tables"] if t["key"] == "person")
    rep_row = next(r for r in person["rows"] if r["name"] == "Rep Persona")
    assert rep_row["won_value"] == 40000.0
    assert rep_row["cycle_median"] == 20.0


def test_api_refuses_a_colleague_and_unknown_filters(personas, api_as):
    assert api_as("colleague").get("/api/analytics/performance").status_code == 403
    response = api_as("director").get("/api/analytics/performance", {"team": "999999"})
    assert response.status_code == 422
