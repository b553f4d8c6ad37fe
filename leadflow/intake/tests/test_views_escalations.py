"""The inquiry record shows its escalations: a pending one says whom it will remind and
when (in the company calendar's local time), a sent one when and to whom, a cancelled
one why. One query for all of them, however many there are."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import formats, timezone

from leadflow.audit.models import AuditEvent
from leadflow.core.models import WorkingCalendar
from leadflow.intake.actions import assign_inquiry, close_inquiry
from leadflow.intake.tests.factories import make_inquiry
from leadflow.workflows import escalations
from leadflow.workflows.models import Escalation, EscalationKind, EscalationStatus

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # Monday 09:00 in Brussels


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_of(user, inquiry) -> str:
    response = client_for(user).get(f"/inquiries/{inquiry.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def items(html: str, status: str) -> list[str]:
    """The visible text of each escalation with this status, in page order."""
    found = re.findall(
        rf'<li data-testid="escalation-{status}">(.*?)</li>', html, flags=re.DOTALL
    )
    return [text(item) for item in found]


def shown_at(moment: datetime, tz) -> str:
    return formats.date_format(timezone.localtime(moment, tz), "SHORT_DATETIME_FORMAT")


def escalation(inquiry, kind=EscalationKind.INQUIRY_OPEN, **fields) -> Escalation:
    fields.setdefault("key", f"v{inquiry.version}")
    fields.setdefault("due_at", RECEIVED + timedelta(hours=4))
    return Escalation.objects.create(
        kind=kind, target=f"inquiry:{inquiry.pk}", inquiry=inquiry, **fields
    )


@pytest.fixture
def inquiry(inside):
    return make_inquiry(inside, name="Sofie Claes", received_at=RECEIVED)


@pytest.fixture
def north_manager(teams, director):
    teams["North"].manager = director
    teams["North"].save()
    return director


# --- pending ----------------------------------------------------------------------------


def test_a_pending_reminder_of_an_unassigned_inquiry_goes_to_inside_sales(
    inquiry, inside
):
    e = escalation(inquiry)
    html = page_of(inside, inquiry)
    tz = timezone.get_current_timezone()
    assert items(html, "pending") == [
        f"Inquiry still open Pending Reminds inside sales at {shown_at(e.due_at, tz)}"
    ]


def test_a_pending_reminder_names_the_assignee(inquiry, inside, admin):
    inquiry = assign_inquiry(inquiry, actor=admin, assignee=inside)
    escalation(inquiry)
    [item] = items(page_of(admin, inquiry), "pending")
    assert "Reminds Inside Persona at" in item


def test_an_inactive_assignee_falls_back_to_inside_sales(inquiry, inside, admin):
    inquiry = assign_inquiry(inquiry, actor=admin, assignee=inside)
    escalation(inquiry)
    type(inside).objects.filter(pk=inside.pk).update(is_active=False)
    [item] = items(page_of(admin, inquiry), "pending")
    assert "Reminds inside sales at" in item


def test_a_pending_manager_step_names_the_team_manager_or_the_directors(
    inquiry, inside, admin, north_manager, teams
):
    inquiry = assign_inquiry(inquiry, actor=admin, assignee=inside)
    escalation(inquiry, EscalationKind.INQUIRY_MANAGER)
    [item] = items(page_of(admin, inquiry), "pending")
    assert item.startswith("Inquiry still open (manager) Pending")
    assert "Reminds Director Persona at" in item

    teams["North"].manager = None
    teams["North"].save()
    [item] = items(page_of(admin, inquiry), "pending")
    assert "Reminds the sales directors at" in item


def test_the_due_time_is_shown_in_the_company_calendars_time_zone(
    inquiry, inside, settings
):
    WorkingCalendar.objects.create(time_zone="America/New_York")
    due = datetime(2026, 11, 16, 20, 30, tzinfo=UTC)  # 15:30 in New York
    escalation(inquiry, due_at=due)
    [item] = items(page_of(inside, inquiry), "pending")
    assert "11/16/2026 3:30 p.m." in item
    assert "9:30 p.m." not in item  # not the server's Brussels time


# --- sent and cancelled -----------------------------------------------------------------


def test_a_sent_reminder_says_when_and_to_whom(inquiry, inside):
    sent_at = RECEIVED + timedelta(hours=5)
    escalation(
        inquiry,
        status=EscalationStatus.SENT,
        sent_at=sent_at,
        recipients=["inside", "rep"],
    )
    tz = timezone.get_current_timezone()
    assert items(page_of(inside, inquiry), "sent") == [
        f"Inquiry still open Sent Sent on {shown_at(sent_at, tz)} to inside, rep"
    ]


def test_a_reminder_sent_to_nobody_says_so(inquiry, inside):
    escalation(inquiry, status=EscalationStatus.SENT, sent_at=RECEIVED, recipients=[])
    [item] = items(page_of(inside, inquiry), "sent")
    assert item.endswith("to nobody")


@pytest.mark.parametrize(
    ("note", "why"),
    [
        ("closed", "the inquiry was closed."),
        (
            "changed",
            "the inquiry changed before the deadline; the clock started again.",
        ),
        ("unknown kind", "unknown kind"),
    ],
)
def test_a_cancelled_reminder_says_why(inquiry, inside, note, why):
    cancelled_at = RECEIVED + timedelta(hours=1)
    escalation(
        inquiry,
        status=EscalationStatus.CANCELLED,
        cancelled_at=cancelled_at,
        note=note,
    )
    tz = timezone.get_current_timezone()
    assert items(page_of(inside, inquiry), "cancelled") == [
        f"Inquiry still open Cancelled Cancelled on {shown_at(cancelled_at, tz)}: {why}"
    ]


def test_the_whole_story_from_the_engine_is_shown(
    inquiry, inside, admin, north_manager
):
    """Armed, fired to the assignee (manager step armed), then closed: cancelled."""
    inquiry = assign_inquiry(inquiry, actor=admin, assignee=inside)
    first = escalations.arm_inquiry(inquiry, since=RECEIVED)
    assert escalations.fire(first.pk, now=first.due_at) == "sent"
    html = page_of(inside, inquiry)
    assert len(items(html, "sent")) == 1
    assert items(html, "sent")[0].endswith("to inside")
    [pending] = items(html, "pending")
    assert "Reminds Director Persona at" in pending

    close_inquiry(inquiry, actor=inside, outcome="archived", reason="Spam")
    escalations.cancel_for_inquiry(inquiry, note="closed")
    html = page_of(inside, inquiry)
    assert items(html, "pending") == []
    [cancelled] = items(html, "cancelled")
    assert cancelled.startswith("Inquiry still open (manager) Cancelled")
    assert cancelled.endswith("the inquiry was closed.")
    # The timeline names the reminder in words, with its kind and recipient.
    entry = re.search(r"<strong>Reminder sent</strong>(.*?)</li>", html, re.DOTALL)
    assert entry, "no 'Reminder sent' on the timeline"
    details = re.findall(r"<span>(.*?)</span>", entry.group(1), re.DOTALL)
    assert sorted(text(d) for d in details) == [  # jsonb on PostgreSQL sorts keys
        "kind: inquiry still open",
        "to: inside",
    ]
    assert AuditEvent.objects.filter(event_type="escalation.sent").count() == 1


def test_an_inquiry_without_escalations_has_no_such_section(inquiry, inside):
    html = page_of(inside, inquiry)
    assert 'data-testid="escalations"' not in html
    assert "Reminders and escalations" not in html


def test_newest_deadline_first(inquiry, inside):
    escalation(inquiry, key="v1", due_at=RECEIVED + timedelta(hours=1))
    escalation(inquiry, EscalationKind.INQUIRY_MANAGER, key="v1")
    html = page_of(inside, inquiry)
    kinds = re.findall(r'data-testid="escalation-pending"><strong>([^<]+)<', html)
    assert kinds == ["Inquiry still open (manager)", "Inquiry still open"]


# --- access and cost --------------------------------------------------------------------


def test_who_may_not_see_the_inquiry_sees_none_of_its_escalations(
    inquiry, rep, outsider
):
    escalation(inquiry)
    for user in (rep, outsider):
        response = client_for(user).get(f"/inquiries/{inquiry.pk}/")
        assert response.status_code == 404


def test_the_colleague_who_registered_it_sees_them(colleague):
    inquiry = make_inquiry(colleague, received_at=RECEIVED)
    escalation(inquiry)
    assert len(items(page_of(colleague, inquiry), "pending")) == 1


def test_the_escalations_cost_one_query_however_many(
    inquiry, inside, admin, north_manager, django_assert_max_num_queries
):
    inquiry = assign_inquiry(inquiry, actor=admin, assignee=inside)
    escalation(inquiry, key="v0")
    client = client_for(inside)
    client.get(f"/inquiries/{inquiry.pk}/")  # warm the calendar cache
    with django_assert_max_num_queries(100) as one:
        client.get(f"/inquiries/{inquiry.pk}/")
    for i in range(1, 12):
        status = [EscalationStatus.PENDING, EscalationStatus.SENT][i % 2]
        escalation(
            inquiry,
            [EscalationKind.INQUIRY_OPEN, EscalationKind.INQUIRY_MANAGER][i % 3 == 0],
            key=f"v{i}",
            status=status,
            sent_at=RECEIVED if status == EscalationStatus.SENT else None,
            recipients=["inside"] if status == EscalationStatus.SENT else [],
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert html.count('data-testid="escalation-') == 12
