"""Report 6, efficiency, against small datasets computed by hand (times local,
Europe/Brussels; the period is 2026-01-01..03-31). Each section has its own fixture,
with its table in the fixture's docstring."""

import csv
import io
from datetime import date

import pytest

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.analytics.tests.test_report_cycle_times import (
    PERIOD,
    clock,
    close,
    disqualified,
    local,
    qualified,
    send,
)
from leadflow.contacts.models import Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import book_order, close_inquiry
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    add_activity,
    revise_quote,
    send_quote,
    set_activity_done,
    set_stakeholder,
    update_opportunity,
)
from leadflow.opportunities.tests.pipeline_factories import make_lead, make_person


def compute(user, **filters):
    values = {"date_from": date(2026, 1, 1), "date_to": date(2026, 3, 31), **filters}
    return REPORTS["efficiency"].compute(Scope(user, ReportFilters(**values)))


def by_name(table):
    return {row["name"]: row for row in table.rows}


def figures(result):
    return {str(label): value for label, value, _kind in result.figures}


# --- speed to first action ---------------------------------------------------------


@pytest.fixture
def speed(personas):
    """inquiry  received (local)   first action            by        hours
    I1       01-05 10:00        closed 01-05 10:30       inside    0.5
    I2       01-06 10:00        closed 01-06 12:00       inside    2
    I3       01-07 10:00        closed 01-09 10:00       director  48
    I4       01-08 10:00        still open               nobody    –
    I5       01-01 00:30        closed 01-01 01:00       inside    0.5
             (= 31 December 23:30 UTC: in the period, by local time)
    I6       03-31 23:30        closed 04-01 00:15       inside    0.75
    I7       2025-12-31 23:30   closed 2026-01-01 00:10  inside    outside the period

    inside: 4 inquiries, median of [0.5, 2, 0.5, 0.75] = 0.625; ≤1 h 3/4; ≤24 h 4/4.
    director: 1, median 48, 0/1, 0/1. nobody: 1, no first action, 0/1, 0/1.
    All: 6 inquiries, 5 acted, median of [0.5, 0.5, 0.75, 2, 48] = 0.75;
    ≤1 h 3/6 = 0.5; ≤24 h 4/6."""
    inside, director, rep = personas["inside"], personas["director"], personas["rep"]

    def inquiry(received, closed, closer, outcome="archived"):
        with clock(closed or received):
            made = make_inquiry(inside, received_at=received)
            if closed:
                close_inquiry(
                    made,
                    actor=closer,
                    outcome=outcome,
                    reason="test",
                    owner=rep if outcome == "qualified" else None,
                )

    inquiry(local(1, 5), local(1, 5, 10, 30), inside, "qualified")
    inquiry(local(1, 6), local(1, 6, 12), inside)
    inquiry(local(1, 7), local(1, 9), director, "nurture")
    inquiry(local(1, 8), None, None)
    inquiry(local(1, 1, 0, 30), local(1, 1, 1), inside)
    inquiry(local(3, 31, 23, 30), local(4, 1, 0, 15), inside)
    inquiry(local(12, 31, 23, 30, year=2025), local(1, 1, 0, 10), inside)


def test_speed_to_first_action_per_person(speed, director, personas):
    result = compute(director)
    rows = by_name(result.table("speed"))
    inside = rows[str(personas["inside"])]
    assert (inside["inquiries"], inside["acted"]) == (4, 4)
    assert inside["median_hours"] == pytest.approx(0.625)
    assert inside["within_hour"] == pytest.approx(0.75)
    assert inside["within_day"] == pytest.approx(1.0)
    boss = rows[str(personas["director"])]
    assert (boss["inquiries"], boss["median_hours"]) == (1, pytest.approx(48))
    assert (boss["within_hour"], boss["within_day"]) == (0, 0)
    nobody = rows["Nobody"]
    assert (nobody["inquiries"], nobody["acted"], nobody["median_hours"]) == (
        1,
        0,
        None,
    )
    totals = result.table("speed").totals
    assert (totals["inquiries"], totals["acted"]) == (6, 5)
    assert totals["median_hours"] == pytest.approx(0.75)
    assert totals["within_hour"] == pytest.approx(0.5)
    assert totals["within_day"] == pytest.approx(4 / 6)
    assert figures(result)["Median hours to first action"] == pytest.approx(0.75)


