"""In-app notifications: created by actions, read by their recipient only."""

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.contacts.tests.factories import make_contact
from leadflow.workflows.actions import mark_read, notify
from leadflow.workflows.models import Notification
from leadflow.workflows.queries import notifications_for, unread_count

pytestmark = pytest.mark.django_db


def test_notify_creates_the_notification_and_notes_it_on_the_subject(inside, rep):
    contact = make_contact()
    notification = notify(
        rep,
        actor=inside,
        event_type="x.happened",
        message="Look",
        subject=contact,
        url="/c/",
    )
    assert notification.recipient == rep
    assert notification.actor == inside
    assert (notification.subject_type, notification.subject_id) == (
        "contacts.contact",
        contact.pk,
    )
    event = AuditEvent.objects.get(event_type="notification.sent")
    assert event.new == {"to": "rep", "why": "x.happened"}
    assert event.subject_id == contact.pk


def test_notify_without_subject_writes_no_audit_row(rep):
    notify(rep, actor=None, event_type="x", message="Hello")
    assert not AuditEvent.objects.filter(event_type="notification.sent").exists()
    assert unread_count(rep) == 1


def test_mark_read_touches_only_the_users_own_notifications(rep, outsider):
    mine = notify(rep, actor=None, event_type="x", message="a")
    notify(rep, actor=None, event_type="x", message="b")
    theirs = notify(outsider, actor=None, event_type="x", message="c")
    assert mark_read(rep, notification_ids=[mine.pk, theirs.pk]) == 1
    assert unread_count(rep) == 1
    assert unread_count(outsider) == 1
    assert mark_read(rep) == 1
    assert unread_count(rep) == 0
    assert [n.message for n in notifications_for(rep)] == ["b", "a"]


def test_the_api_lists_my_notifications_newest_first_with_the_unread_count(
    api_as, rep, outsider
):
    notify(rep, actor=None, event_type="x", message="first")
    notify(rep, actor=None, event_type="x", message="second")
    notify(outsider, actor=None, event_type="x", message="not yours")
    body = api_as("rep").get("/api/notifications").json()
    assert [n["message"] for n in body["items"]] == ["second", "first"]
    assert body["unread"] == 2
    assert body["count"] == 2
    assert {n["read"] for n in body["items"]} == {False}
    outsider_body = api_as("outsider").get("/api/notifications").json()
    assert [n["message"] for n in outsider_body["items"]] == ["not yours"]


def test_the_api_marks_notifications_read(api_as, rep, outsider):
    first = notify(rep, actor=None, event_type="x", message="first")
    notify(rep, actor=None, event_type="x", message="second")
    theirs = notify(outsider, actor=None, event_type="x", message="not yours")
    api = api_as("rep")
    response = api.post("/api/notifications/read", {"ids": [first.pk, theirs.pk]})
    assert response.json() == {"marked": 1}
    unread = api.get("/api/notifications", {"unread": "true"}).json()
    assert [n["message"] for n in unread["items"]] == ["second"]
    assert api.post("/api/notifications/read", {}).json() == {"marked": 1}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_api_refuses_malformed_ids(api_as):
    response = api_as("rep").post("/api/notifications/read", {"ids": "all"})
    assert response.status_code == 422
