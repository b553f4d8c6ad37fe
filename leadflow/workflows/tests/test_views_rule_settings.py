"""The settings pages for notification rules and webhooks: who may open them, what
they show, and what a submitted form stores."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Company
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


@pytest.fixture
def client_as(personas):
    clients: dict[str, Client] = {}

    def client_for(name: str) -> Client:
        if name not in clients:
            clients[name] = Client()
            clients[name].force_login(personas[name])
        return clients[name]

    return client_for


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


@pytest.fixture
def delivery(hook):
    return make_delivery(hook)


def make_delivery(hook, status=DeliveryStatus.FAILED, n: int = 1, **fields):
    return WebhookDelivery.objects.create(
        webhook=hook,
        event_type="inquiry.registered",
        source=f"intake.inquirytransition:{n}",
        payload={"type": "inquiry.registered", "subject": {"label": f"Person {n}"}},
        status=status,
        attempts=fields.pop("attempts", 6),
        last_status_code=fields.pop("last_status_code", 503),
        last_error=fields.pop("last_error", "HTTP 503"),
        **fields,
    )


def html(response) -> str:
    return response.content.decode()


def readable(markup: str) -> str:
    """Markup as a person reads it: tags removed, entities resolved, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def text(response) -> str:
    return readable(html(response))


def row(response, testid: str) -> str:
    found = re.search(
        rf'<tr data-testid="{testid}">(.*?)</tr>', html(response), flags=re.DOTALL
    )
    assert found, f"no row {testid}"
    return readable(found.group(1))


