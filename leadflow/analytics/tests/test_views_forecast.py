"""The forecast page: what each person sees, filters, the comparison with a snapshot,
taking a snapshot, the nav link."""

import re

import pytest
from django.test import Client

from leadflow.analytics.actions import take_snapshot
from leadflow.analytics.models import ForecastSnapshot
from leadflow.opportunities.actions import update_opportunity

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cell(page: str, row: str, testid: str) -> str:
    """The text of one cell: ``cell(page, "row-2026-03", "weighted")``."""
    match = re.search(
        rf'data-testid="{re.escape(row)}">.*?data-testid="{testid}">([^<]*)<',
        page,
        re.S,
    )
    assert match, (row, testid)
    return match[1].strip()


def test_the_director_sees_months_with_weighted_and_unweighted_labelled(
    director, leads
):
    page = logged_in(director).get("/forecast/").content.decode()
    assert "<h1>Forecast</h1>" in page
    assert "Unweighted (€)" in page and "Weighted (€)" in page
    assert cell(page, "row-2026-03", "unweighted") == "30,000.00"
    assert cell(page, "row-2026-03", "weighted") == "8,500.00"
    assert cell(page, "row-none", "weighted") == "4,500.00"
    assert ">No decision date<" in page
    assert 'data-testid="total-weighted">29,250.00<' in page
    assert 'data-testid="total-unweighted">84,000.00<' in page
    assert 'class="bar-weighted" min="0" max="40000.00" value="8500.00"' in page
    assert 'data-testid="snapshot-take"' in page


def test_a_salesperson_sees_only_their_and_their_teams_leads(rep, leads):
    page = logged_in(rep).get("/forecast/?by=owner").content.decode()
    assert 'data-testid="total-weighted">14,750.00<' in page
    assert "Rep Persona" in page and "Inside Persona" in page
    assert 'data-testid="row-outsider"' not in page
    assert 'data-testid="snapshot-take"' not in page  # directors and admins only


def test_the_outsider_sees_their_team_only(outsider, leads):
    page = logged_in(outsider).get("/forecast/?by=service").content.decode()
    assert 'data-testid="total-weighted">10,000.00<' in page
    assert 'data-testid="row-Installation"' not in page


def test_grouping_and_filters_from_the_form(director, leads, teams):
    client = logged_in(director)
    page = client.get(
        "/forecast/",
        {"by": "category", "from": "2026-03", "to": "2026-04"},
    ).content.decode()
    # March–April: L1 and L4 pipeline (12,500), L2 and L5 best case (6,000)
    assert cell(page, "row-pipeline", "weighted") == "12,500.00"
    assert cell(page, "row-best_case", "weighted") == "6,000.00"
    assert 'data-testid="row-commit"' not in page
    assert 'value="2026-03"' in page and 'value="2026-04"' in page
    page = client.get(
        "/forecast/", {"by": "team", "team": teams["North"].pk}
    ).content.decode()
    assert 'data-testid="total-weighted">14,750.00<' in page
    page = client.get("/forecast/", {"category": "omitted"}).content.decode()
    assert 'data-testid="total-weighted">3,000.00<' in page


def test_malformed_filters_are_ignored(director, leads):
    response = logged_in(director).get(
        "/forecast/", {"by": "week", "from": "soon", "owner": "x", "category": "y"}
    )
    assert response.status_code == 200
    assert 'data-testid="total-weighted">29,250.00<' in response.content.decode()


def test_compare_with_a_snapshot_shows_the_difference_per_row(director, rep, leads):
    snapshot = take_snapshot(actor=director)
    update_opportunity(leads.L1, actor=rep, expected_value=20000)  # +2,500 weighted
    page = (
        logged_in(director).get("/forecast/", {"compare": snapshot.pk}).content.decode()
    )
    assert 'data-testid="compare-note"' in page
    assert cell(page, "row-2026-03", "weighted-then") == "8,500.00"
    assert cell(page, "row-2026-03", "weighted") == "11,000.00"
    assert cell(page, "row-2026-03", "diff-weighted") == "+2,500.00"
    assert cell(page, "row-2026-03", "diff-unweighted") == "+10,000.00"
    assert cell(page, "row-2026-04", "diff-weighted") == "0.00"
    assert 'data-testid="total-diff-weighted">+2,500.00<' in page
    assert f'<option value="{snapshot.pk}" selected>' in page


def test_a_director_takes_a_snapshot_from_the_page(director, leads):
    client = logged_in(director)
    response = client.post("/forecast/snapshots/")
    snapshot = ForecastSnapshot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/forecast/?compare={snapshot.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "Snapshot taken: 8 open qualified leads frozen." in page
    assert cell(page, "row-2026-03", "diff-weighted") == "0.00"
    assert (snapshot.kind, snapshot.taken_by) == ("manual", director)


def test_a_salesperson_cannot_take_a_snapshot(rep, leads):
    response = logged_in(rep).post("/forecast/snapshots/")
    assert response.status_code == 403
    assert not ForecastSnapshot.objects.exists()


@pytest.mark.parametrize("persona", ["marketer", "colleague"])
def test_roles_without_leads_get_403(personas, persona):
    assert logged_in(personas[persona]).get("/forecast/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get("/forecast/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_nav_link_is_there_for_people_who_see_leads(rep, marketer):
    assert 'data-testid="nav-forecast"' in (
        logged_in(rep).get("/pipeline/").content.decode()
    )
    assert 'data-testid="nav-forecast"' not in (
        logged_in(marketer).get("/contacts/").content.decode()
    )


def test_an_empty_forecast(director):
    page = logged_in(director).get("/forecast/").content.decode()
    assert "No open qualified leads match." in page
    assert 'data-testid="total-weighted">0.00<' in page


def test_the_page_in_dutch_keeps_weighted_and_unweighted_apart(director, leads):
    client = logged_in(director)
    director.language = "nl"
    director.save(update_fields=["language"])
    page = client.get("/forecast/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert 'data-testid="total-weighted">29.250,00<' in page
    # numbers in attributes are never localised
    assert 'value="8500.00"' in page


def test_the_page_needs_few_queries(director, leads, django_assert_max_num_queries):
    client = logged_in(director)
    client.get("/forecast/")
    snapshot = take_snapshot(actor=director)
    # session, user, notifications badge, two forecasts, choices (measured: 10)
    with django_assert_max_num_queries(12):
        client.get("/forecast/", {"compare": snapshot.pk, "by": "owner"})
