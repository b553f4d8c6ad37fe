"""Report 9, process and ratios, against a small dataset computed by hand.

Local times (Europe/Brussels, winter time, UTC+1); the period is February 2026.
Working calendar: the default, Monday–Friday 08:30–17:30. 2 Feb 2026 is a Monday.

Inquiries (inside registers them, except I1: the rep took it in)
inq  channel   received        closed           outcome     in working hours  late  ≤1 h
I1   referral  Mon 02-02 09:00 02-02 09:30      qualified   yes               no    yes
I2   web_form  Mon 02-02 16:00 02-02 18:00      nurture     yes               yes   no
I3   phone     Tue 02-03 10:00 (open)           –           yes               yes   no
I4   phone     Sat 02-07 10:00 Mon 02-09 10:00  archived    no (weekend)      –     no
I5   referral  Wed 02-04 07:00 02-04 07:30      qualified   no (before 08:30) –     yes
I6   phone     Sat 02-28 23:30 Mon 03-02 09:00  archived    no                –     no
I7   phone     Sun 03-01 00:30 (open)           –           outside the period (22:30 / 23:30 UTC
                                                             on 28 February: only I6 counts)
Not closed within the working day: 2 (I2, I3) of 3 received in working hours → 66.7 %.
Speed to lead: 2 (I1, I5) of 6 → 33.3 %, benchmark 37 % → below.
Qualification rate: 2 (I1, I5) of 6 → 33.3 %: above Implisit 13 % and mv3 10–25 %.

Qualified leads (created in February unless said)
lead  owner     from  stage moves                             result (closed)
L1    rep       I1    qualification → negotiation 02-10 (skip) won 02-20 12:00
L2    outsider  I5    –                                       lost 02-25, with reason
L3    rep       –     –                                       lost 02-26, reason blank
L4    rep       –     qualification → proposal 02-11          open; a task without a due date
L5    outsider  –     → proposal 02-12, back to qualification open; a call due 03-15
                      02-13
L6    rep       –     –                                       nurture 02-27
L7    rep       –     (created 01-15)                         not going ahead 02-12, blank reason
Stage skips: 1 (L1) of 3 forward moves (L1, L4, L5; L5's move back is not forward).
No next activity: 1 (L4) of 2 open leads.
Lost / not going ahead without a reason: 2 (L3, L7) of 3 (L2, L3, L7).
Opportunity → won (cohort created in February, nurture and open left out):
1 (L1) ÷ (L1, L2, L3) = 33.3 %.
Lead → deal by channel: referral 1 won (L1) of 2 inquiries = 50 % (above 3.63 %);
web form 0 of 1 = 0 % (below 1.55 %); event: no inquiries (—).
Sales cycle (won, closed in February): L1 from I1 received 02-02 09:00 to 02-20 12:00
= 18 days 3 hours = 18.125 days; mean = median = 18.125: below every range.

Quotes made in February: Q1 on L4 (SCOTSMAN 5 of 8: passes the default threshold 5),
Q2 on L5 (SCOTSMAN 2: made by the director through a gate override), then sent and
revised (the revision is not counted again). Gate overrides 1 of 2; SCOTSMAN ≥
threshold 1 of 2.

The rep (team North) sees I1 only among the inquiries (they took it in) and the leads
of team North: L1, L3, L4, L6, L7.
"""

import csv
import io
from contextlib import contextmanager
from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.intake.actions import close_inquiry
from leadflow.intake.models import Channel
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    move_stage,
    revise_quote,
    send_quote,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import (
    make_draft_quote,
    make_lead,
    score_scotsman,
)

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Brussels")
PERIOD = {"from": "2026-02-01", "to": "2026-02-28"}


