"""The role-aware dashboard on the home page, against a hand-computed dataset.

"Now" is pinned: Friday 2026-11-20 10:00 in Brussels (CET, UTC+1). Periods:
this month 1–20 Nov 2026 (last year: 1–20 Nov 2025); last month's same days 1–20 Oct;
this quarter so far 1 Oct–20 Nov (last year: 1 Oct–20 Nov 2025), the whole quarter
(decision dates) 1 Oct–31 Dec; win rate over the last 90 days 23 Aug–20 Nov; this week
Mon 16–Fri 20 Nov (last week's same days 9–13 Nov); speed over 22 Oct–20 Nov.

Stages: qualification 0.25 pipeline (stalls after 14 days), proposal 0.50 best case
(10 days), negotiation 0.75 commit (7 days). Teams: rep and inside North, outsider
South, director none.

Open qualified leads
lead owner     stage          value  P win×P go  weighted  decision    category  in stage since
A    rep       qualification  10000  –           2500      2026-11-30  pipeline  2026-11-01 (19 d: stalled)
B    rep       negotiation     8000  –           6000      2026-12-15  commit    2026-11-15 (5 d)
C    rep       proposal       20000  0.6×0.5     6000      2027-01-10  best case 2026-11-05 (15 d: stalled)
G    rep       qualification  12000  –           3000      2026-11-25  omitted   2026-11-10 (10 d)
D    outsider  qualification  40000  –          10000      2026-10-05  pipeline
E    outsider  proposal       –      –              –      –           best case
F    director  negotiation     5000  –           3750      –           commit
Q4, Q7 inside  qualification  –      (made by closing inquiries I4 and I7 as qualified)

Closed qualified leads (closed at, Brussels time)
W1 rep won 30000 2026-11-10 · W2 outsider won 15000 2026-10-15 · W3 rep won 7000
2025-11-05 · W4 outsider won 9000 2025-10-20 · W5 rep won 4000 2026-09-01 · W6 director
won 1000 2026-10-31 23:30 (October: the last evening of the month) · L1 rep lost 5000
2026-11-02 · L2 outsider not going ahead 3000 2026-09-10 · L3 rep lost 2026-06-01
(before the 90 days) · N1 rep nurture 2026-11-03 (parked: not a decision)

Director (everything)
open leads 7 + Q4 + Q7 = 9; unweighted 95,000; weighted 2500+6000+6000+3000+10000+3750
= 31,250. Forecast this quarter (decision Oct–Dec, omitted left out): A 2500 + B 6000 +
D 10000 = 18,500 (3 leads). Won this quarter W1+W2+W6 = 46,000 (3); commit forecast =
46,000 + B 8000 = 54,000. Won this month W1 = 30,000 (1; W6 is October) vs last year
W3 7,000 (1). Won this quarter 46,000 vs last year W3+W4 = 16,000 (2). Win rate:
won W1 W2 W5 W6 = 4 of decided 4 + L1 + L2 = 6 → 0.6667 (L3 too old, N1 nurture).
Per team: North 6 open (A B C G Q4 Q7), weighted 17,500, won this quarter 30,000 (1),
win rate 2/3 (W1 W5 of + L1) · South 2, 10,000, 15,000 (1), 1/2 (W2 of + L2) · No team 1,
3,750, 1,000 (1), 1/1.
Chart (Dec 2025–Nov 2026): Sep 4,000 · Oct 16,000 (W2 + W6) · Nov 30,000; others 0.

Rep (their own leads): 4 open, 50,000, weighted 17,500; forecast A 2500 + B 6000 = 8,500;
commit 30,000 + 8,000 = 38,000; won month 30,000 vs 7,000; quarter 30,000 vs 7,000;
win rate 2/3; overdue activities 1 (see below); stalled 2 (A, C).
Outsider (their own, not the rep's): 2 open, 40,000, weighted 10,000; forecast 10,000;
commit 15,000 + 0; won month 0 vs 0; quarter 15,000 vs 9,000; win rate 1/2.

Inquiries (received / closed, Brussels time; channel)
I1 open 2026-11-19 09:00 web form · I2 open 2026-11-16 08:00 phone · I3 open 2026-11-12
10:00 web form · I4 qualified 11-17 10:00 → 11-17 14:00 (4 h) web form · I5 archived
11-02 09:00 → 11-03 09:00 (24 h) e-mail · I6 nurture 2026-10-31 23:30 → 11-02 11:30
(60 h) phone · I7 qualified 2026-11-01 00:30 (23:30 UTC on 31 Oct: November here) →
11-01 06:30 (6 h) phone · I8 archived 10-05 09:00 → 10-06 09:00 e-mail.
Triage backlog 3 (I1 I2 I3); oldest I3: Thu 12 Nov 10:00 → Fri 20 Nov 10:00 in working
hours (8:30–17:30, Mon–Fri): 7.5 + 9 + 4×9 + 1.5 = 54.0 h.
Inquiries this month I1 I2 I3 I4 I5 I7 = 6 (I6 is October's) vs 1–20 Oct: I8 = 1.
This week I1 I2 I4 = 3 vs 9–13 Nov: I3 = 1.
Speed (received 22 Oct–20 Nov, assessed): I4 4, I7 6, I5 24, I6 60 → median (6+24)/2 = 15.0 h.
Marketing, this month by channel: web form 3 (1 qualified: I4) → 1/3; phone 2 (I7) →
1/2; e-mail 1 (0) → 0. Total 6, qualified 2 → 1/3.
"""

