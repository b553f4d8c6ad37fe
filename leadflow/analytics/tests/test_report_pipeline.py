"""Report 4, pipeline counts and capacity, against a small hand-computed dataset.

Open qualified leads (the pipeline is "now"; the period does not apply). Stage weights
from the migrations: qualification 0.25, proposal 0.50, negotiation 0.75.

lead owner     stage          value  P win/P go  weight  weighted  quotes      created (local)
A    rep       qualification  10000  –           0.25    2500      –           Mon 2026-03-02 10:00 CET
B    rep       proposal       20000  0.6 / 0.5   0.30    6000      1 sent      Tue 2026-03-31 23:30 CEST
C    rep       proposal       –      –           0.50    0         1 draft     2026-02-15 (before)
D    outsider  negotiation     8000  –           0.75    6000      1 sent      Tue 2026-03-10 15:00 CET
E    inside    qualification   4000  –           0.25    1000      –           2026-04-02 (after)
F    rep       won            30000  closed: not in the pipeline               Sun 2026-03-29 12:00 CEST

Per stage (director):       leads  with value  unweighted  weighted  draft  sent
  Qualification             2      2           14000       3500      0      0
  Proposal / quote          2      1           20000       6000      1      1
  Negotiation               1      1            8000       6000      0      1
  total                     5      4           42000       15500     1      2
Chart (stacked): proposal = 1 with a sent quote (B) + 1 draft only (C); negotiation =
1 sent (D); qualification = 2 without a quote.

Capacity: rep 3, outsider 10, director 4, inside not set.
  rep       leads 3 (A, B, C) + quotes 2 = 5 ÷ 3 = 1.6667  over capacity
  outsider  1 + 1 = 2 ÷ 10 = 0.2
  director  0 + 0 = 0 ÷ 4 = 0.0   (listed: a capacity, nothing open)
  inside    1 + 0 = 1, capacity —, load —

Inflow, period March 2026 (31 days from Sunday 1 March; DST starts Sunday 29 March):
inquiry  local time                 UTC                   in March?  weekday  hour  week
I1       Mon 02-03 09:15 CET        08:15                 yes        Mon      9     W10
I2       Mon 02-03 09:45 CET        08:45                 yes        Mon      9     W10
I3       Tue 03-03 14:00 CET        13:00                 yes        Tue      14    W10
I4       Tue 31-03 23:30 CEST       21:30 on 31-03        yes        Tue      23    W14
I5       Sun 01-03 00:10 CET        23:10 on 28-02        yes        Sun      0     W09
I6       Wed 01-04 00:30 CEST       22:30 on 31-03        no (April)
I7       Sat 28-02 23:50 CET        22:50 on 28-02        no (February)
I8       Mon 30-03 09:30 CEST       07:30                 yes        Mon      9     W14
→ 6 inquiries. Weeks W09 1, W10 3, W11 0, W12 0, W13 0, W14 2.
Days in March: Sun, Mon, Tue 5 each, the other weekdays 4.
Average per weekday: Mon 3/5 = 0.6, Tue 2/5 = 0.4, Sun 1/5 = 0.2, others 0.
Per hour: 09 → 3 (3/31 per day), 14 → 1, 23 → 1, 00 → 1.
Qualified leads created in March: A (Mon 10, W10), B (Tue 23, W14), D (Tue 15, W11),
F (Sun 12 CEST = 10:00 UTC, W13) → 4; W10 1, W11 1, W13 1, W14 1.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from leadflow.accounts.models import User
from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import Scope, parse_filters
from leadflow.intake.models import Inquiry
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    close_opportunity,
    move_stage,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import (
    make_draft_quote,
    make_sent_quote,
    qualified_lead,
)

BXL = ZoneInfo("Europe/Brussels")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BXL)


def lead(owner, *, stage="qualification", value=None, created=None, **values):
    o = qualified_lead(owner, owner=owner)
    update_opportunity(
        o,
        actor=owner,
        expected_value=Decimal(value) if value else None,
        **{k: Decimal(v) for k, v in values.items()},
    )
    if stage != "qualification":
        move_stage(o, actor=owner, stage=stage, reason="test data")
    if created:
        Opportunity.objects.filter(pk=o.pk).update(created_at=created)
    o.refresh_from_db()
    return o


@pytest.fixture
def pipeline(personas):
    rep, inside = personas["rep"], personas["inside"]
    outsider = personas["outsider"]
    a = lead(rep, value="10000", created=local(2026, 3, 2, 10, 0))
    b = lead(
        rep,
        stage="proposal",
        value="20000",
        p_win="0.6",
        p_go="0.5",
        created=local(2026, 3, 31, 23, 30),
    )
    make_sent_quote(b, rep)
    c = lead(rep, stage="proposal", created=local(2026, 2, 15, 12, 0))
    make_draft_quote(c, rep)
    d = lead(
        outsider, stage="negotiation", value="8000", created=local(2026, 3, 10, 15, 0)
    )
    make_sent_quote(d, outsider)
    e = lead(inside, value="4000", created=local(2026, 4, 2, 9, 0))
    f = lead(rep, value="30000", created=local(2026, 3, 29, 12, 0))
    close_opportunity(f, actor=rep, result="won", reason="signed")
    for name, capacity in (("rep", 3), ("outsider", 10), ("director", 4)):
        User.objects.filter(username=name).update(capacity=capacity)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}


@pytest.fixture
def inflow(personas):
    inside = personas["inside"]
    times = {
        "I1": local(2026, 3, 2, 9, 15),
        "I2": local(2026, 3, 2, 9, 45),
        "I3": local(2026, 3, 3, 14, 0),
        "I4": local(2026, 3, 31, 23, 30),
        "I5": local(2026, 3, 1, 0, 10),
        "I6": local(2026, 4, 1, 0, 30),
        "I7": local(2026, 2, 28, 23, 50),
        "I8": local(2026, 3, 30, 9, 30),
    }
    made = {}
    for key, at in times.items():
        made[key] = make_inquiry(inside, received_at=at)
        Inquiry.objects.filter(pk=made[key].pk).update(received_at=at)
    return made


def compute(user, params=None):
    scope = Scope(user=user, filters=parse_filters(params or MARCH))
    return REPORTS["pipeline"].compute(scope)


def stage_rows(result):
    return [
        (
            r["stage"],
            r["leads"],
            r["with_value"],
            r["unweighted"],
            r["weighted"],
            r["draft"],
            r["sent"],
        )
        for r in result.table("stages").rows
    ]


def D(value: str) -> Decimal:
    return Decimal(value)


# --- per stage -------------------------------------------------------------------------


def test_open_pipeline_per_stage_counts_values_and_quotes(pipeline, director):
    result = compute(director)
    assert stage_rows(result) == [
        ("Qualification", 2, 2, D("14000"), D("3500"), 0, 0),
        ("Proposal / quote", 2, 1, D("20000"), D("6000"), 1, 1),
        ("Negotiation", 1, 1, D("8000"), D("6000"), 0, 1),
    ]
    totals = result.table("stages").totals
    assert totals["leads"] == 5
    assert totals["with_value"] == 4
    assert totals["unweighted"] == D("42000")
    assert totals["weighted"] == D("15500")
    assert totals["weight"] == pytest.approx(15500 / 42000)
    assert (totals["draft"], totals["sent"]) == (1, 2)
    figures = {str(label): value for label, value, _kind in result.figures}
    assert figures["Open qualified leads"] == 5
    assert figures["Unweighted pipeline"] == D("42000")
    assert figures["Weighted pipeline"] == D("15500")
    assert figures["Open quotes"] == 3


def test_stage_chart_stacks_leads_by_their_quotes(pipeline, director):
    chart = next(c for c in compute(director).charts if c.key == "leads-per-stage")
    assert chart.stacked
    assert chart.labels == ["Qualification", "Proposal / quote", "Negotiation"]
    assert [(str(d.label), d.data) for d in chart.datasets] == [
        ("With a sent quote", [0, 1, 1]),
        ("With a draft quote only", [0, 1, 0]),
        ("Without an open quote", [2, 0, 0]),
    ]


def test_a_lead_moved_back_counts_in_its_current_stage(pipeline, director):
    move_stage(pipeline["D"], actor=director, stage="qualification", reason="back")
    rows = stage_rows(compute(director))
    assert rows[0] == ("Qualification", 3, 3, D("22000"), D("5500"), 0, 1)
    assert rows[2] == ("Negotiation", 0, 0, 0, 0, 0, 0)


def test_the_period_does_not_change_the_open_pipeline(pipeline, director):
    result = compute(director, {"from": "2020-01-01", "to": "2020-01-31"})
    assert result.table("stages").totals["leads"] == 5
    assert result.table("stages").totals["weighted"] == D("15500")


# --- capacity --------------------------------------------------------------------------


def capacity_rows(result):
    return [
        (r["person"], r["leads"], r["quotes"], r["workload"], r["capacity"], r["load"])
        for r in result.table("capacity").rows
    ]


def test_workload_against_capacity_per_person(pipeline, director):
    result = compute(director)
    rows = capacity_rows(result)
    assert rows == [
        ("Rep Persona", 3, 2, 5, 3, pytest.approx(5 / 3)),
        ("Outsider Persona", 1, 1, 2, 10, pytest.approx(0.2)),
        ("Director Persona", 0, 0, 0, 4, 0.0),
        ("Inside Persona", 1, 0, 1, None, None),
    ]
    flags = {r["person"]: r["flag"] for r in result.table("capacity").rows}
    assert flags == {
        "Rep Persona": "Over capacity",
        "Outsider Persona": "",
        "Director Persona": "",
        "Inside Persona": "",
    }
    assert [str(n) for n in result.notes] == ["1 of 4 people are over their capacity."]
    assert result.table("capacity").totals == {"leads": 5, "quotes": 3, "workload": 8}


def test_a_salesperson_sees_their_own_team_only(pipeline, rep):
    result = compute(rep)
    assert stage_rows(result) == [
        ("Qualification", 2, 2, D("14000"), D("3500"), 0, 0),
        ("Proposal / quote", 2, 1, D("20000"), D("6000"), 1, 1),
        ("Negotiation", 0, 0, 0, 0, 0, 0),
    ]
    assert [r[0] for r in capacity_rows(result)] == ["Rep Persona", "Inside Persona"]


def test_team_and_person_filters_narrow_the_pipeline(pipeline, director, teams):
    south = compute(director, {**MARCH, "team": str(teams["South"].pk)})
    assert south.table("stages").totals["leads"] == 1
    assert south.table("stages").totals["weighted"] == D("6000")
    assert [r[0] for r in capacity_rows(south)] == ["Outsider Persona"]
    mine = compute(director, {**MARCH, "person": "rep"})
    assert stage_rows(mine)[1] == (
        "Proposal / quote",
        2,
        1,
        D("20000"),
        D("6000"),
        1,
        1,
    )
    assert mine.table("stages").totals["leads"] == 3
    assert capacity_rows(mine) == [("Rep Persona", 3, 2, 5, 3, pytest.approx(5 / 3))]


def test_service_type_filter_narrows_the_pipeline(pipeline, director):
    update_opportunity(pipeline["D"], actor=director, service_type="Installation")
    result = compute(director, {**MARCH, "service_type": "Installation"})
    assert result.table("stages").totals["leads"] == 1
    assert result.table("stages").totals["unweighted"] == D("8000")


# --- inflow ----------------------------------------------------------------------------


def test_inflow_per_week_in_the_company_time_zone(pipeline, inflow, director):
    result = compute(director)
    rows = [
        (r["week"], r["inquiries"], r["qualified"]) for r in result.table("weeks").rows
    ]
    assert rows == [
        ("2026 W09", 1, 0),
        ("2026 W10", 3, 1),
        ("2026 W11", 0, 1),
        ("2026 W12", 0, 0),
        ("2026 W13", 0, 1),
        ("2026 W14", 2, 1),
    ]
    assert result.table("weeks").totals == {"inquiries": 6, "qualified": 4}
    chart = next(c for c in result.charts if c.key == "inflow-per-week")
    assert chart.type == "line"
    assert [d.data for d in chart.datasets] == [[1, 3, 0, 0, 0, 2], [0, 1, 1, 0, 1, 1]]
    figures = {str(label): value for label, value, _kind in result.figures}
    assert figures["Inquiries per week (average)"] == pytest.approx(6 * 7 / 31)


def test_average_per_weekday_and_hour_in_local_time(pipeline, inflow, director):
    result = compute(director)
    weekdays = {
        r["weekday"]: (r["days"], r["inquiries"], r["inquiries_avg"], r["qualified"])
        for r in result.table("weekdays").rows
    }
    assert weekdays == {
        "Monday": (5, 3, pytest.approx(0.6), 1),
        "Tuesday": (5, 2, pytest.approx(0.4), 2),
        "Wednesday": (4, 0, 0.0, 0),
        "Thursday": (4, 0, 0.0, 0),
        "Friday": (4, 0, 0.0, 0),
        "Saturday": (4, 0, 0.0, 0),
        "Sunday": (5, 1, pytest.approx(0.2), 1),
    }
    hours = {
        r["hour"][:2]: (r["inquiries"], r["qualified"])
        for r in result.table("hours").rows
        if r["inquiries"] or r["qualified"]
    }
    # I8 (09:30 CEST = 07:30 UTC) is in the 09 hour, like I1 and I2 in winter time.
    assert hours == {
        "00": (1, 0),
        "09": (3, 0),
        "10": (0, 1),
        "12": (0, 1),
        "14": (1, 0),
        "15": (0, 1),
        "23": (1, 1),
    }
    nine = next(r for r in result.table("hours").rows if r["hour"].startswith("09"))
    assert nine["inquiries_avg"] == pytest.approx(3 / 31)


def test_channel_filter_narrows_the_inflow(pipeline, inflow, director, inside):
    from leadflow.intake.models import Channel

    email = Channel.objects.get(code="email")
    Inquiry.objects.filter(pk=inflow["I3"].pk).update(channel=email)
    result = compute(director, {**MARCH, "channel": str(email.pk)})
    assert result.table("weeks").totals == {"inquiries": 1, "qualified": 0}
    assert result.table("stages").totals["leads"] == 0


def test_no_data_gives_empty_figures_without_errors(director):
    result = compute(director)
    assert stage_rows(result) == [
        ("Qualification", 0, 0, 0, 0, 0, 0),
        ("Proposal / quote", 0, 0, 0, 0, 0, 0),
        ("Negotiation", 0, 0, 0, 0, 0, 0),
    ]
    assert result.table("stages").totals["weight"] is None
    assert result.table("capacity").rows == []
    assert result.table("weeks").totals == {"inquiries": 0, "qualified": 0}
    assert all(r["inquiries_avg"] == 0 for r in result.table("hours").rows)
    assert result.notes == []


# --- page, export, API -----------------------------------------------------------------


def test_page_shows_the_pipeline_and_the_load(pipeline, director):
    client = Client()
    client.force_login(director)
    response = client.get("/analytics/pipeline/", MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pipeline counts and capacity" in html
    assert "€ 42,000.00" in html  # unweighted total
    assert "€ 15,500.00" in html  # weighted total
    # 5 ÷ 3 = 166.67 %, rounded to one decimal.
    assert '<td class="num">166.7 %</td><td>Over capacity</td>' in html
    assert "Over capacity" in html
    assert 'data-testid="chart-leads-per-stage"' in html
    assert 'data-testid="chart-inflow-per-week"' in html


def test_page_rounds_a_ratio_to_one_decimal():
    from leadflow.analytics.reports.base import Kind
    from leadflow.analytics.templatetags.analytics_tags import cell

    assert cell(5 / 3, Kind.RATIO) == "166.7 %"


def test_csv_export_of_the_capacity_table(pipeline, director):
    client = Client()
    client.force_login(director)
    response = client.get(
        "/analytics/pipeline/", {**MARCH, "format": "csv", "table": "capacity"}
    )
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Person,Team,Open qualified leads,Open quotes,Workload,Capacity,Load,Flag"
    )
    assert lines[1].startswith("Rep Persona,North,3,2,5,3,1.66")
    assert lines[1].endswith(",Over capacity")
    assert lines[4] == "Inside Persona,North,1,0,1,,,"


def test_api_returns_the_report_as_json(pipeline, inflow, api_as):
    response = api_as("director").get("/api/analytics/pipeline", MARCH)
    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "pipeline"
    stages = next(t for t in body["tables"] if t["key"] == "stages")
    assert stages["totals"]["unweighted"] == 42000.0
    assert stages["totals"]["weighted"] == 15500.0
    weeks = next(t for t in body["tables"] if t["key"] == "weeks")
    assert weeks["totals"]["inquiries"] == 6
    capacity = next(t for t in body["tables"] if t["key"] == "capacity")
    assert capacity["rows"][-1] == {
        "person": "Inside Persona",
        "team": "North",
        "leads": 1,
        "quotes": 0,
        "workload": 1,
        "capacity": None,
        "load": None,
        "flag": "",
    }


def test_api_refuses_a_colleague_and_an_unknown_filter(api_as):
    assert api_as("colleague").get("/api/analytics/pipeline").status_code == 403
    response = api_as("director").get("/api/analytics/pipeline", {"team": "999999"})
    assert response.status_code == 422


def test_capacity_is_editable_in_the_user_admin(admin, rep):
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{rep.pk}/change/")
    assert page.status_code == 200
    assert 'name="capacity"' in page.content.decode()
