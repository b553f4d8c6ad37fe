"""Read side of intake: who sees which inquiry, the triage queue, intake history."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from leadflow.contacts.actions import record_visit
from leadflow.contacts.models import Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import assign_inquiry, book_order, close_inquiry
from leadflow.intake.models import Channel
from leadflow.intake.queries import (
    QueueFilters,
    age_in_working_hours,
    contact_history,
    get_inquiry_for_user,
    histories_for,
    is_overdue,
    lookup,
    triage_queue,
    visible_inquiries,
)
from leadflow.intake.tests.factories import make_inquiry, make_opportunity

pytestmark = pytest.mark.django_db
BRUSSELS = ZoneInfo("Europe/Brussels")


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


@pytest.mark.parametrize("persona", ["inside", "director", "admin", "marketer"])
def test_triage_roles_and_marketing_see_every_inquiry(personas, rep, outsider, persona):
    mine = make_inquiry(rep)
    theirs = make_inquiry(outsider)
    visible = set(visible_inquiries(personas[persona]))
    assert {mine, theirs} <= visible


def test_sales_and_colleagues_see_only_what_they_took_in_or_assess(
    inside, rep, outsider, colleague
):
    received = make_inquiry(inside, received_by="rep")
    created = make_inquiry(rep)
    assigned = make_inquiry(inside)
    assign_inquiry(assigned, actor=inside, assignee=inside)
    other_team = make_inquiry(outsider)
    by_colleague = make_inquiry(colleague)
    assert set(visible_inquiries(rep)) == {received, created}
    assert set(visible_inquiries(outsider)) == {other_team}
    assert set(visible_inquiries(colleague)) == {by_colleague}


def test_get_inquiry_for_user_hides_other_peoples_inquiries_with_404(inside, outsider):
    inquiry = make_inquiry(inside)
    with pytest.raises(Http404):
        get_inquiry_for_user(outsider, inquiry.pk)


def test_get_inquiry_for_user_to_write_needs_the_triage_role(rep, inside):
    inquiry = make_inquiry(rep)
    assert get_inquiry_for_user(rep, inquiry.pk) == inquiry
    with pytest.raises(PermissionDenied):
        get_inquiry_for_user(rep, inquiry.pk, write=True)
    assert get_inquiry_for_user(inside, inquiry.pk, write=True) == inquiry


def test_the_triage_queue_lists_open_inquiries_oldest_first(inside):
    newest = make_inquiry(inside, received_at=ago(hours=1))
    oldest = make_inquiry(inside, received_at=ago(days=2))
    middle = make_inquiry(inside, received_at=ago(hours=5))
    closed = make_inquiry(inside, received_at=ago(days=3))
    close_inquiry(closed, actor=inside, outcome="archived", reason="spam")
    assert list(triage_queue(inside, QueueFilters())) == [oldest, middle, newest]
    assert list(triage_queue(inside, QueueFilters(status="closed"))) == [closed]


def test_the_triage_queue_filters_by_channel_department_and_assignee(
    inside, director, departments
):
    phone = make_inquiry(inside, channel="phone")
    web = make_inquiry(inside, channel="web_form", department="Marketing")
    assign_inquiry(web, actor=director, assignee=inside)
    web_form = Channel.objects.get(code="web_form")
    assert list(triage_queue(inside, QueueFilters(channel=web_form.pk))) == [web]
    marketing = departments["Marketing"].pk
    assert list(triage_queue(inside, QueueFilters(department=marketing))) == [web]
    assert list(triage_queue(inside, QueueFilters(assignee=inside.pk))) == [web]
    assert list(triage_queue(inside, QueueFilters(unassigned=True))) == [phone]


def test_age_counts_working_hours_until_closed(inside):
    with timezone.override(BRUSSELS):
        monday_9 = datetime(2025, 11, 24, 9, tzinfo=BRUSSELS)
        inquiry = make_inquiry(inside, received_at=monday_9)
        now = datetime(
            2025, 11, 25, 10, tzinfo=BRUSSELS
        )  # Monday 09:00 -> Tuesday 10:00
        assert age_in_working_hours(inquiry, now) == 10
        assert is_overdue(inquiry, now)
        assert not is_overdue(inquiry, datetime(2025, 11, 24, 16, tzinfo=BRUSSELS))


def test_overdue_follows_the_configured_target(inside, settings):
    settings.LEADFLOW_TRIAGE_TARGET_HOURS = 20
    with timezone.override(BRUSSELS):
        inquiry = make_inquiry(
            inside, received_at=datetime(2025, 11, 24, 9, tzinfo=BRUSSELS)
        )
        assert not is_overdue(inquiry, datetime(2025, 11, 25, 10, tzinfo=BRUSSELS))


def test_history_shows_inquiries_running_leads_orders_visits_and_lists(inside, rep):
    contact = make_contact("Piet Janssens", company="Janssens BV")
    colleague_at_company = make_contact("Els Janssens", company="Janssens BV")
    earlier = make_inquiry(inside, contact=contact, summary="Earlier question")
    close_inquiry(earlier, actor=inside, outcome="nurture", marketing_lists=["News"])
    lead = make_opportunity(inside, owner=rep, contact=colleague_at_company)
    order = book_order(actor=inside, contact=colleague_at_company, description="chairs")
    visit = record_visit(actor=None, kind="website", at=ago(hours=2), contact=contact)
    history = contact_history(
        Contact.objects.select_related("company").get(pk=contact.pk), viewer=inside
    )
    assert history.inquiries == [earlier]
    assert history.open_opportunities == [lead]  # the company's running lead counts
    assert history.orders == [order]  # a colleague's re-order counts too
    assert history.website_visits == [visit]
    assert history.marketing_lists == ["News"]
    assert history.flags["customer"] is True
    assert history.flags["in_marketing_database"] is True


def test_history_of_many_contacts_takes_a_fixed_number_of_queries(
    inside, rep, django_assert_max_num_queries
):
    contacts = []
    for i in range(8):
        contact = make_contact(f"Person {i}", company=f"Company {i % 3}")
        make_inquiry(inside, contact=contact)
        book_order(actor=inside, contact=contact, description="x")
        contacts.append(contact)
    make_opportunity(inside, owner=rep, contact=contacts[0])
    # 8 for the history, 2 for the customer context (overdue invoices, complaints).
    with django_assert_max_num_queries(10):
        histories = histories_for(contacts, viewer=inside)
    assert len(histories) == 8


def test_history_limits_the_number_of_rows(inside):
    contact = make_contact()
    for i in range(7):
        make_inquiry(inside, contact=contact, received_at=ago(days=i))
    assert len(contact_history(contact, viewer=inside, limit=5).inquiries) == 5


def test_lookup_returns_ranked_matches_with_history_and_reasons(colleague, inside):
    piet = make_contact(
        "Piet Janssens", email="piet@janssens.be", company="Janssens BV"
    )
    make_inquiry(inside, contact=piet)
    result = lookup(
        colleague, email="PIET@janssens.be", name="piet", company="janssens"
    )
    assert [h.contact for h in result.contacts] == [piet]
    assert result.contacts[0].reasons == ["company", "email", "name"]
    assert len(result.contacts[0].inquiries) == 1
    assert [c.name for c in result.companies] == ["Janssens BV"]
