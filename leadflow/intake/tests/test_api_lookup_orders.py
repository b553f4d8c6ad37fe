"""/api/intake/lookup, /api/orders, hand-over and channels: the triage paths of step 1."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.actions import record_visit
from leadflow.contacts.models import Company, Contact, Lifecycle
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import book_order, close_inquiry
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.tests.factories import make_inquiry, make_opportunity
from leadflow.opportunities.models import Opportunity
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db


# --- POST /api/intake/lookup ------------------------------------------------------------


@pytest.fixture
def piet(inside, rep):
    """A known requester with history: an earlier inquiry, a running lead, an order."""
    piet = make_contact(
        "Piet Janssens",
        email="piet@janssens.be",
        phone="09 300 11 22",
        company="Janssens BVBA",
    )
    Company.objects.filter(pk=piet.company_id).update(is_key_prospect=True)
    earlier = make_inquiry(inside, contact=piet, summary="Earlier: 10 desks")
    close_inquiry(earlier, actor=inside, outcome="qualified", owner=rep)
    book_order(actor=inside, contact=piet, description="Re-order of desks")
    record_visit(
        actor=None,
        kind="website",
        at=timezone.now() - timedelta(hours=1),
        contact=piet,
        url="/pricing",
        source="ga",
    )
    return piet


@pytest.mark.parametrize(
    "query",
    [
        {"email": "PIET@janssens.be"},
        {"phone": "+32 9 300 11 22"},
        {"phone": "0032 9 300 11 22"},
        {"name": "jans"},
        {"name": "piet janssens"},
        {"company": "janssens bv"},
    ],
)
def test_lookup_finds_the_requester_by_any_detail(api_as, piet, query):
    response = api_as("colleague").post("/api/intake/lookup", query)
    assert response.status_code == 200, response.content
    assert [m["id"] for m in response.json()["matches"]] == [piet.pk]


def test_lookup_shows_history_flags_running_leads_and_their_owner(api_as, piet, rep):
    response = api_as("inside").post(
        "/api/intake/lookup", {"email": "piet@janssens.be", "name": "Piet Janssens"}
    )
    match = response.json()["matches"][0]
    assert match["score"] == 160
    assert match["matched_on"] == ["email", "name"]
    assert match["company"] == "Janssens BVBA"
    earlier = Inquiry.objects.get(contact=piet)
    opportunity = Opportunity.objects.get()
    assert match["inquiries"] == [
        {
            "id": earlier.pk,
            "summary": "Earlier: 10 desks",
            "status": "closed",
            "outcome": "qualified",
            "channel": "phone",
            "received_at": match["inquiries"][0]["received_at"],
            "opportunity_id": opportunity.pk,
        }
    ]
    assert match["open_opportunities"][0]["id"] == opportunity.pk
    assert match["open_opportunities"][0]["owner"] == "rep"
    assert match["open_opportunities"][0]["owner_name"] == "Rep Persona"
    assert match["open_opportunities"][0]["stage"] == "qualification"
    assert [o["description"] for o in match["orders"]] == ["Re-order of desks"]
    assert match["website_visits"][0]["url"] == "/pricing"
    assert match["flags"]["customer"] is True
    assert match["flags"]["key_prospect"] is True
    assert match["flags"]["in_marketing_database"] is True
    assert match["in_marketing_database"] is True
    assert response.json()["companies"] == []


def test_lookup_by_company_lists_the_company(api_as, piet):
    body = api_as("inside").post("/api/intake/lookup", {"company": "Janssens"}).json()
    assert body["companies"] == [
        {
            "id": piet.company_id,
            "name": "Janssens BVBA",
            "size": None,
            "lifecycle": "customer",
            "is_key_prospect": True,
        }
    ]


def test_lookup_of_an_unknown_person_finds_nothing(api_as, piet):
    response = api_as("inside").post("/api/intake/lookup", {"email": "new@example.be"})
    assert response.json() == {"matches": [], "companies": []}


def test_lookup_with_nothing_typed_finds_nothing(api_as, piet):
    assert api_as("inside").post("/api/intake/lookup", {}).json() == {
        "matches": [],
        "companies": [],
    }


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x" * 255},
        {"name": "x" * 201},
        {"phone": "1" * 41},
        {"company": ["a"]},
        {"name": 5},
    ],
)
def test_lookup_rejects_wrong_types_and_huge_strings_with_422(api_as, body):
    response = api_as("inside").post("/api/intake/lookup", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_lookup_of_a_company_of_one_letter_words_is_not_a_server_error(api_as):
    response = api_as("inside").post("/api/intake/lookup", {"company": "A & B"})
    assert response.status_code == 200


def test_the_outsider_can_look_people_up_to_register(api_as, piet):
    """Any colleague registers inquiries, so intake shows the history to everyone."""
    response = api_as("outsider").post("/api/intake/lookup", {"name": "jans"})
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["matches"]] == [piet.pk]


# --- POST /api/orders -----------------------------------------------------------------


def test_booking_a_re_order_answers_201_and_makes_a_customer(api_as, inside):
    contact = make_contact(company="Acme NV")
    response = api_as("rep").post(
        "/api/orders",
        {
            "contact_id": contact.pk,
            "description": "Repeat order: 20 chairs",
            "amount": "2400.50",
            "reference": "PO-1",
            "channel": "email",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert body["contact_id"] == contact.pk
    assert body["company_id"] == contact.company_id
    assert body["description"] == "Repeat order: 20 chairs"
    assert body["amount"] == 2400.5  # money is a JSON number
    assert body["reference"] == "PO-1"
    assert body["booked_by"] == "rep"
    assert order.channel.code == "email"
    assert Company.objects.get(pk=contact.company_id).lifecycle == Lifecycle.CUSTOMER
    assert AuditEvent.objects.filter(event_type="order.booked").count() == 1
    assert not Inquiry.objects.exists()


def test_booking_for_a_company_only(api_as):
    company = make_contact(company="Acme NV").company
    response = api_as("inside").post(
        "/api/orders", {"company_id": company.pk, "description": "desks"}
    )
    assert response.status_code == 201
    assert response.json()["contact_id"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"description": "x"}, 422, "customer_required"),
        ({"contact_id": 999_999, "description": "x"}, 404, "not_found"),
        ({"company_id": 999_999, "description": "x"}, 404, "not_found"),
        (
            {"contact_id": "CONTACT", "description": "x", "channel": "pigeon"},
            422,
            "unknown_channel",
        ),
        ({"contact_id": "CONTACT", "description": ""}, 422, "invalid_input"),
        (
            {"contact_id": "CONTACT", "description": "x", "amount": "-5"},
            422,
            "invalid_input",
        ),
        (
            {"contact_id": "CONTACT", "description": "x", "amount": "1e20"},
            422,
            "invalid_input",
        ),
        ({"contact_id": "CONTACT", "description": "x" * 5001}, 422, "invalid_input"),
    ],
)
def test_booking_refuses_bad_orders(api_as, body, status, code):
    contact = make_contact()
    body = {k: (contact.pk if v == "CONTACT" else v) for k, v in body.items()}
    response = api_as("inside").post("/api/orders", body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Order.objects.exists()


def test_booking_refuses_a_contact_of_another_company(api_as):
    contact = make_contact(company="Acme NV")
    other = make_contact(company="Other NV").company
    response = api_as("inside").post(
        "/api/orders",
        {"contact_id": contact.pk, "company_id": other.pk, "description": "x"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "The contact does not work at that company.",
        "code": "contact_company_mismatch",
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 201),
        ("inside", 201),
        ("rep", 201),
        ("outsider", 201),
        ("director", 201),
        ("marketer", 403),
        ("colleague", 403),
    ],
)
def test_who_may_book_orders(api_as, persona, status):
    contact = make_contact()
    response = api_as(persona).post(
        "/api/orders", {"contact_id": contact.pk, "description": "x"}
    )
    assert response.status_code == status


def test_orders_are_listed_newest_first_per_customer(api_as, inside):
    contact = make_contact(company="Acme NV")
    old = book_order(
        actor=inside,
        contact=contact,
        description="old",
        ordered_at=timezone.now() - timedelta(days=3),
    )
    new = book_order(actor=inside, contact=contact, description="new")
    book_order(actor=inside, contact=make_contact(), description="someone else")
    body = api_as("rep").get("/api/orders", {"company_id": contact.company_id}).json()
    assert [o["id"] for o in body["items"]] == [new.pk, old.pk]
    assert api_as("colleague").get("/api/orders").status_code == 403


# --- POST /api/opportunities/{id}/handover ------------------------------------------------


def test_handing_a_question_to_a_running_lead_notifies_its_owner(api_as, inside, rep):
    opportunity = make_opportunity(inside, owner=rep, summary="Chairs")
    Notification.objects.all().delete()
    response = api_as("colleague").post(
        f"/api/opportunities/{opportunity.pk}/handover",
        {"question": "Can delivery move to May?", "channel": "phone"},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"id": opportunity.pk, "owner": "rep", "logged": True}
    notification = Notification.objects.get(recipient=rep)
    assert "Can delivery move to May?" in notification.message
    event = AuditEvent.objects.get(event_type="opportunity.question_handed_over")
    assert event.subject_id == opportunity.pk
    assert event.actor.username == "colleague"
    assert Inquiry.objects.count() == 1  # no new inquiry


def test_handover_needs_a_question(api_as, inside, rep):
    opportunity = make_opportunity(inside, owner=rep)
    response = api_as("inside").post(
        f"/api/opportunities/{opportunity.pk}/handover", {"question": ""}
    )
    assert error_of(response) == (422, "invalid_input")
    response = api_as("inside").post(
        f"/api/opportunities/{opportunity.pk}/handover",
        {"question": "q", "channel": "fax"},
    )
    assert error_of(response) == (422, "unknown_channel")


def test_handover_to_a_closed_lead_is_409(api_as, inside, rep):
    opportunity = make_opportunity(inside, owner=rep)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status="lost", closed_at=timezone.now()
    )
    response = api_as("inside").post(
        f"/api/opportunities/{opportunity.pk}/handover", {"question": "Still on?"}
    )
    assert error_of(response) == (409, "opportunity_closed")


def test_handover_to_an_unknown_lead_is_404(api_as):
    response = api_as("inside").post(
        "/api/opportunities/999999/handover", {"question": "q"}
    )
    assert error_of(response) == (404, "not_found")


def test_the_outsider_may_hand_a_question_to_another_teams_lead(api_as, inside, rep):
    """Intake shows running leads and owners to everyone who registers."""
    opportunity = make_opportunity(inside, owner=rep)
    response = api_as("outsider").post(
        f"/api/opportunities/{opportunity.pk}/handover", {"question": "q"}
    )
    assert response.status_code == 200


def error_of(response):
    return response.status_code, response.json().get("code")


# --- GET /api/channels ------------------------------------------------------------------


def test_channels_lists_the_active_channels_in_order(api_as):
    body = api_as("colleague").get("/api/channels").json()
    assert [c["code"] for c in body] == [
        "phone",
        "email",
        "web_form",
        "telemarketing",
        "prospecting_visit",
        "event",
        "referral",
        "existing_customer",
        "other",
    ]
    assert body[3] == {
        "code": "telemarketing",
        "name": "Telemarketing",
        "prompted_by_default": True,
    }


def test_unused_contact_data_is_not_created_by_lookup(api_as):
    api_as("inside").post("/api/intake/lookup", {"name": "Nobody", "email": "n@x.be"})
    assert not Contact.objects.exists()