def form_data(**overrides) -> dict:
    data = {
        "name": "Key accounts to the director",
        "event": RuleEvent.INQUIRY_REGISTERED,
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- who may open the pages -------------------------------------------------------------


def page_urls(rule, hook, delivery) -> list[str]:
    return [
        "/settings/rules/",
        "/settings/rules/new/",
        f"/settings/rules/{rule.pk}/",
        f"/settings/rules/{rule.pk}/delete/",
        "/settings/rules/companies/?company_q=acme",
        "/settings/webhooks/",
        "/settings/webhooks/new/",
        f"/settings/webhooks/{hook.pk}/",
        f"/settings/webhooks/{hook.pk}/delete/",
        f"/settings/webhooks/{hook.pk}/deliveries/",
    ]


def post_urls(rule, hook, delivery) -> list[str]:
    return [
        "/settings/rules/new/",
        f"/settings/rules/{rule.pk}/",
        f"/settings/rules/{rule.pk}/active/",
        f"/settings/rules/{rule.pk}/delete/",
        "/settings/webhooks/new/",
        f"/settings/webhooks/{hook.pk}/",
        f"/settings/webhooks/{hook.pk}/rotate-secret/",
        f"/settings/webhooks/{hook.pk}/delete/",
        f"/settings/webhook-deliveries/{delivery.pk}/redeliver/",
    ]


def test_an_administrator_opens_every_page(client_as, rule, hook, delivery):
    for url in page_urls(rule, hook, delivery):
        response = client_as("admin").get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_everyone_else_is_refused_every_page(client_as, persona, rule, hook, delivery):
    client = client_as(persona)
    for url in page_urls(rule, hook, delivery):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Not allowed" in text(response)
    for url in post_urls(rule, hook, delivery):
        assert client.post(url, form_data(active="0")).status_code == 403, url
    # Nothing changed.
    assert NotificationRule.objects.get().is_active
    assert NotificationRule.objects.get().name == "New inquiries to the director"
    assert Webhook.objects.get().secret == hook.secret
    assert WebhookDelivery.objects.get().status == "failed"
    assert not AuditEvent.objects.exclude(
        event_type__in=["notification_rule.created", "webhook.created"]
    ).filter(subject_type__startswith="workflows.")


def test_nobody_logged_in_is_sent_to_the_login_page(rule, hook, delivery):
    for url in page_urls(rule, hook, delivery):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"]


def test_unknown_records_are_not_found(client_as):
    for url in (
        "/settings/rules/999/",
        "/settings/rules/999/delete/",
        "/settings/webhooks/999/",
        "/settings/webhooks/999/deliveries/",
    ):
        assert client_as("admin").get(url).status_code == 404, url
    response = client_as("admin").post("/settings/webhook-deliveries/999/redeliver/")
    assert response.status_code == 404


def test_the_settings_hub_links_to_both_pages(client_as):
    response = client_as("admin").get("/settings/")
    assert 'href="/settings/rules/"' in html(response)
    assert 'href="/settings/webhooks/"' in html(response)


# --- the rule list ------------------------------------------------------------------------


def test_the_list_shows_event_filters_recipients_state_and_count(
    client_as, admin, inside, director, rep, teams
):
    config.create_rule(
        RuleData(
            name="Big wins",
            event=RuleEvent.OPPORTUNITY_WON,
            companies=[make_company(f"Client {n} NV") for n in range(5)],
            min_company_size=200,
            channels=[Channel.objects.get(code="email")],
            min_value=Decimal("10000"),
            teams=[teams["North"]],
            recipient_roles=[Role.SALES_DIRECTOR],
            notify_owner_manager=True,
        ),
        actor=admin,
    )
    sending = config.create_rule(
        RuleData(
            name="Every inquiry",
            event=RuleEvent.INQUIRY_REGISTERED,
            recipient_users=[director, rep],
        ),
        actor=admin,
    )
    make_inquiry(inside)
    make_inquiry(inside)
    process_outbox()
    config.set_rule_active(sending, actor=admin, active=False)

    response = client_as("admin").get("/settings/rules/")
    rows = re.findall(r'<tr data-testid="rule-(\d+)">', html(response))
    assert len(rows) == 2
    won = row(response, f"rule-{NotificationRule.objects.get(name='Big wins').pk}")
    assert "Big wins" in won and "Qualified lead won" in won
    assert "companies: Client 0 NV, Client 1 NV, Client 2 NV (+2 more)" in won
    assert "at least 200 employees" in won
    assert "channels: E-mail" in won
    assert "value above € 10000.00" in won
    assert "owner's team: North" in won
    assert "everyone with role Sales director, the owner's manager" in won
    assert " on " in f" {won} "
    every = row(response, f"rule-{sending.pk}")
    assert "New inquiry registered" in every and "everything" in every
    assert "Director Persona, Rep Persona" in every
    assert " off " in f" {every} "
    assert re.search(r"\boff 4 Switch on", every)  # two inquiries × two people


def test_an_empty_list_says_so(client_as):
    response = client_as("admin").get("/settings/rules/")
    assert "No notification rules yet" in text(response)


# --- making and editing a rule ------------------------------------------------------------


def test_the_new_form_stores_the_rule(client_as, admin, director, departments):
    acme = make_company("Acme NV")
    campaign = Campaign.objects.create(name="Trade fair")
    email = Channel.objects.get(code="email")
    response = client_as("admin").post(
        "/settings/rules/new/",
        form_data(
            companies=[acme.pk],
            min_company_size="50",
            channels=[email.pk],
            campaigns=[campaign.pk],
            departments=[departments["Sales"].pk],
            recipient_users=[director.pk],
            recipient_roles=["sales_director", "marketing"],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/rules/"
    rule = NotificationRule.objects.get()
    assert rule.name == "Key accounts to the director"
    assert rule.event == "inquiry.registered" and rule.is_active
    assert list(rule.companies.all()) == [acme]
    assert rule.min_company_size == 50
    assert list(rule.channels.all()) == [email]
    assert list(rule.campaigns.all()) == [campaign]
    assert list(rule.departments.all()) == [departments["Sales"]]
    assert list(rule.recipient_users.all()) == [director]
    assert rule.recipient_roles == ["sales_director", "marketing"]
    event = AuditEvent.objects.get(event_type="notification_rule.created")
    assert (event.actor, event.subject_id) == (admin, rule.pk)
    page = client_as("admin").get("/settings/rules/")
    assert "Rule “Key accounts to the director” saved." in text(page)


def test_a_rule_without_recipient_shows_the_error_and_stores_nothing(client_as):
    response = client_as("admin").post("/settings/rules/new/", form_data())
    assert response.status_code == 200
    assert (
        "Choose who is told: people, roles, the owner or the owner's manager."
        in text(response)
    )
    assert 'value="Key accounts to the director"' in html(response)  # kept
    assert not NotificationRule.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"min_company_size": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"min_value": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"recipient_roles": ["ceo"]}, "Select a valid choice. ceo is not one of"),
        ({"event": "inquiry.deleted"}, "Select a valid choice."),
        ({"name": ""}, "This field is required."),
        ({"outcome": "qualified"}, "Only “Inquiry closed” has an outcome to filter on."),
        ({"notify_owner": "on"}, "An inquiry has no owner yet"),
    ],
)  # fmt: skip
def test_bad_choices_are_shown_on_the_form(client_as, director, overrides, error):
    data = form_data(recipient_users=[director.pk], **overrides)
    response = client_as("admin").post("/settings/rules/new/", data)
    assert response.status_code == 200
    assert error in text(response)
    assert not NotificationRule.objects.exists()