def test_speed_counts_a_reception_by_local_date(speed, director):
    december = compute(
        director, date_from=date(2025, 12, 1), date_to=date(2025, 12, 31)
    ).table("speed")
    assert december.totals["inquiries"] == 1  # I7, not I5
    january_first = compute(
        director, date_from=date(2026, 1, 1), date_to=date(2026, 1, 1)
    ).table("speed")
    assert january_first.totals["inquiries"] == 1  # I5
    assert january_first.totals["median_hours"] == pytest.approx(0.5)


# --- sales time, follow-up, quotes per order, documentation ------------------------


@pytest.fixture
def sales(personas):
    """Leads without an inquiry, all activities done, due and quoted in the period
    unless said otherwise.

    lead  owner     result            activities (assignee = owner)
    Lw    rep       won 02-20         call 30 min (due 02-01 10:00, done 02-01 09:00: on
                                      time); appointment 90 min (due 02-02, done 02-03:
                                      late). Quotes: sent 02-05, revision sent 02-06.
    Lw2   rep       won 03-10         –
    Ll    rep       lost 02-25        appointment 120 min (no due date). Quote sent 02-10.
    Ll2   outsider  lost 03-05        appointment 180 min (due 04-05: outside the
                                      period). Quotes: sent 02-11, revision 02-12.
    Ln    outsider  not going ahead   call 45 min (due 01-20, done 01-19: on time)
                    03-06
    Lo    rep       open              task, no duration (due 02-10 10:00, done 02-10
                                      10:00: on time); call 15 min not done (due 03-01:
                                      overdue); call 30 min done 2025-12-15 (outside).

    Hours by result: won 2 (2 activities: 1 call, 1 appointment); lost 5 (2
    appointments); not going ahead 0.75 (1 call); nurture 0; open 0 (1 task).
    Total 7.75 h. Per person: rep 4 activities, won 2 h, lost 2 h → 4 h, lost share
    0.5; outsider 2 activities, lost 3 h, not going ahead 0.75 h → 3.75 h, 0.8.

    Follow-up (due in the period, up to now): rep due 4, on time 2, late 1, open 1
    (0.5); outsider due 1, on time 1 (1.0). Total 5, 3 on time (0.6).

    Quotes per order: rep 3 sent, 2 won → 1.5 (hit rate 2/3); outsider 2 sent, 0 won
    → none (hit rate 0). Total 5 / 2 = 2.5, hit rate 0.4.

    Completeness (value, decision date, service, SCOTSMAN scorecard, stakeholder):
    Lw 5 (high), Lw2 3 (value, date, service: medium), Ll 1 (scorecard: low),
    Ll2 4 (scorecard, value, date, service: medium), Ln 0 (low).
    low 2 closed, 0 won → 0; medium 2, 1 won → 0.5; high 1, 1 → 1."""
    rep, outsider = personas["rep"], personas["outsider"]

    def lead(owner, title, *, documented=False, stakeholder=False):
        with clock(local(1, 2)):
            made = make_lead(owner, owner=owner, title=title)
            if documented:
                update_opportunity(
                    made,
                    actor=owner,
                    expected_value=10000,
                    decision_date=date(2026, 3, 1),
                    service_type="Installation",
                )
            if stakeholder:
                set_stakeholder(
                    made, actor=owner, contact=make_person(), role="decision_maker"
                )
        return made

    def activity(made, owner, kind, minutes, *, due=None, done=None):
        with clock(local(1, 3)):
            act = add_activity(
                made,
                actor=owner,
                kind=kind,
                subject="work",
                assignee=owner,
                due_at=due,
                duration_minutes=minutes,
            )
        if done:
            with clock(done):
                set_activity_done(act, actor=owner, done=True)

    lw = lead(rep, "Lw", documented=True, stakeholder=True)
    activity(lw, rep, "call", 30, due=local(2, 1), done=local(2, 1, 9))
    activity(lw, rep, "appointment", 90, due=local(2, 2), done=local(2, 3))
    first = send(lw, rep, local(2, 5))
    with clock(local(2, 6)):
        send_quote(revise_quote(first, actor=rep), actor=rep)
    close(lw, rep, local(2, 20), "won")

    lw2 = lead(rep, "Lw2", documented=True)
    close(lw2, rep, local(3, 10), "won")

    ll = lead(rep, "Ll")
    activity(ll, rep, "appointment", 120, done=local(2, 4))
    send(ll, rep, local(2, 10))
    close(ll, rep, local(2, 25), "lost")

    ll2 = lead(outsider, "Ll2", documented=True)
    activity(ll2, outsider, "appointment", 180, due=local(4, 5), done=local(3, 1))
    first = send(ll2, outsider, local(2, 11))
    with clock(local(2, 12)):
        send_quote(revise_quote(first, actor=outsider), actor=outsider)
    close(ll2, outsider, local(3, 5), "lost")

    ln = lead(outsider, "Ln")
    activity(ln, outsider, "call", 45, due=local(1, 20), done=local(1, 19))
    close(ln, outsider, local(3, 6), "not_going_ahead")

    lo = lead(rep, "Lo")
    activity(lo, rep, "task", None, due=local(2, 10), done=local(2, 10))
    activity(lo, rep, "call", 15, due=local(3, 1))
    activity(lo, rep, "call", 30, done=local(12, 15, year=2025))


