"""The analyses' reach and filters: ``parse_filters`` and ``Scope``.

The dataset (``world`` below), made through the real actions at frozen local times
(Europe/Brussels); the period under test is H1 2026 (1 January – 30 June):

inq  received (local)    by        channel  campaign  dept       assignee  closed            lead
I1   2026-03-10 10:00    inside    phone    Spring    Sales      –         2026-04-05 → O1   O1
I2   2026-05-20 10:00    rep       email    –         Sales      –         open
I3   2026-02-01 10:00    outsider  phone    –         Sales      –         2026-07-10 → O3   O3
I4   2026-06-30 23:30    marketer  email    Spring    Marketing  inside    open
I5   2025-12-31 23:30    inside    phone    –         Sales      –         open (before H1)

lead  owner (team)      created      service        company (industry)   inquiry
O1    rep (North)       2026-04-05   Installation   Acme NV (Construction)  I1
O2    inside (North)    2026-03-01   Installation   Gamma NV (–)            –
O3    outsider (South)  2026-07-10   Maintenance    Delta NV (Retail)       I3
O4    director (–)      2026-04-01   –              Epsilon NV (–)          –

Hand-derived counts for H1:
- everything (admin, director, inside, marketer): inquiries received I1 I2 I3 I4 (I4 at
  23:30 on the last day is in; I5 at 23:30 on 31 December is out); closed in H1: I1;
  leads created in H1: O1 O2 O4; all leads (no period): O1–O4.
- rep: leads own + team North = O1 O2; inquiries they took in (I2) and those behind
  the leads they may see (I1 behind O1; O2 has none): I1 I2.
- outsider: inquiries I3 (taken in, and behind O3); leads O3 (created in July: none
  in H1).
"""

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied

from leadflow.analytics.scope import (
    MAX_DAYS,
    ReportFilters,
    Scope,
    default_period,
    parse_filters,
    scope_for,
)
from leadflow.contacts.models import Company
from leadflow.core.errors import ValidationFailed
from leadflow.core.worktime import current_calendar
from leadflow.intake.actions import assign_inquiry, close_inquiry
from leadflow.intake.demo import frozen_time
from leadflow.intake.models import Campaign, Channel, Inquiry
from leadflow.intake.tests.factories import make_campaign, make_inquiry
from leadflow.opportunities.actions import update_opportunity
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import make_lead

TODAY = date(2026, 11, 28)

# --- parse_filters ---------------------------------------------------------------------


@pytest.mark.django_db
def test_default_period_is_twelve_whole_months_and_this_month():
    f = parse_filters({}, today=TODAY)
    assert (f.date_from, f.date_to) == (date(2025, 11, 1), date(2026, 11, 28))
    assert (f.channel, f.campaign, f.department, f.team, f.person) == (None,) * 5
    assert (f.service_type, f.industry) == (None, None)
    assert default_period(date(2026, 1, 15)) == (date(2025, 1, 1), date(2026, 1, 15))
    assert default_period(date(2026, 12, 31)) == (date(2025, 12, 1), date(2026, 12, 31))
    # Empty and blank values mean "all" / the default.
    blank = parse_filters(
        {"from": "", "to": "  ", "channel": "", "person": "", "industry": " "},
        today=TODAY,
    )
    assert blank == f


