"""Report 1, cycle times, against a small dataset computed by hand.

All times are local (Europe/Brussels, winter time); the period is 2026-01-01..03-31.

lead  owner     service       campaign  received      qualified     1st quote sent  result
A     rep       Installation  Spring    01-05 11:30   01-07 11:30   01-12 11:30     won  01-31 23:30
B     rep       Maintenance   –         02-02 10:00   02-03 10:00   02-06 10:00     won  02-16 10:00
C     outsider  Installation  Spring    02-01 10:00   02-05 10:00   02-15 10:00     lost 03-02 10:00
D     outsider  Installation  –         02-10 10:00   02-11 10:00   (none)          won  02-21 10:00
E     rep       –             –         02-17 10:00   02-18 10:00   02-20 10:00 (revised and
                                                      sent again 02-25; moved forward and back)
                                                                                     lost 03-10 10:00
F     rep       Installation  –         03-01 10:00   03-02 10:00   –               won  04-02 (outside)
G     rep       –             –         02-01 10:00   02-02 10:00   –               not going ahead
                                                                                     03-01 (not won/lost)

Steps (days)      A     B    C    D    E     won: median / mean     lost: median / mean
qualify           2     1    4    1    1     1 / 4/3 (1.3333)       2.5 / 2.5
first quote       5     3    10   –    2     4 / 4                  6 / 6
quote → decision  19.5  10   15   –    18    14.75 / 14.75          16.5 / 16.5
total             26.5  14   29   11   21    14 / 51.5/3 (17.1667)  25 / 25

A is decided at 23:30 local on 31 January: it counts in January (the period to
2026-01-31 holds A alone). Months: January won [26.5]; February won [14, 11] → 12.5;
March lost [29, 21] → 25.
By owner: rep won [26.5, 14] → 20.25, lost [21]; outsider won [11], lost [29].
The rep (team North; the outsider is in South) sees A, B and E only.
"""

import csv
import io
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import close_inquiry
from leadflow.intake.models import Campaign
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    close_opportunity,
    move_stage,
    revise_quote,
    send_quote,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import (
    make_lead,
    make_sent_quote,
    score_scotsman,
)

TZ = ZoneInfo("Europe/Brussels")
PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}


