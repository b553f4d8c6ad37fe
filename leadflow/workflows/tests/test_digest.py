"""The daily digest: users who chose it get no mail per notification but one message a
day listing their unread notifications, each notification e-mailed at most once."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone, translation

from leadflow.accounts.models import Role, User
from leadflow.core.worktime import forget_calendar
from leadflow.workflows import digest
from leadflow.workflows.actions import mark_read, notify
from leadflow.workflows.digest import send_digests
from leadflow.workflows.models import (
    Notification,
    NotificationRule,
    RuleEvent,
    ScheduledJob,
)
from leadflow.workflows.outbox import process_outbox
from leadflow.workflows.scheduler import run_due_jobs
from leadflow.workflows.tests.test_webhooks import register

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
BASE_URL = "https://crm.example.be"


@pytest.fixture(autouse=True)
def site(settings):
    settings.LEADFLOW_BASE_URL = BASE_URL
    settings.TIME_ZONE = "Europe/Brussels"
    forget_calendar()
    yield
    forget_calendar()


def wants_digest(user: User, **fields) -> User:
    fields.setdefault("email_digest", True)
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    return user


@pytest.fixture
def every_inquiry(director, rep):
    rule = NotificationRule.objects.create(
        name="Every inquiry", event=RuleEvent.INQUIRY_REGISTERED
    )
    rule.recipient_users.set([director, rep])
    return rule


def tell(user: User, message: str, url: str = "/inquiries/1/") -> Notification:
    return notify(user, actor=None, event_type="test", message=message, url=url)


def line(n: Notification) -> str:
    """How the digest lists one notification: local (Brussels) day and time."""
    local = n.created_at.astimezone(BRUSSELS)
    return f"- {local:%d-%m %H:%M} {n.message}\n  {BASE_URL}{n.url}"


def digest_body(*notifications: Notification) -> str:
    return "\n".join(
        [
            "Your notifications since the last digest:",
            "",
            *(line(n) for n in notifications),
            "",
            f"Change how you receive notifications: {BASE_URL}/notifications/",
        ]
    )


def mails_to(user: User) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


# --- no mail per notification, one digest -------------------------------------------------


def test_a_digest_user_gets_no_mail_per_notification_but_one_digest(
    every_inquiry, inside, director, rep, django_capture_on_commit_callbacks
):
    wants_digest(director)
    # (One captured commit: a test transaction wakes the outbox once.)
    with django_capture_on_commit_callbacks(execute=True):
        first = register(inside, "Sofie Claes", "Acme NV")
        second = register(inside, "Bea Big", "Bigcorp NV")

    # The rep (e-mail per notification) got two mails, the director none.
    assert len(mails_to(rep)) == 2
    assert mails_to(director) == []
    waiting = list(
        Notification.objects.filter(recipient=director).order_by("created_at", "id")
    )
    assert [n.subject_id for n in waiting] == [first.pk, second.pk]
    assert all(n.emailed_at is None for n in waiting)
    assert all(n.read_at is None for n in waiting)  # still in the bell

    mail.outbox.clear()
    assert send_digests() == 1
    [message] = mail.outbox
    assert message.to == ["director@leadflow.test"]
    assert message.subject == "Leadflow: 2 notifications"
    assert message.body == digest_body(*waiting)
    assert "New inquiry from Sofie Claes (Acme NV)" in message.body
    assert f"{BASE_URL}/inquiries/{first.pk}/" in message.body
    for n in waiting:
        n.refresh_from_db()
        assert n.emailed_at is not None
        assert n.read_at is None  # e-mailed is not read


def test_notify_does_not_queue_a_mail_for_a_digest_user(
    director, django_capture_on_commit_callbacks
):
    wants_digest(director)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tell(director, "Call Acme back")
    assert callbacks == []
    assert mail.outbox == []


def test_one_notification_is_named_in_the_singular(director):
    wants_digest(director)
    n = tell(director, "Call Acme back")
    assert send_digests() == 1
    [message] = mail.outbox
    assert message.subject == "Leadflow: 1 notification"
    assert message.body == digest_body(n)


def test_read_notifications_are_left_out(director):
    wants_digest(director)
    first = tell(director, "First", "/inquiries/1/")
    read = tell(director, "Already seen", "/inquiries/2/")
    last = tell(director, "Last", "/inquiries/3/")
    assert mark_read(director, notification_ids=[read.pk]) == 1
    assert send_digests() == 1
    [message] = mail.outbox
    assert message.subject == "Leadflow: 2 notifications"
    assert message.body == digest_body(first, last)
    assert "Already seen" not in message.body
    read.refresh_from_db()
    assert read.emailed_at is None


def test_nothing_unread_no_digest(director):
    wants_digest(director)
    tell(director, "Seen in the app")
    mark_read(director)
    assert send_digests() == 0
    assert mail.outbox == []


def test_notifications_already_mailed_one_by_one_are_not_repeated(
    director, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell(director, "Mailed at once")  # before choosing the digest
    assert len(mail.outbox) == 1
    wants_digest(director)
    later = tell(director, "After the switch")
    mail.outbox.clear()
    assert send_digests() == 1
    [message] = mail.outbox
    assert message.body == digest_body(later)


# --- never twice ----------------------------------------------------------------------------


def test_a_second_run_sends_nothing(director):
    wants_digest(director)
    tell(director, "Call Acme back")
    assert send_digests() == 1
    assert send_digests() == 0
    assert len(mail.outbox) == 1

    newer = tell(director, "Call Globex back")
    assert send_digests() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].body == digest_body(newer)
    assert "Call Acme back" not in mail.outbox[1].body


def test_a_run_with_the_same_clock_twice_sends_nothing_more(director):
    wants_digest(director)
    tell(director, "Call Acme back")
    now = timezone.now()
    assert send_digests(now=now) == 1
    assert send_digests(now=now) == 0
    assert len(mail.outbox) == 1


def test_notifications_after_the_digests_clock_wait_for_the_next_one(director):
    wants_digest(director)
    early = tell(director, "Before seven thirty")
    cut_off = timezone.now()
    Notification.objects.filter(pk=early.pk).update(
        created_at=cut_off - timedelta(minutes=1)
    )
    late = tell(director, "Just after")
    Notification.objects.filter(pk=late.pk).update(
        created_at=cut_off + timedelta(seconds=1)
    )
    early.refresh_from_db()
    late.refresh_from_db()
    assert send_digests(now=cut_off) == 1
    assert mail.outbox[0].body == digest_body(early)
    assert send_digests(now=cut_off + timedelta(minutes=1)) == 1
    assert mail.outbox[1].body == digest_body(late)


def test_a_failing_mail_loses_nothing_and_does_not_stop_the_others(
    director, marketer, monkeypatch
):
    wants_digest(director)
    wants_digest(marketer)
    tell(director, "For the director")
    tell(marketer, "For marketing")
    real_send_mail = digest.send_mail

    def send_mail(*, recipient_list, **kwargs):
        if recipient_list == [director.email]:
            raise ConnectionRefusedError("mail server down")
        return real_send_mail(recipient_list=recipient_list, **kwargs)

    monkeypatch.setattr(digest, "send_mail", send_mail)
    assert send_digests() == 1
    assert [m.to for m in mail.outbox] == [[marketer.email]]
    # The director's claim was rolled back: the next run sends it.
    assert Notification.objects.get(recipient=director).emailed_at is None
    monkeypatch.setattr(digest, "send_mail", real_send_mail)
    assert send_digests() == 1
    assert [m.to for m in mail.outbox] == [[marketer.email], [director.email]]
    assert send_digests() == 0


def test_a_long_backlog_goes_out_200_at_a_time(director):
    wants_digest(director)
    Notification.objects.bulk_create(
        Notification(recipient=director, event_type="test", message=f"Item {i}")
        for i in range(201)
    )
    assert send_digests() == 1
    assert mail.outbox[0].subject == "Leadflow: 200 notifications"
    assert send_digests() == 1
    assert mail.outbox[1].subject == "Leadflow: 1 notification"
    assert send_digests() == 0


# --- who gets one ---------------------------------------------------------------------------


def test_users_without_address_with_email_off_or_inactive_get_none(
    director, marketer, colleague, outsider, rep
):
    wants_digest(director, email="")
    wants_digest(marketer, email_notifications=False)
    wants_digest(colleague, is_active=False)
    wants_digest(rep)
    # outsider: e-mail per notification, not the digest
    for user in (director, marketer, colleague, outsider, rep):
        tell(user, f"For {user.username}")

    assert send_digests() == 1
    assert [m.to for m in mail.outbox] == [["rep@leadflow.test"]]
    assert list(
        Notification.objects.filter(emailed_at__isnull=False).values_list(
            "recipient__username", flat=True
        )
    ) == ["rep"]


def test_every_digest_user_gets_their_own(personas):
    users = [personas[name] for name in ("director", "rep", "inside")]
    for user in users:
        wants_digest(user)
        tell(user, f"Only for {user.username}")
    assert send_digests() == 3
    assert sorted(m.to[0] for m in mail.outbox) == [
        "director@leadflow.test",
        "inside@leadflow.test",
        "rep@leadflow.test",
    ]
    for message in mail.outbox:
        username = message.to[0].split("@")[0]
        assert f"Only for {username}" in message.body
        assert all(
            f"Only for {u.username}" not in message.body
            for u in users
            if u.username != username
        )


# --- language -------------------------------------------------------------------------------


def test_a_dutch_users_digest_lists_their_notifications_in_dutch(
    every_inquiry, inside, director
):
    wants_digest(director, language="nl")
    register(inside, "Sofie Claes", "Acme NV")
    process_outbox()
    assert send_digests() == 1
    [message] = mail.outbox
    assert "Nieuwe aanvraag van Sofie Claes (Acme NV)" in message.body
    assert "New inquiry from" not in message.body


def test_a_dutch_users_digest_is_written_in_dutch(director):
    wants_digest(director, language="nl")
    tell(director, "Bel Acme terug")
    tell(director, "Bel Globex terug")
    assert send_digests() == 1
    [message] = mail.outbox
    assert message.subject.startswith("Leadflow: 2 ")
    assert "melding" in message.subject.lower()  # "melding(en)", as in the app
    assert "notification" not in message.subject.lower()
    assert "Your notifications since the last digest" not in message.body
    assert "Change how you receive notifications" not in message.body
    assert f"{BASE_URL}/notifications/" in message.body


def test_the_digest_leaves_the_active_language_alone(director):
    wants_digest(director, language="nl")
    tell(director, "Bel Acme terug")
    with translation.override("en"):
        send_digests()
        assert translation.get_language() == "en"


# --- from the scheduler -----------------------------------------------------------------------


def next_0730_brussels(after: datetime) -> datetime:
    local = after.astimezone(BRUSSELS)
    slot = datetime.combine(local.date(), time(7, 30), tzinfo=BRUSSELS)
    if slot <= after:
        slot = datetime.combine(
            local.date() + timedelta(days=1), time(7, 30), tzinfo=BRUSSELS
        )
    return slot


def test_the_scheduler_sends_the_digests_at_0730(director, rep):
    wants_digest(director)
    tell(director, "Call Acme back")
    tell(rep, "Not a digest user")
    slot = next_0730_brussels(timezone.now())
    ScheduledJob.objects.create(name="send_digests", next_run_at=slot)

    assert run_due_jobs(now=slot - timedelta(minutes=1), only="send_digests") == {}
    assert mail.outbox == []
    assert run_due_jobs(now=slot, only="send_digests") == {"send_digests": "1"}
    [message] = mail.outbox
    assert message.to == ["director@leadflow.test"]
    assert message.subject == "Leadflow: 1 notification"
    job = ScheduledJob.objects.get(name="send_digests")
    local = slot.astimezone(BRUSSELS)
    assert job.next_run_at == datetime.combine(
        local.date() + timedelta(days=1), time(7, 30), tzinfo=BRUSSELS
    )
    assert job.last_result == "1"
    # The same slot again (a second worker, a restart): nothing.
    assert run_due_jobs(now=slot, only="send_digests") == {}
    assert len(mail.outbox) == 1


# --- two workers at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_digests_at_once_send_each_once(personas):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    users = [
        User.objects.create(
            username=f"digest{i}",
            email=f"digest{i}@leadflow.test",
            role=Role.SALES,
            email_digest=True,
        )
        for i in range(6)
    ]
    for user in users:
        for k in range(3):
            tell(user, f"Item {k} for {user.username}")
    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            sent.append(send_digests())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sum(sent) == len(users)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    for message in mail.outbox:
        assert message.subject == "Leadflow: 3 notifications"
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


# --- e-mails lost to a killed worker are sent again -------------------------------------------


def test_an_unsent_notification_is_e_mailed_again_by_the_sweep(rep, director):
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from leadflow.workflows.digest import resend_unsent
    from leadflow.workflows.models import Notification

    type(director).objects.filter(pk=director.pk).update(
        email="dirk@example.be", email_notifications=True, email_digest=False
    )
    type(rep).objects.filter(pk=rep.pk).update(
        email="rita@example.be", email_notifications=True, email_digest=True
    )
    now = timezone.now()
    lost = Notification.objects.create(
        recipient=director, event_type="x.y", message="Lost in a crash"
    )
    recent = Notification.objects.create(
        recipient=director, event_type="x.y", message="Still queued"
    )
    digest = Notification.objects.create(
        recipient=rep, event_type="x.y", message="For the digest"
    )
    Notification.objects.filter(pk__in=[lost.pk, digest.pk]).update(
        created_at=now - timedelta(minutes=3)
    )
    Notification.objects.filter(pk=recent.pk).update(
        created_at=now - timedelta(seconds=30)
    )
    mail.outbox.clear()
    # Only the one whose task had minutes to run: not the fresh one, not the digest's.
    assert resend_unsent(now=now) == 1
    assert [m.to for m in mail.outbox] == [["dirk@example.be"]]
    assert "Lost in a crash" in mail.outbox[0].subject
    lost.refresh_from_db()
    assert lost.emailed_at is not None
    assert resend_unsent(now=now) == 0  # sent once
