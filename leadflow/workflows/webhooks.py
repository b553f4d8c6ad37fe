"""Webhooks: a signed JSON POST per event, retried with back-off, every attempt logged.

Delivery is at least once: a receiver deduplicates on ``X-Leadflow-Delivery``. The
signature is HMAC-SHA256 over ``<timestamp>.<body>`` with the webhook's secret, sent as
``X-Leadflow-Signature: sha256=<hex>`` with ``X-Leadflow-Timestamp`` (reject old ones
to stop replays). Redirects are not followed; any non-2xx answer is a failure.
"""

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadflow.workflows.models import DeliveryStatus, Webhook, WebhookDelivery
from leadflow.workflows.tasks import absolute

logger = logging.getLogger(__name__)

# Wait before attempt 2, 3, …; after the last one the delivery is marked failed.
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10
# While one worker posts, others leave the delivery alone for this long.
LEASE = timedelta(seconds=TIMEOUT_SECONDS * 3)
USER_AGENT = "Leadflow-Webhook/1"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does (used in our tests and documented for integrators)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload_for(event) -> dict:
    subject = event.subject
    return {
        "id": event.source,
        "type": event.type,
        "occurred_at": event.at.isoformat(),
        "subject": {
            "type": subject._meta.model_name,
            "id": subject.pk,
            "label": event.subject_label,
            "url": absolute(event.url),
        },
        "data": {
            "outcome": event.outcome or None,
            "detail": event.detail or None,
            "company_id": event.company_id,
            "company_size": event.company_size,
            "channel_id": event.channel_id,
            "campaign_id": event.campaign_id,
            "department_id": event.department_id,
            "value": str(event.value) if event.value is not None else None,
            "service_type": event.service_type or None,
            "owner_id": event.owner_id,
        },
    }


def active_webhooks() -> list[Webhook]:
    return list(Webhook.objects.filter(is_active=True))


def queue_deliveries(event, *, hooks: list[Webhook] | None = None) -> int:
    """One delivery per active webhook that wants the event (inside the outbox row's
    transaction); the first attempt runs right after the commit. ``hooks``: the
    active webhooks, when the caller read them once for a whole batch."""
    if hooks is None:
        hooks = active_webhooks()
    hooks = [h for h in hooks if h.wants(event.type)]
    if not hooks:
        return 0
    payload = payload_for(event)
    made = 0
    for hook in hooks:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    webhook=hook,
                    event_type=event.type,
                    source=event.source,
                    payload=payload,
                    next_attempt_at=timezone.now(),
                )
        except IntegrityError:
            continue  # queued by an earlier run
        made += 1
        transaction.on_commit(lambda pk=delivery.pk: _enqueue(pk))
    return made


def _enqueue(delivery_id: int, run_after: datetime | None = None) -> None:
    from leadflow.workflows.tasks import deliver_webhook

    if run_after is None:
        deliver_webhook.enqueue(delivery_id)
    elif deliver_webhook.get_backend().supports_defer:
        deliver_webhook.using(run_after=run_after).enqueue(delivery_id)
    # else: the retry sweep (every minute) picks it up.


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The whole exchange ran out of time: cut the connection (the blocked read in
    the worker then fails)."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST and return (HTTP status or None, error text or "").

    ``TIMEOUT_SECONDS`` bounds the whole exchange, not each read: a receiver that
    trickles its answer is cut off, so a worker never holds a delivery past its lease.
    Redirects are not followed (http.client never follows them)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # e.g. a port that is not a number
        return None, str(exc)[:300]
    if scheme not in ("http", "https") or not host:
        return None, f"not an http(s) URL: {url[:200]}"
    connection_class = (
        http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(host, port, timeout=TIMEOUT_SECONDS)
    expired = threading.Event()
    timer = threading.Timer(TIMEOUT_SECONDS, _abort, args=(connection, expired))
    timer.daemon = True
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        timer.start()
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # a little of the answer; receivers should be brief
        if expired.is_set():  # cut off mid-answer: what was read may look complete
            return None, f"timed out after {TIMEOUT_SECONDS} s"
        status = response.status
        return status, "" if 200 <= status < 300 else f"HTTP {status}"
    except (http.client.HTTPException, OSError, ValueError) as exc:
        if expired.is_set():
            return None, f"timed out after {TIMEOUT_SECONDS} s"
        return None, str(exc)[:300] or exc.__class__.__name__
    finally:
        timer.cancel()
        connection.close()


def attempt(delivery_id: int, *, now: datetime | None = None) -> str:
    """One attempt: claim, POST, record. Returns "delivered", "retry", "failed" or
    "skipped" (not due, done already, or another worker holds it). ``now`` decides
    what is due; the lease and the signed timestamp use the real time of the POST."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=max(now, timezone.now()) + LEASE)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = delivery.webhook
    number = delivery.attempts + 1
    if not hook.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error="webhook switched off",
        )
        return "failed"
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, sort_keys=True).encode()
    timestamp = int(timezone.now().timestamp())
    status, error = post(
        hook.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Leadflow-Event": delivery.event_type,
            "X-Leadflow-Delivery": str(delivery.pk),
            "X-Leadflow-Attempt": str(number),
            "X-Leadflow-Timestamp": str(timestamp),
            "X-Leadflow-Signature": sign(hook.secret, timestamp, body),
        },
    )
    finished = timezone.now()
    fields = {"attempts": number, "last_status_code": status, "last_error": error}
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=finished,
            next_attempt_at=None,
            **fields,
        )
        return "delivered"
    if number >= MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, **fields
        )
        logger.warning("webhook delivery %s failed for good: %s", delivery_id, error)
        return "failed"
    retry_at = finished + BACKOFF[number - 1]
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=retry_at, **fields
    )
    _enqueue(delivery_id, run_after=retry_at)
    return "retry"


def retry_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The sweep: attempt every pending delivery whose time has come (covers lost
    tasks and backends that cannot delay)."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if attempt(pk, now=now) != "skipped")


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """An admin sends a failed (or delivered) event again: a fresh series of attempts."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        delivered_at=None,
    )
    transaction.on_commit(lambda: _enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery
