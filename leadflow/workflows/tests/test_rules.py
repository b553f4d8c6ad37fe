"""Rule matching (pure, no database): every filter, AND across filters, OR within one,
and no notifications about events older than the rule."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leadflow.workflows.rules import Event, RuleSpec, matches

RULE_AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = RULE_AT + timedelta(hours=1)


def event(**values) -> Event:
    base = {
        "type": "inquiry.registered",
        "source": "intake.inquirytransition:1",
        "at": LATER,
        "subject_label": "Sofie Claes (Brightwave BV)",
        "url": "/inquiries/1/",
    }
    return Event(**{**base, **values})


def rule(**values) -> RuleSpec:
    base = {"id": 1, "event": "inquiry.registered", "created_at": RULE_AT}
    return RuleSpec(**{**base, **values})


def ids(*values: int) -> frozenset[int]:
    return frozenset(values)


def test_a_rule_without_filters_matches_every_event_of_its_type():
    assert matches(rule(), event())
    assert matches(rule(), event(company_id=7, company_size=3, value=Decimal("1")))


@pytest.mark.parametrize(
    ("rule_event", "event_type", "expected"),
    [
        ("inquiry.registered", "inquiry.registered", True),
        ("inquiry.registered", "inquiry.closed", False),
        ("opportunity.won", "opportunity.lost", False),
        ("quote.sent", "quote.sent", True),
        ("quote.sent", "quote.accepted", False),
    ],
)
def test_the_event_type_must_be_the_rules(rule_event, event_type, expected):
    assert matches(rule(event=rule_event), event(type=event_type)) is expected


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [("qualified", True), ("nurture", False), ("archived", False), ("", False)],
)
def test_outcome(outcome, expected):
    closed = rule(event="inquiry.closed", outcome="qualified")
    assert matches(closed, event(type="inquiry.closed", outcome=outcome)) is expected


@pytest.mark.parametrize(
    ("company_id", "expected"), [(10, True), (11, True), (12, False), (None, False)]
)
def test_company_list_is_an_or_and_an_unknown_company_never_matches(
    company_id, expected
):
    key_accounts = rule(company_ids=ids(10, 11))
    assert matches(key_accounts, event(company_id=company_id)) is expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [(201, True), (200, True), (199, False), (0, False), (None, False)],
)
def test_min_company_size_is_at_least_and_an_unknown_size_never_matches(size, expected):
    large = rule(min_company_size=200)
    assert matches(large, event(company_size=size)) is expected


def test_min_company_size_zero_still_needs_a_known_size():
    assert matches(rule(min_company_size=0), event(company_size=0))
    assert not matches(rule(min_company_size=0), event(company_size=None))


@pytest.mark.parametrize(
    ("channel_id", "expected"), [(1, True), (2, True), (3, False), (None, False)]
)
def test_channels(channel_id, expected):
    assert (
        matches(rule(channel_ids=ids(1, 2)), event(channel_id=channel_id)) is expected
    )


@pytest.mark.parametrize(
    ("campaign_id", "expected"), [(5, True), (6, False), (None, False)]
)
def test_campaigns(campaign_id, expected):
    spring = rule(campaign_ids=ids(5))
    assert matches(spring, event(campaign_id=campaign_id)) is expected


@pytest.mark.parametrize(
    ("department_id", "expected"), [(3, True), (4, True), (9, False), (None, False)]
)
def test_departments(department_id, expected):
    sales = rule(department_ids=ids(3, 4))
    assert matches(sales, event(department_id=department_id)) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("10000.01"), True),
        (Decimal("250000"), True),
        (Decimal("10000.00"), False),  # "above": the limit itself does not count
        (Decimal("9999.99"), False),
        (Decimal("0"), False),
        (None, False),
    ],
)
def test_min_value_is_strictly_above_and_an_unknown_value_never_matches(
    value, expected
):
    big = rule(event="opportunity.created", min_value=Decimal("10000"))
    assert matches(big, event(type="opportunity.created", value=value)) is expected


@pytest.mark.parametrize(
    ("service_type", "expected"),
    [
        ("Installation", True),
        ("installation", True),
        ("INSTALLATION", True),
        ("Maintenance", False),
        ("", False),
    ],
)
def test_service_type_ignores_case(service_type, expected):
    installs = rule(event="opportunity.won", service_type="installation")
    got = matches(installs, event(type="opportunity.won", service_type=service_type))
    assert got is expected


def test_service_type_casefolds_beyond_lowercase():
    assert matches(
        rule(service_type="STRASSE"), event(service_type="Straße")
    )  # casefold, not lower


@pytest.mark.parametrize(
    ("team_id", "expected"), [(1, True), (2, True), (3, False), (None, False)]
)
def test_owner_teams(team_id, expected):
    north_south = rule(event="opportunity.stage_changed", team_ids=ids(1, 2))
    got = matches(
        north_south, event(type="opportunity.stage_changed", owner_team_id=team_id)
    )
    assert got is expected


def test_filters_combine_with_and():
    strict = rule(
        company_ids=ids(10),
        min_company_size=200,
        channel_ids=ids(1),
        campaign_ids=ids(5),
        department_ids=ids(3),
    )
    hit = event(
        company_id=10, company_size=250, channel_id=1, campaign_id=5, department_id=3
    )
    assert matches(strict, hit)
    for miss in (
        {"company_id": 11},
        {"company_size": 150},
        {"company_size": None},
        {"channel_id": 2},
        {"campaign_id": None},
        {"department_id": 4},
    ):
        assert not matches(strict, replace(hit, **miss)), miss


def test_opportunity_filters_combine_with_and():
    strict = rule(
        event="opportunity.won",
        min_value=Decimal("5000"),
        service_type="Installation",
        team_ids=ids(1),
        company_ids=ids(10),
    )
    hit = event(
        type="opportunity.won",
        value=Decimal("6000"),
        service_type="installation",
        owner_team_id=1,
        company_id=10,
    )
    assert matches(strict, hit)
    for miss in (
        {"value": Decimal("4000")},
        {"service_type": "repair"},
        {"owner_team_id": 2},
        {"company_id": 12},
        {"type": "opportunity.lost"},
    ):
        assert not matches(strict, replace(hit, **miss)), miss


def test_an_event_older_than_the_rule_never_matches():
    assert not matches(rule(), event(at=RULE_AT - timedelta(microseconds=1)))
    assert not matches(rule(), event(at=RULE_AT - timedelta(days=30)))
    assert matches(rule(), event(at=RULE_AT))
    assert matches(rule(), event(at=RULE_AT + timedelta(microseconds=1)))


def test_an_old_event_does_not_match_even_when_every_filter_does():
    key_accounts = rule(company_ids=ids(10), min_company_size=1)
    old = event(at=RULE_AT - timedelta(seconds=1), company_id=10, company_size=500)
    assert not matches(key_accounts, old)
    assert matches(key_accounts, replace(old, at=LATER))


def test_the_actor_and_owner_do_not_filter():
    """Who acted and who owns are about recipients, not about matching."""
    assert matches(rule(), event(actor_id=1, owner_id=1))
