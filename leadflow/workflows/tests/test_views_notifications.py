"""The notifications page (own notifications, mark read, e-mail preference), the bell
badge in the header, and who may open the notification-rule admin."""

import re

import pytest
from django.test import Client

from leadflow.audit.models import AuditEvent
from leadflow.workflows.actions import notify, set_email_preference
from leadflow.workflows.models import Notification, NotificationRule, RuleEvent

pytestmark = pytest.mark.django_db

RULE_ADD = "/admin/workflows/notificationrule/add/"


@pytest.fixture
def client_as(personas):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return client_for


def listed(response) -> list[str]:
    """The messages of the notifications shown on the page, in order."""
    html = response.content.decode()
    items = re.findall(r'data-testid="notification">(.*?)</li>', html, flags=re.DOTALL)
    return [re.sub(r"<[^>]+>|\s+", " ", item).split("Mark read")[0] for item in items]


def badge(response) -> str | None:
    found = re.search(r'data-testid="unread-count">(\d+)<', response.content.decode())
    return found.group(1) if found else None


def test_the_page_lists_only_my_own_notifications(client_as, rep, outsider):
    notify(rep, actor=None, event_type="x", message="First for rep", url="/a/")
    notify(rep, actor=None, event_type="x", message="Second for rep")
    notify(outsider, actor=None, event_type="x", message="Secret for outsider")
    response = client_as("rep").get("/notifications/")
    assert response.status_code == 200
    shown = listed(response)
    assert len(shown) == 2
    assert "Second for rep" in shown[0] and "First for rep" in shown[1]
    html = response.content.decode()
    assert "Secret for outsider" not in html
    assert '<a href="/a/">First for rep</a>' in html


