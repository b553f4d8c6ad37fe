"""POST /api/auth/token and bearer authentication of every other call."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD, ApiClient
from leadflow.accounts.models import ApiToken
from leadflow.accounts.tokens import issue_token, revoke_token

pytestmark = pytest.mark.django_db


def test_good_credentials_give_a_token_that_works(anonymous_api, rep):
    response = anonymous_api.post(
        "/api/auth/token", {"username": "rep", "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"].startswith("lf_")
    assert body["expires_at"]
    assert ApiToken.objects.filter(user=rep).count() == 1
    me = ApiClient(body["token"])
    assert me.get("/api/inquiries").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("rep", "wrong"), ("ghost", PASSWORD), ("REP", PASSWORD)]
)
def test_bad_credentials_are_refused_with_401(anonymous_api, rep, username, password):
    response = anonymous_api.post(
        "/api/auth/token", {"username": username, "password": password}
    )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Wrong username or password.",
        "code": "bad_credentials",
    }
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(anonymous_api, rep):
    rep.is_active = False
    rep.save()
    response = anonymous_api.post(
        "/api/auth/token", {"username": "rep", "password": PASSWORD}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "rep"}, {"username": "", "password": "x"}, {"username": 5}],
)
def test_incomplete_credentials_are_422(anonymous_api, rep, body):
    response = anonymous_api.post("/api/auth/token", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_five_failures_lock_the_account_out_with_429(anonymous_api, rep, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        response = anonymous_api.post(
            "/api/auth/token", {"username": "rep", "password": "wrong"}
        )
        assert response.status_code == 401
    locked = anonymous_api.post(
        "/api/auth/token", {"username": "rep", "password": "wrong"}
    )
    assert locked.status_code == 429
    # even the right password is refused while locked out
    right = anonymous_api.post(
        "/api/auth/token", {"username": "rep", "password": PASSWORD}
    )
    assert right.status_code == 429
    assert not ApiToken.objects.exists()


def test_a_lockout_of_one_user_does_not_lock_out_another(anonymous_api, rep, inside):
    for _ in range(5):
        anonymous_api.post("/api/auth/token", {"username": "rep", "password": "wrong"})
    response = anonymous_api.post(
        "/api/auth/token", {"username": "inside", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_the_lockout_answer_is_json_with_a_code(anonymous_api, rep):
    for _ in range(5):
        response = anonymous_api.post(
            "/api/auth/token", {"username": "rep", "password": "wrong"}
        )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "detail": "Too many failed attempts. Try again later.",
        "code": "locked_out",
    }


def test_a_successful_login_resets_the_failure_count(anonymous_api, rep):
    for _ in range(4):
        anonymous_api.post("/api/auth/token", {"username": "rep", "password": "wrong"})
    ok = anonymous_api.post(
        "/api/auth/token", {"username": "rep", "password": PASSWORD}
    )
    assert ok.status_code == 200
    again = anonymous_api.post(
        "/api/auth/token", {"username": "rep", "password": "wrong"}
    )
    assert again.status_code == 401


UNAUTHENTICATED = {
    "detail": "Send a valid token: Authorization: Bearer <token>.",
    "code": "unauthenticated",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/inquiries"),
        ("post", "/api/inquiries"),
        ("get", "/api/inquiries/1"),
        ("post", "/api/inquiries/1/close"),
        ("post", "/api/intake/lookup"),
        ("post", "/api/orders"),
        ("get", "/api/contacts/1"),
        ("patch", "/api/contacts/1"),
        ("get", "/api/opportunities/1"),
        ("get", "/api/notifications"),
    ],
)
def test_calls_without_a_token_are_401(anonymous_api, method, path):
    response = getattr(anonymous_api, method)(path)
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_an_expired_token_is_401(rep):
    token, key = issue_token(rep, actor=None)
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(1)
    )
    response = ApiClient(key).get("/api/inquiries")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_401(rep):
    token, key = issue_token(rep, actor=None)
    revoke_token(token, actor=None)
    assert ApiClient(key).get("/api/inquiries").status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Token lf_x", "Basic cmVwOng="]
)
def test_a_malformed_authorization_header_is_401(rep, header):
    client = ApiClient(None)
    response = client.client.get("/api/inquiries", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
