"""API tokens: random, stored as SHA-256, with expiry and revocation."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from leadflow.accounts.models import ApiToken, User
from leadflow.audit.actions import record_event

PREFIX = "lf_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(
    user: User, *, actor: User | None, name: str = "", days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear text (shown once, never stored)."""
    key = PREFIX + secrets.token_urlsafe(32)
    lifetime = settings.LEADFLOW_API_TOKEN_DAYS if days is None else days
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:10],
        key_hash=_hash(key),
        expires_at=timezone.now() + timedelta(days=lifetime) if lifetime else None,
    )
    record_event(
        actor=actor,
        subject=user,
        event_type="api_token.issued",
        new={"token": token.prefix, "name": name},
    )
    return token, key


def user_for_token(key: str) -> User | None:
    """The active user owning a valid, unexpired, unrevoked token, else None."""
    if not key or not key.startswith(PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(token: ApiToken, *, actor: User | None) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record_event(
        actor=actor,
        subject=token.user,
        event_type="api_token.revoked",
        old={"token": token.prefix},
    )