def test_where_sales_time_goes_by_result(sales, director):
    result = compute(director)
    rows = by_name(result.table("time-by-outcome"))
    assert [(r["name"], r["activities"], r["hours"]) for r in rows.values()] == [
        ("Won", 2, pytest.approx(2)),
        ("Lost", 2, pytest.approx(5)),
        ("Not going ahead", 1, pytest.approx(0.75)),
        ("Nurture", 0, 0),
        ("Open", 1, 0),
    ]
    assert (rows["Won"]["calls"], rows["Won"]["appointments"]) == (1, 1)
    assert (rows["Lost"]["appointments"], rows["Open"]["tasks"]) == (2, 1)
    assert rows["Lost"]["share"] == pytest.approx(5 / 7.75)
    assert result.table("time-by-outcome").totals["hours"] == pytest.approx(7.75)
    assert figures(result)["Hours spent on lost leads"] == pytest.approx(5)


def test_where_sales_time_goes_by_person(sales, director, personas):
    rows = by_name(compute(director).table("time-by-person"))
    rep = rows[str(personas["rep"])]
    assert (rep["activities"], rep["won"], rep["lost"], rep["hours"]) == (
        4,
        pytest.approx(2),
        pytest.approx(2),
        pytest.approx(4),
    )
    assert rep["lost_share"] == pytest.approx(0.5)
    outsider = rows[str(personas["outsider"])]
    assert outsider["not_going_ahead"] == pytest.approx(0.75)
    assert outsider["hours"] == pytest.approx(3.75)
    assert outsider["lost_share"] == pytest.approx(0.8)


def test_who_follows_up_on_time(sales, director, personas):
    result = compute(director)
    rows = by_name(result.table("follow-up"))
    rep = rows[str(personas["rep"])]
    assert (rep["due"], rep["on_time"], rep["late"], rep["open"]) == (4, 2, 1, 1)
    assert rep["on_time_share"] == pytest.approx(0.5)
    assert rows[str(personas["outsider"])]["on_time_share"] == pytest.approx(1.0)
    totals = result.table("follow-up").totals
    assert (totals["due"], totals["on_time"]) == (5, 3)
    assert figures(result)["Activities done on time"] == pytest.approx(0.6)