@pytest.mark.django_db
def test_month_inputs_take_the_first_and_last_day():
    f = parse_filters({"from": "2026-02", "to": "2026-02"}, today=TODAY)
    assert (f.date_from, f.date_to) == (date(2026, 2, 1), date(2026, 2, 28))
    leap = parse_filters({"from": "2024-01", "to": "2024-02"}, today=TODAY)
    assert (leap.date_from, leap.date_to) == (date(2024, 1, 1), date(2024, 2, 29))
    days = parse_filters({"from": "2026-03-15", "to": "2026-04-02"}, today=TODAY)
    assert (days.date_from, days.date_to) == (date(2026, 3, 15), date(2026, 4, 2))
    assert days.days == 19
    # Only "from" given: "to" stays today.
    assert parse_filters({"from": "2026-01"}, today=TODAY).date_to == TODAY


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"from": "2026-13-01"},
            "from: '2026-13-01' is not a date (use YYYY-MM-DD or YYYY-MM).",
        ),
        (
            {"to": "yesterday"},
            "to: 'yesterday' is not a date (use YYYY-MM-DD or YYYY-MM).",
        ),
        (
            {"from": "2026-1x"},
            "from: '2026-1x' is not a date (use YYYY-MM-DD or YYYY-MM).",
        ),
        (
            {"to": "2026-02-30"},
            "to: '2026-02-30' is not a date (use YYYY-MM-DD or YYYY-MM).",
        ),
    ],
)
def test_bad_dates_are_refused_with_a_message(data, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_filters(data, today=TODAY)
    assert caught.value.code == "invalid_date"
    assert str(caught.value) == message


@pytest.mark.django_db
def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        parse_filters({"from": "2026-05-01", "to": "2026-04-30"}, today=TODAY)
    assert caught.value.code == "invalid_period"
    assert str(caught.value) == "The period ends before it starts."
    # One day is fine.
    one = parse_filters({"from": "2026-05-01", "to": "2026-05-01"}, today=TODAY)
    assert one.days == 1


@pytest.mark.django_db
def test_a_period_longer_than_ten_years_is_refused():
    assert MAX_DAYS == 3660
    ten = parse_filters({"from": "2016-01-01", "to": "2025-12-31"}, today=TODAY)
    assert ten.days == 3653  # 10 × 365 + 3 leap days (2016, 2020, 2024)
    with pytest.raises(ValidationFailed) as caught:
        parse_filters({"from": "2010-01", "to": "2026-01"}, today=TODAY)
    assert caught.value.code == "invalid_period"
    assert str(caught.value) == "The period is longer than ten years."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("channel", "999999", "Unknown channel '999999'."),
        ("channel", "phone", "Unknown channel 'phone'."),
        ("channel", "-1", "Unknown channel '-1'."),
        ("channel", "1234567890", "Unknown channel '1234567890'."),
        ("campaign", "424242", "Unknown campaign '424242'."),
        ("department", "424242", "Unknown department '424242'."),
        ("team", "424242", "Unknown team '424242'."),
        ("person", "nobody", "Unknown person 'nobody'."),
    ],
)
def test_unknown_ids_and_usernames_are_refused(personas, name, value, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_filters({name: value}, today=TODAY)
    assert caught.value.code == "invalid_filter"
    assert str(caught.value) == message


@pytest.mark.django_db
def test_known_values_are_parsed(personas, teams, departments):
    phone = Channel.objects.get(code="phone")
    spring = make_campaign("Spring")
    f = parse_filters(
        {
            "channel": str(phone.pk),
            "campaign": f" {spring.pk} ",
            "department": str(departments["Sales"].pk),
            "team": str(teams["North"].pk),
            "person": "rep",
            "service_type": "Installation",
            "industry": "x" * 150,
        },
        today=TODAY,
    )
    assert f.channel == phone.pk
    assert f.campaign == spring.pk
    assert f.department == departments["Sales"].pk
    assert f.team == teams["North"].pk
    assert f.person == personas["rep"].pk
    assert f.service_type == "Installation"
    assert f.industry == "x" * 100  # cut to the field's length
    params = f.as_params()
    assert params["person"] == "rep"
    assert params["from"] == "2025-11-01"
    assert params["channel"] == str(phone.pk)


def test_previous_period_and_year_earlier():
    h1 = ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 6, 30))
    assert h1.days == 181
    before = h1.previous_period()
    assert (before.date_from, before.date_to) == (date(2025, 7, 4), date(2025, 12, 31))
    assert before.days == 181
    earlier = h1.year_earlier()
    assert (earlier.date_from, earlier.date_to) == (date(2025, 1, 1), date(2025, 6, 30))
    leap = ReportFilters(date_from=date(2024, 2, 1), date_to=date(2024, 2, 29))
    assert leap.year_earlier().date_to == date(2023, 2, 28)


