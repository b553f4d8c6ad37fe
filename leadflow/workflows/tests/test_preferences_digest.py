"""How notifications reach a user by e-mail: off, one e-mail each, or one daily digest.
Chosen on the notifications page or through the API, stored on the user as
(email_notifications, email_digest), audited with only what changed."""

import re

import pytest
from django.core import mail
from django.test import Client

from leadflow.audit.models import AuditEvent
from leadflow.audit.queries import timeline_for
from leadflow.workflows.actions import notify, set_email_preference
from leadflow.workflows.digest import send_digests
from leadflow.workflows.queries import email_preference

pytestmark = pytest.mark.django_db

PAGE = "/notifications/"
SAVE = "/notifications/preferences/"
API = "/api/notifications/preferences"


@pytest.fixture
def client_as(personas):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return client_for


def stored(user) -> tuple[bool, bool]:
    user.refresh_from_db()
    return (user.email_notifications, user.email_digest)


def choose(user, mode: str) -> None:
    flags = {"off": (False, False), "each": (True, False), "digest": (True, True)}
    enabled, digest = flags[mode]
    type(user).objects.filter(pk=user.pk).update(
        email_notifications=enabled, email_digest=digest
    )
    user.refresh_from_db()


def checked(html: str) -> list[str]:
    """The modes whose radio is checked on the page."""
    return re.findall(
        r'<input type="radio" name="email" value="[^"]*" checked data-testid='
        r'"email-pref-(\w+)"',
        html,
    )


def audit_rows(user) -> list[tuple[dict, dict]]:
    return [
        (e.old, e.new)
        for e in AuditEvent.objects.filter(
            event_type="user.changed", subject_id=user.pk
        ).order_by("id")
    ]


# --- the page ---------------------------------------------------------------------------


def test_the_page_offers_three_choices_with_the_stored_one_checked(client_as, rep):
    html = client_as("rep").get(PAGE).content.decode()
    for mode, label in (
        ("off", "No e-mail"),
        ("each", "An e-mail for each notification"),
        ("digest", "One daily digest, each morning"),
    ):
        assert f'data-testid="email-pref-{mode}"> {label}</label>' in html
    assert checked(html) == ["each"]  # the default: one e-mail per notification

    choose(rep, "digest")
    assert checked(client_as("rep").get(PAGE).content.decode()) == ["digest"]
    choose(rep, "off")
    assert checked(client_as("rep").get(PAGE).content.decode()) == ["off"]


@pytest.mark.parametrize(
    ("start", "posted", "expected", "old", "new"),
    [
        (
            "each",
            "digest",
            (True, True),
            {"email_digest": False},
            {"email_digest": True},
        ),
        (
            "digest",
            "1",
            (True, False),
            {"email_digest": True},
            {"email_digest": False},
        ),
        (
            "digest",
            "0",
            (False, False),
            {"email_notifications": True, "email_digest": True},
            {"email_notifications": False, "email_digest": False},
        ),
        (
            "off",
            "digest",
            (True, True),
            {"email_notifications": False, "email_digest": False},
            {"email_notifications": True, "email_digest": True},
        ),
    ],
)
def test_choosing_on_the_page_stores_and_audits_only_what_changed(
    client_as, rep, outsider, start, posted, expected, old, new
):
    choose(rep, start)
    response = client_as("rep").post(SAVE, {"email": posted}, follow=True)
    html = response.content.decode()
    assert "Your notification settings are saved." in html
    assert stored(rep) == expected
    assert checked(html) == [email_preference(rep)]
    [(event_old, event_new)] = audit_rows(rep)
    assert (event_old, event_new) == (old, new)
    event = AuditEvent.objects.get(event_type="user.changed")
    assert (event.actor, event.subject_type) == (rep, "accounts.user")
    assert stored(outsider) == (True, False)  # only my own setting changed


def test_choosing_what_is_stored_already_writes_nothing(client_as, rep):
    choose(rep, "digest")
    client_as("rep").post(SAVE, {"email": "digest"})
    assert stored(rep) == (True, True)
    assert audit_rows(rep) == []


def test_an_unknown_choice_changes_nothing_and_says_so(client_as, rep):
    response = client_as("rep").post(SAVE, {"email": "weekly"}, follow=True)
    assert "Choose how you want your notifications by e-mail." in (
        response.content.decode()
    )
    assert stored(rep) == (True, False)
    assert audit_rows(rep) == []


