"""Hostile JSON bodies (issue 7): always a 4xx JSON {detail, code}, never a 500,
and nothing written to the database."""

import json

import pytest

from leadflow.intake.models import Inquiry

pytestmark = pytest.mark.django_db

VALID = {"contact": {"name": "Piet Janssens"}, "summary": "Chairs", "channel": "phone"}
PATHS = ["/api/inquiries", "/api/intake/lookup", "/api/orders"]


def refused(response, status=None, code=None) -> dict:
    """Assert a 4xx JSON error with {detail, code}; return the body."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    if status is not None:
        assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "detail" in body and "code" in body, body
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def inquiries_unchanged():
    before = Inquiry.objects.count()
    yield
    assert Inquiry.objects.count() == before


def nested(depth: int, inner: str = "1") -> str:
    return '{"summary": ' + "[" * depth + inner + "]" * depth + "}"


# --- size ----------------------------------------------------------------------------


def test_a_3_mb_body_is_refused_as_too_large(api_as, inquiries_unchanged):
    raw = json.dumps({**VALID, "summary": "x" * 3_000_000})
    refused(api_as("inside").post("/api/inquiries", raw=raw), code="too_large")


def test_a_body_announcing_a_huge_length_is_refused_before_reading(
    api_as, inquiries_unchanged
):
    api = api_as("inside")
    response = api.client.post(
        "/api/inquiries",
        json.dumps(VALID),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
        CONTENT_LENGTH="50000000",
    )
    refused(response, code="too_large")


def test_a_body_just_under_the_limit_is_parsed_normally(api_as, inquiries_unchanged):
    # 2 MB of whitespace around a small object: within the limit, so it reaches the
    # schema (the summary is too long -> 422 invalid_input, not too_large).
    raw = json.dumps({**VALID, "summary": "x" * 20_000}) + " " * 2_000_000
    refused(api_as("inside").post("/api/inquiries", raw=raw), 422, "invalid_input")


# --- nesting ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
@pytest.mark.parametrize("path", PATHS)
def test_deeply_nested_arrays_are_refused(api_as, path, depth, inquiries_unchanged):
    refused(api_as("inside").post(path, raw=nested(depth)), code="too_deep")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_objects_are_refused(api_as, depth, inquiries_unchanged):
    raw = '{"a":' * depth + "1" + "}" * depth
    refused(api_as("inside").post("/api/inquiries", raw=raw), code="too_deep")


def test_unbalanced_deep_opening_brackets_are_refused(api_as, inquiries_unchanged):
    refused(api_as("inside").post("/api/inquiries", raw="[" * 100_000), code="too_deep")


def test_brackets_inside_strings_do_not_count_as_nesting(api_as):
    # 400 brackets, escaped quotes and backslashes inside strings are text, not depth.
    summary = "[[[[{{{{" * 50 + '"[[[[' * 20 + "\\" + "NaN Infinity"
    response = api_as("inside").post("/api/inquiries", {**VALID, "summary": summary})
    assert response.status_code == 201, response.content
    assert response.json()["summary"] == summary


def test_nesting_up_to_the_limit_reaches_the_schema(api_as, inquiries_unchanged):
    from leadflow.api.middleware import MAX_DEPTH

    response = api_as("inside").post("/api/inquiries", raw=nested(MAX_DEPTH - 1))
    refused(response, 422, "invalid_input")
    response = api_as("inside").post("/api/inquiries", raw=nested(MAX_DEPTH))
    refused(response, 400, "too_deep")


def test_an_unterminated_string_full_of_escapes_is_answered_quickly(
    api_as, inquiries_unchanged
):
    import time

    raw = '{"summary": "' + '\\"' * 700_000
    started = time.monotonic()
    refused(api_as("inside").post("/api/inquiries", raw=raw), 400)
    assert time.monotonic() - started < 5


def test_ordinary_nesting_is_accepted(api_as):
    body = {**VALID, "contact": {"name": "Piet", "company": {"name": "Janssens NV"}}}
    response = api_as("inside").post("/api/inquiries", body)
    assert response.status_code == 201, response.content


# --- many keys, duplicates ----------------------------------------------------------


def test_a_huge_number_of_keys_is_refused(api_as, inquiries_unchanged):
    extra = {f"k{i}": i for i in range(120_000)}
    raw = json.dumps({**VALID, **extra})
    assert len(raw) < 2_500_000
    refused(api_as("inside").post("/api/inquiries", raw=raw), 422, "too_many_keys")


def test_an_object_just_under_the_key_limit_is_parsed(api_as):
    raw = json.dumps({**VALID, **{f"k{i}": i for i in range(990)}})
    response = api_as("inside").post("/api/inquiries", raw=raw)
    assert response.status_code == 201, response.content  # unknown keys are ignored


def test_duplicate_keys_are_refused(api_as, inquiries_unchanged):
    raw = (
        '{"contact": {"name": "Piet"}, "summary": "first", "summary": "second", '
        '"channel": "phone"}'
    )
    refused(api_as("inside").post("/api/inquiries", raw=raw), 422, "duplicate_key")


def test_duplicate_keys_in_a_nested_object_are_refused(api_as, inquiries_unchanged):
    raw = '{"contact": {"name": "Piet", "name": "Jan"}, "summary": "x", "channel": "phone"}'
    refused(api_as("inside").post("/api/inquiries", raw=raw), 422, "duplicate_key")


# --- encoding and content type ------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"summary": "\xff\xfe", "channel": "phone"}',
        b'{"summary": "caf\xe9", "channel": "phone"}',
        b'{"summary": "\xed\xa0\x80", "channel": "phone"}',  # encoded surrogate
        b"\xc0\xaf",
    ],
)
@pytest.mark.parametrize("path", PATHS)
def test_invalid_utf8_is_400(api_as, path, raw, inquiries_unchanged):
    refused(api_as("inside").post(path, raw=raw), 400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded"],
)
def test_a_wrong_content_type_is_a_client_error(
    api_as, content_type, inquiries_unchanged
):
    api = api_as("inside")
    response = api.client.post(
        "/api/inquiries",
        json.dumps(VALID),
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    refused(response, 400, "unsupported_media_type")


def test_a_json_content_type_with_charset_is_accepted(api_as):
    api = api_as("inside")
    response = api.client.post(
        "/api/inquiries",
        json.dumps(VALID),
        content_type="application/json; charset=utf-8",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code == 201, response.content


def test_a_bodyless_post_with_another_content_type_reaches_the_view(api_as):
    api = api_as("inside")
    response = api.client.post(
        "/api/inquiries", b"", content_type="text/plain", **api._auth()
    )
    refused(response, 422, "invalid_input")  # body missing, as with any empty body


def test_a_multipart_body_is_a_client_error(api_as, inquiries_unchanged):
    api = api_as("inside")
    response = api.client.post(
        "/api/inquiries", {"summary": "x"}, HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    refused(response)


# --- numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [5_000, 10_000, 1_000_000])
def test_a_number_with_very_many_digits_is_refused(api_as, digits, inquiries_unchanged):
    raw = '{"summary": "x", "channel": "phone", "contact_id": ' + "9" * digits + "}"
    refused(api_as("inside").post("/api/inquiries", raw=raw))


@pytest.mark.parametrize(
    "number", ["99999999999999999999", "9223372036854775808", "-9223372036854775809"]
)
@pytest.mark.parametrize("field", ["contact_id", "received_by", "department"])
def test_integers_beyond_64_bits_are_422(api_as, field, number, inquiries_unchanged):
    # Left to the schema (invalid_input) or the lookup (not_found); never a 500.
    raw = '{"summary": "x", "channel": "phone", "' + field + '": ' + number + "}"
    response = api_as("inside").post("/api/inquiries", raw=raw)
    refused(response)
    assert response.status_code in (404, 422)


def test_an_integer_of_more_than_100_digits_is_refused_before_parsing(
    api_as, inquiries_unchanged
):
    raw = '{"summary": "x", "channel": "phone", "contact_id": ' + "9" * 101 + "}"
    refused(api_as("inside").post("/api/inquiries", raw=raw), 422, "invalid_number")


def test_the_largest_64_bit_id_is_an_ordinary_not_found(api_as, inquiries_unchanged):
    raw = '{"summary": "x", "channel": "phone", "contact_id": 9223372036854775807}'
    response = api_as("inside").post("/api/inquiries", raw=raw)
    assert response.status_code in (404, 422), response.content


def test_a_huge_company_size_is_refused(api_as, inquiries_unchanged):
    raw = (
        '{"contact": {"name": "Piet", "company": {"name": "X", "size": '
        + "9" * 10_000
        + '}}, "summary": "x", "channel": "phone"}'
    )
    refused(api_as("inside").post("/api/inquiries", raw=raw))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(api_as, literal, inquiries_unchanged):
    raw = (
        '{"contact": {"name": "Piet", "company": {"name": "X", "size": '
        + literal
        + '}}, "summary": "x", "channel": "phone"}'
    )
    refused(api_as("inside").post("/api/inquiries", raw=raw), 422, "invalid_number")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400", "-1e400"])
def test_nan_as_an_amount_on_an_order_is_refused(api_as, literal, personas):
    from leadflow.intake.models import Order

    before = Order.objects.count()
    raw = '{"description": "x", "amount": ' + literal + "}"
    refused(api_as("inside").post("/api/orders", raw=raw), 422, "invalid_number")
    assert Order.objects.count() == before


def test_nan_inside_a_string_is_ordinary_text(api_as):
    response = api_as("inside").post(
        "/api/inquiries", {**VALID, "summary": "NaN Infinity -Infinity"}
    )
    assert response.status_code == 201


# --- existing behaviour kept ---------------------------------------------------------


def test_nul_is_still_refused(api_as, inquiries_unchanged):
    response = api_as("inside").post("/api/inquiries", {**VALID, "summary": "a\x00"})
    refused(response, 422, "invalid_characters")


def test_a_wrong_method_still_answers_json_405(api_as):
    api = api_as("inside")
    response = api.client.delete(
        "/api/inquiries", HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    refused(response, 405, "method_not_allowed")
