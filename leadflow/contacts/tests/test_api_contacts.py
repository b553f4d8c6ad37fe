"""/api/contacts: a contact with lists, marketing flag, flags and history; edits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Contact, Visit
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import book_order, close_inquiry
from leadflow.intake.tests.factories import make_inquiry, make_opportunity
from leadflow.marketing.queries import list_names_for

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


def error(response):
    return response.status_code, response.json().get("code")


@pytest.fixture
def piet(inside, rep):
    piet = make_contact(
        "Piet Janssens",
        email="piet@janssens.be",
        phone="0470 12 34 56",
        company="Janssens BV",
    )
    nurtured = make_inquiry(inside, contact=piet, summary="Brochure please")
    close_inquiry(
        nurtured, actor=inside, outcome="nurture", marketing_lists=["Newsletter"]
    )
    make_opportunity(inside, owner=rep, contact=piet, summary="20 chairs")
    return Contact.objects.select_related("company").get(pk=piet.pk)


# --- GET /api/contacts/{id} -------------------------------------------------------------


def test_contact_detail_has_lists_marketing_flag_flags_and_history(api_as, piet):
    response = api_as("inside").get(f"/api/contacts/{piet.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == piet.pk
    assert body["name"] == "Piet Janssens"
    assert body["email"] == "piet@janssens.be"
    assert body["phone"] == "0470 12 34 56"
    assert body["company_id"] == piet.company_id
    assert body["company"] == "Janssens BV"
    assert body["marketing_lists"] == ["Newsletter"]
    assert body["in_marketing_database"] is True
    assert body["marketing_consent"] == "unknown"
    assert body["flags"] == {
        "lifecycle": "prospect",
        "customer": False,
        "ex_customer": False,
        "key_prospect": False,
        "in_marketing_database": True,
        "marketing_consent": "unknown",
        "opted_out": False,
        "overdue_invoices": 0,
        "open_complaints": 0,
    }
    assert [i["summary"] for i in body["inquiries"]] == [
        "20 chairs",
        "Brochure please",
    ] or [i["summary"] for i in body["inquiries"]] == ["Brochure please", "20 chairs"]
    assert {i["outcome"] for i in body["inquiries"]} == {"nurture", "qualified"}
    assert [o["owner"] for o in body["open_opportunities"]] == ["rep"]
    assert body["orders"] == []
    assert body["version"] == piet.version


def test_a_new_contact_is_not_yet_in_the_marketing_database(api_as):
    contact = make_contact()
    body = api_as("inside").get(f"/api/contacts/{contact.pk}").json()
    assert body["in_marketing_database"] is False
    assert body["marketing_lists"] == []
    assert body["inquiries"] == []


def test_contact_flags_show_a_customer_after_a_re_order(api_as, piet, inside):
    book_order(actor=inside, contact=piet, description="desks")
    body = api_as("inside").get(f"/api/contacts/{piet.pk}").json()
    assert body["flags"]["customer"] is True
    assert body["flags"]["lifecycle"] == "customer"
    assert [o["description"] for o in body["orders"]] == ["desks"]


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_colleague_may_read_a_contact(api_as, piet, persona):
    """Registering needs the lookup, so the outsider reads contacts too."""
    assert api_as(persona).get(f"/api/contacts/{piet.pk}").status_code == 200


def test_an_unknown_contact_is_404(api_as):
    assert error(api_as("inside").get("/api/contacts/999999")) == (404, "not_found")


# --- GET /api/contacts -------------------------------------------------------------------


def test_contacts_search_by_word_prefix_or_e_mail(api_as, piet):
    make_contact("Marie Peeters", email="marie@peeters.be")
    api = api_as("rep")
    by_prefix = api.get("/api/contacts", {"search": "jans"}).json()
    assert [c["id"] for c in by_prefix["items"]] == [piet.pk]
    assert by_prefix["items"][0]["company"] == "Janssens BV"
    by_email = api.get("/api/contacts", {"search": "MARIE@peeters.be"}).json()
    assert [c["name"] for c in by_email["items"]] == ["Marie Peeters"]
    everyone = api.get("/api/contacts").json()
    assert everyone["count"] == 2


# --- PATCH /api/contacts/{id} ------------------------------------------------------------


def test_patch_contact_updates_fields_and_version(api_as, piet):
    response = api_as("rep").patch(
        f"/api/contacts/{piet.pk}",
        {
            "version": piet.version,
            "job_title": "Purchaser",
            "email": "p.janssens@janssens.be",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["job_title"] == "Purchaser"
    assert body["email"] == "p.janssens@janssens.be"
    assert body["version"] == piet.version + 1
    stored = Contact.objects.get(pk=piet.pk)
    assert stored.email_key == "p.janssens@janssens.be"
    assert AuditEvent.objects.filter(
        subject_type="contacts.contact",
        subject_id=piet.pk,
        event_type="contact.updated",
    ).exists()


def test_patch_contact_with_a_stale_version_is_409(api_as, piet):
    api_as("inside").patch(
        f"/api/contacts/{piet.pk}", {"version": piet.version, "job_title": "A"}
    )
    response = api_as("rep").patch(
        f"/api/contacts/{piet.pk}", {"version": piet.version, "job_title": "B"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The record was changed by someone else. Reload and try again.",
        "code": "stale_version",
    }
    assert Contact.objects.get(pk=piet.pk).job_title == "A"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "not-an-email"}, "invalid_email"),
        ({"name": ""}, "invalid_input"),
        ({"name": "x" * 201}, "invalid_input"),
        ({"name": None}, "contact_name_required"),
        ({"company_id": 5}, "invalid_input_or_ignored"),
    ],
)
def test_patch_contact_refuses_invalid_values(api_as, piet, body, code):
    response = api_as("inside").patch(
        f"/api/contacts/{piet.pk}", {"version": piet.version, **body}
    )
    if code == "invalid_input_or_ignored":
        # unknown fields are ignored by the schema: nothing changes
        assert response.status_code == 200
        assert response.json()["company_id"] == piet.company_id
        return
    assert error(response) == (422, code)


def test_patch_contact_without_version_is_422(api_as, piet):
    response = api_as("inside").patch(f"/api/contacts/{piet.pk}", {"job_title": "x"})
    assert error(response) == (422, "invalid_input")


@pytest.mark.parametrize("field", ["email", "phone", "job_title"])
def test_patch_contact_with_null_clears_an_optional_field(api_as, piet, field):
    response = api_as("inside").patch(
        f"/api/contacts/{piet.pk}", {"version": piet.version, field: None}
    )
    assert response.status_code == 200, response.content
    assert response.json()[field] == ""
    stored = Contact.objects.get(pk=piet.pk)
    assert getattr(stored, field) == ""
    if field == "email":
        assert stored.email_key == ""
    if field == "phone":
        assert stored.phone_key == ""


@pytest.mark.parametrize(
    ("value", "detail"),
    [("bogus", "Unknown lifecycle 'bogus'."), (None, "Unknown lifecycle None.")],
)
def test_patch_contact_with_an_unknown_lifecycle_is_422(api_as, piet, value, detail):
    response = api_as("inside").patch(
        f"/api/contacts/{piet.pk}", {"version": piet.version, "lifecycle": value}
    )
    assert response.status_code == 422
    assert response.json() == {"detail": detail, "code": "invalid_lifecycle"}


@pytest.mark.parametrize("lifecycle", ["prospect", "customer", "ex_customer"])
def test_patch_contact_lifecycle(api_as, lifecycle):
    contact = make_contact()
    response = api_as("inside").patch(
        f"/api/contacts/{contact.pk}", {"version": 1, "lifecycle": lifecycle}
    )
    assert response.status_code == 200
    assert response.json()["flags"]["lifecycle"] == lifecycle


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("inside", 200),
        ("rep", 200),
        ("outsider", 200),
        ("director", 200),
        ("marketer", 200),
        ("colleague", 403),
    ],
)
def test_who_may_edit_a_contact(api_as, persona, status):
    contact = make_contact()
    response = api_as(persona).patch(
        f"/api/contacts/{contact.pk}", {"version": 1, "job_title": "CEO"}
    )
    assert response.status_code == status


# --- POST /api/contacts/{id}/visits -------------------------------------------------------


def test_record_a_website_visit(api_as, piet):
    at = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    response = api_as("marketer").post(
        f"/api/contacts/{piet.pk}/visits",
        {"kind": "website", "at": at.isoformat(), "url": "/pricing", "source": "ga"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["url"] == "/pricing"
    visit = Visit.objects.get()
    assert visit.company_id == piet.company_id
    assert visit.at == at
    body = api_as("inside").get(f"/api/contacts/{piet.pk}").json()
    assert body["website_visits"][0]["url"] == "/pricing"


def test_record_a_sales_visit_sets_the_last_sales_visit(api_as, piet):
    at = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    response = api_as("rep").post(
        f"/api/contacts/{piet.pk}/visits", {"kind": "sales", "at": at.isoformat()}
    )
    assert response.status_code == 201
    body = api_as("rep").get(f"/api/contacts/{piet.pk}").json()
    assert body["last_sales_visit_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "phone", "at": "2025-01-01T10:00:00Z"},
        {"kind": "sales"},
        {"kind": "sales", "at": "tomorrow"},
        {"kind": "website", "at": "2025-01-01T10:00:00Z", "url": "x" * 501},
    ],
)
def test_record_visit_refuses_invalid_input(api_as, piet, body):
    response = api_as("rep").post(f"/api/contacts/{piet.pk}/visits", body)
    assert error(response) == (422, "invalid_input")


def test_colleagues_cannot_record_visits(api_as, piet):
    response = api_as("colleague").post(
        f"/api/contacts/{piet.pk}/visits",
        {"kind": "sales", "at": "2025-01-01T10:00:00Z"},
    )
    assert error(response) == (403, "forbidden")


# --- POST /api/contacts/{id}/consent ------------------------------------------------------


def test_opting_out_takes_the_contact_off_every_list(api_as, piet):
    assert list_names_for(piet) == ["Newsletter"]
    response = api_as("marketer").post(
        f"/api/contacts/{piet.pk}/consent", {"consent": "opted_out", "reason": "asked"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["marketing_consent"] == "opted_out"
    assert body["flags"]["opted_out"] is True
    assert body["marketing_lists"] == []
    assert list_names_for(piet) == []


def test_an_opted_out_contact_stays_off_lists_when_nurtured_later(api_as, piet, inside):
    api_as("marketer").post(
        f"/api/contacts/{piet.pk}/consent", {"consent": "opted_out"}
    )
    later = make_inquiry(inside, contact=piet)
    response = api_as("inside").post(
        f"/api/inquiries/{later.pk}/close",
        {"outcome": "nurture", "marketing_lists": ["Newsletter", "Workshops"]},
    )
    assert response.status_code == 200
    assert list_names_for(piet) == []


@pytest.mark.parametrize(
    "body", [{"consent": "maybe"}, {}, {"consent": "granted", "reason": 5}]
)
def test_consent_refuses_unknown_values(api_as, piet, body):
    response = api_as("marketer").post(f"/api/contacts/{piet.pk}/consent", body)
    assert error(response) == (422, "invalid_input")


def test_colleagues_cannot_change_consent(api_as, piet):
    response = api_as("colleague").post(
        f"/api/contacts/{piet.pk}/consent", {"consent": "opted_out"}
    )
    assert error(response) == (403, "forbidden")
    assert list_names_for(piet) == ["Newsletter"]