@pytest.mark.django_db
def test_colleagues_get_no_scope(personas):
    with pytest.raises(PermissionDenied):
        scope_for(personas["colleague"], {})
    for name in ("admin", "inside", "rep", "outsider", "director", "marketer"):
        assert isinstance(scope_for(personas[name], {}), Scope)


# --- the dataset -----------------------------------------------------------------------


@dataclass
class World:
    inquiries: dict[str, Inquiry]
    leads: dict[str, Opportunity]
    campaign: Campaign


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=current_calendar().tz)


@pytest.fixture
def world(personas) -> World:
    rep, inside, outsider = personas["rep"], personas["inside"], personas["outsider"]
    marketer, director = personas["marketer"], personas["director"]
    spring = make_campaign("Spring")
    inq: dict[str, Inquiry] = {}
    with frozen_time(_at(2026, 3, 10, 10)):
        inq["I1"] = make_inquiry(
            inside, channel="phone", company="Acme NV", campaign=spring
        )
    with frozen_time(_at(2026, 5, 20, 10)):
        inq["I2"] = make_inquiry(rep, channel="email", company="Beta NV")
    with frozen_time(_at(2026, 2, 1, 10)):
        inq["I3"] = make_inquiry(outsider, channel="phone", company="Delta NV")
    with frozen_time(_at(2026, 6, 30, 23, 30)):
        inq["I4"] = make_inquiry(marketer, channel="email", campaign=spring)
        assign_inquiry(inq["I4"], actor=inside, assignee=inside)
    with frozen_time(_at(2025, 12, 31, 23, 30)):
        inq["I5"] = make_inquiry(inside, channel="phone")
    with frozen_time(_at(2026, 4, 5, 10)):
        close_inquiry(inq["I1"], actor=inside, outcome="qualified", owner=rep)
    with frozen_time(_at(2026, 7, 10, 10)):
        close_inquiry(inq["I3"], actor=inside, outcome="qualified", owner=outsider)
    with frozen_time(_at(2026, 3, 1, 10)):
        o2 = make_lead(inside, owner=inside, company="Gamma NV")
    with frozen_time(_at(2026, 4, 1, 10)):
        o4 = make_lead(director, owner=director, company="Epsilon NV")
    leads = {
        "O1": Opportunity.objects.get(inquiry=inq["I1"]),
        "O2": o2,
        "O3": Opportunity.objects.get(inquiry=inq["I3"]),
        "O4": o4,
    }
    for key, service in (("O1", "Installation"), ("O2", "Installation")):
        update_opportunity(leads[key], actor=leads[key].owner, service_type=service)
    update_opportunity(leads["O3"], actor=outsider, service_type="Maintenance")
    Company.objects.filter(name="Acme NV").update(industry="Construction")
    Company.objects.filter(name="Delta NV").update(industry="Retail")
    for i in inq.values():
        i.refresh_from_db()
    for o in leads.values():
        o.refresh_from_db()
    return World(inquiries=inq, leads=leads, campaign=spring)


def h1(user, **filters) -> Scope:
    return Scope(
        user=user,
        filters=ReportFilters(
            date_from=date(2026, 1, 1), date_to=date(2026, 6, 30), **filters
        ),
    )


def names(world: World, qs) -> set[str]:
    pks = set(qs.values_list("pk", flat=True))
    pool = world.inquiries if qs.model is Inquiry else world.leads
    return {key for key, row in pool.items() if row.pk in pks}


