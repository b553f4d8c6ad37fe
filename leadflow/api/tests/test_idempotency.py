"""Idempotency-Key on the API's POSTs: retries replay the first answer, never a duplicate."""

import hashlib
import json
import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from conftest import ApiClient
from leadflow.api import idempotency
from leadflow.api.models import IdempotentRequest
from leadflow.intake import actions as intake_actions
from leadflow.intake.models import Channel, Inquiry
from leadflow.workflows.scheduler import job_named

pytestmark = pytest.mark.django_db


def inquiry_body(**overrides) -> dict:
    body = {
        "contact": {"name": "Piet Janssens", "email": "piet@janssens.be"},
        "summary": "Quote for 20 office chairs",
        "channel": "phone",
    }
    body.update(overrides)
    return body


def post(client: ApiClient, path: str, body, key: str | None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.client.post(
        path, body, content_type="application/json", **client._auth(), **headers
    )


def replayed(response) -> bool:
    return response.get(idempotency.REPLAYED_HEADER) == "true"


# --- replay ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_first_answer_without_a_duplicate(
    api_as,
):
    client = api_as("inside")
    first = post(client, "/api/inquiries", inquiry_body(), "order-42")
    second = post(client, "/api/inquiries", inquiry_body(), "order-42")

    assert first.status_code == 201, first.content
    assert not replayed(first)
    assert second.status_code == 201
    assert replayed(second)
    assert second.json() == first.json()
    assert second["Content-Type"] == first["Content-Type"]
    assert Inquiry.objects.count() == 1
    row = IdempotentRequest.objects.get()
    assert (row.key, row.method, row.path, row.status) == (
        "order-42",
        "POST",
        "/api/inquiries",
        201,
    )
    assert len(row.fingerprint) == 64


def test_a_4xx_answer_is_stored_and_replayed(api_as):
    client = api_as("inside")
    body = inquiry_body(channel="carrier-pigeon")
    first = post(client, "/api/inquiries", body, "bad-1")
    second = post(client, "/api/inquiries", body, "bad-1")

    assert first.status_code == second.status_code
    assert 400 <= first.status_code < 500
    assert replayed(second)
    assert second.json() == first.json()
    assert IdempotentRequest.objects.get().status == first.status_code


def test_the_replay_does_not_run_the_view_again(api_as, monkeypatch):
    client = api_as("inside")
    assert post(client, "/api/inquiries", inquiry_body(), "k").status_code == 201
    calls = []
    monkeypatch.setattr(
        intake_actions, "register_inquiry", lambda *a, **kw: calls.append(a)
    )
    assert replayed(post(client, "/api/inquiries", inquiry_body(), "k"))
    assert calls == []


