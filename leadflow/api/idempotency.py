"""``Idempotency-Key`` on the API's POSTs: a retried call gets the first call's answer.

Like Stripe's: the key belongs to the authenticated user. The first POST with a key
runs and its status and body are stored (2xx and 4xx only); a retry with the same key,
path and body gets the stored answer with ``Idempotent-Replayed: true`` and the view
does not run again. The same key with another body or path answers 422
``idempotency_key_reused``; a retry while the first call still runs answers 409
``idempotency_request_in_progress``. A 5xx (or an exception) forgets the key so the
client may retry. Keys expire after 24 hours; the worker's daily job calls ``prune``.
Requests without the header, and other methods, pass through untouched.
"""

import hashlib
import logging
from datetime import datetime, timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.api.models import IdempotentRequest

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEPT = timedelta(hours=24)
# A row still in progress after this long belongs to a call that died (worker killed
# between the view and storing its answer); a retry may take the key over.
ABANDONED_AFTER = timedelta(minutes=10)
# Paths whose answers must never be stored: the token endpoint answers a secret that
# is otherwise only kept hashed.
EXCLUDED_PREFIXES = ("/api/auth/",)
# Transient refusals: the same call may well succeed later.
NOT_STORED = {408, 429}


def prune(*, now: datetime | None = None) -> int:
    """Delete idempotency keys older than 24 hours and page-form tokens older than a
    week (``core.once``); return how many."""
    from leadflow.core import once

    cutoff = (now or timezone.now()) - KEPT
    deleted, _by_model = IdempotentRequest.objects.filter(
        created_at__lte=cutoff
    ).delete()
    return deleted + once.prune(now=now)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _user_for(request):
    """The user the API will act for, found as ``leadflow.api.auth`` finds it: a valid
    bearer token first, else the browser session (only with a valid CSRF token)."""
    from ninja.utils import check_csrf

    from leadflow.accounts.tokens import user_for_token

    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        user = user_for_token(token)
        if user is not None:
            return user
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if "sessionid" not in request.COOKIES or check_csrf(request) is not None:
        return None  # the view refuses it as it does today
    return user


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= ch <= "~" for ch in key)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if (
            key is None
            or request.method != "POST"
            or not request.path.startswith("/api/")
            or request.path.startswith(EXCLUDED_PREFIXES)
        ):
            return self.get_response(request)
        user = _user_for(request)
        if user is None:
            return self.get_response(request)  # 401/403 from the API, as without a key
        if not _valid_key(key):
            return _error(
                422,
                "invalid_idempotency_key",
                _(
                    "The Idempotency-Key header must be 1 to %(max)d visible ASCII "
                    "characters."
                )
                % {"max": MAX_KEY_LENGTH},
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return self.get_response(request)  # refused as it is today
        fingerprint = hashlib.sha256(body).hexdigest()
        path = request.get_full_path()

        try:
            row, answer = self._claim(user, key, request.method, path, fingerprint)
        except OperationalError:
            logger.exception("database unavailable or busy")
            return _error(
                503,
                "database_busy",
                _("The database is busy or unavailable. Nothing was saved; try again."),
            )
        if answer is not None:
            return answer
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotentRequest.objects.filter(pk=row.pk).delete()
            raise
        self._finish(row, response)
        return response

    def _claim(self, user, key, method, path, fingerprint):
        """Take the key (insert the in-progress row, committed at once), or answer
        from the row another call wrote: ``(row, None)`` or ``(None, response)``."""
        for _attempt in range(3):
            now = timezone.now()
            try:
                with transaction.atomic():
                    row = IdempotentRequest.objects.create(
                        user_id=user.pk,
                        key=key,
                        method=method,
                        path=path,
                        fingerprint=fingerprint,
                        created_at=now,
                    )
                return row, None
            except IntegrityError:
                pass
            stored = IdempotentRequest.objects.filter(user_id=user.pk, key=key).first()
            if stored is None:
                continue  # the other call failed and let go of the key: try again
            if stored.created_at <= now - KEPT:
                # Expired but not pruned yet: the key is free again.
                IdempotentRequest.objects.filter(
                    pk=stored.pk, created_at=stored.created_at
                ).delete()
                continue
            if (stored.method, stored.path, stored.fingerprint) != (
                method,
                path,
                fingerprint,
            ):
                return None, _error(
                    422,
                    "idempotency_key_reused",
                    _(
                        "This Idempotency-Key was used for a different request; "
                        "use a new key for a new request."
                    ),
                )
            if stored.status is None:
                if stored.created_at <= now - ABANDONED_AFTER and (
                    IdempotentRequest.objects.filter(
                        pk=stored.pk,
                        status__isnull=True,
                        created_at=stored.created_at,
                    ).update(created_at=now)
                ):
                    stored.created_at = now
                    return stored, None
                response = _error(
                    409,
                    "idempotency_request_in_progress",
                    _(
                        "A request with this Idempotency-Key is still in progress; "
                        "retry in a moment."
                    ),
                )
                response["Retry-After"] = "1"
                return None, response
            return None, self._replay(stored)
        return None, _error(
            409,
            "idempotency_request_in_progress",
            _("A request with this Idempotency-Key is still in progress."),
        )

    @staticmethod
    def _replay(stored: IdempotentRequest) -> HttpResponse:
        response = HttpResponse(
            stored.response_body,
            status=stored.status,
            content_type=stored.content_type or "application/json",
        )
        response[REPLAYED_HEADER] = "true"
        return response

    @staticmethod
    def _finish(row: IdempotentRequest, response) -> None:
        status = response.status_code
        storable = (200 <= status < 300 or 400 <= status < 500) and (
            status not in NOT_STORED
        )
        if not storable or response.streaming:
            IdempotentRequest.objects.filter(pk=row.pk).delete()
            return
        charset = response.charset or "utf-8"
        try:
            IdempotentRequest.objects.filter(pk=row.pk).update(
                status=status,
                content_type=response.get("Content-Type", "")[:100],
                response_body=response.content.decode(charset, errors="replace"),
            )
        except DatabaseError:
            # The call itself succeeded; answer it. Retries see the key in progress
            # until ABANDONED_AFTER.
            logger.exception(
                "could not store the answer for idempotency key %s", row.pk
            )
