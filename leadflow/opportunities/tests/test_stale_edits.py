"""Two people editing the same qualified lead or quote: the later save is refused with
who changed it and when, never a silent overwrite (issue 7, concurrency)."""

from decimal import Decimal

import pytest
from django.test import Client

from leadflow.core.errors import Conflict
from leadflow.opportunities.actions import (
    LineInput,
    create_quote,
    update_draft_quote,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import make_lead, score_scotsman


@pytest.fixture
def lead(rep):
    return make_lead(rep, owner=rep)


def test_a_save_on_an_older_version_names_who_changed_it(lead, rep, director):
    opened = lead.version
    update_opportunity(lead, actor=director, version=opened, title="Director's title")
    with pytest.raises(Conflict) as refused:
        update_opportunity(lead, actor=rep, version=opened, title="Rep's title")
    assert refused.value.code == "stale_version"
    assert director.get_full_name() in str(refused.value)
    assert "after you opened it" in str(refused.value)
    assert Opportunity.objects.get(pk=lead.pk).title == "Director's title"


def test_the_page_shows_the_message_and_keeps_the_first_save(lead, rep, director):
    opened = lead.version
    update_opportunity(lead, actor=director, version=opened, title="Director's title")
    client = Client()
    client.force_login(rep)
    response = client.post(
        f"/opportunities/{lead.pk}/edit/",
        {"version": opened, "title": "Rep's title"},
        follow=True,
    )
    page = response.content.decode()
    assert director.get_full_name() in page
    assert "Reload to see the change" in page
    assert Opportunity.objects.get(pk=lead.pk).title == "Director's title"


def test_the_api_answers_409_with_the_name(lead, api_as, director):
    update_opportunity(lead, actor=director, version=lead.version, title="First")
    response = api_as("rep").patch(
        f"/api/opportunities/{lead.pk}", {"version": 1, "title": "Second"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    assert director.get_full_name() in response.json()["detail"]


def test_a_draft_quote_saved_on_an_older_version_is_refused(lead, rep, director):
    score_scotsman(lead, rep, met=8)
    line = LineInput(description="Chairs", quantity=Decimal(2), unit_price=Decimal(10))
    quote = create_quote(lead, actor=rep, lines=[line])
    opened = quote.version
    update_draft_quote(quote, actor=director, lines=[line, line], version=opened)
    with pytest.raises(Conflict) as refused:
        update_draft_quote(quote, actor=rep, lines=[line], version=opened)
    assert director.get_full_name() in str(refused.value)
    assert quote.lines.count() == 2
