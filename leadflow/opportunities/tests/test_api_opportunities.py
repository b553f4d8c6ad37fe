"""GET /api/opportunities[/{id}]: the owner, their team, directors and inside sales."""

import pytest

from leadflow.accounts.models import User
from leadflow.intake.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(inside, rep):
    return make_opportunity(
        inside, owner=rep, summary="20 chairs", name="Piet", company="Janssens BV"
    )


@pytest.fixture
def teammate(teams):
    """A second salesperson of the North team (the rep's team)."""
    return User.objects.create(username="teammate", role="sales", team=teams["North"])


def test_the_owner_reads_the_lead_with_the_contract_fields(api_as, lead):
    response = api_as("rep").get(f"/api/opportunities/{lead.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == lead.pk
    assert body["title"] == "20 chairs"
    assert body["status"] == "open"
    assert body["owner"] == "rep"
    assert body["stage"] == "qualification"
    assert body["contact_id"] == lead.contact_id
    assert body["company_id"] == lead.company_id
    assert body["inquiry_id"] == lead.inquiry_id
    for field in (
        "expected_value",
        "decision_date",
        "start_date",
        "p_win",
        "p_go",
        "decision_type",
        "service_type",
        "created_at",
        "closed_at",
        "version",
    ):
        assert field in body


def test_money_and_probabilities_are_json_numbers(api_as, lead):
    lead.__class__.objects.filter(pk=lead.pk).update(
        expected_value="12500.50", p_win="0.6", p_go="0.75"
    )
    body = api_as("rep").get(f"/api/opportunities/{lead.pk}").json()
    assert body["expected_value"] == 12500.5
    assert body["p_win"] == 0.6
    assert body["p_go"] == 0.75


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("rep", 200),
        ("inside", 200),
        ("director", 200),
        ("admin", 200),
        ("outsider", 404),
        ("marketer", 404),
        ("colleague", 404),
    ],
)
def test_who_may_read_a_lead(api_as, lead, persona, status):
    response = api_as(persona).get(f"/api/opportunities/{lead.pk}")
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_team_mate_of_the_owner_reads_the_lead(api_as, lead, teammate):
    from conftest import ApiClient
    from leadflow.accounts.tokens import issue_token

    _token, key = issue_token(teammate, actor=None)
    assert ApiClient(key).get(f"/api/opportunities/{lead.pk}").status_code == 200


def test_the_list_shows_visible_open_leads_newest_first(api_as, inside, rep, outsider):
    first = make_opportunity(inside, owner=rep)
    second = make_opportunity(inside, owner=rep)
    theirs = make_opportunity(inside, owner=outsider)
    body = api_as("rep").get("/api/opportunities").json()
    assert [o["id"] for o in body["items"]] == [second.pk, first.pk]
    assert body["count"] == 2
    outsider_ids = [
        o["id"] for o in api_as("outsider").get("/api/opportunities").json()["items"]
    ]
    assert outsider_ids == [theirs.pk]
    director = api_as("director").get("/api/opportunities").json()
    assert director["count"] == 3


def test_the_list_filters_mine_and_status(api_as, inside, rep, teammate):
    mine = make_opportunity(inside, owner=rep)
    make_opportunity(inside, owner=teammate)
    won = make_opportunity(inside, owner=rep)
    won.__class__.objects.filter(pk=won.pk).update(status="won")
    api = api_as("rep")
    assert [
        o["id"] for o in api.get("/api/opportunities", {"mine": "true"}).json()["items"]
    ] == [mine.pk]
    assert [
        o["id"]
        for o in api.get("/api/opportunities", {"status": "won"}).json()["items"]
    ] == [won.pk]


def test_an_unknown_lead_is_404(api_as):
    response = api_as("director").get("/api/opportunities/999999")
    assert response.status_code == 404
