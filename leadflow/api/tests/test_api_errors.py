"""Every API error is a 4xx JSON {detail, code}; bad input never causes a 500."""

import json

import pytest
from django.db import IntegrityError, OperationalError, connection

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"
VALID = {"contact": {"name": "Piet Janssens"}, "summary": "Chairs", "channel": "phone"}


def is_json_error(response) -> bool:
    body = response.json()
    return response["Content-Type"].startswith("application/json") and "detail" in body


@pytest.mark.parametrize(
    "raw", ["{not json", '{"summary": "x",}', "{'summary': 'x'}", b"\xff\xfe\x00"]
)
@pytest.mark.parametrize(
    "path", ["/api/inquiries", "/api/intake/lookup", "/api/orders"]
)
def test_malformed_json_is_400_with_detail(api_as, path, raw):
    response = api_as("inside").post(path, raw=raw)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Cannot parse request body",
        "code": "http_error",
    }


@pytest.mark.parametrize("raw", ["[]", '"text"', "5", "null", "true", "{}"])
def test_a_body_that_is_not_the_expected_object_is_422(api_as, raw):
    response = api_as("inside").post("/api/inquiries", raw=raw)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert isinstance(response.json()["detail"], list)


def test_validation_errors_say_where_and_what(api_as):
    response = api_as("inside").post("/api/inquiries", {**VALID, "prompted": "maybe"})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "payload", "prompted"]
    assert problem["type"] == "bool_parsing"


def test_form_encoded_bodies_are_refused_as_unparseable(api_as):
    api = api_as("inside")
    response = api.client.post(
        "/api/inquiries", {"summary": "x"}, HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert response.status_code == 400
    assert is_json_error(response)


@pytest.mark.parametrize("size", [10_001, 100_000, 1_000_000])
def test_huge_strings_are_rejected_with_422(api_as, size):
    response = api_as("inside").post("/api/inquiries", {**VALID, "summary": "x" * size})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_a_body_over_the_upload_limit_answers_json(api_as):
    raw = json.dumps({**VALID, "summary": "x" * 3_000_000})
    response = api_as("inside").post("/api/inquiries", raw=raw)
    assert 400 <= response.status_code < 500
    assert is_json_error(response)


def test_a_body_over_the_upload_limit_is_a_client_error(api_as):
    raw = json.dumps({**VALID, "summary": "x" * 3_000_000})
    response = api_as("inside").post("/api/inquiries", raw=raw)
    assert response.status_code == 400


def test_lone_surrogates_in_strings_are_422(api_as):
    raw = '{"contact": {"name": "\\ud800"}, "summary": "\\ud800", "channel": "phone"}'
    response = api_as("inside").post("/api/inquiries", raw=raw)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {**VALID, "summary": "Chairs\x00"},
        {**VALID, "contact": {"name": "Piet\x00"}},
        {**VALID, "channel": "ph\x00one"},
    ],
    ids=["summary", "name", "channel"],
)
def test_a_nul_character_in_a_registration_is_not_a_server_error(api_as, body):
    response = api_as("inside").post("/api/inquiries", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_characters"


def test_a_nul_character_in_a_lookup_is_not_a_server_error(api_as):
    response = api_as("inside").post("/api/intake/lookup", {"email": "pi\x00et@x.be"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_characters"


@pytest.mark.parametrize(
    "path",
    ["/api/inquiries/99999999999999999999999", "/api/contacts/99999999999999999999"],
)
def test_ids_out_of_range_are_404(api_as, path):
    response = api_as("inside").get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_non_numeric_id_is_a_client_error(api_as):
    response = api_as("inside").get("/api/inquiries/abc")
    assert response.status_code in (404, 422)
    assert is_json_error(response)


def test_an_unknown_api_path_answers_json_404(api_as):
    response = api_as("inside").get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such API path.", "code": "not_found"}


def test_a_wrong_method_is_405(api_as):
    api = api_as("inside")
    response = api.client.delete(
        "/api/inquiries", HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert response.status_code == 405


def test_a_busy_database_answers_503_with_a_code(api_as, monkeypatch):
    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("leadflow.intake.api.triage_queue", busy)
    response = api_as("inside").get("/api/inquiries")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The database is busy or unavailable. Nothing was saved; try again.",
        "code": "database_busy",
    }


def test_a_write_refused_by_the_database_answers_409(api_as, monkeypatch):
    def refused(*args, **kwargs):
        raise IntegrityError("leadflow: closed inquiries are immutable")

    monkeypatch.setattr("leadflow.intake.actions.register_inquiry", refused)
    response = api_as("inside").post("/api/inquiries", VALID)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The change conflicts with stored data and was not saved.",
        "code": "conflict",
    }


def test_the_openapi_document_lists_the_contract_paths(anonymous_api):
    response = anonymous_api.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/auth/token",
        "/api/inquiries",
        "/api/inquiries/{inquiry_id}/close",
        "/api/intake/lookup",
        "/api/orders",
        "/api/contacts/{contact_id}",
        "/api/opportunities/{opportunity_id}",
    ):
        assert path in paths, path
    assert "post" in paths["/api/inquiries"] and "get" in paths["/api/inquiries"]


def test_the_api_docs_page_is_served_without_a_cdn(anonymous_api):
    response = anonymous_api.get("/api/docs")
    assert response.status_code == 200
    assert b"cdn." not in response.content