def test_the_dataset_is_as_documented(world):
    i = world.inquiries
    assert i["I1"].department.name == "Sales"
    assert i["I4"].department.name == "Marketing"
    assert i["I4"].assignee.username == "inside"
    assert i["I1"].closed_at == _at(2026, 4, 5, 10)
    assert world.leads["O1"].created_at == _at(2026, 4, 5, 10)
    assert world.leads["O1"].company.industry == "Construction"
    assert world.leads["O3"].company.industry == "Retail"


@pytest.mark.parametrize("persona", ["admin", "director", "inside", "marketer"])
def test_everyone_with_view_all_counts_every_record(world, personas, persona):
    scope = h1(personas[persona])
    assert scope.everything
    assert names(world, scope.inquiries()) == {"I1", "I2", "I3", "I4"}
    assert names(world, scope.inquiries("closed_at")) == {"I1"}
    assert names(world, scope.inquiries(None)) == {"I1", "I2", "I3", "I4", "I5"}
    assert names(world, scope.opportunities()) == {"O1", "O2", "O4"}
    assert names(world, scope.opportunities("closed_at")) == set()
    assert names(world, scope.opportunities(None)) == {"O1", "O2", "O3", "O4"}


def test_a_salesperson_counts_own_and_team_leads_and_their_inquiries(world, personas):
    rep = h1(personas["rep"])
    assert not rep.everything
    assert names(world, rep.inquiries()) == {"I1", "I2"}
    assert names(world, rep.inquiries(None)) == {"I1", "I2"}
    assert names(world, rep.inquiries("closed_at")) == {"I1"}
    assert names(world, rep.opportunities()) == {"O1", "O2"}
    assert names(world, rep.opportunities(None)) == {"O1", "O2"}

    outsider = h1(personas["outsider"])
    assert names(world, outsider.inquiries()) == {"I3"}
    assert names(world, outsider.opportunities(None)) == {"O3"}
    assert names(world, outsider.opportunities()) == set()  # O3 was created in July


def test_a_salesperson_cannot_widen_the_reach_with_filters(world, personas, teams):
    """Filtering on the other team gives nothing, not the other team's figures."""
    rep = h1(personas["rep"], team=teams["South"].pk)
    assert names(world, rep.opportunities(None)) == set()
    rep = h1(personas["rep"], person=personas["outsider"].pk)
    assert names(world, rep.opportunities(None)) == set()
    phone = Channel.objects.get(code="phone").pk
    # I3 (phone, outsider's) stays out of the rep's reach; I1 (phone, behind O1) in.
    assert names(world, h1(personas["rep"], channel=phone).inquiries()) == {"I1"}
    assert names(world, h1(personas["rep"], industry="Retail").inquiries()) == set()


def test_the_period_is_local_midnight_to_midnight(world, personas):
    """I4 at 23:30 on 30 June is in H1; I5 at 23:30 on 31 December 2025 is not, but
    it is in a period that ends on 31 December."""
    director = personas["director"]
    december = Scope(
        user=director,
        filters=ReportFilters(date_from=date(2025, 12, 1), date_to=date(2025, 12, 31)),
    )
    assert names(world, december.inquiries()) == {"I5"}
    july = Scope(
        user=director,
        filters=ReportFilters(date_from=date(2026, 7, 1), date_to=date(2026, 7, 31)),
    )
    assert names(world, july.inquiries()) == set()
    assert names(world, july.inquiries("closed_at")) == {"I3"}
    assert names(world, july.opportunities()) == {"O3"}