import functools
import re
from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from leadflow.accounts.models import User
from leadflow.analytics.dashboard import Periods, dashboard_for
from leadflow.analytics.templatetags.analytics_tags import cell
from leadflow.analytics.tests.factories import lead
from leadflow.intake.actions import close_inquiry
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    set_activity_done,
)
from leadflow.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=BRUSSELS)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


def D(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def closed(
    owner,
    result: str,
    value: str | None,
    when: datetime,
    title: str,
    *,
    overdue_activity: bool = False,
):
    o = lead(owner, title=title, value=value)
    if overdue_activity:  # left behind when the lead closed: no longer counts
        add_activity(
            o,
            actor=owner,
            kind="task",
            subject="On a closed lead",
            assignee=owner,
            due_at=at(2026, 5, 12, 9, 0),
        )
    extra = {}
    if result == "nurture":
        extra = {"follow_up_on": date(2027, 1, 1), "follow_up_by": "sales"}
    close_opportunity(o, actor=owner, result=result, reason="test data", **extra)
    Opportunity.objects.filter(pk=o.pk).update(closed_at=when)
    return o


def entered(o: Opportunity, when: datetime) -> None:
    Opportunity.objects.filter(pk=o.pk).update(stage_entered_at=when)


@pytest.fixture
def leads(personas):
    rep, outsider, director = (
        personas["rep"],
        personas["outsider"],
        personas["director"],
    )
    made = {
        "A": lead(rep, title="A", value="10000", decision=date(2026, 11, 30)),
        "B": lead(
            rep,
            title="B",
            stage="negotiation",
            value="8000",
            decision=date(2026, 12, 15),
        ),
        "C": lead(
            rep,
            title="C",
            stage="proposal",
            value="20000",
            decision=date(2027, 1, 10),
            p_win="0.6",
            p_go="0.5",
        ),
        "G": lead(
            rep,
            title="G",
            value="12000",
            decision=date(2026, 11, 25),
            category="omitted",
        ),
        "D": lead(outsider, title="D", value="40000", decision=date(2026, 10, 5)),
        "E": lead(outsider, title="E", stage="proposal"),
        "F": lead(director, title="F", stage="negotiation", value="5000"),
    }
    entered(made["A"], at(2026, 11, 1, 9, 0))
    entered(made["B"], at(2026, 11, 15, 9, 0))
    entered(made["C"], at(2026, 11, 5, 9, 0))
    entered(made["G"], at(2026, 11, 10, 9, 0))
    for title, owner, result, value, when in (
        ("W1", rep, "won", "30000", at(2026, 11, 10, 12, 0)),
        ("W2", outsider, "won", "15000", at(2026, 10, 15, 12, 0)),
        ("W3", rep, "won", "7000", at(2025, 11, 5, 12, 0)),
        ("W4", outsider, "won", "9000", at(2025, 10, 20, 12, 0)),
        ("W5", rep, "won", "4000", at(2026, 9, 1, 12, 0)),
        ("W6", director, "won", "1000", at(2026, 10, 31, 23, 30)),
        ("L1", rep, "lost", "5000", at(2026, 11, 2, 12, 0)),
        ("L2", outsider, "not_going_ahead", "3000", at(2026, 9, 10, 12, 0)),
        ("L3", rep, "lost", None, at(2026, 6, 1, 12, 0)),
        ("N1", rep, "nurture", None, at(2026, 11, 3, 12, 0)),
    ):
        made[title] = closed(
            owner, result, value, when, title, overdue_activity=title == "L3"
        )
    # Activities assigned to the rep: one overdue on an open lead counts; one done,
    # one not yet due and one overdue on a closed lead (L3) do not.
    add_activity(
        made["A"],
        actor=rep,
        kind="call",
        subject="Overdue",
        assignee=rep,
        due_at=at(2026, 11, 19, 9, 0),
    )
    done = add_activity(
        made["B"],
        actor=rep,
        kind="call",
        subject="Done",
        assignee=rep,
        due_at=at(2026, 11, 18, 9, 0),
    )
    set_activity_done(done, actor=rep, done=True)
    add_activity(
        made["B"],
        actor=rep,
        kind="task",
        subject="Later",
        assignee=rep,
        due_at=at(2026, 11, 21, 9, 0),
    )
    return made


def inquiry(
    actor, channel: str, received: datetime, closed_at=None, outcome="", owner=None
):
    """Registered (received in the past) and, with an outcome, closed at ``closed_at``
    (a closed inquiry is immutable, so the clock is set while it closes)."""
    i = make_inquiry(actor, channel=channel, received_at=received)
    if outcome:
        with mock.patch("django.utils.timezone.now", return_value=closed_at):
            close_inquiry(
                i,
                actor=actor,
                outcome=outcome,
                reason="test data",
                owner=owner,
                marketing_lists=["Newsletter"] if outcome == "nurture" else None,
            )
    return i


@pytest.fixture
def inquiries(personas):
    inside = personas["inside"]
    return {
        "I1": inquiry(inside, "web_form", at(2026, 11, 19, 9, 0)),
        "I2": inquiry(inside, "phone", at(2026, 11, 16, 8, 0)),
        "I3": inquiry(inside, "web_form", at(2026, 11, 12, 10, 0)),
        "I4": inquiry(
            inside,
            "web_form",
            at(2026, 11, 17, 10, 0),
            at(2026, 11, 17, 14, 0),
            "qualified",
            owner=inside,
        ),
        "I5": inquiry(
            inside, "email", at(2026, 11, 2, 9, 0), at(2026, 11, 3, 9, 0), "archived"
        ),
        "I6": inquiry(
            inside,
            "phone",
            at(2026, 10, 31, 23, 30),
            at(2026, 11, 2, 11, 30),
            "nurture",
        ),
        "I7": inquiry(
            inside,
            "phone",
            at(2026, 11, 1, 0, 30),
            at(2026, 11, 1, 6, 30),
            "qualified",
            owner=inside,
        ),
        "I8": inquiry(
            inside, "email", at(2026, 10, 5, 9, 0), at(2026, 10, 6, 9, 0), "archived"
        ),
    }


def values(dashboard) -> dict:
    return {f.key: f.value for f in dashboard.figures}


def compares(dashboard) -> dict:
    return {f.key: f.compare for f in dashboard.figures if f.compare_label}


# --- the periods ----------------------------------------------------------------------


def test_periods_of_a_day_in_the_last_quarter():
    p = Periods(now=NOW, today=date(2026, 11, 20))
    assert p.month == (date(2026, 11, 1), date(2026, 11, 20))
    assert p.last_month_same_days == (date(2026, 10, 1), date(2026, 10, 20))
    assert p.quarter == (date(2026, 10, 1), date(2026, 11, 20))
    assert p.whole_quarter == (date(2026, 10, 1), date(2026, 12, 31))
    assert p.week == (date(2026, 11, 16), date(2026, 11, 20))
    assert p.last_days == (date(2026, 8, 23), date(2026, 11, 20))
    assert p.chart_months == (date(2025, 12, 1), date(2026, 11, 20))


def test_last_month_same_days_stop_at_a_short_month_end():
    p = Periods(now=NOW, today=date(2026, 3, 31))
    assert p.last_month_same_days == (date(2026, 2, 1), date(2026, 2, 28))
    assert p.whole_quarter == (date(2026, 1, 1), date(2026, 3, 31))


# --- director and administrator --------------------------------------------------------


def test_director_sees_the_company_figures(personas, leads, inquiries):
    dashboard = dashboard_for(personas["director"], now=NOW)
    assert dashboard.kind == "team"
    assert values(dashboard) == {
        "open_count": 9,
        "open_unweighted": D("95000"),
        "open_weighted": D("31250"),
        "forecast_weighted": D("18500"),
        "won_month": D("30000"),
        "won_quarter": D("46000"),
        "win_rate": pytest.approx(4 / 6),
        "inquiries_month": 6,
        "triage_backlog": 3,
        "oldest_waiting": 54.0,
    }
    assert compares(dashboard) == {
        "forecast_weighted": D("54000"),
        "won_month": D("7000"),
        "won_quarter": D("16000"),
        "inquiries_month": 1,
    }
    assert [
        (
            t["name"],
            t["open_count"],
            t["open_weighted"],
            t["won_quarter_value"],
            t["won_quarter_count"],
            t["win_rate"],
        )
        for t in dashboard.rows
    ] == [
        ("North", 6, D("17500"), D("30000"), 1, pytest.approx(2 / 3)),
        ("South", 2, D("10000"), D("15000"), 1, 0.5),
        ("No team", 1, D("3750"), D("1000"), 1, 1.0),
    ]


def test_director_chart_has_won_value_per_month_in_the_company_time_zone(
    personas, leads
):
    chart = dashboard_for(personas["director"], now=NOW).chart
    assert chart["type"] == "bar"
    assert len(chart["labels"]) == 12
    won_value, won_count = chart["datasets"]
    assert won_value["kind"] == "money"
    # Dec 2025 … Nov 2026: W5 in September, W2 + W6 (23:30 on 31 October) in October.
    assert won_value["data"] == [0] * 9 + [4000.0, 16000.0, 30000.0]
    assert won_count["data"] == [0] * 9 + [1, 2, 1]
    assert won_count["axis"] == "y2"


def test_admin_sees_the_same_as_the_director(personas, leads, inquiries):
    admin = values(dashboard_for(personas["admin"], now=NOW))
    assert admin == values(dashboard_for(personas["director"], now=NOW))


def test_figures_link_to_the_analysis_that_explains_them(personas, leads):
    dashboard = dashboard_for(personas["director"], now=NOW)
    links = {f.key: f.url for f in dashboard.figures}
    assert links["open_weighted"] == "/analytics/pipeline/"
    assert links["forecast_weighted"] == (
        "/analytics/forecast/?from=2026-10-01&to=2026-12-31"
    )
    assert (
        links["won_quarter"] == "/analytics/performance/?from=2026-10-01&to=2026-11-20"
    )
    assert links["win_rate"] == "/analytics/win-rates/?from=2026-08-23&to=2026-11-20"
    assert (
        links["inquiries_month"] == "/analytics/sources/?from=2026-11-01&to=2026-11-20"
    )
    assert links["oldest_waiting"] == "/analytics/process/"
    north = dashboard.rows[0]
    team_id = User.objects.get(username="rep").team_id
    assert north["url"] == (
        f"/analytics/performance/?from=2026-10-01&to=2026-11-20&team={team_id}"
    )


def test_empty_company_has_zeros_and_no_ratio(personas):
    dashboard = dashboard_for(personas["director"], now=NOW)
    assert values(dashboard) == {
        "open_count": 0,
        "open_unweighted": D("0"),
        "open_weighted": D("0"),
        "forecast_weighted": D("0"),
        "won_month": D("0"),
        "won_quarter": D("0"),
        "win_rate": None,
        "inquiries_month": 0,
        "triage_backlog": 0,
        "oldest_waiting": None,
    }
    assert dashboard.rows == []
    assert dashboard.chart["datasets"][0]["data"] == [0] * 12


def test_one_won_deal(personas):
    closed(personas["rep"], "won", "2500", at(2026, 11, 20, 9, 59), "only")
    dashboard = dashboard_for(personas["director"], now=NOW)
    got = values(dashboard)
    assert (got["won_month"], got["won_quarter"], got["win_rate"]) == (
        D("2500"),
        D("2500"),
        1.0,
    )
    assert compares(dashboard)["forecast_weighted"] == D("2500")


def test_a_lead_moved_back_counts_at_its_current_stage(personas):
    """Negotiation (commit, 0.75) moved back to qualification (pipeline, 0.25)."""
    from leadflow.opportunities.actions import move_stage

    rep = personas["rep"]
    o = lead(rep, stage="negotiation", value="4000", decision=date(2026, 12, 1))
    move_stage(o, actor=rep, stage="qualification", reason="customer went quiet")
    dashboard = dashboard_for(personas["director"], now=NOW)
    assert values(dashboard)["open_weighted"] == D("1000")
    assert values(dashboard)["forecast_weighted"] == D("1000")
    assert compares(dashboard)["forecast_weighted"] == D("0")  # no longer commit


# --- salespeople ----------------------------------------------------------------------


def test_rep_sees_their_own_figures(personas, leads, inquiries):
    dashboard = dashboard_for(personas["rep"], now=NOW)
    assert dashboard.kind == "sales"
    assert values(dashboard) == {
        "open_count": 4,
        "open_unweighted": D("50000"),
        "open_weighted": D("17500"),
        "forecast_weighted": D("8500"),
        "won_month": D("30000"),
        "won_quarter": D("30000"),
        "win_rate": pytest.approx(2 / 3),
        "overdue_activities": 1,
        "stalled": 2,
    }
    assert compares(dashboard) == {
        "forecast_weighted": D("38000"),
        "won_month": D("7000"),
        "won_quarter": D("7000"),
    }
    assert dashboard.figure("stalled").url == "/analytics/cycle-times/?person=rep"
    assert dashboard.rows == [] and dashboard.chart is None


def test_outsider_sees_only_their_own_leads(personas, leads, inquiries):
    dashboard = dashboard_for(personas["outsider"], now=NOW)
    assert values(dashboard) == {
        "open_count": 2,
        "open_unweighted": D("40000"),
        "open_weighted": D("10000"),
        "forecast_weighted": D("10000"),
        "won_month": D("0"),
        "won_quarter": D("15000"),
        "win_rate": 0.5,
        "overdue_activities": 0,
        "stalled": 0,
    }
    assert compares(dashboard) == {
        "forecast_weighted": D("15000"),
        "won_month": D("0"),
        "won_quarter": D("9000"),
    }


def test_a_teammates_leads_are_not_mine(personas):
    """Inside sales and the rep share team North; the rep's figures are the rep's."""
    lead(personas["inside"], value="999")
    assert values(dashboard_for(personas["rep"], now=NOW))["open_count"] == 0


def test_a_lead_without_a_stage_date_stalls_from_its_creation(personas):
    rep = personas["rep"]
    old = lead(rep, value="100")  # qualification: 14 days
    fresh = lead(rep, value="100")
    Opportunity.objects.filter(pk=old.pk).update(
        stage_entered_at=None, created_at=at(2026, 11, 1, 9, 0)
    )
    Opportunity.objects.filter(pk=fresh.pk).update(
        stage_entered_at=None, created_at=at(2026, 11, 10, 9, 0)
    )
    assert values(dashboard_for(rep, now=NOW))["stalled"] == 1


# --- inside sales and marketing -------------------------------------------------------


def test_inside_sales_sees_triage_figures(personas, leads, inquiries):
    dashboard = dashboard_for(personas["inside"], now=NOW)
    assert dashboard.kind == "inside"
    assert values(dashboard) == {
        "triage_backlog": 3,
        "oldest_waiting": 54.0,
        "inquiries_week": 3,
        "speed_to_first_action": 15.0,
    }
    assert compares(dashboard) == {"inquiries_week": 1}
    assert dashboard.figure("speed_to_first_action").url == (
        "/analytics/efficiency/?from=2026-10-22&to=2026-11-20"
    )


def test_inside_sales_without_inquiries(personas):
    got = values(dashboard_for(personas["inside"], now=NOW))
    assert got == {
        "triage_backlog": 0,
        "oldest_waiting": None,
        "inquiries_week": 0,
        "speed_to_first_action": None,
    }


def test_marketing_sees_this_months_inquiries_by_channel(personas, inquiries):
    dashboard = dashboard_for(personas["marketer"], now=NOW)
    assert dashboard.kind == "marketing"
    assert values(dashboard) == {
        "inquiries_month": 6,
        "qualified_share": pytest.approx(1 / 3),
    }
    assert [
        (r["name"], r["inquiries"], r["qualified"], r["qualified_share"])
        for r in dashboard.rows
    ] == [
        ("Web form", 3, 1, pytest.approx(1 / 3)),
        ("Phone", 2, 1, 0.5),
        ("E-mail", 1, 0, 0.0),
    ]
    assert dashboard.rows[0]["url"].startswith(
        "/analytics/sources/?from=2026-11-01&to=2026-11-20&channel="
    )


def test_month_edges_follow_the_company_time_zone(personas, inquiries):
    """At 23:50 on 31 October in Brussels, October holds I6 (23:30 that evening) and
    I8; I7 (00:30 on 1 November here, still 31 October in UTC) is November's."""
    late = at(2026, 10, 31, 23, 50)
    dashboard = dashboard_for(personas["marketer"], now=late)
    assert values(dashboard)["inquiries_month"] == 2
    assert {r["name"]: r["inquiries"] for r in dashboard.rows} == {
        "Phone": 1,
        "E-mail": 1,
    }


def test_colleague_gets_no_dashboard(personas, leads):
    assert dashboard_for(personas["colleague"], now=NOW) is None


# --- speed at scale: a fixed number of queries ------------------------------------------


@pytest.mark.parametrize(
    ("persona", "limit"),
    [("director", 5), ("admin", 5), ("rep", 5), ("inside", 3), ("marketer", 2)],
)
def test_a_fixed_small_number_of_queries(
    personas, leads, inquiries, persona, limit, django_assert_max_num_queries
):
    dashboard_for(personas[persona], now=NOW)  # warm the calendar cache
    with django_assert_max_num_queries(limit):
        dashboard_for(personas[persona], now=NOW)
    # Ten more leads and inquiries: the same number of queries.
    for n in range(10):
        lead(personas["rep"], value=str(100 + n))
        make_inquiry(personas["inside"])
    with django_assert_max_num_queries(limit):
        dashboard_for(personas[persona], now=NOW)


# --- the page -------------------------------------------------------------------------


def page(personas, name: str, monkeypatch) -> str:
    monkeypatch.setattr(
        "leadflow.accounts.views.dashboard_for",
        functools.partial(dashboard_for, now=NOW),
    )
    client = Client()
    client.force_login(personas[name])
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def shown(html: str, key: str) -> str:
    match = re.search(rf'data-testid="value-{key}">([^<]*)<', html)
    assert match, key
    return match.group(1)


def test_home_page_shows_the_directors_dashboard(
    personas, leads, inquiries, monkeypatch
):
    html = page(personas, "director", monkeypatch)
    assert 'data-dashboard="team"' in html
    assert shown(html, "open_count") == "9"
    assert shown(html, "open_unweighted") == "€ 95,000"
    assert shown(html, "open_weighted") == "€ 31,250"
    assert shown(html, "forecast_weighted") == "€ 18,500"
    assert shown(html, "won_quarter") == "€ 46,000"
    assert shown(html, "win_rate") == cell(4 / 6, "ratio")
    assert shown(html, "oldest_waiting") == "54.0"
    assert "commit forecast: € 54,000" in html
    assert "same days last year: € 16,000" in html
    assert "closed in the last 90 days: 4 of 6." in html  # how it is counted
    assert 'href="/analytics/win-rates/?from=2026-08-23&amp;to=2026-11-20"' in html
    teams = re.search(r'data-testid="dashboard-teams">(.*?)</table>', html, re.S)
    cells = re.findall(r"<t[hd](?: [^>]*)?>(?:<a [^>]*>)?([^<]*)", teams.group(1))
    assert cells[5:10] == [
        "North",
        "6",
        "€ 17,500",
        "€ 30,000 (1)",
        cell(2 / 3, "ratio"),
    ]
    assert cells[10:15] == ["South", "2", "€ 10,000", "€ 15,000 (1)", "50.0 %"]
    assert 'data-testid="chart-won-per-month"' in html
    assert 'id="dashboard-chart"' in html and "chart.umd.min.js" in html
    # What the home page showed before is still there.
    assert 'data-testid="kpi-open"' in html
    assert "Oldest open inquiries" in html


def test_home_page_shows_the_reps_dashboard(personas, leads, inquiries, monkeypatch):
    html = page(personas, "rep", monkeypatch)
    assert 'data-dashboard="sales"' in html
    assert shown(html, "open_count") == "4"
    assert shown(html, "open_weighted") == "€ 17,500"
    assert shown(html, "overdue_activities") == "1"
    assert shown(html, "stalled") == "2"
    assert "chart.umd.min.js" not in html
    assert 'data-testid="my-day"' in html


def test_home_page_shows_the_outsiders_own_figures(
    personas, leads, inquiries, monkeypatch
):
    html = page(personas, "outsider", monkeypatch)
    assert shown(html, "open_unweighted") == "€ 40,000"
    assert shown(html, "won_quarter") == "€ 15,000"


def test_home_page_shows_inside_sales_figures(personas, leads, inquiries, monkeypatch):
    html = page(personas, "inside", monkeypatch)
    assert 'data-dashboard="inside"' in html
    assert shown(html, "triage_backlog") == "3"
    assert shown(html, "inquiries_week") == "3"
    assert shown(html, "speed_to_first_action") == "15.0"


def test_home_page_shows_marketing_figures(personas, inquiries, monkeypatch):
    html = page(personas, "marketer", monkeypatch)
    assert 'data-dashboard="marketing"' in html
    assert shown(html, "qualified_share") == "33.3 %"
    assert 'data-testid="dashboard-channels"' in html


def test_home_page_of_a_colleague_has_no_dashboard(personas, monkeypatch):
    html = page(personas, "colleague", monkeypatch)
    assert 'data-testid="dashboard"' not in html
    assert "Inquiries I registered" in html


def test_home_page_with_the_real_clock_renders(personas, leads, inquiries):
    """No pinned time: whatever today is, every role's page renders."""
    for name in ("director", "rep", "outsider", "inside", "marketer", "colleague"):
        client = Client()
        client.force_login(personas[name])
        assert client.get("/").status_code == 200


def test_a_ratio_is_rounded_on_the_page():
    assert cell(2 / 3, "ratio") == "66.7 %"
