"""GDPR: export all data held on a contact; erase a contact while totals stay correct."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.actions import ContactData, put_in_marketing_database
from leadflow.contacts.models import Consent, Contact, ContactToken, Visit
from leadflow.contacts.privacy import (
    ERASED_EVENT,
    EXPORT_FORMAT,
    REDACTED_TEXT,
    erase_contact,
    export_contact,
)
from leadflow.contacts.queries import find_matches, list_contacts
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import ValidationFailed
from leadflow.intake.actions import book_order, close_inquiry, find_existing_contact
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.tests.factories import make_inquiry, make_opportunity
from leadflow.marketing.actions import (
    get_or_create_lists,
    record_consent,
    subscribe_contact,
)
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    set_stakeholder,
    update_opportunity,
)
from leadflow.opportunities.models import Document, Opportunity

pytestmark = pytest.mark.django_db

ALL_PERSONAS = [
    "admin",
    "inside",
    "rep",
    "outsider",
    "director",
    "marketer",
    "colleague",
]
NOT_ADMINS = [p for p in ALL_PERSONAS if p != "admin"]
EMAIL = "piet@janssens.be"
PHONE = "0470 12 34 56"


@pytest.fixture
def piet(inside, rep, admin):
    """A rich contact: consent history, lists, inquiries, leads, orders, visits."""
    piet = make_contact(
        "Piet Janssens", email=EMAIL, phone=PHONE, company="Janssens BV"
    )
    Contact.objects.filter(pk=piet.pk).update(job_title="Facility manager")
    record_consent(piet, actor=admin, consent=Consent.GRANTED, reason="form")
    nurtured = make_inquiry(inside, contact=piet, summary="Brochure please")
    close_inquiry(
        nurtured, actor=inside, outcome="nurture", marketing_lists=["Newsletter"]
    )
    make_inquiry(inside, contact=piet, summary="Call me back on my mobile")
    won = make_opportunity(inside, owner=rep, contact=piet, summary="20 chairs")
    won = update_opportunity(won, actor=rep, expected_value=Decimal("12500.00"))
    add_activity(
        won,
        actor=rep,
        kind="call",
        subject="Discuss colours",
        assignee=rep,
        notes="Piet prefers blue",
    )
    Document.objects.create(
        opportunity=won, file="documents/plan.pdf", name="plan.pdf", size=1234
    )
    close_opportunity(won, actor=rep, result="won", reason="Best offer")
    other = make_contact("Marie Peeters", email="marie@janssens.be")
    desks = make_opportunity(inside, owner=rep, contact=other, summary="Desks")
    set_stakeholder(desks, actor=rep, contact=piet, role="budget_holder")
    piet.refresh_from_db()
    book_order(
        actor=inside, description="Spare parts", contact=piet, amount=Decimal("99.50")
    )
    Visit.objects.create(kind="website", contact=piet, at=timezone.now(), url="/x")
    Visit.objects.create(
        kind="sales",
        contact=piet,
        company=piet.company,
        at=timezone.now() - timedelta(days=3),
        note="Met Piet at the door",
    )
    return Contact.objects.select_related("company").get(pk=piet.pk)


def totals() -> dict:
    """What analytics count: inquiries by outcome, leads by status, won value, orders."""
    return {
        "inquiries": Inquiry.objects.count(),
        "by_outcome": dict(
            Inquiry.objects.values_list("outcome").annotate(n=Count("id"))
        ),
        "leads": Opportunity.objects.count(),
        "by_status": dict(
            Opportunity.objects.values_list("status").annotate(n=Count("id"))
        ),
        "won_value": Opportunity.objects.filter(status="won").aggregate(
            v=Sum("expected_value")
        )["v"],
        "orders": Order.objects.count(),
        "order_value": Order.objects.aggregate(v=Sum("amount"))["v"],
        "dates": sorted(
            str(d) for d in Inquiry.objects.values_list("received_at", flat=True)
        ),
    }


# --- export -----------------------------------------------------------------------------


def test_export_holds_everything_on_the_person(piet):
    data = export_contact(piet)
    json.dumps(data)  # JSON-serialisable as it is
    assert data["format"] == EXPORT_FORMAT
    assert data["contact"]["name"] == "Piet Janssens"
    assert data["contact"]["email"] == EMAIL
    assert data["contact"]["phone"] == PHONE
    assert data["contact"]["job_title"] == "Facility manager"
    assert data["company"]["name"] == "Janssens BV"
    summaries = {i["summary"] for i in data["inquiries"]}
    assert {"Brochure please", "Call me back on my mobile", "20 chairs"} <= summaries
    nurture = next(i for i in data["inquiries"] if i["summary"] == "Brochure please")
    assert nurture["outcome"] == "nurture"
    assert nurture["closed_at"]
    leads = {lead["title"]: lead for lead in data["qualified_leads"]}
    assert len(leads) == 2
    won = next(lead for lead in leads.values() if lead["status"] == "won")
    assert won["involvement"] == ["primary_contact"]
    assert won["expected_value"] == "12500.00"
    assert won["stage"]
    assert won["created_at"] and won["closed_at"]
    assert won["activities"][0]["notes"] == "Piet prefers blue"
    assert won["documents"][0]["name"] == "plan.pdf"
    assert won["documents"][0]["size"] == 1234
    desks = next(lead for lead in leads.values() if lead["status"] == "open")
    assert desks["involvement"] == ["stakeholder:budget_holder"]
    assert [o["description"] for o in data["orders"]] == ["Spare parts"]
    assert data["orders"][0]["amount"] == "99.50"
    assert {v["kind"] for v in data["visits"]} == {"website", "sales"}
    assert [m["name"] for m in data["marketing"]["lists"]] == ["Newsletter"]
    assert data["marketing"]["marketing_consent"] == Consent.GRANTED
    history = [e["event_type"] for e in data["marketing"]["consent_history"]]
    assert "contact.consent_changed" in history
    assert "contact.lists_added" in history
    events = [e["event_type"] for e in data["audit_events"]]
    assert events[0] == "contact.created"
    assert data["audit_events"][0]["new"]["email"] == EMAIL


# --- erase ------------------------------------------------------------------------------


def test_erase_anonymises_the_person_and_keeps_the_totals(piet, admin):
    before = totals()
    old_name = piet.name
    erase_contact(piet, actor=admin, reason="Art. 17 request by e-mail")
    piet.refresh_from_db()
    assert piet.name == f"Erased contact #{piet.pk}"
    assert (piet.email, piet.phone, piet.job_title) == ("", "", "")
    assert (piet.email_key, piet.phone_key, piet.name_key) == ("", "", "")
    assert not ContactToken.objects.filter(contact=piet).exists()
    assert piet.last_sales_visit_at is None
    assert totals() == before
    # Lookup by the old details finds nothing.
    matches, _companies = find_matches(email=EMAIL, phone=PHONE, name=old_name)
    assert piet.pk not in {m.contact.pk for m in matches}
    found = find_existing_contact(ContactData(name=old_name, email=EMAIL, phone=PHONE))
    assert found is None or found.pk != piet.pk
    for search in (EMAIL, old_name, "piet", "janssens"):
        assert not list_contacts(admin, search=search).filter(pk=piet.pk).exists()


def test_erase_keeps_analytics_rows_and_redacts_only_open_inquiry_text(piet, admin):
    erase_contact(piet, actor=admin, reason="request")
    inquiries = {i.status: i for i in Inquiry.objects.filter(contact=piet)}
    assert inquiries["open"].summary == REDACTED_TEXT
    # Closed inquiries are immutable by trigger: their text stays (ADR 0009).
    closed = Inquiry.objects.filter(contact=piet, status="closed")
    assert closed.count() == 2
    assert set(closed.values_list("outcome", flat=True)) == {"nurture", "qualified"}
    won = Opportunity.objects.get(contact=piet, status="won")
    assert won.expected_value == Decimal("12500.00")
    assert won.closed_at is not None
    assert Order.objects.get(contact=piet).amount == Decimal("99.50")


def test_erase_takes_them_out_of_marketing_for_good(piet, admin):
    erase_contact(piet, actor=admin, reason="request")
    piet.refresh_from_db()
    assert piet.marketing_consent == Consent.OPTED_OUT
    assert not piet.in_marketing_database
    assert not ListMembership.objects.filter(contact=piet).exists()
    # Nothing puts them back: not the marketing database, not a list.
    assert put_in_marketing_database(piet, actor=None, reason="campaign") is False
    lists = get_or_create_lists(["Newsletter"], actor=admin)
    assert subscribe_contact(piet, actor=admin, lists=lists, source="import") == []
    piet.refresh_from_db()
    assert not piet.in_marketing_database


def test_erase_deletes_or_detaches_visits(piet, admin):
    company = piet.company
    erase_contact(piet, actor=admin, reason="request")
    assert not Visit.objects.filter(contact=piet).exists()
    kept = Visit.objects.get(company=company)
    assert kept.kind == "sales" and kept.contact_id is None and kept.note == ""
    assert not Visit.objects.filter(url="/x").exists()


def test_erase_writes_one_audit_row_without_the_erased_data(piet, admin):
    erase_contact(piet, actor=admin, reason="Art. 17 request")
    row = AuditEvent.objects.get(
        subject_type="contacts.contact", subject_id=piet.pk, event_type=ERASED_EVENT
    )
    assert row.actor == admin
    assert row.reason == "Art. 17 request"
    stored = json.dumps([row.old, row.new])
    for personal in (EMAIL, PHONE, "Piet", "Facility"):
        assert personal not in stored


def test_erase_twice_is_a_no_op(piet, admin):
    erase_contact(piet, actor=admin, reason="request")
    piet.refresh_from_db()
    after_first = (piet.version, AuditEvent.objects.count(), totals())
    erase_contact(piet, actor=admin, reason="again")
    piet.refresh_from_db()
    assert (piet.version, AuditEvent.objects.count(), totals()) == after_first


def test_erase_needs_a_reason(piet, admin):
    with pytest.raises(ValidationFailed) as exc:
        erase_contact(piet, actor=admin, reason="  ")
    assert exc.value.code == "reason_required"
    piet.refresh_from_db()
    assert piet.name == "Piet Janssens"


# --- API --------------------------------------------------------------------------------


def test_api_export_for_admin(api_as, piet):
    response = api_as("admin").get(f"/api/contacts/{piet.pk}/export")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["contact"]["email"] == EMAIL
    assert len(body["qualified_leads"]) == 2


def test_api_erase_for_admin(api_as, piet):
    before = totals()
    response = api_as("admin").post(
        f"/api/contacts/{piet.pk}/erase", {"reason": "Request by phone"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": piet.pk,
        "name": f"Erased contact #{piet.pk}",
        "erased": True,
    }
    assert totals() == before
    again = api_as("admin").post(f"/api/contacts/{piet.pk}/erase", {"reason": "x"})
    assert again.status_code == 200


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_api_erase_without_a_reason_is_422(api_as, piet, body):
    response = api_as("admin").post(f"/api/contacts/{piet.pk}/erase", body)
    assert response.status_code == 422
    piet.refresh_from_db()
    assert piet.email == EMAIL


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_api_privacy_is_for_admins_only(api_as, piet, persona):
    client = api_as(persona)
    export = client.get(f"/api/contacts/{piet.pk}/export")
    erase = client.post(f"/api/contacts/{piet.pk}/erase", {"reason": "x"})
    assert (export.status_code, export.json()["code"]) == (403, "forbidden")
    assert (erase.status_code, erase.json()["code"]) == (403, "forbidden")
    piet.refresh_from_db()
    assert piet.email == EMAIL


def test_api_privacy_unknown_contact_is_404(api_as, piet):
    client = api_as("admin")
    assert client.get("/api/contacts/999999/export").status_code == 404
    response = client.post("/api/contacts/999999/erase", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_api_privacy_needs_a_token(anonymous_api, piet):
    assert anonymous_api.get(f"/api/contacts/{piet.pk}/export").status_code == 401
    response = anonymous_api.post(f"/api/contacts/{piet.pk}/erase", {"reason": "x"})
    assert response.status_code == 401


# --- pages ------------------------------------------------------------------------------


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_contact_page_shows_privacy_block_to_admins_only(piet, personas):
    for name in ALL_PERSONAS:
        response = page_client(personas[name]).get(
            reverse("contact_detail", args=[piet.pk])
        )
        assert response.status_code == 200
        shown = reverse("contact_export", args=[piet.pk]) in response.content.decode()
        assert shown == (name == "admin"), name
        assert (b"Download all data (JSON)" in response.content) == (name == "admin")


def test_page_export_downloads_json(piet, admin):
    response = page_client(admin).get(reverse("contact_export", args=[piet.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert f'filename="contact-{piet.pk}.json"' in response["Content-Disposition"]
    assert json.loads(response.content)["contact"]["email"] == EMAIL


def test_page_erase_with_reason_and_confirmation(piet, admin):
    response = page_client(admin).post(
        reverse("contact_erase", args=[piet.pk]),
        {"reason": "Asked by letter", "confirm": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"personal data has been erased" in response.content
    piet.refresh_from_db()
    assert piet.name == f"Erased contact #{piet.pk}"


@pytest.mark.parametrize(
    "data", [{"reason": "Asked by letter"}, {"reason": "", "confirm": "yes"}]
)
def test_page_erase_refuses_without_confirmation_or_reason(piet, admin, data):
    response = page_client(admin).post(
        reverse("contact_erase", args=[piet.pk]), data, follow=True
    )
    assert response.status_code == 200
    piet.refresh_from_db()
    assert piet.email == EMAIL


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_page_privacy_is_for_admins_only(piet, personas, persona):
    client = page_client(personas[persona])
    assert client.get(reverse("contact_export", args=[piet.pk])).status_code == 403
    response = client.post(
        reverse("contact_erase", args=[piet.pk]), {"reason": "x", "confirm": "yes"}
    )
    assert response.status_code == 403
    piet.refresh_from_db()
    assert piet.email == EMAIL


def test_page_privacy_unknown_contact_is_404(admin):
    client = page_client(admin)
    assert client.get(reverse("contact_export", args=[999999])).status_code == 404


def test_page_erase_needs_login(piet):
    response = Client().post(
        reverse("contact_erase", args=[piet.pk]), {"reason": "x", "confirm": "yes"}
    )
    assert response.status_code == 302
    piet.refresh_from_db()
    assert piet.email == EMAIL