def test_nobody_logged_in_is_sent_to_the_login_page():
    response = Client().get("/notifications/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_empty_page_says_so(client_as):
    response = client_as("marketer").get("/notifications/")
    assert "No notifications." in response.content.decode()
    assert badge(response) is None


def test_mark_one_read(client_as, rep):
    first = notify(rep, actor=None, event_type="x", message="first")
    second = notify(rep, actor=None, event_type="x", message="second")
    client = client_as("rep")
    response = client.post("/notifications/read/", {"id": first.pk})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None
    assert badge(client.get("/notifications/")) == "1"


def test_mark_read_never_touches_someone_elses_notification(client_as, rep, outsider):
    theirs = notify(outsider, actor=None, event_type="x", message="theirs")
    mine = notify(rep, actor=None, event_type="x", message="mine")
    client_as("rep").post("/notifications/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.read_at is None
    assert mine.read_at is None  # an id that is not mine marks nothing of mine


def test_mark_all_read(client_as, rep, outsider):
    for n in range(3):
        notify(rep, actor=None, event_type="x", message=f"n{n}")
    notify(outsider, actor=None, event_type="x", message="theirs")
    client = client_as("rep")
    assert badge(client.get("/notifications/")) == "3"
    client.post("/notifications/read/")
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=outsider).read_at is None
    page = client.get("/notifications/")
    assert badge(page) is None
    assert "Mark read" not in page.content.decode()  # nothing unread left


def test_a_malformed_id_marks_nothing(client_as, rep):
    notify(rep, actor=None, event_type="x", message="a")
    notify(rep, actor=None, event_type="x", message="b")
    client_as("rep").post("/notifications/read/", {"id": "12abc"})
    assert Notification.objects.filter(recipient=rep, read_at__isnull=True).count() == 2


def test_mark_read_needs_a_post(client_as, rep):
    n = notify(rep, actor=None, event_type="x", message="a")
    assert client_as("rep").get("/notifications/read/").status_code == 405
    n.refresh_from_db()
    assert n.read_at is None


def test_the_bell_shows_the_unread_count_on_every_page(client_as, rep, outsider):
    client = client_as("rep")
    assert badge(client.get("/")) is None
    notify(rep, actor=None, event_type="x", message="a")
    notify(rep, actor=None, event_type="x", message="b")
    notify(outsider, actor=None, event_type="x", message="not mine")
    assert badge(client.get("/")) == "2"
    assert badge(client.get("/notifications/")) == "2"
    assert badge(client_as("outsider").get("/")) == "1"


def test_the_email_preference_is_stored_and_audited(client_as, rep, outsider):
    client = client_as("rep")
    page = client.get("/notifications/").content.decode()
    assert re.search(r'name="email" value="1" checked', page)

    response = client.post("/notifications/preferences/", {}, follow=True)
    assert "Your notification settings are saved." in response.content.decode()
    rep.refresh_from_db()
    assert rep.email_notifications is False
    assert not re.search(r'name="email" value="1" checked', response.content.decode())
    event = AuditEvent.objects.get(event_type="user.changed", subject_id=rep.pk)
    assert event.subject_type == "accounts.user"
    assert event.actor == rep
    assert (event.old, event.new) == (
        {"email_notifications": True},
        {"email_notifications": False},
    )

    outsider.refresh_from_db()
    assert outsider.email_notifications is True  # only my own setting changed

    client.post("/notifications/preferences/", {"email": "1"})
    rep.refresh_from_db()
    assert rep.email_notifications is True
    assert AuditEvent.objects.filter(event_type="user.changed").count() == 2


def test_the_preference_action_stores_and_audits_for_a_plain_user(rep, outsider):
    set_email_preference(rep, enabled=False)
    rep.refresh_from_db()
    outsider.refresh_from_db()
    assert (rep.email_notifications, outsider.email_notifications) == (False, True)
    event = AuditEvent.objects.get(event_type="user.changed")
    assert (event.subject_id, event.actor, event.new) == (
        rep.pk,
        rep,
        {"email_notifications": False},
    )


def test_saving_the_same_preference_writes_no_audit_row(client_as, rep):
    client_as("rep").post("/notifications/preferences/", {"email": "1"})
    rep.refresh_from_db()
    assert rep.email_notifications is True
    assert not AuditEvent.objects.filter(event_type="user.changed").exists()


def test_the_preference_needs_a_post(client_as, rep):
    assert client_as("rep").get("/notifications/preferences/").status_code == 405


def test_a_page_without_an_email_address_says_so(client_as, rep):
    type(rep).objects.filter(pk=rep.pk).update(email="")
    page = client_as("rep").get("/notifications/").content.decode()
    assert "no e-mail address on your account" in page


# --- the admin ------------------------------------------------------------------------


def test_the_admin_opens_the_rule_add_page(client_as):
    response = client_as("admin").get(RULE_ADD)
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("id_name", "id_event", "id_recipient_users", "id_min_company_size"):
        assert f'id="{field}"' in html


def test_a_salesperson_cannot_open_the_rule_admin(client_as):
    response = client_as("rep").get(RULE_ADD)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not NotificationRule.objects.exists()


def test_the_admin_saves_a_rule(client_as, director):
    response = client_as("admin").post(
        RULE_ADD,
        {
            "name": "Large companies",
            "event": RuleEvent.INQUIRY_REGISTERED,
            "is_active": "on",
            "min_company_size": "200",
            "recipient_users": [director.pk],
            "recipient_roles": "[]",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = NotificationRule.objects.get()
    assert rule.min_company_size == 200
    assert list(rule.recipient_users.all()) == [director]
    assert rule.recipient_roles == []


@pytest.mark.parametrize("roles", ['"sales_director"', "5", '["sales_directr"]'])
def test_the_admin_refuses_recipient_roles_that_are_not_a_list_of_roles(
    client_as, roles
):
    response = client_as("admin").post(
        RULE_ADD,
        {
            "name": "Typo",
            "event": RuleEvent.INQUIRY_REGISTERED,
            "is_active": "on",
            "recipient_roles": roles,
            "_save": "Save",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not NotificationRule.objects.exists()


def test_the_notification_log_cannot_be_added_to(client_as):
    response = client_as("admin").get("/admin/workflows/notification/add/")
    assert response.status_code == 403
