"""Parking a lead in nurture from its record page: a follow-up date, the team that
follows up and, optionally, a named follow-up person; the record then shows all three."""

import importlib
import re
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from leadflow.opportunities.models import Opportunity, OpportunityTransition, Stage
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db

FOLLOW_UP = date(2027, 3, 1)


@pytest.fixture
def lead(rep):
    return make_lead(rep, owner=rep, title="Compressor line")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def shown(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</dd>', html, flags=re.DOTALL)
    assert found, testid
    return text(found.group(1))


def park(client, lead, **fields):
    data = {
        "result": "nurture",
        "reason": "Budget only next year",
        "follow_up_on": FOLLOW_UP.isoformat(),
        "follow_up_by": "sales",
        **fields,
    }
    return client.post(f"/opportunities/{lead.pk}/close/", data, follow=True)


# --- the form ---------------------------------------------------------------------------


def test_the_close_form_offers_a_follow_up_person_among_active_users(
    lead, rep, inside, marketer, colleague
):
    type(colleague).objects.filter(pk=colleague.pk).update(is_active=False)
    html = client_for(rep).get(f"/opportunities/{lead.pk}/").content.decode()
    select = re.search(
        r'<select name="follow_up_user" [^>]*id="close_follow_up_user">(.*?)</select>',
        html,
        flags=re.DOTALL,
    )
    assert select, "no follow-up person select"
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select[1])
    assert 'aria-describedby="close_follow_up_user_helptext"' in html
    assert 'id="close_follow_up_user_helptext"' in html
    assert options[0] == ("", "— (the team)")
    names = [name for _value, name in options[1:]]
    assert "Inside Persona" in names and "Marketer Persona" in names
    assert "Colleague Persona" not in names  # inactive
    assert '<label for="close_follow_up_user">Follow-up person</label>' in html
    assert "On the follow-up date the lead comes back to this person" in html


# --- storing ----------------------------------------------------------------------------


def test_parking_with_a_person_stores_and_shows_date_team_and_person(
    lead, rep, marketer
):
    response = park(
        client_for(rep), lead, follow_up_by="marketing", follow_up_user=marketer.pk
    )
    html = response.content.decode()
    assert "Qualified lead closed." in html
    lead.refresh_from_db()
    assert (lead.status, lead.follow_up_on, lead.follow_up_by, lead.follow_up_user) == (
        "nurture",
        FOLLOW_UP,
        "marketing",
        marketer,
    )
    move = OpportunityTransition.objects.get(opportunity=lead, to_state="nurture")
    assert move.actor == rep
    assert move.data["follow_up_user"] == "marketer"
    assert move.data["follow_up_by"] == "marketing"

    assert shown(html, "follow-up-on") == "03/01/2027"
    assert shown(html, "follow-up-by") == "Marketing"
    assert shown(html, "follow-up-person") == "Marketer Persona"
    assert 'data-testid="opp-close-form"' not in html  # closed: no more forms


def test_parking_without_a_person_leaves_it_to_the_team(lead, rep):
    html = park(client_for(rep), lead, follow_up_user="").content.decode()
    lead.refresh_from_db()
    assert (lead.status, lead.follow_up_by, lead.follow_up_user) == (
        "nurture",
        "sales",
        None,
    )
    assert shown(html, "follow-up-person") == "nobody named: the owner, Rep Persona"


@pytest.mark.parametrize(
    ("by", "says"),
    [
        ("marketing", "nobody named: marketing"),
        ("telemarketing", "nobody named: inside sales"),
    ],
)
def test_the_record_says_which_team_follows_up_when_nobody_is_named(
    lead, rep, by, says
):
    html = park(client_for(rep), lead, follow_up_by=by).content.decode()
    assert shown(html, "follow-up-person") == says


def test_a_person_no_longer_active_is_marked_so_on_the_record(lead, rep, inside):
    park(client_for(rep), lead, follow_up_user=inside.pk)
    type(inside).objects.filter(pk=inside.pk).update(is_active=False)
    html = client_for(rep).get(f"/opportunities/{lead.pk}/").content.decode()
    assert shown(html, "follow-up-person") == (
        "Inside Persona (no longer active: the team follows up)"
    )


def test_an_inactive_or_unknown_person_is_refused_and_nothing_changes(
    lead, rep, inside
):
    type(inside).objects.filter(pk=inside.pk).update(is_active=False)
    for value in (inside.pk, 999999, "abc"):
        html = park(client_for(rep), lead, follow_up_user=value).content.decode()
        assert "Follow-up person: Select a valid choice." in html
        lead.refresh_from_db()
        assert (lead.status, lead.follow_up_user) == ("open", None)
    assert not OpportunityTransition.objects.filter(to_state="nurture").exists()