def test_each_filter_narrows_inquiries_and_leads(world, personas, teams, departments):
    d = personas["director"]
    phone = Channel.objects.get(code="phone").pk
    email = Channel.objects.get(code="email").pk
    # channel: an inquiry's own; a lead's through its inquiry (O2, O4 have none).
    assert names(world, h1(d, channel=phone).inquiries()) == {"I1", "I3"}
    assert names(world, h1(d, channel=email).inquiries()) == {"I2", "I4"}
    assert names(world, h1(d, channel=phone).opportunities(None)) == {"O1", "O3"}
    # campaign
    spring = world.campaign.pk
    assert names(world, h1(d, campaign=spring).inquiries()) == {"I1", "I4"}
    assert names(world, h1(d, campaign=spring).opportunities(None)) == {"O1"}
    # department (the receiver's by default)
    sales, marketing = departments["Sales"].pk, departments["Marketing"].pk
    assert names(world, h1(d, department=sales).inquiries()) == {"I1", "I2", "I3"}
    assert names(world, h1(d, department=marketing).inquiries()) == {"I4"}
    assert names(world, h1(d, department=sales).opportunities(None)) == {"O1", "O3"}
    # team: the assignee's (inquiries), the owner's (leads)
    north, south = teams["North"].pk, teams["South"].pk
    assert names(world, h1(d, team=north).inquiries()) == {"I4"}
    assert names(world, h1(d, team=north).opportunities(None)) == {"O1", "O2"}
    assert names(world, h1(d, team=south).opportunities(None)) == {"O3"}
    # person: the assignee (inquiries), the owner (leads)
    rep, inside = personas["rep"].pk, personas["inside"].pk
    assert names(world, h1(d, person=inside).inquiries()) == {"I4"}
    assert names(world, h1(d, person=rep).inquiries()) == set()
    assert names(world, h1(d, person=rep).opportunities(None)) == {"O1"}
    assert names(world, h1(d, person=inside).opportunities(None)) == {"O2"}
    # service type: the lead's (an inquiry through the lead it became)
    assert names(world, h1(d, service_type="Installation").inquiries()) == {"I1"}
    assert names(world, h1(d, service_type="Installation").opportunities(None)) == {
        "O1",
        "O2",
    }
    assert names(world, h1(d, service_type="Maintenance").opportunities()) == set()
    # industry: the company's
    assert names(world, h1(d, industry="Construction").inquiries()) == {"I1"}
    assert names(world, h1(d, industry="Retail").inquiries()) == {"I3"}
    assert names(world, h1(d, industry="Retail").opportunities(None)) == {"O3"}
    assert names(world, h1(d, industry="Unknown").opportunities(None)) == set()


def test_filters_combine(world, personas, departments):
    d = personas["director"]
    phone = Channel.objects.get(code="phone").pk
    scope = h1(d, channel=phone, department=departments["Sales"].pk)
    assert names(world, scope.inquiries()) == {"I1", "I3"}
    assert names(world, scope.inquiries("closed_at")) == {"I1"}
    scope = h1(d, channel=phone, industry="Construction", person=personas["rep"].pk)
    assert names(world, scope.opportunities(None)) == {"O1"}


def test_opportunity_q_follows_a_prefix(world, personas):
    scope = h1(personas["director"], service_type="Installation")
    rows = Inquiry.objects.filter(opportunity__isnull=False).filter(
        scope.opportunity_q("opportunity__")
    )
    assert names(world, rows) == {"I1"}


def test_with_filters_and_the_period_buckets(world, personas):
    scope = h1(personas["director"])
    assert [b.key for b in scope.months()] == [f"2026-{m:02d}" for m in range(1, 7)]
    assert scope.weeks()[0].key == "2026-W01"
    assert scope.weeks()[-1].key == "2026-W27"  # Monday 29 June – Sunday 5 July
    start, end = scope.period_range()
    assert start == _at(2026, 1, 1)
    assert end == _at(2026, 7, 1)
    assert str(scope.tz) == "Europe/Brussels"
    march = scope.with_filters(
        ReportFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    )
    assert names(world, march.inquiries()) == {"I1"}
    assert scope.filters.date_from == date(2026, 1, 1)  # the original is unchanged


def test_no_data_gives_empty_querysets(personas):
    for name in ("director", "rep", "marketer"):
        scope = h1(personas[name])
        assert scope.inquiries().count() == 0
        assert scope.opportunities(None).count() == 0
        assert scope.quotes().count() == 0
        assert scope.activities().count() == 0
