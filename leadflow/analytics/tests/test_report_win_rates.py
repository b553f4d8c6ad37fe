"""2. Win rates against a hand-computed dataset (made through the real actions).

Period: March 2026 (Europe/Brussels). Inside sales registers every inquiry.

inq  received (local)    outcome    lead  owner     value   service      quotes  result (closed)
I1   2026-03-05 10:00    qualified  A     rep        10000  Installation  1 sent  won   2026-03-20
I2   2026-03-06 10:00    qualified  B     rep        30000  Installation  3 sent  lost  2026-03-25
I3   2026-03-07 10:00    qualified  C     outsider    2000  Maintenance   –       n.g.a 2026-03-26
I4   2026-03-08 10:00    qualified  D     rep       120000  Maintenance   1 sent  open
I5   2026-03-09 10:00    archived
I6   2026-03-10 10:00    nurture
I7   2026-03-31 23:30    (open)                                                   (21:30 UTC)
I8   2026-02-28 10:00    qualified  E     rep        50000  Installation  1 sent  won   2026-03-15
I9   2026-03-12 10:00    qualified  F     rep         8000  Installation  –       nurture 2026-03-28
--   (no inquiry)                   G     outsider      –   –             3 sent  open (Gamma NV)

Companies: A Acme NV (an order booked 2026-01-10: customer), B Beta NV (an archived
inquiry in 2025: known), the others new (unknown). A was moved to proposal and back.

Funnel (received in March): inquiries 8 (I1–I7, I9); qualified 5 (I1–I4, I9); quote
sent 3 (I1, I2, I4); won 1 (I1). Drop-out: not yet assessed 1 (I7), archived 1,
nurture at triage 1, lost 1, not going ahead 1, nurture after qualification 1, still
open 1 (D), won 1 = 8.

Closed in March (events): A won 10000 (quote), B lost 30000 (quote), C n.g.a. 2000,
E won 50000 (quote), F nurture 8000.
  win rate = 2 / (2 + 1 + 1) = 0.5; without no-decision = 2 / 3
  by value = 60000 / (10000 + 30000 + 2000 + 50000 = 92000) = 0.6521739…
  hit rate = quoted won (A, E) 2 / closed with a sent quote (A, B, E) 3 = 2/3
By service: Installation won 2 lost 1 → 2/3, value 60000 / 90000; Maintenance n.g.a.
1 → 0. By owner: rep 2/3 (won value 60000); outsider 0.
By band: < 5k: C → 0; 5–25k: A won (F nurture, not decided) → 1; 25–100k: E won, B
lost → 0.5; ≥ 100k: nothing closed (no row).
By contact type: customer A → 1; known B → 0; unknown C, E (F nurture) → 0.5.
Repeat purchases: A (Acme had an order) repeat 10000; E first 50000.
Frequent quoters (≥ 3 sent quotes, no won lead, no order): Beta NV (3, rep's lead) and
Gamma NV (3, outsider's lead). The rep sees only Beta NV.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.reports.win_rates import VALUE_BANDS
from leadflow.analytics.scope import Scope, parse_filters
from leadflow.contacts.actions import ContactData
from leadflow.contacts.models import Company
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import (
    InquiryInput,
    book_order,
    close_inquiry,
    register_inquiry,
)
from leadflow.intake.models import Inquiry
from leadflow.opportunities.actions import (
    close_opportunity,
    move_stage,
    revise_quote,
    send_quote,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity, Quote
from leadflow.opportunities.tests.pipeline_factories import (
    make_lead,
    make_sent_quote,
    score_scotsman,
)

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
REPORT = REPORTS["win-rates"]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


def inquiry(inside, company: str, received: datetime, **kwargs) -> Inquiry:
    made = register_inquiry(
        InquiryInput(
            summary=f"Question from {company}",
            channel="email",
            contact=ContactData(name=f"Buyer at {company}", company_name=company),
            **kwargs,
        ),
        actor=inside,
    )
    Inquiry.objects.filter(pk=made.pk).update(received_at=received)
    made.refresh_from_db()
    return made


def qualify(inside, inq: Inquiry, owner, *, value: str, service: str) -> Opportunity:
    close_inquiry(inq, actor=inside, outcome="qualified", owner=owner)
    lead = Opportunity.objects.get(inquiry=inq)
    update_opportunity(
        lead, actor=owner, expected_value=Decimal(value), service_type=service
    )
    lead.refresh_from_db()
    return lead


def quotes(lead: Opportunity, owner, n: int = 1) -> None:
    score_scotsman(lead, owner, 5)
    quote = make_sent_quote(lead, owner)
    for _i in range(n - 1):
        quote = send_quote(revise_quote(quote, actor=owner), actor=owner)


def close(lead: Opportunity, owner, result: str, closed: datetime) -> None:
    extra = {}
    if result == "nurture":
        extra = {"follow_up_on": date(2027, 1, 1), "follow_up_by": "marketing"}
    close_opportunity(lead, actor=owner, result=result, reason="test", **extra)
    Opportunity.objects.filter(pk=lead.pk).update(closed_at=closed)


@dataclass
class Data:
    leads: dict


@pytest.fixture
def data(personas) -> Data:
    inside, rep, outsider = personas["inside"], personas["rep"], personas["outsider"]
    # History before the period: Acme ordered (a customer), Beta asked once (known).
    acme = make_contact(company="Acme NV")
    book_order(
        actor=inside,
        description="Spare parts",
        company=acme.company,
        ordered_at=local(2026, 1, 10, 9, 0),
    )
    old = inquiry(inside, "Beta NV", local(2025, 6, 1, 9, 0))
    close_inquiry(old, actor=inside, outcome="archived", reason="too early")

    i1 = inquiry(inside, "Acme NV", local(2026, 3, 5, 10, 0))
    i2 = inquiry(inside, "Beta NV", local(2026, 3, 6, 10, 0))
    i3 = inquiry(inside, "Cobalt NV", local(2026, 3, 7, 10, 0))
    i4 = inquiry(inside, "Delta NV", local(2026, 3, 8, 10, 0))
    i5 = inquiry(inside, "Epsilon NV", local(2026, 3, 9, 10, 0))
    i6 = inquiry(inside, "Zeta NV", local(2026, 3, 10, 10, 0))
    inquiry(inside, "Eta NV", local(2026, 3, 31, 23, 30))
    i8 = inquiry(inside, "Echo NV", local(2026, 2, 28, 10, 0))
    i9 = inquiry(inside, "Foxtrot NV", local(2026, 3, 12, 10, 0))
    assert i1.company_id == acme.company_id and i2.company_id == old.company_id

    a = qualify(inside, i1, rep, value="10000", service="Installation")
    b = qualify(inside, i2, rep, value="30000", service="Installation")
    c = qualify(inside, i3, outsider, value="2000", service="Maintenance")
    d = qualify(inside, i4, rep, value="120000", service="Maintenance")
    close_inquiry(i5, actor=inside, outcome="archived", reason="spam")
    close_inquiry(i6, actor=inside, outcome="nurture")
    e = qualify(inside, i8, rep, value="50000", service="Installation")
    f = qualify(inside, i9, rep, value="8000", service="Installation")
    g = make_lead(outsider, owner=outsider, company="Gamma NV")

    move_stage(a, actor=rep, stage="proposal", reason="quote coming")
    move_stage(a, actor=rep, stage="qualification", reason="scope changed")
    quotes(a, rep)
    quotes(b, rep, 3)
    quotes(d, rep)
    quotes(e, rep)
    quotes(g, outsider, 3)
    Quote.objects.update(sent_at=local(2026, 3, 14, 12, 0))

    close(a, rep, "won", local(2026, 3, 20, 15, 0))
    close(b, rep, "lost", local(2026, 3, 25, 15, 0))
    close(c, outsider, "not_going_ahead", local(2026, 3, 26, 15, 0))
    close(e, rep, "won", local(2026, 3, 15, 15, 0))
    close(f, rep, "nurture", local(2026, 3, 28, 15, 0))
    return Data(leads={"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "G": g})


def compute(user, **params):
    return REPORT.compute(Scope(user=user, filters=parse_filters({**MARCH, **params})))


def rows(result, key: str, *fields: str) -> dict:
    return {r["name"]: tuple(r[f] for f in fields) for r in result.table(key).rows}


def figure(result, label: str):
    return next(value for name, value, _kind in result.figures if name == label)


# --- the numbers -------------------------------------------------------------------------


def test_funnel_of_the_inquiries_received_in_the_period(data, director):
    result = compute(director)
    assert rows(result, "funnel", "count") == {
        "Inquiries received": (8,),
        "Qualified": (5,),
        "Quote sent": (3,),
        "Won": (1,),
    }
    funnel = {r["step"]: r for r in result.table("funnel").rows}
    assert funnel["qualified"]["of_inquiries"] == pytest.approx(5 / 8)
    assert funnel["quote_sent"]["of_previous"] == pytest.approx(3 / 5)
    assert funnel["won"]["of_previous"] == pytest.approx(1 / 3)
    dropout = {r["key"]: r["count"] for r in result.table("dropout").rows}
    assert dropout == {
        "triage_open": 1,
        "archived": 1,
        "nurture_triage": 1,
        "lost": 1,
        "not_going_ahead": 1,
        "nurture_lead": 1,
        "lead_open": 1,
        "won": 1,
    }
    assert result.table("dropout").totals["count"] == 8
    chart = next(c for c in result.charts if c.key == "funnel")
    assert chart.datasets[0].data == [8, 5, 3, 1]


def test_win_rates_of_the_leads_closed_in_the_period(data, director):
    result = compute(director)
    assert figure(result, "Win rate") == pytest.approx(0.5)
    assert figure(result, "Win rate without no-decision") == pytest.approx(2 / 3)
    assert figure(result, "Win rate by value") == pytest.approx(60000 / 92000)
    assert figure(result, "Hit rate") == pytest.approx(2 / 3)
    assert figure(result, "Inquiries received") == 8
    assert figure(result, "Inquiry → won") == pytest.approx(1 / 8)


def test_breakdowns(data, director):
    result = compute(director)
    fields = ("won", "lost", "not_going_ahead", "win_rate")
    assert rows(result, "service_type", *fields) == {
        "Installation": (2, 1, 0, pytest.approx(2 / 3)),
        "Maintenance": (0, 0, 1, 0.0),
    }
    service = {r["name"]: r for r in result.table("service_type").rows}
    assert service["Installation"]["win_rate_value"] == pytest.approx(60000 / 90000)
    assert service["Installation"]["nurture"] == 1
    assert result.table("service_type").totals["win_rate"] == pytest.approx(0.5)
    assert rows(result, "person", "won", "win_rate", "won_value") == {
        "Rep Persona": (2, pytest.approx(2 / 3), Decimal("60000")),
        "Outsider Persona": (0, 0.0, Decimal("0")),
    }
    assert rows(result, "contact_type", "won", "lost", "not_going_ahead") == {
        "Customer": (1, 0, 0),
        "Known": (0, 1, 0),
        "Unknown": (1, 0, 1),
    }
    assert rows(result, "department", "won")["Sales"] == (2,)
    assert rows(result, "campaign", "won") == {"No campaign": (2,)}
    assert rows(result, "industry", "won") == {"No industry": (2,)}


def test_win_rate_by_value_band(data, director):
    assert [key for key, *_rest in VALUE_BANDS] == [
        "lt_5k",
        "5k_25k",
        "25k_100k",
        "ge_100k",
    ]
    result = compute(director)
    assert [(r["name"], r["win_rate"]) for r in result.table("value_band").rows] == [
        ("< 5,000", 0.0),
        ("5,000 – 25,000", 1.0),
        ("25,000 – 100,000", 0.5),
    ]


def test_repeat_purchases(data, director):
    result = compute(director)
    assert rows(result, "repeat", "won", "won_value") == {
        "First purchase": (1, Decimal("50000")),
        "Repeat purchase": (1, Decimal("10000")),
    }


def test_frequent_quoters_without_an_order(data, director, rep):
    table = compute(director).table("frequent_quoters")
    assert {(r["name"], r["quotes"], r["leads"]) for r in table.rows} == {
        ("Beta NV", 3, 1),
        ("Gamma NV", 3, 1),
    }
    beta = next(r for r in table.rows if r["name"] == "Beta NV")
    assert beta["url"] == f"/companies/{Company.objects.get(name='Beta NV').pk}/"
    assert beta["last_sent"] == date(2026, 3, 14)
    # The rep does not see the outsider's lead, so not Gamma either.
    assert [r["name"] for r in compute(rep).table("frequent_quoters").rows] == [
        "Beta NV"
    ]
    # An order booked for Beta takes it off the list.
    book_order(
        actor=None,
        description="First order",
        company=Company.objects.get(name="Beta NV"),
        ordered_at=local(2026, 4, 1, 9, 0),
    )
    table = compute(director).table("frequent_quoters")
    assert [r["name"] for r in table.rows] == ["Gamma NV"]


# --- edge cases ----------------------------------------------------------------------------


def test_no_data_gives_empty_tables_and_no_ratios(personas, director):
    result = compute(director)
    assert figure(result, "Inquiries received") == 0
    assert figure(result, "Win rate") is None
    assert figure(result, "Hit rate") is None
    assert result.table("service_type").rows == []
    assert result.table("service_type").totals is None
    assert result.table("repeat").rows == []
    assert result.table("frequent_quoters").rows == []
    funnel = {r["step"]: r for r in result.table("funnel").rows}
    assert funnel["won"]["of_inquiries"] is None


def test_one_won_deal(personas, director, inside, rep):
    inq = inquiry(inside, "Solo NV", local(2026, 3, 2, 9, 0))
    lead = qualify(inside, inq, rep, value="7000", service="Installation")
    close(lead, rep, "won", local(2026, 3, 3, 9, 0))
    result = compute(director)
    assert figure(result, "Win rate") == 1.0
    assert figure(result, "Win rate by value") == 1.0
    assert figure(result, "Hit rate") is None  # no quote was sent
    assert rows(result, "repeat", "won") == {
        "First purchase": (1,),
        "Repeat purchase": (0,),
    }


def test_an_inquiry_late_on_the_last_day_counts_in_that_month(data, director):
    last_day = compute(director, **{"from": "2026-03-31", "to": "2026-03-31"})
    assert figure(last_day, "Inquiries received") == 1
    assert Inquiry.objects.get(company__name="Eta NV").received_at == datetime(
        2026, 3, 31, 21, 30, tzinfo=UTC
    )
    april = compute(director, **{"from": "2026-04-01", "to": "2026-04-30"})
    assert figure(april, "Inquiries received") == 0


def test_each_filter_narrows(data, director, personas):
    maintenance = compute(director, service_type="Maintenance")
    assert figure(maintenance, "Inquiries received") == 2  # I3, I4
    assert rows(maintenance, "person", "won", "not_going_ahead") == {
        "Outsider Persona": (0, 1)
    }
    assert figure(maintenance, "Win rate") == 0.0
    by_rep = compute(director, person="outsider")
    assert figure(by_rep, "Win rate") == 0.0
    assert figure(by_rep, "Win rate without no-decision") is None
    north = personas["rep"].team_id
    team = compute(director, team=str(north))
    assert figure(team, "Win rate") == pytest.approx(2 / 3)
    industry = compute(director, industry="Mining")
    assert figure(industry, "Win rate") is None


def test_a_salesperson_sees_their_own_team_only(data, rep):
    result = compute(rep)
    assert rows(result, "person", "won", "lost", "not_going_ahead") == {
        "Rep Persona": (2, 1, 0)
    }
    assert figure(result, "Win rate") == pytest.approx(2 / 3)
    # The rep took in none of the inquiries (inside sales did); their funnel starts
    # at the inquiries behind the leads they may see: I1 (A), I2 (B), I4 (D), I9 (F)
    # in March (I8, E's, came in February; I3 is the outsider's).
    assert figure(result, "Inquiries received") == 4


# --- page, export, API ---------------------------------------------------------------------


def test_page_shows_the_numbers(data, director):
    client = Client()
    client.force_login(director)
    response = client.get("/analytics/win-rates/", MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="table-funnel"' in html
    assert "<dd>50.0 %</dd>" in html  # the win rate
    assert "<dd>65.2 %</dd>" in html  # by value: 60000 / 92000
    assert "<dd>12.5 %</dd>" in html  # inquiry → won: 1 / 8
    assert "Beta NV" in html


def test_page_rounds_percentages(data, director):
    client = Client()
    client.force_login(director)
    html = client.get("/analytics/win-rates/", MARCH).content.decode()
    assert "<dd>66.7 %</dd>" in html  # without no-decision and the hit rate: 2/3


def test_csv_export(data, director):
    client = Client()
    client.force_login(director)
    response = client.get(
        "/analytics/win-rates/", {**MARCH, "format": "csv", "table": "service_type"}
    )
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Service type,Won,Lost,Not going ahead,Win rate")
    assert lines[1].startswith("Installation,2,1,0,0.6666")
    assert lines[-1].startswith("Total,2,1,1,0.5")


def test_api_json(data, api_as):
    response = api_as("director").get("/api/analytics/win-rates", MARCH)
    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "win-rates"
    figures = {f["label"]: f["value"] for f in body["figures"]}
    assert figures["Win rate"] == 0.5
    funnel = next(t for t in body["tables"] if t["key"] == "funnel")
    assert [r["count"] for r in funnel["rows"]] == [8, 5, 3, 1]
    assert any("won ÷ (won + lost)" in d for d in body["definitions"])


def test_api_refuses_a_colleague_and_unknown_filters(personas, api_as):
    assert api_as("colleague").get("/api/analytics/win-rates").status_code == 403
    response = api_as("director").get("/api/analytics/win-rates", {"channel": "999999"})
    assert response.status_code == 422
    response = api_as("director").get("/api/analytics/win-rates", {"person": "nobody"})
    assert response.status_code == 422


def test_contact_type_by_the_person_when_there_is_no_company(personas, director, rep):
    """Without a company the person's own history counts.

    lead  company  history                          created     result  contact type
    X     –        order by the person 2026-02-01   2026-03-01  won     customer (repeat)
    Y     –        –                                2026-03-01  lost    unknown
    """
    bare, other = make_contact(), make_contact()
    assert bare.company_id is None
    book_order(
        actor=None,
        description="Parts",
        contact=bare,
        ordered_at=local(2026, 2, 1, 9, 0),
    )
    for contact, result in ((bare, "won"), (other, "lost")):
        lead = make_lead(rep, owner=rep, contact=contact)
        Opportunity.objects.filter(pk=lead.pk).update(
            created_at=local(2026, 3, 1, 9, 0)
        )
        close(lead, rep, result, local(2026, 3, 5, 9, 0))
    result = compute(director)
    assert rows(result, "contact_type", "won", "lost") == {
        "Customer": (1, 0),
        "Unknown": (0, 1),
    }
    assert rows(result, "repeat", "won") == {
        "First purchase": (0,),
        "Repeat purchase": (1,),
    }
