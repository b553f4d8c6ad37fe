"""API for notification rules, webhooks and the delivery log: every endpoint, for the
administrator and for everyone else; errors are {detail, code} with a 4xx status."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.audit.models import AuditEvent
from leadflow.contacts.tests.factories import make_company
from leadflow.intake.models import Campaign, Channel
from leadflow.intake.tests.factories import make_inquiry
from leadflow.workflows import configuration as config
from leadflow.workflows import webhooks
from leadflow.workflows.configuration import RuleData
from leadflow.workflows.models import (
    DeliveryStatus,
    NotificationRule,
    RuleEvent,
    Webhook,
    WebhookDelivery,
)
from leadflow.workflows.outbox import process_outbox

pytestmark = pytest.mark.django_db

NOT_ADMINS = ["inside", "rep", "outsider", "director", "marketer", "colleague"]
RULES = "/api/notification-rules"
HOOKS = "/api/webhooks"


def delete(api, path: str):
    return api.client.delete(path, **api._auth())


@pytest.fixture
def rule(admin, director):
    return config.create_rule(
        RuleData(
            name="New inquiries to the director",
            event=RuleEvent.INQUIRY_REGISTERED,
            recipient_users=[director],
        ),
        actor=admin,
    )


@pytest.fixture
def hook(admin):
    return config.create_webhook(
        actor=admin, name="ERP", url="https://erp.example.be/leadflow"
    )


def make_delivery(hook, status=DeliveryStatus.FAILED, n: int = 1):
    return WebhookDelivery.objects.create(
        webhook=hook,
        event_type="inquiry.registered",
        source=f"intake.inquirytransition:{n}",
        payload={"type": "inquiry.registered", "n": n},
        status=status,
        attempts=6 if status != DeliveryStatus.PENDING else 1,
        last_status_code=500,
        last_error="HTTP 500",
    )


@pytest.fixture
def delivery(hook):
    return make_delivery(hook)


@pytest.fixture
def posted(monkeypatch):
    calls = []

    def fake_post(url, body, headers):
        calls.append(url)
        return 200, ""

    monkeypatch.setattr(webhooks, "post", fake_post)
    return calls


# --- who may call -------------------------------------------------------------------------


def calls(rule, hook, delivery) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", RULES, None),
        ("post", RULES, {"name": "x", "event": "inquiry.registered"}),
        ("get", f"{RULES}/{rule.pk}", None),
        ("patch", f"{RULES}/{rule.pk}", {"name": "Mine"}),
        ("delete", f"{RULES}/{rule.pk}", None),
        ("get", HOOKS, None),
        ("post", HOOKS, {"name": "x", "url": "https://x.example/"}),
        ("get", f"{HOOKS}/{hook.pk}", None),
        ("patch", f"{HOOKS}/{hook.pk}", {"name": "Mine"}),
        ("delete", f"{HOOKS}/{hook.pk}", None),
        ("post", f"{HOOKS}/{hook.pk}/rotate-secret", {}),
        ("get", f"{HOOKS}/{hook.pk}/deliveries", None),
        ("post", f"/api/webhook-deliveries/{delivery.pk}/redeliver", {}),
    ]


def send(api, method: str, path: str, body):
    if method == "delete":
        return delete(api, path)
    if method == "get":
        return api.get(path)
    return getattr(api, method)(path, body)


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_everyone_but_the_administrator_gets_403(api_as, persona, rule, hook, delivery):
    api = api_as(persona)
    for method, path, body in calls(rule, hook, delivery):
        response = send(api, method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json() == {
            "detail": "Your role may not do this.",
            "code": "forbidden",
        }
    # …even for records that do not exist (nothing is revealed).
    assert api.get(f"{RULES}/999999").status_code == 403
    assert NotificationRule.objects.get().name == "New inquiries to the director"
    assert Webhook.objects.get().secret == hook.secret
    assert WebhookDelivery.objects.get().status == "failed"


def test_no_token_gets_401(anonymous_api, rule, hook, delivery):
    for method, path, body in calls(rule, hook, delivery):
        response = send(anonymous_api, method, path, body)
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "unauthenticated"


def test_unknown_records_are_404(api_as, admin):
    api = api_as("admin")
    for method, path, body in [
        ("get", f"{RULES}/999", None),
        ("patch", f"{RULES}/999", {"name": "x"}),
        ("delete", f"{RULES}/999", None),
        ("get", f"{HOOKS}/999", None),
        ("patch", f"{HOOKS}/999", {"name": "x"}),
        ("delete", f"{HOOKS}/999", None),
        ("post", f"{HOOKS}/999/rotate-secret", {}),
        ("get", f"{HOOKS}/999/deliveries", None),
        ("post", "/api/webhook-deliveries/999/redeliver", {}),
    ]:
        response = send(api, method, path, body)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


# --- notification rules -------------------------------------------------------------------


def test_create_a_rule_with_names_ids_and_codes(api_as, admin, director, rep, teams):
    acme = make_company("Acme NV", size=300)
    email = Channel.objects.get(code="email")
    phone = Channel.objects.get(code="phone")
    campaign = Campaign.objects.create(name="Trade fair")
    response = api_as("admin").post(
        RULES,
        {
            "name": "Big wins",
            "event": "opportunity.won",
            "companies": [acme.pk],
            "min_company_size": 200,
            "channels": [email.pk, "phone"],
            "campaigns": [campaign.pk],
            "departments": [director.department_id],
            "min_value": 25000.5,
            "service_type": "Installation",
            "teams": [teams["North"].pk],
            "recipient_users": ["director", "rep"],
            "recipient_roles": ["sales_director"],
            "notify_owner": True,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    rule = NotificationRule.objects.get()
    assert body["id"] == rule.pk
    assert body["event"] == "opportunity.won"
    assert body["event_name"] == "Qualified lead won"
    assert body["companies"] == [acme.pk]
    assert body["channels"] == sorted([email.pk, phone.pk])
    assert body["min_value"] == 25000.5
    assert body["recipient_users"] == ["director", "rep"]
    assert body["recipient_roles"] == ["sales_director"]
    assert body["notify_owner"] is True and body["notify_owner_manager"] is False
    assert body["notifications_sent"] == 0
    assert body["version"] == config.rule_version(rule)
    assert set(rule.channels.all()) == {email, phone}
    assert list(rule.campaigns.all()) == [campaign]
    assert list(rule.teams.all()) == [teams["North"]]
    assert rule.min_value == Decimal("25000.50")
    assert set(rule.recipient_users.all()) == {director, rep}
    event = AuditEvent.objects.get(event_type="notification_rule.created")
    assert (event.actor, event.subject_id) == (admin, rule.pk)


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({"recipient_users": ["nobody"]}, "unknown_user", "Unknown users: nobody."),
        ({"companies": [999999]}, "unknown_company", "Unknown companies: 999999."),
        ({"channels": ["fax"]}, "unknown_channel", "Unknown channels: fax."),
        ({"teams": [999]}, "unknown_team", "Unknown teams: 999."),
        ({"campaigns": [999]}, "unknown_campaign", "Unknown campaigns: 999."),
        ({"departments": [999]}, "unknown_department", "Unknown departments: 999."),
        ({"recipient_roles": ["ceo"]}, "unknown_role", None),
        ({"recipient_users": []}, "no_recipient", None),
        ({"event": "inquiry.deleted"}, "unknown_event", None),
        ({"name": " "}, "name_required", "Give the name."),
        ({"min_company_size": -1}, "negative_value", "A minimum cannot be negative."),
        ({"outcome": "won"}, "unknown_outcome", None),
        ({"event": "opportunity.won", "min_value": -5}, "negative_value", None),
        ({"min_value": 5}, "filter_not_applicable", None),
        ({"notify_owner": True}, "recipient_not_applicable", None),
    ],
)
def test_create_a_rule_refuses_bad_input_with_422(api_as, director, body, code, detail):
    payload = {
        "name": "x",
        "event": "inquiry.registered",
        "recipient_users": ["director"],
        **body,
    }
    response = api_as("admin").post(RULES, payload)
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == code
    if detail:
        assert response.json()["detail"] == detail
    assert not NotificationRule.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"event": "inquiry.registered"},
        {"name": "x", "event": "inquiry.registered", "companies": "1"},
        {"name": "x", "event": "inquiry.registered", "recipient_roles": [1]},
        {"name": "x", "event": "inquiry.registered", "min_value": "lots"},
        {"name": "x", "event": "inquiry.registered", "notify_owner": "maybe"},
        {"name": "x", "event": "inquiry.registered", "companies": list(range(1001))},
    ],
)
def test_malformed_rule_bodies_are_invalid_input(api_as, admin, body):
    response = api_as("admin").post(RULES, body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_a_body_that_is_not_json_is_400(api_as, admin):
    response = api_as("admin").post(RULES, raw="{nope")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code"}


def test_list_rules_is_paginated_with_the_sent_count(api_as, admin, inside, director):
    for n in range(3):
        config.create_rule(
            RuleData(
                name=f"Rule {n}",
                event=RuleEvent.INQUIRY_REGISTERED,
                recipient_users=[director],
            ),
            actor=admin,
        )
    make_inquiry(inside)
    process_outbox()
    response = api_as("admin").get(RULES, {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["page_size"], body["pages"]) == (
        3,
        1,
        2,
        2,
    )
    assert [r["name"] for r in body["items"]] == ["Rule 0", "Rule 1"]
    # One notification per person per event: the first matching rule sends it.
    assert sum(r["notifications_sent"] for r in body["items"]) == 1
    second = api_as("admin").get(RULES, {"page_size": 2, "page": 2}).json()
    assert [r["name"] for r in second["items"]] == ["Rule 2"]


def test_get_a_rule(api_as, rule):
    response = api_as("admin").get(f"{RULES}/{rule.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "New inquiries to the director"
    assert body["recipient_users"] == ["director"]
    assert body["is_active"] is True
    assert body["version"] == config.rule_version(rule)


def test_patch_changes_only_what_is_sent(api_as, rule, teams):
    api = api_as("admin")
    version = api.get(f"{RULES}/{rule.pk}").json()["version"]
    response = api.patch(
        f"{RULES}/{rule.pk}",
        {"version": version, "is_active": False, "recipient_roles": ["marketing"]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["is_active"] is False
    assert body["recipient_roles"] == ["marketing"]
    assert body["recipient_users"] == ["director"]
    assert body["name"] == "New inquiries to the director"
    assert body["version"] != version
    rule.refresh_from_db()
    assert (rule.is_active, rule.recipient_roles) == (False, ["marketing"])
    event = AuditEvent.objects.get(event_type="notification_rule.updated")
    assert event.old == {"is_active": True, "recipient_roles": []}
    assert event.new == {"is_active": False, "recipient_roles": ["marketing"]}


def test_patch_with_a_stale_version_is_409_and_changes_nothing(api_as, rule):
    api = api_as("admin")
    version = api.get(f"{RULES}/{rule.pk}").json()["version"]
    first = api.patch(f"{RULES}/{rule.pk}", {"version": version, "name": "A"})
    assert first.status_code == 200
    response = api.patch(f"{RULES}/{rule.pk}", {"version": version, "name": "B"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The record was changed by someone else. Reload and try again.",
        "code": "stale_version",
    }
    rule.refresh_from_db()
    assert rule.name == "A"


def test_patch_null_clears_a_filter_and_an_empty_list_empties_one(api_as, admin, rep):
    acme = make_company("Acme NV")
    rule = config.create_rule(
        RuleData(
            name="Acme",
            event=RuleEvent.INQUIRY_REGISTERED,
            companies=[acme],
            min_company_size=10,
            recipient_users=[rep],
            recipient_roles=["admin"],
        ),
        actor=admin,
    )
    response = api_as("admin").patch(
        f"{RULES}/{rule.pk}",
        {"companies": [], "min_company_size": None, "recipient_users": None},
    )
    assert response.status_code == 200, response.json()
    rule.refresh_from_db()
    assert list(rule.companies.all()) == []
    assert rule.min_company_size is None
    assert list(rule.recipient_users.all()) == []
    assert rule.recipient_roles == ["admin"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"recipient_users": []}, "no_recipient"),
        ({"name": None}, "name_required"),
        ({"event": None}, "unknown_event"),
        ({"is_active": None}, "invalid_value"),
        ({"recipient_users": ["ghost"]}, "unknown_user"),
        ({"min_company_size": -3}, "negative_value"),
    ],
)
def test_patch_refuses_what_breaks_the_rule(api_as, rule, body, code):
    response = api_as("admin").patch(f"{RULES}/{rule.pk}", body)
    assert response.status_code == 422
    assert response.json()["code"] == code
    rule.refresh_from_db()
    assert rule.is_active and rule.name == "New inquiries to the director"


def test_delete_a_rule(api_as, rule):
    api = api_as("admin")
    response = delete(api, f"{RULES}/{rule.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not NotificationRule.objects.exists()
    assert api.get(f"{RULES}/{rule.pk}").status_code == 404
    assert AuditEvent.objects.filter(event_type="notification_rule.deleted").exists()


# --- webhooks -----------------------------------------------------------------------------


def test_create_a_webhook_returns_the_secret_once(api_as, admin):
    api = api_as("admin")
    response = api.post(
        HOOKS,
        {
            "name": "ERP",
            "url": "https://erp.example.be/hook",
            "events": ["quote.sent", "inquiry.registered"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    hook = Webhook.objects.get()
    assert body["secret"] == hook.secret and len(hook.secret) >= 40
    assert body["events"] == ["inquiry.registered", "quote.sent"]
    assert body["deliveries"] == {"delivered": 0, "failed": 0, "pending": 0}
    assert body["is_active"] is True
    assert "secret" not in api.get(f"{HOOKS}/{hook.pk}").json()
    listed = api.get(HOOKS).json()
    assert listed["count"] == 1
    assert "secret" not in listed["items"][0]
    assert hook.secret not in str(listed)


def test_create_a_webhook_with_a_given_secret(api_as, admin):
    response = api_as("admin").post(
        HOOKS,
        {"name": "BI", "url": "http://bi.local:8080/in", "secret": "x" * 32},
    )
    assert response.status_code == 201
    assert response.json()["secret"] == "x" * 32
    assert Webhook.objects.get().secret == "x" * 32


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://erp.example.be/"}, "invalid_url"),
        ({"url": "not a url"}, "invalid_url"),
        ({"events": ["order.booked"]}, "unknown_event"),
        ({"secret": "short"}, "invalid_secret"),
        ({"name": ""}, "name_required"),
    ],
)
def test_create_a_webhook_refuses_bad_input(api_as, admin, body, code):
    payload = {"name": "ERP", "url": "https://erp.example.be/", **body}
    response = api_as("admin").post(HOOKS, payload)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert not Webhook.objects.exists()


def test_patch_a_webhook(api_as, hook):
    api = api_as("admin")
    version = api.get(f"{HOOKS}/{hook.pk}").json()["version"]
    response = api.patch(
        f"{HOOKS}/{hook.pk}",
        {"version": version, "url": "https://erp.example.be/v2", "events": None},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["url"] == "https://erp.example.be/v2"
    assert "secret" not in response.json()
    stale = api.patch(f"{HOOKS}/{hook.pk}", {"version": version, "is_active": False})
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    bad = api.patch(f"{HOOKS}/{hook.pk}", {"url": "mailto:x@y.be"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_url")
    hook.refresh_from_db()
    assert (hook.url, hook.is_active) == ("https://erp.example.be/v2", True)


def test_patch_cannot_set_the_secret(api_as, hook):
    response = api_as("admin").patch(f"{HOOKS}/{hook.pk}", {"secret": "y" * 40})
    assert response.status_code == 200  # unknown fields are ignored…
    hook.refresh_from_db()
    assert hook.secret != "y" * 40  # …and the secret is not one of them


def test_rotate_the_secret(api_as, hook):
    api = api_as("admin")
    old = hook.secret
    version = api.get(f"{HOOKS}/{hook.pk}").json()["version"]
    response = api.post(f"{HOOKS}/{hook.pk}/rotate-secret", {"version": version})
    assert response.status_code == 200
    hook.refresh_from_db()
    assert response.json()["secret"] == hook.secret != old
    assert response.json()["version"] != version
    again = api.post(f"{HOOKS}/{hook.pk}/rotate-secret", {"version": version})
    assert (again.status_code, again.json()["code"]) == (409, "stale_version")
    without_body = api.post(f"{HOOKS}/{hook.pk}/rotate-secret")
    assert without_body.status_code == 200
    assert AuditEvent.objects.filter(event_type="webhook.secret_rotated").count() == 2


def test_delete_a_webhook(api_as, hook, delivery):
    response = delete(api_as("admin"), f"{HOOKS}/{hook.pk}")
    assert response.status_code == 204
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_delivery_log_newest_first_paginated_and_filtered(api_as, hook):
    made = [make_delivery(hook, n=n) for n in range(3)]
    delivered = make_delivery(hook, DeliveryStatus.DELIVERED, n=9)
    api = api_as("admin")
    body = api.get(f"{HOOKS}/{hook.pk}/deliveries", {"page_size": 2}).json()
    assert body["count"] == 4 and body["pages"] == 2
    assert [d["id"] for d in body["items"]] == [delivered.pk, made[2].pk]
    item = body["items"][1]
    assert item["status"] == "failed"
    assert (item["attempts"], item["last_status_code"], item["last_error"]) == (
        6,
        500,
        "HTTP 500",
    )
    assert item["payload"] == {"type": "inquiry.registered", "n": 2}
    assert item["webhook_id"] == hook.pk
    failed = api.get(f"{HOOKS}/{hook.pk}/deliveries", {"status": "failed"}).json()
    assert [d["id"] for d in failed["items"]] == [m.pk for m in reversed(made)]
    bad = api.get(f"{HOOKS}/{hook.pk}/deliveries", {"status": "lost"})
    assert (bad.status_code, bad.json()["code"]) == (422, "unknown_status")


def test_redeliver(api_as, admin, hook, delivery, posted):
    response = api_as("admin").post(f"/api/webhook-deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == delivery.pk
    assert body["status"] == "pending" and body["attempts"] == 0
    assert posted == []  # sent after the commit, by the worker
    event = AuditEvent.objects.get(event_type="webhook_delivery.redelivered")
    assert (event.actor, event.subject_id) == (admin, delivery.pk)


def test_redeliver_refuses_a_pending_delivery_and_a_switched_off_webhook(
    api_as, admin, hook
):
    api = api_as("admin")
    pending = make_delivery(hook, DeliveryStatus.PENDING, n=1)
    response = api.post(f"/api/webhook-deliveries/{pending.pk}/redeliver")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This delivery is still being tried; wait for it to finish.",
        "code": "delivery_pending",
    }
    failed = make_delivery(hook, n=2)
    config.update_webhook(hook, actor=admin, is_active=False)
    response = api.post(f"/api/webhook-deliveries/{failed.pk}/redeliver")
    assert (response.status_code, response.json()["code"]) == (409, "webhook_inactive")
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_the_openapi_document_lists_the_settings_endpoints(api_as, admin):
    paths = api_as("admin").get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/notification-rules",
        "/api/notification-rules/{rule_id}",
        "/api/webhooks",
        "/api/webhooks/{webhook_id}",
        "/api/webhooks/{webhook_id}/rotate-secret",
        "/api/webhooks/{webhook_id}/deliveries",
        "/api/webhook-deliveries/{delivery_id}/redeliver",
    ):
        assert path in paths, path


# --- never a server error ------------------------------------------------------------------

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
if connection.vendor == "postgresql":
    text = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40)
else:
    text = st.text(max_size=40)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
value = st.one_of(scalar, st.lists(scalar, max_size=3))
rule_body = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "event",
            "outcome",
            "companies",
            "min_company_size",
            "channels",
            "min_value",
            "service_type",
            "teams",
            "recipient_users",
            "recipient_roles",
            "notify_owner",
            "is_active",
            "version",
        ]
    ),
    value,
)
hook_body = st.dictionaries(
    st.sampled_from(["name", "url", "events", "is_active", "secret", "version"]),
    value,
)


@FUZZ
@given(body=rule_body)
def test_random_rule_bodies_never_answer_5xx(api_as, rule, body):
    api = api_as("admin")
    for response in (
        api.post(RULES, body),
        api.patch(f"{RULES}/{rule.pk}", body),
    ):
        assert response.status_code < 500, (body, response.content)
        assert set(response.json()) >= (
            {"detail", "code"} if response.status_code >= 400 else {"id"}
        )


@FUZZ
@given(body=hook_body)
def test_random_webhook_bodies_never_answer_5xx(api_as, hook, body):
    api = api_as("admin")
    for response in (
        api.post(HOOKS, body),
        api.patch(f"{HOOKS}/{hook.pk}", body),
        api.post(f"{HOOKS}/{hook.pk}/rotate-secret", body),
    ):
        assert response.status_code < 500, (body, response.content)


def test_a_wrong_method_answers_json_with_a_code(api_as, rule):
    response = api_as("admin").put(f"{RULES}/{rule.pk}", {"name": "x"})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert NotificationRule.objects.get().name == "New inquiries to the director"