def test_a_person_given_with_another_result_is_not_kept(lead, rep, inside):
    client_for(rep).post(
        f"/opportunities/{lead.pk}/close/",
        {"result": "lost", "reason": "Price", "follow_up_user": inside.pk},
    )
    lead.refresh_from_db()
    assert (lead.status, lead.follow_up_user) == ("lost", None)
    html = client_for(rep).get(f"/opportunities/{lead.pk}/").content.decode()
    assert 'data-testid="follow-up-person"' not in html


def test_nurture_still_needs_a_date_on_the_page(lead, rep, inside):
    html = park(
        client_for(rep), lead, follow_up_on="", follow_up_user=inside.pk
    ).content.decode()
    assert "Nurture needs a follow-up date." in html
    lead.refresh_from_db()
    assert (lead.status, lead.follow_up_user) == ("open", None)


# --- the timeline -----------------------------------------------------------------------


def test_the_timeline_names_the_follow_up_in_words(lead, rep, inside):
    html = park(client_for(rep), lead, follow_up_user=inside.pk).content.decode()
    timeline = text(html.split('data-testid="timeline"')[1])
    assert "Parked in nurture (open → nurture)" in timeline
    assert "follow up on: 2027-03-01" in timeline
    assert "followed up by: sales" in timeline
    assert "follow-up person: inside" in timeline
    assert "follow_up_user" not in html and "follow up user" not in timeline


# --- access and cost --------------------------------------------------------------------


def test_another_team_cannot_park_the_lead(lead, outsider, inside):
    response = client_for(outsider).post(
        f"/opportunities/{lead.pk}/close/",
        {
            "result": "nurture",
            "reason": "x",
            "follow_up_on": FOLLOW_UP.isoformat(),
            "follow_up_by": "sales",
            "follow_up_user": inside.pk,
        },
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert (lead.status, lead.follow_up_user) == ("open", None)


def test_marketing_cannot_park_a_lead(lead, marketer):
    response = park(client_for(marketer), lead, follow_up_user=marketer.pk)
    assert response.status_code == 404
    assert Opportunity.objects.get(pk=lead.pk).status == "open"


def test_the_record_of_a_nurture_lead_stays_within_a_fixed_number_of_queries(
    lead, rep, inside, django_assert_max_num_queries
):
    park(client_for(rep), lead, follow_up_user=inside.pk)
    client = client_for(rep)
    with django_assert_max_num_queries(30):
        response = client.get(f"/opportunities/{lead.pk}/")
    assert shown(response.content.decode(), "follow-up-person") == "Inside Persona"


def test_the_follow_up_person_opens_the_record_read_only(lead, rep, outsider):
    park(client_for(rep), lead, follow_up_user=outsider.pk)
    html = client_for(outsider).get(f"/opportunities/{lead.pk}/").content.decode()
    assert shown(html, "follow-up-person") == "Outsider Persona"
    assert shown(html, "follow-up-on") == "03/01/2027"
    response = client_for(outsider).post(
        f"/opportunities/{lead.pk}/close/", {"result": "lost", "reason": "x"}
    )
    assert response.status_code == 403


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no SELECT … FOR UPDATE: only PostgreSQL needs the transaction",
)
@pytest.mark.django_db(transaction=True)
def test_parking_from_the_page_works_outside_a_test_transaction(rep, inside):
    """Regression: close_opportunity had lost its transaction; on PostgreSQL the page
    then answered 500 (select_for_update outside a transaction)."""
    if not Stage.objects.exists():  # an earlier transactional test flushed them
        importlib.import_module(
            "leadflow.opportunities.migrations.0002_default_stages"
        ).add(django_apps, None)
    lead = make_lead(rep, owner=rep)
    client = Client(raise_request_exception=False)
    client.force_login(rep)
    response = park(client, lead, follow_up_user=inside.pk)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.status, lead.follow_up_user) == ("nurture", inside)


# --- the team takes over from a follow-up person who left ---------------------------------


def test_the_team_opens_a_lead_whose_named_person_left(lead, rep, marketer, colleague):
    park(client_for(rep), lead, follow_up_by="marketing", follow_up_user=colleague.pk)
    type(colleague).objects.filter(pk=colleague.pk).update(is_active=False)
    response = client_for(marketer).get(f"/opportunities/{lead.pk}/")
    assert response.status_code == 200
