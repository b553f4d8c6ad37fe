"""My day: "Follow-ups due" lists the leads parked in nurture whose follow-up date has
come (today, or in the last 31 days) and that come back to me: as the named follow-up
person, or, with nobody named, as the owner (sales), a marketer (marketing) or inside
sales (telemarketing). Linked, oldest first, at most 20, with the full count."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from leadflow.opportunities.actions import close_opportunity
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import make_lead
from leadflow.workflows.queries import follow_ups_due_for

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def parked(owner, *, days_ago: int = 0, by: str = "sales", person=None, title=None):
    """A lead of ``owner`` parked in nurture, due ``days_ago`` days ago (negative: in
    the future). The date is set afterwards: the action takes any date, but the
    story needs dates in the past."""
    lead = make_lead(owner, owner=owner, title=title)
    close_opportunity(
        lead,
        actor=owner,
        result="nurture",
        reason="Not before next year",
        follow_up_on=today() + timedelta(days=30),
        follow_up_by=by,
        follow_up_user=person,
    )
    Opportunity.objects.filter(pk=lead.pk).update(
        follow_up_on=today() - timedelta(days=days_ago)
    )
    return lead


def home_of(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def block(html: str) -> str | None:
    found = re.search(
        r'<section class="card mt" data-testid="my-follow-ups">(.*?)</section>',
        html,
        flags=re.DOTALL,
    )
    return found.group(1) if found else None


def listed(html: str) -> list[tuple[str, str]]:
    """(href, title) of each follow-up shown, in order."""
    return re.findall(
        r'<li data-testid="follow-up"><a href="([^"]+)">([^<]+)</a>', block(html) or ""
    )


def opens(user, url: str) -> int:
    client = Client()
    client.force_login(user)
    return client.get(url).status_code


def count(html: str) -> int:
    return int(re.search(r'data-testid="follow-up-count">(\d+)<', html).group(1))


def lead_link(lead) -> tuple[str, str]:
    return (f"/opportunities/{lead.pk}/", lead.title)


def contact_link(lead) -> tuple[str, str]:
    return (f"/contacts/{lead.contact_id}/", lead.title)


# --- who sees what ----------------------------------------------------------------------


def test_a_salesperson_sees_only_their_own_follow_ups_that_are_due(rep, outsider):
    due_today = parked(rep, title="Due today")
    due_last_week = parked(rep, days_ago=7, title="Due last week")
    parked(rep, days_ago=-1, title="Due tomorrow")
    parked(rep, days_ago=32, title="Long forgotten")
    parked(outsider, title="Outsider's own")
    parked(rep, by="marketing", title="Marketing's")
    parked(rep, by="telemarketing", title="Telemarketing's")
    html = home_of(rep)
    assert listed(html) == [lead_link(due_last_week), lead_link(due_today)]
    assert count(html) == 2
    assert "Outsider" not in block(html)


def test_a_lead_handed_to_a_named_person_leaves_the_owners_list(rep, inside):
    mine = parked(rep, title="Still mine")
    theirs = parked(rep, person=inside, title="Inside follows up")
    assert listed(home_of(rep)) == [lead_link(mine)]
    assert listed(home_of(inside)) == [lead_link(theirs)]


def test_the_named_person_sees_it_and_may_open_it_across_teams(rep, outsider):
    lead = parked(rep, person=outsider, title="Across teams")
    html = home_of(outsider)
    assert listed(html) == [lead_link(lead)]
    assert opens(outsider, lead_link(lead)[0]) == 200  # read only: no close form


def test_marketing_sees_marketing_follow_ups_and_may_open_them(rep, marketer):
    lead = parked(rep, by="marketing", days_ago=3, title="For marketing")
    parked(rep, by="telemarketing", title="For inside sales")
    parked(rep, title="For the owner")
    assert listed(home_of(marketer)) == [lead_link(lead)]
    assert opens(marketer, lead_link(lead)[0]) == 200


def test_the_team_that_took_over_from_a_leaver_is_linked_to_the_lead(
    rep, marketer, colleague
):
    """A named person who left hands the lead back to the team, and the record page
    lets that team in."""
    lead = parked(rep, by="marketing", person=colleague, title="Left the company")
    type(colleague).objects.filter(pk=colleague.pk).update(is_active=False)
    assert listed(home_of(marketer)) == [lead_link(lead)]
    assert opens(marketer, lead_link(lead)[0]) == 200


def test_inside_sales_sees_telemarketing_follow_ups_linked_to_the_lead(rep, inside):
    lead = parked(rep, by="telemarketing", title="Call them back")
    parked(rep, by="marketing", title="For marketing")
    assert listed(home_of(inside)) == [lead_link(lead)]


def test_an_inactive_named_person_hands_it_back_to_the_team(rep, inside, colleague):
    lead = parked(rep, person=colleague, title="Colleague left")
    assert listed(home_of(colleague)) == [lead_link(lead)]
    type(colleague).objects.filter(pk=colleague.pk).update(is_active=False)
    assert listed(home_of(rep)) == [lead_link(lead)]


def test_only_leads_still_in_nurture_count(rep):
    parked(rep, title="Picked up again")
    Opportunity.objects.filter(title="Picked up again").update(status="open")
    assert listed(home_of(rep)) == []


def test_a_director_sees_the_follow_ups_of_their_own_leads_only(director, rep):
    own = parked(director, title="Lead of the director")
    parked(rep, title="Lead of the rep")
    assert listed(home_of(director)) == [lead_link(own)]


# --- what the block shows ---------------------------------------------------------------


def test_each_row_says_since_when_and_whose_lead_it_is(rep, inside):
    parked(rep, days_ago=2, by="telemarketing", title="Two days late")
    parked(rep, by="telemarketing", title="Due today")
    html = block(home_of(inside))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    late = (today() - timedelta(days=2)).strftime("%m/%d/%Y")
    assert "Two days late Telemarketing" in text
    assert f'class="overdue">since {late}</span>' in html
    assert "Due today Telemarketing" in text and ">today</span>" in html
    assert text.count("owner Rep Persona") == 2


def test_at_most_twenty_oldest_first_with_the_full_count(rep):
    leads = [parked(rep, days_ago=25 - i, title=f"Lead {i:02d}") for i in range(25)]
    html = home_of(rep)
    shown = listed(html)
    assert shown == [lead_link(o) for o in leads[:20]]
    assert count(html) == 25
    assert "The oldest 20 of 25 are shown." in html


def test_nothing_due_says_so_to_whoever_may_get_follow_ups(rep, marketer, inside):
    for user in (rep, marketer, inside):
        html = home_of(user)
        assert "No follow-ups due." in block(html)
        assert count(html) == 0


def test_a_colleague_without_follow_ups_does_not_see_the_block(colleague):
    assert block(home_of(colleague)) is None


def test_the_block_stays_within_a_fixed_number_of_queries(
    rep, marketer, django_assert_max_num_queries
):
    parked(rep, title="One")
    parked(rep, by="marketing", title="For marketing")
    client = Client()
    client.force_login(rep)
    client.get("/")  # warm the calendar cache
    with django_assert_max_num_queries(100) as few:
        client.get("/")
    for i in range(24):
        parked(rep, days_ago=i % 30, title=f"More {i}")
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        html = client.get("/").content.decode()  # + 1: the count beyond 20
    assert count(html) == 25

    client.force_login(marketer)
    client.get("/")
    with django_assert_max_num_queries(30):
        assert len(listed(client.get("/").content.decode())) == 1


# --- the query --------------------------------------------------------------------------


def test_the_query_takes_the_day_it_is_given(rep):
    lead = parked(rep, days_ago=-3)
    assert list(follow_ups_due_for(rep)) == []
    assert list(follow_ups_due_for(rep, today=today() + timedelta(days=3))) == [lead]
    # 31 days after the date it is still shown (as the reminder's look-back), not 32.
    assert list(follow_ups_due_for(rep, today=today() + timedelta(days=34))) == [lead]
    assert list(follow_ups_due_for(rep, today=today() + timedelta(days=35))) == []
