"""Report 3, sources, against a small hand-computed dataset.

Inquiries (local Brussels time; department Sales unless said; Spring = the campaign
"Spring mailing", channel E-mail, 2026-03-01 – 2026-03-31):

inq  by      channel   campaign  customer          received             result                    new customer?
Q1   rep     phone     –         Alpha NV          Mon 03-02 10:00      won 10000 (closed 03-15)  yes: no history
Q2   rep     email     Spring    Beta NV           03-05 10:00          won  5000                 no: an order on 2026-01-10
Q3   inside  email     Spring    contact P3 only   03-10 10:00          won  2000                 yes: P3's order is later (04-15)
Q4   inside  web form  Spring    Gamma NV,Service  03-12 10:00          qualified 7000, open      – (not won)
Q5   inside  phone     –         Alpha NV (Q1's)   03-20 10:00          won  3000                 no: Q1 won on 03-15
Q6   inside  phone     –, referred by Jan Peeters  03-31 23:30 CEST     archived (Service)        – (23:30 local = 21:30 UTC: March)
Q7   inside  email     –         Delta NV          03-25 10:00          nurture                   –
Q8   inside  phone     –         Zeta NV           03-03 10:00          won  4000                 yes: Zeta's other win (Q10) closed later
Q9   inside  email     –         new person        04-01 00:30 CEST     open                      (April: 22:30 UTC on 03-31)
Q10  inside  phone     –         Zeta NV (Q8's)    02-10 10:00          won  6000 (closed 03-20)  (February)
Q11  inside  phone     –         new person        02-28 23:50 CET      open                      (February)

March (1–31), seen by the director:
channel   inquiries  qualified  won  won value  new  previous period (01-29 – 02-28)  velocity
Phone     4          3          3    17000      2    2 (Q10, Q11)                    (4−2)/2 = 1.0
E-mail    3          2          2     7000      1    0                               —
Web form  1          1          0        0      0    0                               —
total     8          6          5    24000      3    2                               (8−2)/2 = 3.0
qualification rate 6/8 = 0.75; inquiry → won 5/8 = 0.625.

campaign       channel  starts      ends        inq  qual  qualified value  won  won value  new
No campaign    –        –           –           5    3     17000            3    17000      2
Spring mailing E-mail   2026-03-01  2026-03-31  3    3     14000            2     7000      1

Department March: Sales 6, Service 2. February–March per month: Sales 2 + 6 = 8,
Service 0 + 2 = 2; by channel: Phone [2, 4], E-mail [0, 3], Web form [0, 1].
April: 1 inquiry (Q9); its previous period (03-02 – 03-31, 30 days) holds all 8 March
inquiries → velocity (1 − 8)/8 = −0.875.
The rep registered Q1 and Q2 and owns every lead: they see what they took in and the
inquiries behind their leads — March: Phone Q1, Q5, Q8 (3 won, new Q1 and Q8), E-mail
Q2, Q3 (2 won, new Q3), Web form Q4 (open) → 6 inquiries, 3 new customers. Q6, Q7 (no
lead, taken in by inside) stay out.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import Scope, parse_filters
from leadflow.intake.actions import book_order, close_inquiry
from leadflow.intake.models import Campaign, Channel
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import close_opportunity
from leadflow.opportunities.models import Opportunity

BXL = ZoneInfo("Europe/Brussels")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BXL)


def qualify(inquiry, actor, owner, value, *, won=False, closed_at=None):
    close_inquiry(
        inquiry,
        actor=actor,
        outcome="qualified",
        owner=owner,
        expected_value=Decimal(value),
    )
    lead = Opportunity.objects.get(inquiry=inquiry)
    if won:
        close_opportunity(lead, actor=owner, result="won", reason="signed")
        if closed_at:
            Opportunity.objects.filter(pk=lead.pk).update(closed_at=closed_at)
    return lead


@pytest.fixture
def data(personas, departments):
    rep, inside = personas["rep"], personas["inside"]
    service = departments["Service"]
    spring = Campaign.objects.create(
        name="Spring mailing",
        channel=Channel.objects.get(code="email"),
        starts_on=datetime(2026, 3, 1).date(),
        ends_on=datetime(2026, 3, 31).date(),
    )
    q = {}
    q["Q1"] = make_inquiry(
        rep, company="Alpha NV", channel="phone", received_at=local(2026, 3, 2, 10)
    )
    q["Q2"] = make_inquiry(
        rep,
        company="Beta NV",
        channel="email",
        campaign=spring,
        received_at=local(2026, 3, 5, 10),
    )
    q["Q3"] = make_inquiry(
        inside, channel="email", campaign=spring, received_at=local(2026, 3, 10, 10)
    )
    q["Q4"] = make_inquiry(
        inside,
        company="Gamma NV",
        channel="web_form",
        campaign=spring,
        department=service,
        received_at=local(2026, 3, 12, 10),
    )
    q["Q5"] = make_inquiry(
        inside,
        contact=q["Q1"].contact,
        channel="phone",
        received_at=local(2026, 3, 20, 10),
    )
    q["Q6"] = make_inquiry(
        inside,
        channel="phone",
        referrer="Jan Peeters",
        department=service,
        received_at=local(2026, 3, 31, 23, 30),
    )
    q["Q7"] = make_inquiry(
        inside, company="Delta NV", channel="email", received_at=local(2026, 3, 25, 10)
    )
    q["Q8"] = make_inquiry(
        inside, company="Zeta NV", channel="phone", received_at=local(2026, 3, 3, 10)
    )
    q["Q9"] = make_inquiry(
        inside, channel="email", received_at=local(2026, 4, 1, 0, 30)
    )
    q["Q10"] = make_inquiry(
        inside,
        contact=q["Q8"].contact,
        channel="phone",
        received_at=local(2026, 2, 10, 10),
    )
    q["Q11"] = make_inquiry(
        inside, channel="phone", received_at=local(2026, 2, 28, 23, 50)
    )
    book_order(
        actor=inside,
        description="Spare parts",
        company=q["Q2"].company,
        ordered_at=local(2026, 1, 10, 10),
    )
    book_order(
        actor=inside,
        description="Chairs",
        contact=q["Q3"].contact,
        ordered_at=local(2026, 4, 15, 10),
    )
    qualify(q["Q1"], inside, rep, "10000", won=True, closed_at=local(2026, 3, 15, 12))
    qualify(q["Q2"], inside, rep, "5000", won=True)
    qualify(q["Q3"], inside, rep, "2000", won=True)
    qualify(q["Q4"], inside, rep, "7000")
    qualify(q["Q5"], inside, rep, "3000", won=True)
    close_inquiry(q["Q6"], actor=inside, outcome="archived", reason="spam")
    close_inquiry(q["Q7"], actor=inside, outcome="nurture")
    qualify(q["Q8"], inside, rep, "4000", won=True)
    qualify(q["Q10"], inside, rep, "6000", won=True, closed_at=local(2026, 3, 20, 12))
    return q


def compute(user, params=None):
    scope = Scope(user=user, filters=parse_filters(params or MARCH))
    return REPORTS["sources"].compute(scope)


def rows(table, *keys):
    return [tuple(r[k] for k in keys) for r in table.rows]


def figures(result):
    return {str(label): value for label, value, _kind in result.figures}


CHANNEL_KEYS = (
    "name",
    "inquiries",
    "qualified",
    "won",
    "won_value",
    "new_customers",
    "previous",
    "velocity",
)


def test_by_channel_with_new_customers_and_lead_velocity(data, director):
    result = compute(director)
    table = result.table("channel")
    assert rows(table, *CHANNEL_KEYS) == [
        ("Phone", 4, 3, 3, Decimal("17000"), 2, 2, 1.0),
        ("E-mail", 3, 2, 2, Decimal("7000"), 1, 0, None),
        ("Web form", 1, 1, 0, Decimal("0"), 0, 0, None),
    ]
    totals = table.totals
    assert tuple(totals[k] for k in CHANNEL_KEYS[1:]) == (
        8,
        6,
        5,
        Decimal("24000"),
        3,
        2,
        3.0,
    )
    assert totals["qualification_rate"] == 0.75
    assert totals["conversion"] == 0.625
    assert figures(result) == {
        "Inquiries": 8,
        "Inquiries, previous period": 2,
        "Lead velocity": 3.0,
        "Qualification rate": 0.75,
        "Inquiry → won": 0.625,
        "New customers": 3,
    }


def test_by_campaign_with_its_channel_period_and_qualified_value(data, director):
    table = compute(director).table("campaign")
    assert rows(
        table,
        "name",
        "campaign_channel",
        "starts_on",
        "ends_on",
        "inquiries",
        "qualified",
        "qualified_value",
        "won",
        "won_value",
        "new_customers",
    ) == [
        ("No campaign", "", None, None, 5, 3, Decimal("17000"), 3, Decimal("17000"), 2),
        (
            "Spring mailing",
            "E-mail",
            datetime(2026, 3, 1).date(),
            datetime(2026, 3, 31).date(),
            3,
            3,
            Decimal("14000"),
            2,
            Decimal("7000"),
            1,
        ),
    ]
    assert table.totals["qualified_value"] == Decimal("31000")


def test_referrer_and_department(data, director):
    result = compute(director)
    assert rows(result.table("referrer"), "name", "inquiries", "qualified") == [
        ("Jan Peeters", 1, 0)
    ]
    assert rows(result.table("department"), "name", "inquiries", "won") == [
        ("Sales", 6, 5),
        ("Service", 2, 0),
    ]


def test_inquiries_per_department_and_channel_per_month(data, director):
    result = compute(director, {"from": "2026-02-01", "to": "2026-03-31"})
    table = result.table("department-month")
    assert [c.key for c in table.columns] == ["name", "2026-02", "2026-03", "total"]
    assert rows(table, "name", "2026-02", "2026-03", "total") == [
        ("Sales", 2, 6, 8),
        ("Service", 0, 2, 2),
    ]
    assert table.totals == {"2026-02": 2, "2026-03": 8, "total": 10}
    department_chart = next(c for c in result.charts if c.key == "department-per-month")
    assert [(d.label, d.data) for d in department_chart.datasets] == [
        ("Sales", [2, 6]),
        ("Service", [0, 2]),
    ]
    channel_chart = next(c for c in result.charts if c.key == "inquiries-per-month")
    assert [(d.label, d.data) for d in channel_chart.datasets] == [
        ("Phone", [2, 4]),
        ("E-mail", [0, 3]),
        ("Web form", [0, 1]),
    ]
    # The previous 59 days (4 December – 31 January) had no inquiries.
    assert figures(result)["Lead velocity"] is None


def test_an_inquiry_at_23_30_on_31_march_is_march_and_00_30_on_1_april_is_april(
    data, director
):
    march = compute(director)
    assert march.table("referrer").rows[0]["name"] == "Jan Peeters"  # Q6
    april = compute(director, {"from": "2026-04-01", "to": "2026-04-30"})
    assert figures(april)["Inquiries"] == 1  # Q9 only
    # Previous period: 2 – 31 March (30 days), all 8 March inquiries.
    assert figures(april)["Inquiries, previous period"] == 8
    assert figures(april)["Lead velocity"] == -0.875
    assert rows(april.table("channel"), "name", "inquiries", "previous") == [
        ("E-mail", 1, 3),
        ("Phone", 0, 4),
        ("Web form", 0, 1),
    ]


def test_filters_narrow_the_cohort(data, director, departments):
    email = Channel.objects.get(code="email")
    by_channel = compute(director, {**MARCH, "channel": str(email.pk)})
    assert rows(by_channel.table("channel"), *CHANNEL_KEYS) == [
        ("E-mail", 3, 2, 2, Decimal("7000"), 1, 0, None)
    ]
    spring = Campaign.objects.get(name="Spring mailing")
    by_campaign = compute(director, {**MARCH, "campaign": str(spring.pk)})
    assert rows(by_campaign.table("channel"), "name", "inquiries", "won") == [
        ("E-mail", 2, 2),
        ("Web form", 1, 0),
    ]
    service = compute(director, {**MARCH, "department": str(departments["Service"].pk)})
    assert figures(service)["Inquiries"] == 2
    assert rows(service.table("department"), "name", "inquiries") == [("Service", 2)]


def test_a_salesperson_counts_the_inquiries_they_took_in_and_behind_their_leads(
    data, rep
):
    result = compute(rep)
    assert rows(
        result.table("channel"), "name", "inquiries", "won", "new_customers"
    ) == [
        ("Phone", 3, 3, 2),
        ("E-mail", 2, 2, 1),
        ("Web form", 1, 0, 0),
    ]
    assert figures(result)["Inquiries"] == 6
    assert figures(result)["New customers"] == 3


def test_no_data_gives_empty_tables_and_no_ratios(director):
    result = compute(director)
    assert result.table("channel").rows == []
    assert result.table("department-month").rows == []
    assert figures(result) == {
        "Inquiries": 0,
        "Inquiries, previous period": 0,
        "Lead velocity": None,
        "Qualification rate": None,
        "Inquiry → won": None,
        "New customers": 0,
    }


def test_page_shows_the_numbers(data, director):
    client = Client()
    client.force_login(director)
    response = client.get("/analytics/sources/", MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "New customers" in html
    assert "Inquiries per department per month" in html
    assert "€ 24,000.00" in html  # won value, all channels
    assert "300.0 %" in html  # lead velocity
    assert 'data-testid="chart-department-per-month"' in html


def test_csv_export_of_the_campaign_table(data, director):
    client = Client()
    client.force_login(director)
    response = client.get(
        "/analytics/sources/", {**MARCH, "format": "csv", "table": "campaign"}
    )
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Campaign,Campaign channel,Starts on,Ends on,Inquiries,Qualified,"
        "Qualification rate,Qualified value,Won,Inquiry → won,Won value,New customers"
    )
    assert lines[2] == (
        "Spring mailing,E-mail,2026-03-01,2026-03-31,3,3,1.0,14000.00,2,"
        "0.6666666666666666,7000.00,1"
    )


def test_api_returns_the_report_as_json(data, api_as):
    response = api_as("director").get("/api/analytics/sources", MARCH)
    assert response.status_code == 200
    body = response.json()
    got = {f["label"]: f["value"] for f in body["figures"]}
    assert got["Lead velocity"] == 3.0
    assert got["New customers"] == 3
    channel = next(t for t in body["tables"] if t["key"] == "channel")
    assert channel["rows"][0]["name"] == "Phone"
    assert channel["rows"][0]["new_customers"] == 2
    assert channel["rows"][0]["won_value"] == 17000.0


def test_api_refuses_a_colleague_and_an_unknown_filter(api_as):
    assert api_as("colleague").get("/api/analytics/sources").status_code == 403
    response = api_as("director").get("/api/analytics/sources", {"campaign": "999999"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_filter"


def test_service_type_and_industry_filters_narrow_the_cohort(data, director):
    from leadflow.contacts.models import Company
    from leadflow.opportunities.actions import update_opportunity

    # Q4 (open, Gamma NV) gets a service type; Alpha NV (Q1 and Q5) an industry.
    q4 = Opportunity.objects.get(inquiry=data["Q4"])
    update_opportunity(q4, actor=director, service_type="Installation")
    Company.objects.filter(pk=data["Q1"].company_id).update(industry="Retail")
    service = compute(director, {**MARCH, "service_type": "Installation"})
    assert rows(service.table("channel"), "name", "inquiries", "qualified") == [
        ("Web form", 1, 1)
    ]
    retail = compute(director, {**MARCH, "industry": "Retail"})
    # Q1 is new, Q5 is not (Q1 was won before it came in).
    assert rows(retail.table("channel"), *CHANNEL_KEYS) == [
        ("Phone", 2, 2, 2, Decimal("13000"), 1, 0, None)
    ]


def test_one_won_inquiry_is_one_new_customer(personas, director):
    inside, rep = personas["inside"], personas["rep"]
    only = make_inquiry(inside, channel="referral", received_at=local(2026, 3, 31, 9))
    qualify(only, inside, rep, "1234.5", won=True)
    result = compute(director)
    assert rows(result.table("channel"), *CHANNEL_KEYS) == [
        ("Referral", 1, 1, 1, Decimal("1234.50"), 1, 0, None)
    ]
    assert rows(result.table("department-month"), "name", "2026-03", "total") == [
        ("Sales", 1, 1)
    ]