def test_the_edit_form_shows_the_stored_rule(client_as, admin, director):
    acme = make_company("Acme NV")
    make_company("Zenith BV")  # not chosen: not on the page
    rule = config.create_rule(
        RuleData(
            name="Acme",
            event=RuleEvent.INQUIRY_CLOSED,
            outcome="qualified",
            companies=[acme],
            recipient_users=[director],
            recipient_roles=[Role.ADMIN],
        ),
        actor=admin,
    )
    response = client_as("admin").get(f"/settings/rules/{rule.pk}/")
    page = html(response)
    assert 'value="Acme"' in page
    assert re.search(r'<option value="inquiry.closed" selected>', page)
    assert re.search(r'<option value="qualified" selected>', page)
    assert f'name="companies" value="{acme.pk}" checked' in page
    assert "Zenith" not in page
    assert re.search(rf'<option value="{director.pk}" selected>', page)
    assert re.search(r'value="admin"[^>]*checked', page)
    assert f'value="{config.rule_version(rule)}"' in page


def test_editing_saves_the_change_and_audits_it(client_as, admin, director, rep, rule):
    version = config.rule_version(rule)
    response = client_as("admin").post(
        f"/settings/rules/{rule.pk}/",
        form_data(
            name="Renamed", version=version, recipient_users=[director.pk, rep.pk]
        ),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Renamed"
    assert set(rule.recipient_users.all()) == {director, rep}
    event = AuditEvent.objects.get(event_type="notification_rule.updated")
    assert event.old["name"] == "New inquiries to the director"
    assert event.new["recipient_users"] == ["director", "rep"]


def test_two_admins_editing_one_rule_the_second_is_told(client_as, director, rep, rule):
    version = config.rule_version(rule)
    first = client_as("admin").post(
        f"/settings/rules/{rule.pk}/",
        form_data(name="First", version=version, recipient_users=[director.pk]),
    )
    assert first.status_code == 302
    second = client_as("admin").post(
        f"/settings/rules/{rule.pk}/",
        form_data(name="Second", version=version, recipient_users=[rep.pk]),
    )
    assert second.status_code == 200
    assert "Someone else saved a change while you were editing." in text(second)
    rule.refresh_from_db()
    assert rule.name == "First"
    assert list(rule.recipient_users.all()) == [director]


# --- the company picker ---------------------------------------------------------------------


def test_the_company_search_shows_at_most_twenty_and_keeps_the_ticked_ones(client_as):
    companies = [make_company(f"Acme Division {n} NV") for n in range(25)]
    make_company("Zenith BV")
    ticked = companies[3]
    response = client_as("admin").get(
        "/settings/rules/companies/",
        {"company_q": "acme", "companies": [str(ticked.pk)]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = html(response)
    assert "<html" not in page  # only the picker
    assert page.count('name="companies"') == 21  # the ticked one + 20 matches
    assert f'name="companies" value="{ticked.pk}" checked' in page
    assert page.count("checked") == 1
    assert "Zenith" not in page
    assert "Only the first 20 matches are shown" in page


def test_the_company_search_needs_two_characters_and_says_when_nothing_matches(
    client_as,
):
    make_company("Acme NV")
    short = client_as("admin").get("/settings/rules/companies/", {"company_q": "a"})
    assert 'name="companies"' not in html(short)
    none = client_as("admin").get("/settings/rules/companies/", {"company_q": "xyz"})
    assert "No company matches “xyz”." in text(none)


def test_the_search_button_without_javascript_searches_and_saves_nothing(
    client_as, director
):
    acme = make_company("Acme NV")
    response = client_as("admin").post(
        "/settings/rules/new/",
        form_data(
            company_q="acme", search_companies="1", recipient_users=[director.pk]
        ),
    )
    assert response.status_code == 200
    assert f'data-testid="company-{acme.pk}"' in html(response)
    assert not NotificationRule.objects.exists()


def test_enter_searches_while_a_company_name_is_typed_and_saves_otherwise(
    client_as, director
):
    acme = make_company("Acme NV")
    typed = client_as("admin").post(
        "/settings/rules/new/",
        form_data(enter="1", company_q="acme", recipient_users=[director.pk]),
    )
    assert typed.status_code == 200
    assert f'data-testid="company-{acme.pk}"' in html(typed)
    assert not NotificationRule.objects.exists()
    saved = client_as("admin").post(
        "/settings/rules/new/",
        form_data(
            enter="1", company_q=" ", companies=[acme.pk], recipient_users=[director.pk]
        ),
    )
    assert saved.status_code == 302
    assert list(NotificationRule.objects.get().companies.all()) == [acme]


def test_the_form_never_lists_every_company(client_as, rule):
    Company.objects.bulk_create(
        [Company(name=f"Bulk {n}", name_key=f"bulk {n}") for n in range(50)]
    )
    for url in ("/settings/rules/new/", f"/settings/rules/{rule.pk}/"):
        assert "Bulk" not in html(client_as("admin").get(url))


# --- on, off and delete ---------------------------------------------------------------------


def test_switching_a_rule_off_and_on(client_as, admin, rule):
    off = client_as("admin").post(f"/settings/rules/{rule.pk}/active/", {"active": "0"})
    assert off.status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is False
    listing = client_as("admin").get("/settings/rules/")
    assert "Rule “New inquiries to the director” is off." in text(listing)
    assert 'data-testid="rule-activate"' in html(listing)
    client_as("admin").post(f"/settings/rules/{rule.pk}/active/", {"active": "1"})
    rule.refresh_from_db()
    assert rule.is_active is True
    assert list(
        AuditEvent.objects.filter(subject_id=rule.pk)
        .exclude(event_type="notification_rule.created")
        .values_list("event_type", "actor__username")
    ) == [
        ("notification_rule.activated", "admin"),
        ("notification_rule.deactivated", "admin"),
    ]


def test_a_rule_deleted_by_someone_else_meanwhile_is_reported(
    client_as, rule, monkeypatch
):
    real = config.get_rule_for_admin

    def read_then_lose(user, rule_id):
        found = real(user, rule_id)
        NotificationRule.objects.filter(pk=rule_id).delete()  # the other admin
        return found

    monkeypatch.setattr(config, "get_rule_for_admin", read_then_lose)
    response = client_as("admin").post(
        f"/settings/rules/{rule.pk}/active/", {"active": "0"}
    )
    assert response.status_code == 302
    page = client_as("admin").get("/settings/rules/")
    assert "This rule no longer exists." in text(page)
    assert not AuditEvent.objects.filter(event_type="notification_rule.deactivated")


def test_switching_needs_a_post(client_as, rule):
    response = client_as("admin").get(f"/settings/rules/{rule.pk}/active/")
    assert response.status_code == 405


def test_delete_asks_first_then_deletes(client_as, rule):
    confirm = client_as("admin").get(f"/settings/rules/{rule.pk}/delete/")
    assert "Delete the rule “New inquiries to the director”?" in text(confirm)
    assert "It has sent 0 notifications." in text(confirm)
    assert NotificationRule.objects.exists()
    done = client_as("admin").post(f"/settings/rules/{rule.pk}/delete/")
    assert done.status_code == 302
    assert not NotificationRule.objects.exists()
    assert AuditEvent.objects.filter(event_type="notification_rule.deleted").exists()
    listing = client_as("admin").get("/settings/rules/")
    assert "Rule “New inquiries to the director” deleted." in text(listing)


# --- webhooks -------------------------------------------------------------------------------


def test_a_new_webhook_shows_its_secret_once(client_as, admin):
    client = client_as("admin")
    response = client.post(
        "/settings/webhooks/new/",
        {
            "name": "ERP",
            "url": "https://erp.example.be/hook",
            "events": ["inquiry.registered", "quote.sent"],
            "is_active": "on",
        },
    )
    hook = Webhook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/webhooks/{hook.pk}/"
    assert hook.events == ["inquiry.registered", "quote.sent"]
    assert hook.url == "https://erp.example.be/hook"
    first = client.get(response["Location"])
    shown = re.search(r'data-testid="webhook-secret">([^<]+)<', html(first))
    assert shown and shown.group(1) == hook.secret
    assert "Copy it now: it is shown only this once." in text(first)
    assert "X-Leadflow-Signature" in html(first)  # how the receiver checks it
    again = client.get(response["Location"])
    assert hook.secret not in html(again)
    assert 'data-testid="webhook-secret"' not in html(again)
    assert hook.secret not in html(client.get("/settings/webhooks/"))


def test_a_bad_url_is_shown_on_the_form(client_as):
    response = client_as("admin").post(
        "/settings/webhooks/new/", {"name": "ERP", "url": "ftp://erp.example.be/x"}
    )
    assert response.status_code == 200
    assert "Give a full http:// or https:// address." in text(response)
    assert not Webhook.objects.exists()


def test_editing_a_webhook_saves_and_keeps_the_secret(client_as, hook):
    secret = hook.secret
    response = client_as("admin").post(
        f"/settings/webhooks/{hook.pk}/",
        {
            "name": "ERP v2",
            "url": "https://erp.example.be/v2",
            "events": ["opportunity.won"],
            "version": config.webhook_version(hook),
        },
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.events, hook.is_active, hook.secret) == (
        "ERP v2",
        "https://erp.example.be/v2",
        ["opportunity.won"],
        False,
        secret,
    )
    stale = client_as("admin").post(
        f"/settings/webhooks/{hook.pk}/",
        {"name": "ERP v3", "url": hook.url, "version": "0000"},
    )
    assert "Someone else saved a change while you were editing." in text(stale)
    hook.refresh_from_db()
    assert hook.name == "ERP v2"


def test_rotating_the_secret_shows_the_new_one_once(client_as, hook):
    old = hook.secret
    client = client_as("admin")
    response = client.post(f"/settings/webhooks/{hook.pk}/rotate-secret/")
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.secret != old
    page = client.get(response["Location"])
    assert f'data-testid="webhook-secret">{hook.secret}<' in html(page)
    assert "A new signing secret was made" in text(page)
    assert AuditEvent.objects.filter(event_type="webhook.secret_rotated").exists()


def test_rotating_a_webhook_deleted_meanwhile_is_reported(client_as, hook, monkeypatch):
    real = config.get_webhook_for_admin

    def read_then_lose(user, webhook_id):
        found = real(user, webhook_id)
        Webhook.objects.filter(pk=webhook_id).delete()
        return found

    monkeypatch.setattr(config, "get_webhook_for_admin", read_then_lose)
    response = client_as("admin").post(f"/settings/webhooks/{hook.pk}/rotate-secret/")
    assert response["Location"] == "/settings/webhooks/"
    page = client_as("admin").get("/settings/webhooks/")
    assert "This webhook no longer exists." in text(page)


def test_the_webhook_list_shows_events_and_delivery_counts(client_as, hook):
    make_delivery(hook, n=1)
    make_delivery(hook, DeliveryStatus.DELIVERED, n=2)
    make_delivery(hook, DeliveryStatus.DELIVERED, n=3)
    response = client_as("admin").get("/settings/webhooks/")
    line = row(response, f"webhook-{hook.pk}")
    assert "ERP" in line and "https://erp.example.be/leadflow" in line
    assert "every event" in line
    assert "2 delivered · 1 failed · 0 pending" in line


def test_deleting_a_webhook_asks_first(client_as, hook, delivery):
    confirm = client_as("admin").get(f"/settings/webhooks/{hook.pk}/delete/")
    assert "Delete the webhook “ERP”?" in text(confirm)
    assert Webhook.objects.exists()
    client_as("admin").post(f"/settings/webhooks/{hook.pk}/delete/")
    assert not Webhook.objects.exists()
    assert not WebhookDelivery.objects.exists()


# --- the delivery log -----------------------------------------------------------------------


def test_the_delivery_log_is_paginated_newest_first(client_as, hook):
    made = [make_delivery(hook, n=n, last_error=f"error {n}") for n in range(30)]
    response = client_as("admin").get(f"/settings/webhooks/{hook.pk}/deliveries/")
    ids = [int(i) for i in re.findall(r'data-testid="delivery-(\d+)"', html(response))]
    assert ids == [d.pk for d in reversed(made)][:25]
    assert "Page 1 of 2" in text(response)
    newest = row(response, f"delivery-{made[-1].pk}")
    assert "New inquiry registered" in newest
    assert "Failed" in newest and "6 of 6" in newest
    assert "503" in newest and "error 29" in newest
    assert "Send again" in newest
    assert "&quot;label&quot;: &quot;Person 29&quot;" in html(response)  # payload
    second = client_as("admin").get(
        f"/settings/webhooks/{hook.pk}/deliveries/", {"page": 2}
    )
    ids = [int(i) for i in re.findall(r'data-testid="delivery-(\d+)"', html(second))]
    assert ids == [d.pk for d in reversed(made)][25:]


def test_the_delivery_log_filters_on_status(client_as, hook):
    failed = make_delivery(hook, n=1)
    delivered = make_delivery(hook, DeliveryStatus.DELIVERED, n=2)
    response = client_as("admin").get(
        f"/settings/webhooks/{hook.pk}/deliveries/", {"status": "delivered"}
    )
    assert f'data-testid="delivery-{delivered.pk}"' in html(response)
    assert f'data-testid="delivery-{failed.pk}"' not in html(response)


def test_a_pending_delivery_has_no_send_again_button(client_as, hook):
    pending = make_delivery(hook, DeliveryStatus.PENDING, attempts=1)
    response = client_as("admin").get(f"/settings/webhooks/{hook.pk}/deliveries/")
    assert "Pending" in row(response, f"delivery-{pending.pk}")
    assert 'data-testid="redeliver"' not in html(response)


def test_send_again_posts_the_event_after_the_commit(
    client_as, hook, delivery, monkeypatch, django_capture_on_commit_callbacks
):
    posted = []
    monkeypatch.setattr(
        webhooks, "post", lambda url, body, headers: posted.append(url) or (204, "")
    )
    url = f"/settings/webhooks/{hook.pk}/deliveries/?page=1"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("admin").post(
            f"/settings/webhook-deliveries/{delivery.pk}/redeliver/", {"next": url}
        )
    assert response.status_code == 302
    assert response["Location"] == url
    assert posted == ["https://erp.example.be/leadflow"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered",
        1,
        204,
    )
    page = client_as("admin").get(url)
    assert f"Delivery #{delivery.pk} is being sent again" in text(page)
    assert "Delivered" in row(page, f"delivery-{delivery.pk}")
    event = AuditEvent.objects.get(event_type="webhook_delivery.redelivered")
    assert event.actor.username == "admin"


def test_send_again_refuses_a_pending_delivery_and_says_why(client_as, hook):
    pending = make_delivery(hook, DeliveryStatus.PENDING, attempts=2)
    response = client_as("admin").post(
        f"/settings/webhook-deliveries/{pending.pk}/redeliver/",
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == f"/settings/webhooks/{hook.pk}/deliveries/"
    pending.refresh_from_db()
    assert pending.attempts == 2
    page = client_as("admin").get(response["Location"])
    assert "This delivery is still being tried; wait for it to finish." in text(page)


# --- CSP: no inline script or style ---------------------------------------------------------


def test_the_pages_have_no_inline_script_or_style(client_as, rule, hook, delivery):
    for url in page_urls(rule, hook, delivery):
        page = html(client_as("admin").get(url))
        assert " style=" not in page, url
        assert "<style" not in page, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"\son[a-z]+=", page), url
