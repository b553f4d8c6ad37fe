"""Page forms that create something are processed once per rendering.

The form carries a random token (``{{ submission_token }}`` in a hidden field
``submission_token``, from :func:`token_for`); it is claimed together with the
address posted to, so one token serves every form of a page (each posts once). The view claims the token in the same
transaction that creates the record (:func:`claim`) and stores where the result lives
(:func:`done`). A second post of the same token — a double click, a retry after a
timeout — gets the first result's address back instead of a second record; if the
first post failed (a validation error rolled its transaction back) the token is free
again. A post without a token (an old tab, a script) is processed as before. The API
has the same guarantee with the ``Idempotency-Key`` header (``api.idempotency``).
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from leadflow.core.models import SubmittedForm

FIELD = "submission_token"
KEPT = timedelta(days=7)
MAX_LENGTH = 64


def token_for(request) -> str:
    """The token to render: the posted one while the same form is shown again (with
    its errors), else a new one."""
    posted = (request.POST.get(FIELD) or "").strip()
    if posted and len(posted) <= MAX_LENGTH:
        return posted
    return secrets.token_urlsafe(24)


def _key(request, token: str) -> str:
    return hashlib.sha256(f"{request.path}\n{token}".encode()).hexdigest()


def claim(request) -> str | None:
    """Inside the creating transaction: ``None`` when this rendering is posted for the
    first time (go on), else the first result's URL ("" while unknown)."""
    posted = (request.POST.get(FIELD) or "").strip()
    if not posted or len(posted) > MAX_LENGTH or not request.user.is_authenticated:
        return None
    token = _key(request, posted)
    try:
        with transaction.atomic():
            SubmittedForm.objects.create(user=request.user, token=token)
    except IntegrityError:
        earlier = SubmittedForm.objects.filter(user=request.user, token=token).first()
        return earlier.result_url if earlier else ""
    request._submitted_form_token = token
    return None


def done(request, url: str) -> None:
    """Record where the created record lives (same transaction as :func:`claim`)."""
    token = getattr(request, "_submitted_form_token", None)
    if token:
        SubmittedForm.objects.filter(user=request.user, token=token).update(
            result_url=url[:500]
        )


def prune(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - KEPT
    deleted, _by_model = SubmittedForm.objects.filter(created_at__lte=cutoff).delete()
    return deleted
