"""/api/inquiries: register, the triage queue, correct, assign and close (SPEC contract)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.contacts.models import Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import close_inquiry
from leadflow.intake.models import Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_campaign, make_inquiry
from leadflow.marketing.queries import list_names_for
from leadflow.opportunities.models import Opportunity
from leadflow.workflows.models import Notification

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


def inquiry_body(**overrides) -> dict:
    body = {
        "contact": {
            "name": "Piet Janssens",
            "email": "piet@janssens.be",
            "phone": "09 300 11 22",
            "company": {"name": "Janssens BVBA", "size": 25},
        },
        "summary": "Quote for 20 office chairs",
        "channel": "phone",
    }
    body.update(overrides)
    return body


def error(response) -> tuple[int, str]:
    return response.status_code, response.json().get("code")


# --- POST /api/inquiries -------------------------------------------------------------


def test_register_answers_201_with_the_open_inquiry(api_as, inside):
    response = api_as("inside").post("/api/inquiries", inquiry_body(referrer="Acme"))
    assert response.status_code == 201, response.content
    body = response.json()
    inquiry = Inquiry.objects.get(pk=body["id"])
    contact = Contact.objects.get(pk=body["contact_id"])
    assert body["status"] == "open"
    assert body["outcome"] is None
    assert body["contact_id"] == inquiry.contact_id
    assert body["company_id"] == contact.company_id == inquiry.company_id
    assert body["summary"] == "Quote for 20 office chairs"
    assert body["channel"] == "phone"
    assert body["referrer"] == "Acme"
    assert body["prompted"] is False
    assert body["received_by"] == "inside"
    assert body["department"] == "Sales"
    assert body["assignee"] is None
    assert body["opportunity_id"] is None
    assert body["version"] == 1
    assert body["overdue"] is False
    assert contact.name == "Piet Janssens"
    assert contact.phone_key == "+3293001122"
    assert contact.company.name == "Janssens BVBA"
    assert contact.company.size == 25
    assert inquiry.created_by == inside


def test_register_reuses_a_known_contact_by_e_mail(api_as):
    known = make_contact("Piet Janssens", email="piet@janssens.be")
    body = inquiry_body(contact={"name": "Piet", "email": "PIET@janssens.be"})
    response = api_as("inside").post("/api/inquiries", body)
    assert response.status_code == 201
    assert response.json()["contact_id"] == known.pk
    assert Contact.objects.count() == 1


def test_register_for_a_known_contact_by_id(api_as):
    known = make_contact(company="Acme NV")
    body = inquiry_body(contact=None, contact_id=known.pk)
    response = api_as("rep").post("/api/inquiries", body)
    assert response.status_code == 201
    assert response.json()["contact_id"] == known.pk
    assert response.json()["company_id"] == known.company_id


def test_register_for_an_unknown_contact_id_is_404(api_as):
    response = api_as("inside").post("/api/inquiries", inquiry_body(contact_id=999_999))
    assert error(response) == (404, "not_found")


def test_register_with_campaign_received_by_and_department(api_as, colleague):
    make_campaign("Spring mailing")
    body = inquiry_body(
        campaign="Spring mailing",
        received_by="colleague",
        department="Service",
        received_at=(timezone.now() - timedelta(hours=3)).isoformat(),
    )
    response = api_as("inside").post("/api/inquiries", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["campaign"] == "Spring mailing"
    assert data["prompted"] is True
    assert data["received_by"] == "colleague"
    assert data["department"] == "Service"
    assert data["age_working_hours"] >= 0


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_colleague_can_register_an_inquiry(api_as, persona):
    response = api_as(persona).post("/api/inquiries", inquiry_body())
    assert response.status_code == 201
    assert response.json()["received_by"] == persona


@pytest.mark.parametrize(
    ("overrides", "code", "detail"),
    [
        (
            {"channel": "pigeon"},
            "unknown_channel",
            "Unknown channel 'pigeon'. Known channels: phone, email, web_form, "
            "telemarketing, prospecting_visit, event, referral, existing_customer, other.",
        ),
        (
            {"campaign": "Nope"},
            "unknown_campaign",
            "Unknown campaign 'Nope'. An administrator can add it.",
        ),
        (
            {"received_by": "ghost"},
            "unknown_user",
            "Unknown user 'ghost' for received by.",
        ),
        (
            {"department": "Finance"},
            "unknown_department",
            "Unknown department 'Finance'.",
        ),
        ({"contact": None}, "contact_required", "Say who asked the question."),
        ({"summary": "   "}, "summary_required", "Summarise the question."),
        (
            {"received_at": (timezone.now() + timedelta(days=1)).isoformat()},
            "received_in_future",
            "The inquiry cannot be received in the future.",
        ),
    ],
)
def test_register_refuses_with_422_and_a_code(api_as, overrides, code, detail):
    response = api_as("inside").post("/api/inquiries", inquiry_body(**overrides))
    assert response.status_code == 422, response.content
    assert response.json() == {"detail": detail, "code": code}
    assert not Inquiry.objects.exists()


def test_register_refuses_an_invalid_e_mail(api_as):
    body = inquiry_body(contact={"name": "Piet", "email": "piet@@janssens"})
    response = api_as("inside").post("/api/inquiries", body)
    assert error(response) == (422, "invalid_email")
    assert response.json()["detail"] == "Enter a valid email address."
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"summary": 123},
        {"summary": ["a"]},
        {"channel": None},
        {"prompted": "maybe"},
        {"contact": "Piet"},
        {"contact": {"email": "piet@janssens.be"}},
        {"contact": {"name": ""}},
        {"contact": {"name": "Piet", "company": {"name": "Acme", "size": -1}}},
        {"contact": {"name": "Piet", "company": {"name": "Acme", "size": "big"}}},
        {"contact_id": 0},
        {"contact_id": "abc"},
        {"received_at": "yesterday"},
    ],
)
def test_register_with_wrong_types_is_422_never_500(api_as, overrides):
    response = api_as("inside").post("/api/inquiries", inquiry_body(**overrides))
    assert response.status_code == 422, response.content
    assert response.json()["code"] in {"invalid_input", "contact_required"}


@pytest.mark.parametrize(
    ("overrides"),
    [
        {"summary": "x" * 10_001},
        {"channel": "x" * 101},
        {"referrer": "x" * 201},
        {"contact": {"name": "x" * 201}},
        {"contact": {"name": "Piet", "email": "a" * 250 + "@x.be"}},
        {"contact": {"name": "Piet", "phone": "1" * 41}},
        {"contact": {"name": "Piet", "company": {"name": "x" * 201}}},
    ],
)
def test_register_rejects_huge_strings_with_422(api_as, overrides):
    response = api_as("inside").post("/api/inquiries", inquiry_body(**overrides))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_register_with_a_received_at_without_offset_is_not_a_server_error(api_as):
    body = inquiry_body(received_at="2025-01-06T10:00:00")
    response = api_as("inside").post("/api/inquiries", body)
    assert response.status_code in (201, 422)


# --- GET /api/inquiries ---------------------------------------------------------------


def test_the_queue_is_paginated_and_oldest_first(api_as, inside):
    made = [
        make_inquiry(inside, received_at=timezone.now() - timedelta(hours=h))
        for h in (1, 30, 5, 12, 2)
    ]
    response = api_as("inside").get(
        "/api/inquiries", {"status": "open", "page_size": 2}
    )
    assert response.status_code == 200
    body = response.json()
    oldest_first = sorted(made, key=lambda i: i.received_at)
    assert body["count"] == 5
    assert (body["page"], body["page_size"], body["pages"]) == (1, 2, 3)
    assert [i["id"] for i in body["items"]] == [i.pk for i in oldest_first[:2]]
    page3 = api_as("inside").get("/api/inquiries", {"page": 3, "page_size": 2}).json()
    assert [i["id"] for i in page3["items"]] == [oldest_first[4].pk]


def test_the_queue_defaults_to_open_inquiries_and_page_size_50(api_as, inside):
    open_one = make_inquiry(inside)
    closed = make_inquiry(inside)
    close_inquiry(closed, actor=inside, outcome="archived", reason="spam")
    body = api_as("inside").get("/api/inquiries").json()
    assert [i["id"] for i in body["items"]] == [open_one.pk]
    assert body["page_size"] == 50
    closed_page = api_as("inside").get("/api/inquiries", {"status": "closed"}).json()
    assert [i["id"] for i in closed_page["items"]] == [closed.pk]
    assert closed_page["items"][0]["outcome"] == "archived"
    assert closed_page["items"][0]["reason"] == "spam"


def test_the_queue_shows_age_in_working_hours_and_overdue(api_as, inside):
    week_old = make_inquiry(inside, received_at=timezone.now() - timedelta(days=7))
    fresh = make_inquiry(inside)
    items = {i["id"]: i for i in api_as("inside").get("/api/inquiries").json()["items"]}
    assert items[week_old.pk]["overdue"] is True
    assert items[week_old.pk]["age_working_hours"] >= 45
    assert items[fresh.pk]["overdue"] is False
    assert items[fresh.pk]["age_working_hours"] < 1


def test_an_empty_queue_has_zero_pages(api_as):
    body = api_as("inside").get("/api/inquiries").json()
    assert body == {"items": [], "count": 0, "page": 1, "page_size": 50, "pages": 0}


def test_the_queue_filters_by_channel_assignee_and_department(
    api_as, inside, departments
):
    by_phone = make_inquiry(inside, channel="phone")
    by_web = make_inquiry(inside, channel="web_form", department="Marketing")
    api = api_as("inside")
    api.post(f"/api/inquiries/{by_web.pk}/assign", {"assignee": "inside"})

    def ids(**params):
        response = api.get("/api/inquiries", params)
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["items"]]

    assert ids(channel="web_form") == [by_web.pk]
    assert ids(channel="Phone") == [by_phone.pk]
    assert ids(assignee="inside") == [by_web.pk]
    assert ids(assignee="none") == [by_phone.pk]
    assert ids(department=departments["Marketing"].pk) == [by_web.pk]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "bogus"}, "invalid_status"),
        ({"channel": "pigeon"}, "unknown_channel"),
        ({"assignee": "ghost"}, "unknown_user"),
        ({"page": 0}, "invalid_input"),
        ({"page_size": 201}, "invalid_input"),
        ({"department": "Sales"}, "invalid_input"),
    ],
)
def test_the_queue_refuses_bad_filters_with_422(api_as, params, code):
    response = api_as("inside").get("/api/inquiries", params)
    assert error(response) == (422, code)


def test_the_outsider_does_not_see_another_teams_inquiry_in_the_queue(
    api_as, rep, inside
):
    received_by_rep = make_inquiry(rep)
    registered_by_inside = make_inquiry(inside)
    assert api_as("outsider").get("/api/inquiries").json()["count"] == 0
    rep_ids = [i["id"] for i in api_as("rep").get("/api/inquiries").json()["items"]]
    assert rep_ids == [received_by_rep.pk]
    all_ids = {
        i["id"] for i in api_as("director").get("/api/inquiries").json()["items"]
    }
    assert all_ids == {received_by_rep.pk, registered_by_inside.pk}


# --- GET /api/inquiries/{id} ----------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("inside", 200),
        ("director", 200),
        ("admin", 200),
        ("marketer", 200),
        ("rep", 200),  # received it
        ("outsider", 404),
        ("colleague", 404),
    ],
)
def test_who_may_read_an_inquiry(api_as, rep, persona, status):
    inquiry = make_inquiry(rep)
    response = api_as(persona).get(f"/api/inquiries/{inquiry.pk}")
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unknown_inquiry_is_404(api_as):
    assert error(api_as("inside").get("/api/inquiries/999999")) == (404, "not_found")


# --- PATCH /api/inquiries/{id} --------------------------------------------------------


def test_patch_corrects_an_open_inquiry(api_as, inside):
    inquiry = make_inquiry(inside)
    response = api_as("inside").patch(
        f"/api/inquiries/{inquiry.pk}",
        {"version": 1, "summary": "Chairs and desks", "channel": "email"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["summary"] == "Chairs and desks"
    assert response.json()["channel"] == "email"
    assert response.json()["version"] == 2


def test_patch_with_a_stale_version_is_409(api_as, inside):
    inquiry = make_inquiry(inside)
    api_as("director").patch(
        f"/api/inquiries/{inquiry.pk}", {"version": 1, "summary": "A"}
    )
    response = api_as("inside").patch(
        f"/api/inquiries/{inquiry.pk}", {"version": 1, "summary": "B"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The record was changed by someone else. Reload and try again.",
        "code": "stale_version",
    }
    assert Inquiry.objects.get(pk=inquiry.pk).summary == "A"


def test_patch_of_a_closed_inquiry_is_409(api_as, inside):
    inquiry = make_inquiry(inside)
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="spam")
    response = api_as("inside").patch(
        f"/api/inquiries/{inquiry.pk}", {"version": 2, "summary": "B"}
    )
    assert error(response) == (409, "inquiry_closed")


@pytest.mark.parametrize(("persona", "status"), [("rep", 403), ("outsider", 404)])
def test_patch_needs_the_triage_role(api_as, rep, persona, status):
    inquiry = make_inquiry(rep)
    response = api_as(persona).patch(
        f"/api/inquiries/{inquiry.pk}", {"version": 1, "summary": "B"}
    )
    assert response.status_code == status


@pytest.mark.parametrize("field", ["referrer", "prompted"])
def test_patch_with_null_for_a_required_field_is_a_validation_error(
    api_as, inside, field
):
    inquiry = make_inquiry(inside)
    response = api_as("inside").patch(
        f"/api/inquiries/{inquiry.pk}", {"version": 1, field: None}
    )
    assert response.status_code in (200, 422)


# --- POST /api/inquiries/{id}/assign ---------------------------------------------------


def test_assign_and_unassign(api_as, inside):
    inquiry = make_inquiry(inside)
    api = api_as("director")
    response = api.post(f"/api/inquiries/{inquiry.pk}/assign", {"assignee": "inside"})
    assert response.status_code == 200
    assert response.json()["assignee"] == "inside"
    response = api.post(f"/api/inquiries/{inquiry.pk}/assign", {"assignee": None})
    assert response.json()["assignee"] is None


@pytest.mark.parametrize(
    ("assignee", "code"), [("rep", "assignee_not_allowed"), ("ghost", "unknown_user")]
)
def test_assign_to_someone_who_cannot_assess_is_422(api_as, inside, assignee, code):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(
        f"/api/inquiries/{inquiry.pk}/assign", {"assignee": assignee}
    )
    assert error(response) == (422, code)


def test_colleagues_cannot_assign(api_as, colleague):
    inquiry = make_inquiry(colleague)
    response = api_as("colleague").post(
        f"/api/inquiries/{inquiry.pk}/assign", {"assignee": "inside"}
    )
    assert error(response) == (403, "forbidden")


# --- POST /api/inquiries/{id}/close ---------------------------------------------------


def test_close_qualified_creates_the_lead_and_answers_its_id(api_as, inside, rep):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(
        f"/api/inquiries/{inquiry.pk}/close",
        {
            "outcome": "qualified",
            "owner": "rep",
            "reason": "budget",
            "expected_value": "5000",
        },
    )
    assert response.status_code == 200, response.content
    opportunity = Opportunity.objects.get()
    assert response.json() == {
        "id": inquiry.pk,
        "status": "closed",
        "outcome": "qualified",
        "opportunity_id": opportunity.pk,
        "marketing_lists": [],
    }
    assert opportunity.owner == rep
    assert str(opportunity.expected_value) == "5000.00"
    assert Notification.objects.filter(recipient=rep).count() == 1
    detail = api_as("inside").get(f"/api/inquiries/{inquiry.pk}").json()
    assert detail["status"] == "closed"
    assert detail["opportunity_id"] == opportunity.pk
    assert detail["closed_by"] == "inside"
    assert detail["reason"] == "budget"


def test_close_nurture_puts_the_requester_on_the_lists(api_as, inside):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(
        f"/api/inquiries/{inquiry.pk}/close",
        {"outcome": "nurture", "marketing_lists": ["Newsletter", "Workshops 2027"]},
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "nurture"
    assert response.json()["opportunity_id"] is None
    assert response.json()["marketing_lists"] == ["Newsletter", "Workshops 2027"]
    assert list_names_for(inquiry.contact) == ["Newsletter", "Workshops 2027"]


def test_close_nurture_without_lists_uses_the_default_list(api_as, inside):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(
        f"/api/inquiries/{inquiry.pk}/close", {"outcome": "nurture"}
    )
    assert response.json()["marketing_lists"] == ["Nurture"]


def test_close_archived_with_a_reason(api_as, inside):
    inquiry = make_inquiry(inside)
    response = api_as("director").post(
        f"/api/inquiries/{inquiry.pk}/close", {"outcome": "archived", "reason": "spam"}
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "archived"
    row = InquiryTransition.objects.get(inquiry=inquiry, to_state="closed")
    assert row.reason == "spam"
    assert row.actor.username == "director"


@pytest.mark.parametrize(
    "body", [{"outcome": "archived"}, {"outcome": "archived", "reason": " "}]
)
def test_close_archived_without_a_reason_is_422(api_as, inside, body):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(f"/api/inquiries/{inquiry.pk}/close", body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Say why the inquiry is archived.",
        "code": "reason_required",
    }
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "won"},
        {"outcome": ""},
        {},
        {"outcome": "nurture", "marketing_lists": "Newsletter"},
        {"outcome": "nurture", "marketing_lists": [f"L{i}" for i in range(51)]},
        {"outcome": "qualified", "owner": "rep", "expected_value": "-1"},
        {"outcome": "qualified", "owner": "rep", "expected_value": "lots"},
        {"outcome": "archived", "reason": "x" * 5001},
    ],
)
def test_close_with_invalid_input_is_422(api_as, inside, body):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(f"/api/inquiries/{inquiry.pk}/close", body)
    assert error(response) == (422, "invalid_input")
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"outcome": "qualified", "owner": "marketer"}, "owner_not_allowed"),
        ({"outcome": "qualified", "owner": "ghost"}, "unknown_user"),
        ({"outcome": "nurture", "marketing_lists": ["x" * 101]}, "list_name_too_long"),
    ],
)
def test_close_refused_by_a_rule_is_422_with_its_code(api_as, inside, body, code):
    inquiry = make_inquiry(inside)
    response = api_as("inside").post(f"/api/inquiries/{inquiry.pk}/close", body)
    assert error(response) == (422, code)


def test_closing_a_closed_inquiry_is_409(api_as, inside):
    inquiry = make_inquiry(inside)
    api = api_as("inside")
    api.post(
        f"/api/inquiries/{inquiry.pk}/close", {"outcome": "archived", "reason": "spam"}
    )
    response = api.post(
        f"/api/inquiries/{inquiry.pk}/close", {"outcome": "qualified", "owner": "rep"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This inquiry is already closed and can never be changed or reopened. "
        "Register a new inquiry for a new question.",
        "code": "inquiry_closed",
    }
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("marketer", 403), ("colleague", 403), ("rep", 403), ("outsider", 404)],
)
def test_only_triage_roles_may_close(api_as, colleague, persona, status):
    # registered by the colleague and received by the rep: both can see it
    inquiry = make_inquiry(colleague, received_by="rep")
    response = api_as(persona).post(
        f"/api/inquiries/{inquiry.pk}/close", {"outcome": "archived", "reason": "x"}
    )
    assert response.status_code == status
    expected = "forbidden" if status == 403 else "not_found"
    assert response.json()["code"] == expected
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


@pytest.mark.parametrize("persona", ["inside", "director", "admin"])
def test_triage_roles_may_close(api_as, rep, persona):
    inquiry = make_inquiry(rep)
    response = api_as(persona).post(
        f"/api/inquiries/{inquiry.pk}/close", {"outcome": "archived", "reason": "x"}
    )
    assert response.status_code == 200