def test_quotes_per_order(sales, director, personas):
    result = compute(director)
    rows = by_name(result.table("quotes-per-order"))
    rep = rows[str(personas["rep"])]
    assert (rep["quotes_sent"], rep["won"]) == (3, 2)
    assert rep["quotes_per_order"] == pytest.approx(1.5)
    assert rep["hit_rate"] == pytest.approx(2 / 3)
    outsider = rows[str(personas["outsider"])]
    assert (outsider["quotes_sent"], outsider["won"]) == (2, 0)
    assert (outsider["quotes_per_order"], outsider["hit_rate"]) == (None, 0)
    totals = result.table("quotes-per-order").totals
    assert totals["quotes_per_order"] == pytest.approx(2.5)
    assert totals["hit_rate"] == pytest.approx(0.4)


def test_documentation_completeness_and_win_rate(sales, director):
    rows = compute(director).table("completeness").rows
    assert [(r["closed"], r["won"], r["win_rate"]) for r in rows] == [
        (2, 0, 0),
        (2, 1, pytest.approx(0.5)),
        (1, 1, pytest.approx(1.0)),
    ]


def test_a_salesperson_sees_their_own_and_their_teams_leads(sales, rep, personas):
    result = compute(rep)
    hours = {r["name"]: r["hours"] for r in result.table("time-by-outcome").rows}
    assert hours["Won"] == pytest.approx(2)
    assert hours["Lost"] == pytest.approx(2)
    assert hours["Not going ahead"] == 0
    assert [r["name"] for r in result.table("follow-up").rows] == [str(personas["rep"])]
    assert result.table("quotes-per-order").totals["quotes_sent"] == 3


def test_filters_narrow(sales, director, personas):
    result = compute(director, person=personas["outsider"].pk)
    assert [r["name"] for r in result.table("quotes-per-order").rows] == [
        str(personas["outsider"])
    ]
    assert result.table("time-by-outcome").totals["hours"] == pytest.approx(3.75)
    february = compute(director, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    # Done in February: Lw's call and appointment, Ll's appointment (4 h).
    assert february.table("time-by-outcome").totals["hours"] == pytest.approx(4)
    by_service = compute(director, service_type="Installation")
    assert [r["closed"] for r in by_service.table("completeness").rows] == [0, 2, 1]


# --- contact type at the time of the inquiry ------------------------------------


@pytest.fixture
def contact_types(personas):
    """inquiry  requester                             received  result      type
    A2       new contact at Acme (Acme won a lead   01-10     won 02-10   customer
             in 2025-11 through A1)
    C1       imported customer (lifecycle), 2025    01-15     lost 02-15  customer
    O1       contact with an order of 2025-12-01    03-10     archived    customer
    K1       prospect created 2025-06-01            02-01     won 03-01   known
             (now a customer through that win)
    K2       prospect created 2025-06-01            02-05     archived    known
    U1       new                                    02-10     lost 03-05  unknown
    U2       new                                    03-01     not going   unknown
                                                              ahead 03-20
    U3       new, registered 03-03 (backdated)      03-02     open        unknown

    customer: 3 inquiries, 2 qualified, 2 decided, 1 won → win rate 0.5, 1/3.
    known: 2, 1 qualified, 1 decided, 1 won → 1.0, 0.5.
    unknown: 3, 2 qualified, 2 decided, 0 won → 0.0, 0."""
    inside, rep = personas["inside"], personas["rep"]
    with clock(local(6, 1, year=2025)):
        a1 = make_contact("A1", company="Acme NV")
        c1 = make_contact("C1")
        k1, k2 = make_contact("K1"), make_contact("K2")
        o1 = make_contact("O1")
    Contact.objects.filter(pk=c1.pk).update(lifecycle="customer")
    old = qualified(
        inside,
        received=local(10, 1, year=2025),
        at=local(10, 2, year=2025),
        owner=rep,
        contact=a1,
    )
    close(old, rep, local(11, 1, year=2025), "won")
    with clock(local(12, 1, year=2025)):
        book_order(
            actor=inside,
            description="chairs",
            contact=o1,
            ordered_at=local(12, 1, year=2025),
        )

    with clock(local(1, 11)):
        a2 = make_inquiry(inside, company="Acme NV", received_at=local(1, 10))
        close_inquiry(a2, actor=inside, outcome="qualified", owner=rep)
    close(a2.opportunity, rep, local(2, 10), "won")
    lead = qualified(
        inside, received=local(1, 15), at=local(1, 16), owner=rep, contact=c1
    )
    close(lead, rep, local(2, 15), "lost")
    disqualified(inside, received=local(3, 10), at=local(3, 11), contact=o1)
    lead = qualified(
        inside, received=local(2, 1), at=local(2, 2), owner=rep, contact=k1
    )
    close(lead, rep, local(3, 1), "won")
    disqualified(inside, received=local(2, 5), at=local(2, 6), contact=k2)
    lead = qualified(inside, received=local(2, 10), at=local(2, 11), owner=rep)
    close(lead, rep, local(3, 5), "lost")
    lead = qualified(inside, received=local(3, 1), at=local(3, 2), owner=rep)
    close(lead, rep, local(3, 20), "not_going_ahead")
    with clock(local(3, 3)):
        make_inquiry(inside, received_at=local(3, 2))


def test_win_rate_by_contact_type(contact_types, director):
    rows = compute(director).table("contact-type").rows
    assert [(r["inquiries"], r["qualified"], r["closed"], r["won"]) for r in rows] == [
        (3, 2, 2, 1),
        (2, 1, 1, 1),
        (3, 2, 2, 0),
    ]
    assert [r["win_rate"] for r in rows] == [
        pytest.approx(0.5),
        pytest.approx(1.0),
        0,
    ]
    assert [r["conversion"] for r in rows] == [pytest.approx(1 / 3), 0.5, 0]


# --- edge cases, page, export, API ---------------------------------------------


def test_no_data(personas, director):
    result = compute(director)
    assert result.table("speed").rows == []
    assert result.table("speed").totals["median_hours"] is None
    assert all(r["hours"] == 0 for r in result.table("time-by-outcome").rows)
    assert [r["win_rate"] for r in result.table("completeness").rows] == [None] * 3
    assert [r["win_rate"] for r in result.table("contact-type").rows] == [None] * 3
    assert result.table("quotes-per-order").totals["quotes_per_order"] is None
    assert result.table("follow-up").totals["on_time_share"] is None


def test_page_shows_the_numbers(sales, client, director):
    client.force_login(director)
    response = client.get("/analytics/efficiency/", PERIOD)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        '<th scope="row">Lost</th><td class="num">2</td><td class="num">2</td>'
        '<td class="num">0</td><td class="num">0</td><td class="num">5.0</td>'
    ) in body
    assert 'data-testid="chart-win-rate-by-completeness"' in body


