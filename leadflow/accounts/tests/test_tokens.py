"""API tokens: only a hash is stored; they expire and can be revoked."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from leadflow.accounts.models import ApiToken
from leadflow.accounts.tokens import issue_token, revoke_token, user_for_token
from leadflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_clear_key_is_never_stored(rep):
    token, key = issue_token(rep, actor=rep, name="laptop")
    assert key.startswith("lf_")
    assert len(key) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in {str(v) for v in stored.values()}
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert stored["prefix"] == key[:10]


def test_a_valid_token_identifies_its_user_and_records_use(rep):
    token, key = issue_token(rep, actor=rep)
    assert user_for_token(key) == rep
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_tokens_are_unique(rep):
    keys = {issue_token(rep, actor=None)[1] for _ in range(5)}
    assert len(keys) == 5


def test_issuing_a_token_is_audited_without_the_key(rep, admin):
    token, key = issue_token(rep, actor=admin, name="ci")
    event = AuditEvent.objects.get(event_type="api_token.issued")
    assert event.actor == admin
    assert (event.subject_type, event.subject_id) == ("accounts.user", rep.pk)
    assert event.new == {"token": token.prefix, "name": "ci"}
    assert key not in str(event.new)


def test_tokens_expire_after_the_configured_days(rep, settings):
    settings.LEADFLOW_API_TOKEN_DAYS = 30
    token, key = issue_token(rep, actor=None)
    assert token.expires_at - timezone.now() > timedelta(days=29, hours=23)
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert user_for_token(key) is None


def test_zero_days_means_no_expiry(rep):
    token, key = issue_token(rep, actor=None, days=0)
    assert token.expires_at is None
    assert user_for_token(key) == rep


def test_a_revoked_token_no_longer_works_and_revocation_is_audited(rep, admin):
    token, key = issue_token(rep, actor=None)
    revoke_token(token, actor=admin)
    assert user_for_token(key) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(event_type="api_token.revoked")
    assert event.actor == admin
    assert event.old == {"token": token.prefix}


def test_a_token_of_a_deactivated_user_no_longer_works(rep):
    _token, key = issue_token(rep, actor=None)
    rep.is_active = False
    rep.save()
    assert user_for_token(key) is None


@pytest.mark.parametrize("key", ["", "lf_", "lf_unknown", "not-a-token", "x" * 500])
def test_unknown_or_malformed_keys_identify_nobody(rep, key):
    issue_token(rep, actor=None)
    assert user_for_token(key) is None


def test_create_api_token_command_prints_the_key_once(rep, capsys):
    call_command("create_api_token", "rep", "--name", "cli", "--days", "7")
    key = capsys.readouterr().out.strip()
    assert user_for_token(key) == rep
    token = ApiToken.objects.get(user=rep)
    assert token.name == "cli"
    assert token.expires_at - timezone.now() < timedelta(days=7, minutes=1)