def local(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026):
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@contextmanager
def clock(moment: datetime):
    """The real actions, run as if it were ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def qualified(inside, *, received, at, owner, contact=None, campaign=None, service=""):
    """An inquiry received at ``received`` and qualified at ``at`` for ``owner``."""
    with clock(at):
        inquiry = make_inquiry(
            inside, received_at=received, campaign=campaign, contact=contact
        )
        close_inquiry(inquiry, actor=inside, outcome="qualified", owner=owner)
        lead = Opportunity.objects.get(inquiry=inquiry)
        if service:
            update_opportunity(lead, actor=owner, service_type=service)
    return lead


def disqualified(inside, *, received, at, contact, outcome="archived"):
    with clock(at):
        inquiry = make_inquiry(inside, received_at=received, contact=contact)
        close_inquiry(inquiry, actor=inside, outcome=outcome, reason="not now")
    return inquiry


def send(lead, actor, at):
    with clock(at):
        score_scotsman(lead, actor, 5)
        return make_sent_quote(lead, actor)


def close(lead, actor, at, result):
    with clock(at):
        close_opportunity(lead, actor=actor, result=result, reason="decided")


def compute(user, **filters):
    values = {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 31), **filters}
    return REPORTS["cycle-times"].compute(Scope(user, ReportFilters(**values)))


def rows_by_name(table):
    return {row["name"]: row for row in table.rows}


@pytest.fixture
def cycle(personas):
    inside, rep, outsider = personas["inside"], personas["rep"], personas["outsider"]
    spring = Campaign.objects.create(name="Spring")
    a = qualified(
        inside,
        received=local(1, 5, 11, 30),
        at=local(1, 7, 11, 30),
        owner=rep,
        campaign=spring,
        service="Installation",
    )
    send(a, rep, local(1, 12, 11, 30))
    close(a, rep, local(1, 31, 23, 30), "won")
    b = qualified(
        inside,
        received=local(2, 2),
        at=local(2, 3),
        owner=rep,
        service="Maintenance",
    )
    send(b, rep, local(2, 6))
    close(b, rep, local(2, 16), "won")
    c = qualified(
        inside,
        received=local(2, 1),
        at=local(2, 5),
        owner=outsider,
        campaign=spring,
        service="Installation",
    )
    send(c, outsider, local(2, 15))
    close(c, outsider, local(3, 2), "lost")
    d = qualified(
        inside,
        received=local(2, 10),
        at=local(2, 11),
        owner=outsider,
        service="Installation",
    )
    close(d, outsider, local(2, 21), "won")
    e = qualified(inside, received=local(2, 17), at=local(2, 18), owner=rep)
    first = send(e, rep, local(2, 20))
    with clock(local(2, 25)):
        send_quote(revise_quote(first, actor=rep), actor=rep)
        move_stage(e, actor=rep, stage="proposal", reason="quote out")
        move_stage(e, actor=rep, stage="qualification", reason="scope changed")
    close(e, rep, local(3, 10), "lost")
    f = qualified(
        inside,
        received=local(3, 1),
        at=local(3, 2),
        owner=rep,
        service="Installation",
    )
    close(f, rep, local(4, 2), "won")
    g = qualified(inside, received=local(2, 1), at=local(2, 2), owner=rep)
    close(g, rep, local(3, 1), "not_going_ahead")
    return {"spring": spring}


# --- the numbers --------------------------------------------------------------------


def test_steps_won_and_lost_with_median_and_mean(cycle, director):
    steps = compute(director).table("steps").rows
    assert [(r["won_n"], r["lost_n"]) for r in steps] == [
        (3, 2),
        (2, 2),
        (2, 2),
        (3, 2),
    ]
    qualify, quote, decide, total = steps
    assert qualify["won_median"] == pytest.approx(1)
    assert qualify["won_mean"] == pytest.approx(4 / 3)
    assert qualify["lost_median"] == pytest.approx(2.5)
    assert quote["won_median"] == pytest.approx(4)
    assert quote["lost_median"] == pytest.approx(6)
    assert quote["lost_mean"] == pytest.approx(6)
    assert decide["won_median"] == pytest.approx(14.75)
    assert decide["lost_median"] == pytest.approx(16.5)
    assert total["won_median"] == pytest.approx(14)
    assert total["won_mean"] == pytest.approx(51.5 / 3)
    assert total["lost_median"] == pytest.approx(25)
    assert total["lost_mean"] == pytest.approx(25)


def test_figures_and_chart(cycle, director):
    result = compute(director)
    figures = {str(label): value for label, value, _kind in result.figures}
    assert figures["Median total cycle, won (days)"] == pytest.approx(14)
    assert figures["Median total cycle, lost (days)"] == pytest.approx(25)
    bars = next(c for c in result.charts if c.key == "median-per-step")
    assert bars.datasets[0].data == pytest.approx([1, 4, 14.75, 14])
    assert bars.datasets[1].data == pytest.approx([2.5, 6, 16.5, 25])


def test_monthly_median_counts_a_decision_at_2330_on_the_last_day_in_its_month(
    cycle, director
):
    line = next(c for c in compute(director).charts if c.key == "total-per-month")
    assert len(line.labels) == 3
    assert line.datasets[0].data == pytest.approx([26.5, 12.5, None])
    assert line.datasets[1].data == [None, None, pytest.approx(25)]
    january = compute(director, date_to=date(2026, 1, 31)).table("steps").rows[-1]
    assert (january["won_n"], january["won_median"]) == (1, pytest.approx(26.5))


def test_breakdowns_by_service_campaign_person_and_department(
    cycle, director, personas
):
    result = compute(director)
    service = rows_by_name(result.table("service"))
    assert service["Installation"]["won_n"] == 2  # A and D
    assert service["Installation"]["won_median"] == pytest.approx(18.75)
    assert service["Installation"]["lost_median"] == pytest.approx(29)
    assert service["Maintenance"]["won_median"] == pytest.approx(14)
    assert service["No service type"]["lost_median"] == pytest.approx(21)
    campaign = rows_by_name(result.table("campaign"))
    assert campaign["Spring"]["won_median"] == pytest.approx(26.5)
    assert campaign["Spring"]["lost_median"] == pytest.approx(29)
    assert campaign["No campaign"]["won_n"] == 2
    assert campaign["No campaign"]["won_mean"] == pytest.approx(12.5)
    person = rows_by_name(result.table("person"))
    rep, outsider = str(personas["rep"]), str(personas["outsider"])
    assert person[rep]["won_median"] == pytest.approx(20.25)
    assert person[rep]["lost_median"] == pytest.approx(21)
    assert person[outsider]["won_median"] == pytest.approx(11)
    assert person[outsider]["lost_median"] == pytest.approx(29)
    department = rows_by_name(result.table("department"))
    assert department["Sales"]["won_n"] == 3  # inside's department
    assert department["Sales"]["lost_n"] == 2


def test_filters_narrow(cycle, director, personas):
    by_person = compute(director, person=personas["outsider"].pk)
    assert by_person.table("steps").rows[-1]["won_n"] == 1
    assert by_person.table("steps").rows[-1]["lost_median"] == pytest.approx(29)
    by_service = compute(director, service_type="Maintenance").table("steps").rows
    assert (by_service[-1]["won_n"], by_service[-1]["lost_n"]) == (1, 0)
    by_campaign = compute(director, campaign=cycle["spring"].pk)
    assert by_campaign.table("steps").rows[-1]["won_median"] == pytest.approx(26.5)


def test_a_salesperson_counts_only_their_own_and_their_teams_leads(cycle, rep):
    total = compute(rep).table("steps").rows[-1]
    assert (total["won_n"], total["lost_n"]) == (2, 1)
    assert total["won_median"] == pytest.approx(20.25)
    assert total["lost_median"] == pytest.approx(21)


def test_no_data_gives_empty_tables_and_no_ratios(personas, director):
    result = compute(director)
    steps = result.table("steps").rows
    assert [r["won_n"] for r in steps] == [0, 0, 0, 0]
    assert all(r["won_median"] is None and r["lost_mean"] is None for r in steps)
    assert result.table("person").rows == []
    assert result.table("stalled").rows == []
    assert result.table("came-back").rows == []


def test_one_lead(personas, director):
    inside, rep = personas["inside"], personas["rep"]
    lead = qualified(inside, received=local(3, 1), at=local(3, 3), owner=rep)
    close(lead, rep, local(3, 4, 22), "won")
    total = compute(director).table("steps").rows[-1]
    assert (total["won_n"], total["won_median"], total["won_mean"]) == (
        1,
        pytest.approx(3.5),
        pytest.approx(3.5),
    )


# --- stalls -------------------------------------------------------------------------
#
# Stage limits (migrations): qualification 14 days, proposal 10, negotiation 7.
# S1 rep       qualification  20 days in stage → stalled, 6 over
# S2 outsider  proposal       30 days          → stalled, 20 over
# S3 rep       negotiation     3 days          → not stalled
# S4 rep       qualification   2 days          → not stalled
# S5 outsider  negotiation     no stage date, created 9 days ago → stalled, 2 over
#              (as on the dashboard: counted from its creation)
# Per stage: qualification 2 open / 1 stalled; proposal 1 / 1; negotiation 2 / 1.


@pytest.fixture
def stalls(personas):
    rep, outsider = personas["rep"], personas["outsider"]
    now = timezone.now()
    leads = {}
    for name, owner, stage, days in (
        ("S1", rep, "qualification", 20),
        ("S2", outsider, "proposal", 30),
        ("S3", rep, "negotiation", 3),
        ("S4", rep, "qualification", 2),
    ):
        lead = make_lead(owner, owner=owner, title=name)
        if stage != "qualification":
            move_stage(lead, actor=owner, stage=stage, reason="test")
        Opportunity.objects.filter(pk=lead.pk).update(
            stage_entered_at=now - timedelta(days=days)
        )
        leads[name] = lead
    s5 = make_lead(outsider, owner=outsider, title="S5")
    move_stage(s5, actor=outsider, stage="negotiation", reason="test")
    Opportunity.objects.filter(pk=s5.pk).update(
        stage_entered_at=None, created_at=now - timedelta(days=9)
    )
    leads["S5"] = s5
    return leads


def test_stalls_per_stage_and_the_longest_stalled_list(stalls, director):
    result = compute(director)
    per_stage = rows_by_name(result.table("stalls"))
    assert [(r["open"], r["stalled"]) for r in per_stage.values()] == [
        (2, 1),
        (1, 1),
        (2, 1),
    ]
    assert per_stage["Qualification"]["share"] == pytest.approx(0.5)
    assert result.table("stalls").totals["stalled"] == 3
    listed = result.table("stalled").rows
    assert [r["name"] for r in listed] == ["S2", "S1", "S5"]
    assert listed[2]["days_over"] == pytest.approx(2, abs=0.01)
    assert listed[0]["days_in_stage"] == pytest.approx(30, abs=0.01)
    assert listed[0]["days_over"] == pytest.approx(20, abs=0.01)
    assert listed[1]["days_over"] == pytest.approx(6, abs=0.01)
    assert listed[0]["url"] == f"/opportunities/{stalls['S2'].pk}/"


def test_a_salesperson_sees_only_their_reach_in_stalls(stalls, rep):
    result = compute(rep)
    assert [(r["open"], r["stalled"]) for r in result.table("stalls").rows] == [
        (2, 1),
        (0, 0),
        (1, 0),
    ]
    assert [r["name"] for r in result.table("stalled").rows] == ["S1"]


def test_marketing_counts_stalls_but_lists_no_leads_it_may_not_open(stalls, marketer):
    result = compute(marketer)
    assert result.table("stalls").totals["stalled"] == 3
    assert result.table("stalled").rows == []


# --- disqualified inquiries that came back ----------------------------------------
#
# P   archived, closed 01-10; P's inquiry received 01-20 qualified (rep)   → 10 days
# Q   (Acme) nurture, closed 02-01; R (also Acme) received 02-13 qualified
#     (outsider)                                                            → 12 days
# T   archived 02-05; T's later inquiry (02-20) archived too               → no
# U   qualified 01-04, then archived 01-06 with nothing after               → no
# V   archived 2025-12-20 (before the period), back 01-15 qualified         → no
# Count 2; newest return first: Q (12 days), P (10 days).


@pytest.fixture
def came_back(personas):
    inside, rep, outsider = personas["inside"], personas["rep"], personas["outsider"]
    p, q, r = make_contact("P"), make_contact("Q", company="Acme NV"), None
    r = make_contact("R", company="Acme NV")
    t, u, v = make_contact("T"), make_contact("U"), make_contact("V")
    disqualified(inside, received=local(1, 9), at=local(1, 10), contact=p)
    qualified(inside, received=local(1, 20), at=local(1, 21), owner=rep, contact=p)
    disqualified(
        inside, received=local(1, 31), at=local(2, 1), contact=q, outcome="nurture"
    )
    back = qualified(
        inside, received=local(2, 13), at=local(2, 14), owner=outsider, contact=r
    )
    disqualified(inside, received=local(2, 4), at=local(2, 5), contact=t)
    disqualified(inside, received=local(2, 20), at=local(2, 21), contact=t)
    qualified(inside, received=local(1, 3), at=local(1, 4), owner=rep, contact=u)
    disqualified(inside, received=local(1, 5), at=local(1, 6), contact=u)
    disqualified(
        inside,
        received=local(12, 19, year=2025),
        at=local(12, 20, year=2025),
        contact=v,
    )
    qualified(inside, received=local(1, 15), at=local(1, 16), owner=rep, contact=v)
    return back


def test_disqualified_inquiries_that_came_back(came_back, director):
    result = compute(director)
    figures = {str(label): value for label, value, _kind in result.figures}
    assert figures["Disqualified inquiries that came back"] == 2
    rows = result.table("came-back").rows
    assert [(r["name"], r["outcome"]) for r in rows] == [
        ("Q", "Nurture"),
        ("P", "Archived"),
    ]
    assert [r["days"] for r in rows] == [pytest.approx(12), pytest.approx(10)]
    assert rows[0]["closed_on"] == date(2026, 2, 1)
    assert rows[0]["back_on"] == date(2026, 2, 13)
    assert rows[0]["url"] == f"/opportunities/{came_back.pk}/"


def test_came_back_list_shows_only_leads_the_user_may_open(came_back, marketer):
    result = compute(marketer)
    assert (
        dict((str(k), v) for k, v, _ in result.figures)[
            "Disqualified inquiries that came back"
        ]
        == 2
    )
    assert result.table("came-back").rows == []


# --- page, export, API ------------------------------------------------------------


def test_page_shows_the_numbers(cycle, client, director):
    client.force_login(director)
    response = client.get("/analytics/cycle-times/", PERIOD)
    assert response.status_code == 200
    body = response.content.decode()
    total = (
        '<th scope="row">Inquiry → decision (total)</th><td class="num">3</td>'
        '<td class="num">14.0</td>'
    )
    assert total in body
    assert '<td class="num">25.0</td><td class="num">25.0</td>' in body
    assert '<td class="num">17.2</td>' in body  # the won mean, 51.5 / 3, rounded
    assert '<td class="num">14.8</td>' in body  # 14.75 days, rounded half up
    assert 'data-testid="chart-median-per-step"' in body


def test_csv_export_of_the_steps(cycle, client, director):
    client.force_login(director)
    response = client.get(
        "/analytics/cycle-times/", {**PERIOD, "format": "csv", "table": "steps"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Step", "Won", "Won: median days"]
    assert len(rows) == 5  # header and four steps, no totals
    assert rows[4][0] == "Inquiry → decision (total)"
    assert rows[4][1:3] == ["3", "14.0"]
    assert float(rows[4][3]) == pytest.approx(51.5 / 3)
    assert rows[4][4:] == ["2", "25.0", "25.0"]


def test_api_json(cycle, api_as):
    response = api_as("director").get("/api/analytics/cycle-times", PERIOD)
    assert response.status_code == 200
    doc = response.json()
    assert doc["report"] == "cycle-times"
    steps = next(t for t in doc["tables"] if t["key"] == "steps")
    assert steps["rows"][-1]["won_median"] == pytest.approx(14)
    assert steps["rows"][-1]["lost_mean"] == pytest.approx(25)


def test_api_refuses_a_colleague_and_an_unknown_filter(api_as, personas):
    assert api_as("colleague").get("/api/analytics/cycle-times").status_code == 403
    response = api_as("director").get(
        "/api/analytics/cycle-times", {"person": "nobody"}
    )
    assert response.status_code == 422