def test_the_same_key_with_another_body_answers_422(api_as):
    client = api_as("inside")
    post(client, "/api/inquiries", inquiry_body(), "k1")
    response = post(client, "/api/inquiries", inquiry_body(summary="Other"), "k1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different request" in response.json()["detail"]
    assert not replayed(response)
    assert Inquiry.objects.count() == 1


def test_the_same_key_on_another_path_answers_422(api_as):
    client = api_as("inside")
    post(client, "/api/inquiries", inquiry_body(), "k1")
    response = post(client, "/api/orders", inquiry_body(), "k1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_another_user_with_the_same_key_is_independent(api_as):
    inside = post(api_as("inside"), "/api/inquiries", inquiry_body(), "shared")
    rep = post(api_as("rep"), "/api/inquiries", inquiry_body(summary="X"), "shared")

    assert inside.status_code == rep.status_code == 201
    assert not replayed(rep)
    assert inside.json()["id"] != rep.json()["id"]
    assert Inquiry.objects.count() == 2
    assert IdempotentRequest.objects.count() == 2


def test_the_browser_session_is_keyed_to_its_user_too(inside):
    client = Client()
    client.force_login(inside)
    responses = [
        client.post(
            "/api/inquiries",
            inquiry_body(),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="form-1",
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [201, 201]
    assert replayed(responses[1])
    assert IdempotentRequest.objects.get().user == inside
    assert Inquiry.objects.count() == 1


# --- in progress, failures, expiry --------------------------------------------------------


def test_a_retry_while_the_first_call_runs_answers_409(api_as, inside):
    IdempotentRequest.objects.create(
        user=inside,
        key="k",
        method="POST",
        path="/api/inquiries",
        fingerprint=hashlib.sha256(b"{}").hexdigest(),
    )
    response = post(api_as("inside"), "/api/inquiries", {}, "k")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert response["Retry-After"] == "1"
    assert Inquiry.objects.count() == 0


def test_a_call_that_died_in_progress_lets_a_retry_take_the_key_over(api_as, inside):
    body = inquiry_body()
    client = api_as("inside")
    IdempotentRequest.objects.create(
        user=inside,
        key="k",
        method="POST",
        path="/api/inquiries",
        fingerprint=hashlib.sha256(json.dumps(body).encode()).hexdigest(),
        created_at=timezone.now() - timedelta(minutes=11),
    )
    response = post(client, "/api/inquiries", body, "k")

    assert response.status_code == 201, response.content
    assert not replayed(response)
    assert IdempotentRequest.objects.get().status == 201


def test_a_server_error_is_not_stored_so_the_client_may_retry(api_as, monkeypatch):
    client = api_as("inside")
    real = intake_actions.register_inquiry

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(intake_actions, "register_inquiry", broken)
    failed = post(client, "/api/inquiries", inquiry_body(), "k")
    assert failed.status_code == 500
    assert not IdempotentRequest.objects.exists()

    monkeypatch.setattr(intake_actions, "register_inquiry", real)
    retried = post(client, "/api/inquiries", inquiry_body(), "k")
    assert retried.status_code == 201
    assert not replayed(retried)
    assert Inquiry.objects.count() == 1


def test_an_expired_key_may_be_used_again(api_as, inside):
    IdempotentRequest.objects.create(
        user=inside,
        key="old",
        method="POST",
        path="/api/orders",
        fingerprint="0" * 64,
        status=201,
        response_body="{}",
        created_at=timezone.now() - timedelta(hours=25),
    )
    response = post(api_as("inside"), "/api/inquiries", inquiry_body(), "old")

    assert response.status_code == 201
    assert not replayed(response)
    assert IdempotentRequest.objects.get().path == "/api/inquiries"


def test_prune_deletes_keys_older_than_24_hours(inside):
    now = timezone.now()
    for hours in (25, 24, 23, 1):
        IdempotentRequest.objects.create(
            user=inside,
            key=f"k{hours}",
            method="POST",
            path="/api/inquiries",
            fingerprint="0" * 64,
            status=201,
            created_at=now - timedelta(hours=hours),
        )

    assert idempotency.prune(now=now) == 2
    assert sorted(IdempotentRequest.objects.values_list("key", flat=True)) == [
        "k1",
        "k23",
    ]
    assert idempotency.prune(now=now) == 0


def test_the_worker_prunes_keys_daily():
    job = job_named("prune_idempotency_keys")
    assert job.func == "leadflow.api.idempotency.prune"
    assert job.daily_at.strftime("%H:%M") == "03:30"


# --- what is left alone -------------------------------------------------------------------


def test_without_the_header_nothing_changes(api_as):
    client = api_as("inside")
    responses = [post(client, "/api/inquiries", inquiry_body(), None) for _ in "ab"]

    assert [r.status_code for r in responses] == [201, 201]
    assert not any(replayed(r) for r in responses)
    assert Inquiry.objects.count() == 2
    assert not IdempotentRequest.objects.exists()


def test_the_header_on_a_get_is_ignored(api_as):
    client = api_as("inside")
    responses = [
        client.client.get("/api/inquiries", HTTP_IDEMPOTENCY_KEY="k", **client._auth())
        for _ in "ab"
    ]
    assert [r.status_code for r in responses] == [200, 200]
    assert not any(replayed(r) for r in responses)
    assert not IdempotentRequest.objects.exists()


def test_an_unauthenticated_call_answers_401_as_before():
    response = post(ApiClient("lf_wrong"), "/api/inquiries", inquiry_body(), "k")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert not IdempotentRequest.objects.exists()


def test_the_token_endpoint_is_never_stored(inside):
    body = {"username": "inside", "password": "Correct-horse-battery-9"}
    response = post(ApiClient(), "/api/auth/token", body, "k")

    assert response.status_code == 200
    assert not IdempotentRequest.objects.exists()


@pytest.mark.parametrize("key", ["x" * 256, "", "tab\there", "caf\u00e9"])
def test_an_invalid_key_answers_422(api_as, key):
    response = post(api_as("inside"), "/api/inquiries", inquiry_body(), key)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert Inquiry.objects.count() == 0


def test_a_key_of_255_characters_is_accepted(api_as):
    response = post(api_as("inside"), "/api/inquiries", inquiry_body(), "x" * 255)
    assert response.status_code == 201


# --- concurrency (PostgreSQL) --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_inquiry(api_as, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    real = intake_actions.register_inquiry

    def slow(*args, **kwargs):
        time.sleep(0.5)  # the retry arrives while the first call still runs
        return real(*args, **kwargs)

    monkeypatch.setattr(intake_actions, "register_inquiry", slow)
    token = api_as("inside").token
    barrier = threading.Barrier(2)
    responses = []

    def call():
        try:
            barrier.wait()
            responses.append(
                post(ApiClient(token), "/api/inquiries", inquiry_body(), "race")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409]), statuses
    if statuses == [201, 201]:
        assert sum(replayed(r) for r in responses) == 1
    else:
        conflict = next(r for r in responses if r.status_code == 409)
        assert conflict.json()["code"] == "idempotency_request_in_progress"
    assert Inquiry.objects.count() == 1
    assert IdempotentRequest.objects.get().status == 201


# --- the HTML form (browser double submit) -----------------------------------------------


def _new_inquiry_form(client) -> dict:
    page = client.get("/inquiries/new/").content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)
    return {
        "submission_token": token,
        "name": "Piet Janssens",
        "email": "piet@janssens.be",
        "summary": "Quote for 20 office chairs",
        "channel": Channel.objects.get(code="phone").pk,
    }


def test_posting_the_new_inquiry_form_twice_registers_one_inquiry(inside):
    """Was a strict xfail: the form carries a one-time token (core.once)."""
    client = Client()
    client.force_login(inside)
    data = _new_inquiry_form(client)
    responses = [client.post("/inquiries/new/", data) for _ in range(2)]

    assert [r.status_code for r in responses] == [302, 302]
    assert Inquiry.objects.count() == 1
    inquiry = Inquiry.objects.get()
    # The second post lands on the inquiry the first one registered.
    assert responses[1]["Location"] == f"/inquiries/{inquiry.pk}/"
    follow = client.get(responses[1]["Location"])
    assert "already sent" in follow.content.decode()


def test_a_fresh_form_registers_again(inside):
    client = Client()
    client.force_login(inside)
    client.post("/inquiries/new/", _new_inquiry_form(client))
    client.post("/inquiries/new/", _new_inquiry_form(client))
    assert Inquiry.objects.count() == 2


def test_a_refused_post_frees_its_token(inside):
    """A validation error rolls the claim back: the corrected form goes through."""
    client = Client()
    client.force_login(inside)
    data = _new_inquiry_form(client)
    refused = client.post("/inquiries/new/", {**data, "summary": ""})
    assert refused.status_code == 200
    assert f'value="{data["submission_token"]}"' in refused.content.decode()
    assert client.post("/inquiries/new/", data).status_code == 302
    assert Inquiry.objects.count() == 1


def test_the_same_token_of_another_user_is_not_a_duplicate(inside, rep):
    for user in (inside, rep):
        client = Client()
        client.force_login(user)
        data = {**_new_inquiry_form(client), "submission_token": "same-token"}
        assert client.post("/inquiries/new/", data).status_code == 302
    assert Inquiry.objects.count() == 2


def test_the_admin_lists_the_keys_read_only(admin, inside):
    row = IdempotentRequest.objects.create(
        user=inside,
        key="k",
        method="POST",
        path="/api/inquiries",
        fingerprint="0" * 64,
        status=201,
    )
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/api/idempotentrequest/")
    detail = client.get(f"/admin/api/idempotentrequest/{row.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert b"/api/inquiries" in listing.content
    assert client.get("/admin/api/idempotentrequest/add/").status_code == 403


def _detail_token(client, opportunity_id: int) -> str:
    page = client.get(f"/opportunities/{opportunity_id}/").content.decode()
    return re.search(r'name="submission_token" value="([^"]+)"', page).group(1)


def test_the_activity_form_posted_twice_adds_one_activity(rep):
    from leadflow.opportunities.models import Activity
    from leadflow.opportunities.tests.pipeline_factories import make_lead

    lead = make_lead(rep, owner=rep)
    client = Client()
    client.force_login(rep)
    token = _detail_token(client, lead.pk)
    data = {
        "submission_token": token,
        "kind": "call",
        "subject": "Call back",
        "assignee": rep.pk,
    }
    for _ in range(2):
        assert (
            client.post(f"/opportunities/{lead.pk}/activities/", data).status_code
            == 302
        )
    assert Activity.objects.filter(opportunity=lead).count() == 1
    # Another post of that rendering adds nothing, whatever it says; a fresh
    # rendering of the page adds the next activity.
    other = {**data, "subject": "Second call"}
    client.post(f"/opportunities/{lead.pk}/activities/", other)
    assert Activity.objects.filter(opportunity=lead).count() == 1
    fresh = {**other, "submission_token": _detail_token(client, lead.pk)}
    client.post(f"/opportunities/{lead.pk}/activities/", fresh)
    assert Activity.objects.filter(opportunity=lead).count() == 2