def test_nobody_logged_in_cannot_change_a_preference(rep):
    response = Client().post(SAVE, {"email": "0"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert stored(rep) == (True, False)


def test_the_page_stays_within_a_fixed_number_of_queries(
    client_as, rep, django_assert_max_num_queries
):
    for i in range(40):
        notify(rep, actor=None, event_type="x", message=f"Note {i}", url="/a/")
    client = client_as("rep")
    with django_assert_max_num_queries(12):
        assert client.get(PAGE).status_code == 200


# --- the action -------------------------------------------------------------------------


def test_the_action_keeps_the_digest_choice_when_not_given(rep):
    choose(rep, "digest")
    set_email_preference(rep, enabled=True)
    assert stored(rep) == (True, True)
    assert audit_rows(rep) == []


def test_turning_e_mail_off_clears_the_digest_so_off_is_one_state(rep):
    choose(rep, "digest")
    set_email_preference(rep, enabled=False)
    assert stored(rep) == (False, False)
    assert (rep.email_notifications, rep.email_digest) == (False, False)  # in memory
    set_email_preference(rep, enabled=False, digest=True)  # a digest of nothing
    assert stored(rep) == (False, False)
    assert len(audit_rows(rep)) == 1


# --- what the choice does ---------------------------------------------------------------


def test_a_digest_chooser_gets_no_mail_per_notification_but_one_digest(
    client_as, rep, django_capture_on_commit_callbacks
):
    client_as("rep").post(SAVE, {"email": "digest"})
    rep.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notify(rep, actor=None, event_type="x", message="First", url="/a/")
        notify(rep, actor=None, event_type="x", message="Second", url="/b/")
    assert mail.outbox == []
    assert send_digests() == 1
    [message] = mail.outbox
    assert message.to == ["rep@leadflow.test"]
    assert "First" in message.body and "Second" in message.body


def test_each_gets_one_mail_per_notification_and_off_none(
    client_as, rep, django_capture_on_commit_callbacks
):
    client = client_as("rep")
    client.post(SAVE, {"email": "1"})
    rep.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notify(rep, actor=None, event_type="x", message="Mailed", url="/a/")
    assert [m.to for m in mail.outbox] == [["rep@leadflow.test"]]
    assert send_digests() == 0

    client.post(SAVE, {"email": "0"})
    rep.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notify(rep, actor=None, event_type="x", message="Not mailed", url="/a/")
    assert len(mail.outbox) == 1
    assert send_digests() == 0


# --- the API ----------------------------------------------------------------------------


def test_the_api_reads_my_preference(api_as, rep, marketer):
    choose(marketer, "digest")
    assert api_as("rep").get(API).json() == {"email": "each"}
    assert api_as("marketer").get(API).json() == {"email": "digest"}
    choose(rep, "off")
    assert api_as("rep").get(API).json() == {"email": "off"}


def test_the_api_changes_only_my_own_preference_and_audits_it(api_as, rep, outsider):
    response = api_as("rep").put(API, {"email": "digest"})
    assert (response.status_code, response.json()) == (200, {"email": "digest"})
    assert stored(rep) == (True, True)
    assert stored(outsider) == (True, False)
    assert audit_rows(rep) == [({"email_digest": False}, {"email_digest": True})]

    response = api_as("rep").put(API, {"email": "off"})
    assert response.json() == {"email": "off"}
    assert stored(rep) == (False, False)
    assert api_as("rep").get(API).json() == {"email": "off"}


def test_the_api_refuses_an_unknown_choice(api_as, rep):
    for body in ({"email": "weekly"}, {"email": True}, {}):
        response = api_as("rep").put(API, body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "invalid_input"
    assert stored(rep) == (True, False)
    assert audit_rows(rep) == []


def test_the_api_needs_a_token(anonymous_api, rep):
    assert anonymous_api.get(API).status_code == 401
    assert anonymous_api.put(API, {"email": "off"}).status_code == 401
    assert stored(rep) == (True, False)


def test_the_api_documents_the_choices(api_as):
    schema = api_as("rep").get("/api/openapi.json").json()
    operations = schema["paths"]["/api/notifications/preferences"]
    assert set(operations) == {"get", "put"}
    components = schema["components"]["schemas"]
    assert components["PreferencesIn"]["properties"]["email"]["enum"] == [
        "off",
        "each",
        "digest",
    ]


def test_the_change_reads_in_words_on_the_users_history(client_as, rep):
    client_as("rep").post(SAVE, {"email": "digest"})
    [entry] = timeline_for(rep)
    assert entry.label == "User changed"
    assert entry.changes == [("daily e-mail digest", "no", "yes")]
    client_as("rep").post(SAVE, {"email": "0"})
    assert sorted(timeline_for(rep)[0].changes) == [  # PostgreSQL's jsonb sorts keys
        ("daily e-mail digest", "yes", "no"),
        ("notifications by e-mail", "yes", "no"),
    ]