def test_csv_export_of_quotes_per_order(sales, client, director):
    client.force_login(director)
    response = client.get(
        "/analytics/efficiency/",
        {**PERIOD, "format": "csv", "table": "quotes-per-order"},
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Owner", "Quotes sent", "Won", "Quotes per order", "Hit rate"]
    assert rows[1][1:4] == ["3", "2", "1.5"]
    assert rows[-1] == ["", "5", "2", "2.5", "0.4"]


def test_api_json(sales, api_as):
    response = api_as("director").get("/api/analytics/efficiency", PERIOD)
    assert response.status_code == 200
    tables = {t["key"]: t for t in response.json()["tables"]}
    assert tables["completeness"]["rows"][2]["win_rate"] == 1.0
    assert tables["follow-up"]["totals"]["on_time_share"] == pytest.approx(0.6)


def test_api_refuses_a_colleague_and_an_unknown_filter(api_as, personas):
    assert api_as("colleague").get("/api/analytics/efficiency").status_code == 403
    response = api_as("director").get("/api/analytics/efficiency", {"team": "999"})
    assert response.status_code == 422


def test_one_inquiry_and_nothing_else(personas, director):
    with clock(local(2, 1, 11)):
        make_inquiry(personas["inside"], received_at=local(2, 1, 10))
    speed = compute(director).table("speed")
    assert (speed.totals["inquiries"], speed.totals["acted"]) == (1, 0)
    assert speed.totals["within_day"] == 0
    unknown = compute(director).table("contact-type").rows[2]
    assert (unknown["inquiries"], unknown["win_rate"]) == (1, None)