def local(month: int, day: int, hour: int = 10, minute: int = 0):
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@contextmanager
def clock(moment: datetime):
    """The real actions, run as if it were ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def inquiry(actor, *, received, channel, closed=None, outcome="", owner=None, by=None):
    """Registered by ``actor`` at ``received``; closed by ``by`` (default: actor)."""
    with clock(received):
        item = make_inquiry(actor, received_at=received, channel=channel)
    if closed:
        with clock(closed):
            close_inquiry(
                item,
                actor=by or actor,
                outcome=outcome,
                reason="test" if outcome != "qualified" else "",
                owner=owner,
            )
    return item


def lead_at(owner, moment, title):
    with clock(moment):
        return make_lead(owner, owner=owner, title=title)


def move(lead, actor, moment, stage):
    with clock(moment):
        move_stage(lead, actor=actor, stage=stage, reason="test")


def close(lead, actor, moment, result, reason="decided"):
    with clock(moment):
        kwargs = {}
        if result == "nurture":
            kwargs = {"follow_up_on": date(2026, 9, 1), "follow_up_by": "marketing"}
        close_opportunity(lead, actor=actor, result=result, reason=reason, **kwargs)


def blank_reason(lead):
    """An imported or legacy record: the action always asks for a reason."""
    Opportunity.objects.filter(pk=lead.pk).update(result_reason="  ")


@pytest.fixture
def process(personas):
    inside, rep, outsider = personas["inside"], personas["rep"], personas["outsider"]
    director = personas["director"]
    i1 = inquiry(
        rep,
        received=local(2, 2, 9),
        closed=local(2, 2, 9, 30),
        channel="referral",
        outcome="qualified",
        owner=rep,
        by=inside,
    )
    inquiry(
        inside,
        received=local(2, 2, 16),
        closed=local(2, 2, 18),
        channel="web_form",
        outcome="nurture",
    )
    inquiry(inside, received=local(2, 3, 10), channel="phone")
    inquiry(
        inside,
        received=local(2, 7, 10),
        closed=local(2, 9, 10),
        channel="phone",
        outcome="archived",
    )
    i5 = inquiry(
        inside,
        received=local(2, 4, 7),
        closed=local(2, 4, 7, 30),
        channel="referral",
        outcome="qualified",
        owner=outsider,
    )
    inquiry(
        inside,
        received=local(2, 28, 23, 30),
        closed=local(3, 2, 9),
        channel="phone",
        outcome="archived",
    )
    inquiry(inside, received=local(3, 1, 0, 30), channel="phone")

    l1 = Opportunity.objects.get(inquiry=i1)
    l2 = Opportunity.objects.get(inquiry=i5)
    move(l1, rep, local(2, 10), "negotiation")
    close(l1, rep, local(2, 20, 12), "won")
    close(l2, outsider, local(2, 25), "lost", reason="price")

    l3 = lead_at(rep, local(2, 5), "L3")
    close(l3, rep, local(2, 26), "lost")
    blank_reason(l3)

    l4 = lead_at(rep, local(2, 6), "L4")
    move(l4, rep, local(2, 11), "proposal")
    with clock(local(2, 6, 11)):
        add_activity(l4, actor=rep, kind="task", subject="Someday", assignee=rep)
        score_scotsman(l4, rep, 5)
        make_draft_quote(l4, rep)

    l5 = lead_at(outsider, local(2, 6), "L5")
    move(l5, outsider, local(2, 12), "proposal")
    move(l5, outsider, local(2, 13), "qualification")
    with clock(local(2, 14)):
        add_activity(
            l5,
            actor=outsider,
            kind="call",
            subject="Call the buyer",
            assignee=outsider,
            due_at=local(3, 15),
        )
        score_scotsman(l5, outsider, 2)
        q2 = make_draft_quote(l5, director, override_reason="Framework renewal")
        sent = send_quote(q2, actor=director)
    with clock(local(2, 16)):
        revise_quote(sent, actor=director)

    l6 = lead_at(rep, local(2, 9), "L6")
    close(l6, rep, local(2, 27), "nurture")

    l7 = lead_at(rep, local(1, 15), "L7")
    close(l7, rep, local(2, 12), "not_going_ahead")
    blank_reason(l7)
    return {"L1": l1, "L2": l2, "L3": l3, "L4": l4, "L5": l5, "L6": l6, "L7": l7}


def compute(user, **filters):
    values = {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28), **filters}
    return REPORTS["process"].compute(Scope(user, ReportFilters(**values)))


def checks(result) -> dict[str, tuple]:
    return {
        row["check"]: (row["count"], row["base"], row["share"])
        for row in result.table("compliance").rows
    }


LATE = "Inquiries not closed within the working day"
OVERRIDE = "Quotes made through a gate override"
SCOTSMAN = "Quotes with SCOTSMAN at or above the threshold"
SKIPS = "Stage moves that skipped a stage"
IDLE = "Open qualified leads without a next activity"
NO_REASON = "Lost / not going ahead without a reason"


def ratios(result) -> dict[tuple, dict]:
    return {
        (r["benchmark"], r["source_short"]): r for r in result.table("benchmarks").rows
    }


# --- the exceptions ---------------------------------------------------------------------


def test_compliance_counts(process, director):
    result = compute(director)
    got = checks(result)
    assert got[LATE][:2] == (2, 3)
    assert got[LATE][2] == pytest.approx(2 / 3)
    assert got[OVERRIDE] == (1, 2, 0.5)
    assert got[SCOTSMAN] == (1, 2, 0.5)
    assert got[SKIPS][:2] == (1, 3)
    assert got[IDLE] == (1, 2, 0.5)
    assert got[NO_REASON][:2] == (2, 3)
    figures = {str(label): value for label, value, _kind in result.figures}
    assert figures["Gate overrides"] == 1
    assert figures["Stage skips"] == 1
    assert figures["Open leads without a next activity"] == 1


def test_the_lists_name_the_records(process, director):
    result = compute(director)
    late = result.table("late_inquiries").rows
    assert [r["received"] for r in late] == [date(2026, 2, 3), date(2026, 2, 2)]
    assert late[0]["closed"] is None
    assert late[1]["closed"] == date(2026, 2, 2)
    assert late[0]["url"].startswith("/inquiries/")
    (override,) = result.table("overrides").rows
    assert override["lead"] == "L5"
    assert override["scotsman_met"] == 2
    assert override["reason"] == "Framework renewal"
    assert override["url"] == f"/opportunities/{process['L5'].pk}/"
    (skip,) = result.table("skips").rows
    assert skip["url"] == f"/opportunities/{process['L1'].pk}/"
    assert (skip["from_stage"], skip["to_stage"], skip["skipped"]) == (
        "Qualification",
        "Negotiation",
        1,
    )
    assert skip["at"] == date(2026, 2, 10)
    assert [r["lead"] for r in result.table("no_next_activity").rows] == ["L4"]
    no_reason = result.table("no_reason").rows
    assert [(r["lead"], r["result"]) for r in no_reason] == [
        ("L3", "Lost"),
        ("L7", "Not going ahead"),
    ]


def test_list_limit_is_twenty(personas, director):
    inside = personas["inside"]
    for day in range(2, 27):  # 25 days, 19 working days in February from the 2nd
        inquiry(inside, received=local(2, day, 10), channel="phone")
    result = compute(director)
    assert checks(result)[LATE][:2] == (19, 19)
    assert len(result.table("late_inquiries").rows) == 19
    for day in (2, 3, 4):
        inquiry(inside, received=local(2, day, 11), channel="phone")
    assert len(compute(director).table("late_inquiries").rows) == 20


# --- our ratios next to the benchmarks ---------------------------------------------------


def test_ratios_next_to_the_benchmarks(process, director):
    rows = ratios(compute(director))
    speed = rows[("Responded to a web lead within one hour", "Oldroyd")]
    assert speed["ours"] == pytest.approx(2 / 6)
    assert speed["basis"] == 6
    assert float(speed["low"]) == 0.37
    assert speed["year"] == "2011"
    assert speed["position"] == "below"
    implisit = rows[("Lead → opportunity", "Implisit")]
    assert implisit["ours"] == pytest.approx(2 / 6)
    assert implisit["position"] == "above"
    assert rows[("Inquiry → MQL", "mv3marketing glossary")]["position"] == "above"
    fairview = rows[("Opportunity → won", "Fairview")]
    assert fairview["ours"] == pytest.approx(1 / 3)
    assert fairview["basis"] == 3
    assert fairview["position"] == "within"  # 20–35 %
    assert rows[("Opportunity → deal", "Implisit")]["position"] == "above"
    assert rows[("Win rate on forecast deals", "CSO Insights")]["position"] == "below"
    referral = rows[("Lead → deal: referrals", "Implisit")]
    assert (referral["ours"], referral["basis"], referral["position"]) == (
        0.5,
        2,
        "above",
    )
    assert referral["segment"] == "Referral"
    web = rows[("Lead → deal: website", "Implisit")]
    assert (web["ours"], web["basis"], web["position"]) == (0.0, 1, "below")
    event = rows[("Lead → deal: trade shows", "Implisit")]
    assert (event["ours"], event["basis"], event["position"]) == (None, 0, "")
    # No channel of ours is called "social" or "webinar": nothing to compare.
    assert ("Lead → deal: social", "Implisit") not in rows


def test_sales_cycle_next_to_the_benchmarks(process, director):
    cycle = compute(director).table("cycle").rows
    assert len(cycle) == 5
    for row in cycle:
        assert row["ours"] == pytest.approx(18.125)
        assert row["median"] == pytest.approx(18.125)
        assert row["basis"] == 1
        assert row["position"] == "below"
    assert {(float(r["low"]), float(r["high"])) for r in cycle} == {
        (30, 180),
        (120, 180),
        (30, 90),
        (180, 270),
        (198, 198),
    }


def test_an_inactive_benchmark_is_left_out(process, director):
    from leadflow.analytics.models import Benchmark

    Benchmark.objects.filter(metric="speed_to_lead_1h").update(is_active=False)
    names = {r["benchmark"] for r in compute(director).table("benchmarks").rows}
    assert "Responded to a web lead within one hour" not in names


def test_stage_weights_table(process, director, rep):
    rows = compute(director).table("stage_weights").rows
    assert [r["stage"] for r in rows] == [
        "Qualification",
        "Proposal / quote",
        "Negotiation",
    ]
    # Closed: L1 won, L2 L3 L6 L7 never moved; 5 < 20: no observed figure yet.
    assert [r["passed"] for r in rows] == [5, 1, 1]
    assert all(r["observed"] is None for r in rows)
    assert rows[0]["url"] == "/analytics/calibration/"
    # A salesperson may not open the calibration page: no link.
    assert compute(rep).table("stage_weights").rows[0]["url"] == ""


# --- time zone, scope, filters, no data --------------------------------------------------


def test_the_last_evening_of_the_month_counts_in_that_month(process, director):
    # I6 (23:30 on 28 February) is in; I7 (00:30 on 1 March, still 28 Feb in UTC) out.
    rows = ratios(compute(director))
    assert rows[("Lead → opportunity", "Implisit")]["basis"] == 6
    march = ratios(
        compute(director, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    assert march[("Lead → opportunity", "Implisit")]["basis"] == 1


def test_a_salesperson_sees_their_scope(process, rep):
    result = compute(rep)
    got = checks(result)
    assert got[LATE][:2] == (0, 1)  # I1 only, closed in time
    assert got[OVERRIDE][:2] == (0, 1)  # Q1 on L4; Q2 is on the outsider's L5
    assert got[SKIPS][:2] == (1, 2)  # L1 and L4
    assert got[IDLE][:2] == (1, 1)  # L4
    assert got[NO_REASON][:2] == (2, 2)  # L3, L7
    assert result.table("overrides").rows == []
    assert [r["lead"] for r in result.table("no_next_activity").rows] == ["L4"]


def test_marketing_sees_figures_but_no_lead_in_the_lists(process, marketer):
    result = compute(marketer)
    assert checks(result)[OVERRIDE][:2] == (1, 2)
    assert result.table("overrides").rows == []
    assert result.table("skips").rows == []
    assert result.table("no_next_activity").rows == []
    assert result.table("no_reason").rows == []
    assert len(result.table("late_inquiries").rows) == 2  # marketing sees inquiries


def test_each_filter_narrows(process, director, outsider):
    referral = Channel.objects.get(code="referral").pk
    by_channel = compute(director, channel=referral)
    got = checks(by_channel)
    assert got[LATE][:2] == (0, 1)  # I1
    assert got[NO_REASON][:2] == (0, 1)  # L2 has a reason
    assert got[SKIPS][:2] == (1, 1)  # L1
    rows = ratios(by_channel)
    assert rows[("Lead → opportunity", "Implisit")]["ours"] == 1.0
    assert rows[("Opportunity → won", "Fairview")]["ours"] == 0.5
    by_person = checks(compute(director, person=outsider.pk))
    assert by_person[OVERRIDE][:2] == (1, 1)  # Q2 on L5
    assert by_person[IDLE][:2] == (0, 1)  # L5 has a call planned
    assert by_person[SKIPS][:2] == (0, 1)  # L5's forward move


def test_service_type_and_industry_filters_join_without_ambiguity(process, director):
    # The late-inquiry SQL names its columns by table: the joins of these filters
    # (to the lead and the company) bring columns of the same name.
    Opportunity.objects.filter(pk=process["L1"].pk).update(service_type="Installation")
    got = checks(compute(director, service_type="Installation"))
    assert got[LATE][:2] == (0, 1)  # I1, the inquiry of L1
    assert got[SKIPS][:2] == (1, 1)
    assert checks(compute(director, industry="Shipbuilding"))[LATE] == (0, 0, None)


def test_no_data_no_crash(personas, director):
    result = compute(director)
    got = checks(result)
    assert all(value == (0, 0, None) for value in got.values())
    for key in ("late_inquiries", "overrides", "skips", "no_next_activity"):
        assert result.table(key).rows == []
    for row in result.table("benchmarks").rows:
        assert row["ours"] is None and row["position"] == ""
    assert all(r["ours"] is None for r in result.table("cycle").rows)


def test_a_holiday_has_no_working_hours(process, director):
    from leadflow.core.models import Holiday
    from leadflow.core.worktime import forget_calendar

    Holiday.objects.create(day=date(2026, 2, 3), name="Company day")
    forget_calendar()
    # I3 (Tuesday 3 February, 10:00) no longer came in within working hours.
    assert checks(compute(director))[LATE][:2] == (1, 2)


def test_a_period_without_working_days(process, director):
    weekend = compute(director, date_from=date(2026, 2, 7), date_to=date(2026, 2, 8))
    assert checks(weekend)[LATE] == (0, 0, None)


# --- page, export, API -------------------------------------------------------------------


def test_page_shows_the_numbers(process, client, director):
    client.force_login(director)
    response = client.get("/analytics/process/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="table-compliance"' in html
    assert LATE in html
    row = html[html.index(f'<th scope="row">{LATE}</th>') :]
    row = row[: row.index("</tr>")]
    assert '<td class="num">2</td><td class="num">3</td>' in row
    assert "50.0 %" in html  # gate overrides 1 of 2
    assert 'data-testid="table-benchmarks"' in html
    assert "Harvard Business Review" in html
    assert 'href="/analytics/calibration/"' in html


def test_page_rounds_the_share(process, client, director):
    client.force_login(director)
    html = client.get("/analytics/process/", PERIOD).content.decode()
    row = html[html.index(f'<th scope="row">{LATE}</th>') :]
    assert "66.7 %" in row[: row.index("</tr>")]


def test_csv_export(process, client, director):
    client.force_login(director)
    response = client.get(
        "/analytics/process/", {**PERIOD, "format": "csv", "table": "compliance"}
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    late = next(r for r in rows if r and r[0] == LATE)
    assert late[1:3] == ["2", "3"]


def test_api_json(process, api_as):
    response = api_as("director").get("/api/analytics/process", PERIOD)
    assert response.status_code == 200
    body = response.json()
    tables = {t["key"]: t for t in body["tables"]}
    late = next(r for r in tables["compliance"]["rows"] if r["check"] == LATE)
    assert (late["count"], late["base"]) == (2, 3)
    speed = tables["benchmarks"]["rows"][0]
    assert speed["ours"] == pytest.approx(1 / 3)
    assert speed["low"] == 0.37
    assert speed["position"] == "below"


def test_api_rejects_unknown_filters_and_colleagues(personas, api_as, client):
    bad = api_as("director").get("/api/analytics/process", {"channel": "99999"})
    assert bad.status_code == 422
    assert api_as("colleague").get("/api/analytics/process").status_code == 403
    client.force_login(personas["colleague"])
    assert client.get("/analytics/process/").status_code == 403
