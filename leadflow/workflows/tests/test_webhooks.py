"""Webhooks against a real HTTP receiver on 127.0.0.1: signed JSON, back-off, the log.

The receiver (stdlib ``http.server`` in a thread, random port) records every request
and answers as the test scripts it. Signatures are checked here with ``hmac`` and
``hashlib`` directly, as an integrator would, not with the module's ``verify``.
Expected delays and counts are the requirement's (1 min, 5 min, 30 min, 2 h, 12 h;
six attempts), written out by hand.
"""

import hashlib
import hmac
import importlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone

from leadflow.contacts.actions import ContactData
from leadflow.intake.actions import InquiryInput, close_inquiry, register_inquiry
from leadflow.intake.models import Channel, Inquiry, InquiryTransition
from leadflow.opportunities.models import Opportunity, OpportunityTransition
from leadflow.workflows import webhooks
from leadflow.workflows.models import DeliveryStatus, Webhook, WebhookDelivery
from leadflow.workflows.outbox import process_outbox

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-receiver"
BASE_URL = "https://crm.example.be"
# The back-off of the requirement: wait before attempt 2, 3, 4, 5, 6.
DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
]
ATTEMPTS = 6  # the first one and five retries


# --- the receiver -----------------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (the test's teardown cuts it short)
    raw: bytes | None = None  # not HTTP at all: these bytes, then hang up
    trickle: float = 0.0  # seconds spent sending the headers, a line at a time


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = receiver.record(
            Received(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
        )
        if answer.delay:
            receiver.release.wait(answer.delay)
        self.close_connection = True
        if answer.raw is not None:
            self.wfile.write(answer.raw)
            return
        if answer.trickle:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            deadline = time.monotonic() + answer.trickle
            while time.monotonic() < deadline and not receiver.release.is_set():
                self.wfile.write(b"X-Still-Thinking: yes\r\n")
                self.wfile.flush()
                receiver.release.wait(0.2)
            self.wfile.write(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value.replace("{base}", receiver.base))
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"ok")

    do_POST = _handle
    do_GET = _handle

    def log_message(self, format, *args):  # keep the test output quiet
        pass


class Receiver:
    """A webhook endpoint: records each request and answers from a script (the last
    answer repeats)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[Answer] = [Answer(200)]
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.receiver = self  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/hook"
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def script(self, *answers: Answer | int) -> None:
        self.answers = [a if isinstance(a, Answer) else Answer(a) for a in answers]

    def record(self, request: Received) -> Answer:
        with self._lock:
            self.requests.append(request)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    @property
    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def closed_port_url() -> str:
    """An address where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What the receiver computes: HMAC-SHA256 over ``<timestamp>.<body>``."""
    digest = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"sha256={digest}"


def signature_valid(request: Received, secret: str = SECRET) -> bool:
    return hmac.compare_digest(
        hmac_signature(secret, request.headers["x-leadflow-timestamp"], request.body),
        request.headers["x-leadflow-signature"],
    )


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.LEADFLOW_BASE_URL = BASE_URL


def make_hook(url: str, name: str = "ERP", **fields) -> Webhook:
    fields.setdefault("secret", SECRET)
    return Webhook.objects.create(name=name, url=url, **fields)


def make_delivery(hook: Webhook, n: int = 1, **fields) -> WebhookDelivery:
    fields.setdefault("next_attempt_at", timezone.now())
    return WebhookDelivery.objects.create(
        webhook=hook,
        event_type="inquiry.registered",
        source=f"intake.inquirytransition:{n}",
        payload={"id": f"intake.inquirytransition:{n}", "type": "inquiry.registered"},
        **fields,
    )


def register(actor, name: str = "Sofie Claes", company: str = "Acme NV", **kw):
    return register_inquiry(
        InquiryInput(
            summary=f"Quote for office chairs ({name})",
            channel="phone",
            contact=ContactData(
                name=name,
                email=f"{name.split()[0].lower()}@example.be",
                company_name=company,
                company_size=kw.pop("size", None),
            ),
            **kw,
        ),
        actor=actor,
    )


def registration_row(inquiry: Inquiry) -> InquiryTransition:
    return InquiryTransition.objects.get(
        inquiry=inquiry, data__event="inquiry.registered"
    )


def reload(delivery: WebhookDelivery) -> WebhookDelivery:
    delivery.refresh_from_db()
    return delivery


def timed_attempt(pk: int, **kwargs) -> tuple[str, datetime, datetime]:
    before = timezone.now()
    result = webhooks.attempt(pk, **kwargs)
    return result, before, timezone.now()


# --- which webhooks get an event ----------------------------------------------------------


def test_an_event_makes_one_delivery_per_active_webhook_that_wants_it(inside):
    everything = make_hook("http://127.0.0.1:9/all", "Everything")
    new_ones = make_hook(
        "http://127.0.0.1:9/new", "New inquiries", events=["inquiry.registered"]
    )
    make_hook("http://127.0.0.1:9/won", "Won only", events=["opportunity.won"])
    make_hook("http://127.0.0.1:9/off", "Switched off", is_active=False)

    inquiry = register(inside)
    assert process_outbox() == 1

    source = f"intake.inquirytransition:{registration_row(inquiry).pk}"
    assert sorted(
        WebhookDelivery.objects.values_list(
            "webhook__name", "event_type", "source", "status", "attempts"
        )
    ) == [
        ("Everything", "inquiry.registered", source, "pending", 0),
        ("New inquiries", "inquiry.registered", source, "pending", 0),
    ]
    for d in WebhookDelivery.objects.all():
        assert d.next_attempt_at is not None  # due at once
        assert d.next_attempt_at <= timezone.now()
    assert {everything, new_ones} == {d.webhook for d in WebhookDelivery.objects.all()}


def test_a_webhook_with_a_list_of_events_only_gets_those(inside, rep):
    everything = make_hook("http://127.0.0.1:9/all", "Everything")
    make_hook("http://127.0.0.1:9/new", "New only", events=["inquiry.registered"])
    inquiry = register(inside)
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    process_outbox()
    assert sorted(
        WebhookDelivery.objects.filter(webhook=everything).values_list(
            "event_type", flat=True
        )
    ) == ["inquiry.closed", "inquiry.registered", "opportunity.created"]
    assert list(
        WebhookDelivery.objects.exclude(webhook=everything).values_list(
            "event_type", flat=True
        )
    ) == ["inquiry.registered"]


def test_no_webhooks_no_deliveries(inside):
    register(inside)
    assert process_outbox() == 1
    assert not WebhookDelivery.objects.exists()


def test_processing_the_outbox_twice_creates_no_second_delivery(inside):
    make_hook("http://127.0.0.1:9/a", "A")
    make_hook("http://127.0.0.1:9/b", "B")
    register(inside)
    assert process_outbox() == 1
    assert process_outbox() == 0
    assert WebhookDelivery.objects.count() == 2


def test_a_row_handled_again_after_a_lost_claim_creates_no_second_delivery(inside):
    """Even when a row is handled a second time (its claim cleared, as after a crash
    between two workers), (webhook, source) is unique: still one delivery each."""
    make_hook("http://127.0.0.1:9/a", "A")
    register(inside)
    process_outbox()
    InquiryTransition.objects.update(processed_at=None)
    assert process_outbox() == 1
    assert WebhookDelivery.objects.count() == 1


# --- the POST: body, headers, signature -------------------------------------------------------


def test_the_event_is_posted_as_signed_json(receiver, inside, department):
    make_hook(receiver.url)
    inquiry = register(inside, "Sofie Claes", "Acme NV", size=250)
    process_outbox()
    delivery = WebhookDelivery.objects.get()

    result, before, after = timed_attempt(delivery.pk)

    assert result == "delivered"
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    h = request.headers
    assert h["content-type"] == "application/json"
    assert h["user-agent"] == "Leadflow-Webhook/1"
    assert h["x-leadflow-event"] == "inquiry.registered"
    assert h["x-leadflow-delivery"] == str(delivery.pk)
    assert h["x-leadflow-attempt"] == "1"
    assert (
        int(before.timestamp()) <= int(h["x-leadflow-timestamp"]) <= after.timestamp()
    )
    assert h["x-leadflow-signature"] == hmac_signature(
        SECRET, h["x-leadflow-timestamp"], request.body
    )
    assert signature_valid(request)
    # Another secret, a changed body or another timestamp do not verify.
    assert not signature_valid(request, secret="not-the-secret")
    tampered = Received(
        "POST", "/hook", h, request.body.replace(b"Acme NV", b"Evil NV")
    )
    assert tampered.body != request.body and not signature_valid(tampered)
    replayed = Received(
        "POST",
        "/hook",
        {**h, "x-leadflow-timestamp": str(int(h["x-leadflow-timestamp"]) - 3600)},
        request.body,
    )
    assert not signature_valid(replayed)

    row = registration_row(inquiry)
    body = request.json
    occurred_at = body.pop("occurred_at")
    assert datetime.fromisoformat(occurred_at) == row.at
    assert body == {
        "id": f"intake.inquirytransition:{row.pk}",
        "type": "inquiry.registered",
        "subject": {
            "type": "inquiry",
            "id": inquiry.pk,
            "label": "Sofie Claes (Acme NV)",
            "url": f"https://crm.example.be/inquiries/{inquiry.pk}/",
        },
        "data": {
            "outcome": None,
            "detail": None,
            "company_id": inquiry.company_id,
            "company_size": 250,
            "channel_id": Channel.objects.get(code="phone").pk,
            "campaign_id": None,
            "department_id": department.pk,  # inside's department
            "value": None,
            "service_type": None,
            "owner_id": None,
        },
    }
    assert inquiry.company_id is not None

    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.last_error == ""
    assert before <= delivery.delivered_at <= timezone.now()
    assert delivery.next_attempt_at is None
    assert webhooks.attempt(delivery.pk) == "skipped"  # delivered: never again
    assert len(receiver.requests) == 1


def test_a_qualified_lead_event_names_the_lead_its_owner_and_value(
    receiver, inside, rep
):
    make_hook(receiver.url, events=["opportunity.created"])
    inquiry = register(inside, "Bea Big", "Bigcorp NV")
    close_inquiry(
        inquiry,
        actor=inside,
        outcome="qualified",
        owner=rep,
        expected_value=Decimal("12500.50"),
    )
    process_outbox()
    delivery = WebhookDelivery.objects.get()
    assert webhooks.attempt(delivery.pk) == "delivered"
    [request] = receiver.requests
    assert signature_valid(request)
    lead = Opportunity.objects.get(inquiry=inquiry)
    row = OpportunityTransition.objects.get(
        opportunity=lead, data__event="opportunity.created"
    )
    body = request.json
    assert body["id"] == f"opportunities.opportunitytransition:{row.pk}"
    assert body["type"] == "opportunity.created"
    assert body["subject"]["type"] == "opportunity"
    assert body["subject"]["id"] == lead.pk
    assert body["subject"]["url"] == f"https://crm.example.be/opportunities/{lead.pk}/"
    assert body["data"]["owner_id"] == rep.pk
    assert body["data"]["value"] == "12500.50"  # a string: no float rounding
    assert body["data"]["company_id"] == inquiry.company_id


def test_the_first_attempt_runs_right_after_the_commit(
    receiver, inside, django_capture_on_commit_callbacks
):
    """Registration → outbox wake-up → delivery queued → POST, all after commit (the
    test settings run tasks immediately)."""
    make_hook(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = register(inside)
        assert receiver.requests == []  # nothing before the commit
    [request] = receiver.requests
    assert request.json["subject"]["id"] == inquiry.pk
    assert signature_valid(request)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_every_2xx_answer_counts_as_delivered(receiver):
    receiver.script(204)
    delivery = make_delivery(make_hook(receiver.url))
    assert webhooks.attempt(delivery.pk) == "delivered"
    assert reload(delivery).last_status_code == 204


# --- failures, back-off and the delivery log -----------------------------------------------


def test_a_failing_receiver_is_retried_with_back_off_then_given_up(receiver):
    receiver.script(500)
    delivery = make_delivery(make_hook(receiver.url))

    for number in range(1, ATTEMPTS):
        when = reload(delivery).next_attempt_at
        result, before, after = timed_attempt(delivery.pk, now=when)
        assert result == "retry"
        delivery = reload(delivery)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == number
        assert delivery.last_status_code == 500
        assert delivery.last_error == "HTTP 500"
        wait = DELAYS[number - 1]
        assert before + wait <= delivery.next_attempt_at <= after + wait
        # Not due yet: a premature attempt (a second task, the sweep) does nothing.
        early = delivery.next_attempt_at - timedelta(seconds=1)
        assert webhooks.attempt(delivery.pk, now=early) == "skipped"
        assert len(receiver.posts) == number

    result, _before, _after = timed_attempt(
        delivery.pk, now=reload(delivery).next_attempt_at
    )
    assert result == "failed"
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == ATTEMPTS
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at is None
    assert delivery.delivered_at is None
    assert [r.headers["x-leadflow-attempt"] for r in receiver.posts] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
    ]
    assert {r.headers["x-leadflow-delivery"] for r in receiver.posts} == {
        str(delivery.pk)
    }
    assert all(signature_valid(r) for r in receiver.posts)
    # Failed for good: a later sweep leaves it alone.
    assert webhooks.attempt(delivery.pk, now=timezone.now() + timedelta(days=2)) == (
        "skipped"
    )
    assert len(receiver.posts) == ATTEMPTS


def test_a_retry_that_succeeds_is_delivered_and_logged(receiver):
    receiver.script(503, 200)
    delivery = make_delivery(make_hook(receiver.url))
    assert webhooks.attempt(delivery.pk) == "retry"
    delivery = reload(delivery)
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        1,
        503,
        "HTTP 503",
    )
    assert webhooks.attempt(delivery.pk, now=delivery.next_attempt_at) == "delivered"
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert delivery.last_error == ""
    assert delivery.next_attempt_at is None
    assert delivery.delivered_at is not None
    assert [r.headers["x-leadflow-attempt"] for r in receiver.posts] == ["1", "2"]


def test_a_client_error_is_a_failure_too(receiver):
    receiver.script(410)
    delivery = make_delivery(make_hook(receiver.url))
    assert webhooks.attempt(delivery.pk) == "retry"
    delivery = reload(delivery)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.PENDING,
        410,
        "HTTP 410",
    )


def test_connection_refused_is_retried_with_the_error_logged():
    delivery = make_delivery(make_hook(closed_port_url()))
    result, before, after = timed_attempt(delivery.pk)
    assert result == "retry"
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert "refused" in delivery.last_error.lower()
    assert before + DELAYS[0] <= delivery.next_attempt_at <= after + DELAYS[0]


def test_an_unreachable_receiver_fails_after_six_attempts():
    delivery = make_delivery(make_hook(closed_port_url()))
    results = []
    for _n in range(ATTEMPTS):
        results.append(
            webhooks.attempt(delivery.pk, now=reload(delivery).next_attempt_at)
        )
    assert results == ["retry"] * 5 + ["failed"]
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED,
        6,
        None,
    )
    assert "refused" in delivery.last_error.lower()


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_and_is_not_followed(receiver, code):
    receiver.script(Answer(code, {"Location": "{base}/elsewhere"}))
    delivery = make_delivery(make_hook(receiver.url))
    assert webhooks.attempt(delivery.pk) == "retry"
    assert [(r.method, r.path) for r in receiver.requests] == [("POST", "/hook")]
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == code
    assert delivery.last_error == f"HTTP {code}"
    assert delivery.attempts == 1


def test_a_slow_receiver_hits_the_timeout_without_holding_the_worker(
    receiver, monkeypatch
):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    receiver.script(Answer(200, delay=10))
    delivery = make_delivery(make_hook(receiver.url))
    started = time.monotonic()
    result = webhooks.attempt(delivery.pk)
    elapsed = time.monotonic() - started
    assert result == "retry"
    assert 0.4 <= elapsed < 3
    delivery = reload(delivery)
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error
    assert delivery.attempts == 1
    assert len(receiver.posts) == 1


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_timeout(
    receiver, monkeypatch
):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    receiver.script(Answer(trickle=4))  # a header line every 0.2 s for 4 s
    delivery = make_delivery(make_hook(receiver.url))
    started = time.monotonic()
    result = webhooks.attempt(delivery.pk)
    elapsed = time.monotonic() - started
    assert elapsed < 2
    assert result == "retry"
    assert "timed out" in reload(delivery).last_error


def test_an_answer_that_is_not_http_is_a_logged_failure(receiver):
    """Something else listening on the port (no HTTP status line) is a counted,
    logged failure, not an exception that leaves the delivery retried for ever."""
    receiver.script(Answer(raw=b"SSH-2.0-OpenSSH_9.2p1\r\n"))
    delivery = make_delivery(make_hook(receiver.url))
    assert webhooks.attempt(delivery.pk) == "retry"
    delivery = reload(delivery)
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error != ""


def test_a_webhook_switched_off_after_queueing_is_not_posted(receiver):
    hook = make_hook(receiver.url)
    delivery = make_delivery(hook)
    Webhook.objects.filter(pk=hook.pk).update(is_active=False)
    assert webhooks.attempt(delivery.pk) == "failed"
    assert receiver.requests == []
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "webhook switched off"


def test_an_unknown_delivery_is_skipped():
    assert webhooks.attempt(999_999) == "skipped"


# --- the sweep and redelivery ----------------------------------------------------------------


def test_retry_due_only_takes_pending_deliveries_whose_time_has_come(receiver):
    hook = make_hook(receiver.url)
    now = timezone.now()
    due = make_delivery(hook, 1, next_attempt_at=now - timedelta(minutes=2))
    also_due = make_delivery(hook, 2, next_attempt_at=now)
    later = make_delivery(hook, 3, next_attempt_at=now + timedelta(minutes=4))
    make_delivery(
        hook, 4, status=DeliveryStatus.FAILED, next_attempt_at=now - timedelta(hours=1)
    )
    make_delivery(
        hook,
        5,
        status=DeliveryStatus.DELIVERED,
        next_attempt_at=now - timedelta(hours=1),
    )

    assert webhooks.retry_due(now=now) == 2
    assert sorted(int(r.headers["x-leadflow-delivery"]) for r in receiver.posts) == (
        sorted([due.pk, also_due.pk])
    )
    assert reload(due).status == DeliveryStatus.DELIVERED
    assert reload(also_due).status == DeliveryStatus.DELIVERED
    assert reload(later).status == DeliveryStatus.PENDING
    assert reload(later).attempts == 0

    assert webhooks.retry_due(now=now) == 0  # nothing left that is due
    assert webhooks.retry_due(now=now + timedelta(minutes=5)) == 1
    assert reload(later).status == DeliveryStatus.DELIVERED
    assert len(receiver.posts) == 3


def test_retry_due_takes_the_oldest_first_up_to_the_limit(receiver):
    hook = make_hook(receiver.url)
    now = timezone.now()
    newest = make_delivery(hook, 1, next_attempt_at=now - timedelta(minutes=1))
    oldest = make_delivery(hook, 2, next_attempt_at=now - timedelta(minutes=3))
    middle = make_delivery(hook, 3, next_attempt_at=now - timedelta(minutes=2))
    assert webhooks.retry_due(now=now, limit=2) == 2
    assert [int(r.headers["x-leadflow-delivery"]) for r in receiver.posts] == [
        oldest.pk,
        middle.pk,
    ]
    assert reload(newest).status == DeliveryStatus.PENDING


def test_a_delivery_whose_worker_died_mid_post_is_retried_after_the_lease(receiver):
    """The claim moves next_attempt_at a lease ahead; a worker killed while posting
    leaves it so, and the sweep picks it up once the lease has run out."""
    hook = make_hook(receiver.url)
    claimed_at = timezone.now()
    delivery = make_delivery(hook, next_attempt_at=claimed_at)
    # What attempt()'s claim leaves behind when the process dies during the POST:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=claimed_at + timedelta(seconds=30)
    )
    assert webhooks.retry_due(now=claimed_at + timedelta(seconds=29)) == 0
    assert receiver.requests == []
    assert webhooks.retry_due(now=claimed_at + timedelta(seconds=31)) == 1
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert receiver.posts[0].headers["x-leadflow-attempt"] == "1"


def test_redeliver_sends_a_failed_delivery_again_from_attempt_one(
    receiver, django_capture_on_commit_callbacks
):
    receiver.script(500)
    delivery = make_delivery(make_hook(receiver.url))
    for _n in range(ATTEMPTS):
        webhooks.attempt(delivery.pk, now=reload(delivery).next_attempt_at)
    assert reload(delivery).status == DeliveryStatus.FAILED

    receiver.script(200)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = webhooks.redeliver(delivery)
    assert again.status == DeliveryStatus.PENDING
    assert again.attempts == 0
    assert again.delivered_at is None
    assert again.next_attempt_at <= timezone.now()
    assert len(receiver.posts) == ATTEMPTS  # nothing before the commit
    for callback in callbacks:
        callback()  # the task (immediate backend in tests) makes the attempt
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    last = receiver.posts[-1]
    assert last.headers["x-leadflow-attempt"] == "1"
    assert last.headers["x-leadflow-delivery"] == str(delivery.pk)
    assert signature_valid(last)
    assert len(receiver.posts) == ATTEMPTS + 1


def test_redeliver_sends_a_delivered_event_once_more(
    receiver, django_capture_on_commit_callbacks
):
    delivery = make_delivery(make_hook(receiver.url))
    webhooks.attempt(delivery.pk)
    first_body = receiver.posts[0].body
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.redeliver(delivery)
    assert len(receiver.posts) == 2
    assert receiver.posts[1].body == first_body  # the same event
    assert reload(delivery).status == DeliveryStatus.DELIVERED


# --- claims: never two POSTs at once -----------------------------------------------------


def test_a_second_attempt_while_the_first_is_posting_is_skipped(receiver, monkeypatch):
    """Worker B's task for the same delivery runs while worker A is still posting."""
    delivery = make_delivery(make_hook(receiver.url))
    real_post = webhooks.post
    meanwhile: list[str] = []

    def post(url, body, headers):
        if not meanwhile:
            meanwhile.append(webhooks.attempt(delivery.pk))
        return real_post(url, body, headers)

    monkeypatch.setattr(webhooks, "post", post)
    assert webhooks.attempt(delivery.pk) == "delivered"
    assert meanwhile == ["skipped"]
    assert len(receiver.posts) == 1


def test_a_delivery_claimed_late_in_a_long_sweep_still_has_its_lease(
    receiver, monkeypatch
):
    """retry_due passes the sweep's start time to every attempt; the lease must
    still run from the real time of the claim, or another worker posts again."""
    sweep_started = timezone.now() - timedelta(minutes=2)  # earlier posts were slow
    delivery = make_delivery(
        make_hook(receiver.url), next_attempt_at=sweep_started - timedelta(seconds=1)
    )
    real_post = webhooks.post
    meanwhile: list[str] = []

    def post(url, body, headers):
        if not meanwhile:
            meanwhile.append(webhooks.attempt(delivery.pk))  # another worker, now
        return real_post(url, body, headers)

    monkeypatch.setattr(webhooks, "post", post)
    assert webhooks.retry_due(now=sweep_started) == 1
    assert meanwhile == ["skipped"]
    assert len(receiver.posts) == 1


def test_the_signed_timestamp_is_the_time_of_the_post(receiver):
    """Not the sweep's start: receivers reject old timestamps (replays)."""
    sweep_started = timezone.now() - timedelta(minutes=10)
    make_delivery(
        make_hook(receiver.url), next_attempt_at=sweep_started - timedelta(seconds=1)
    )
    webhooks.retry_due(now=sweep_started)
    [request] = receiver.posts
    assert signature_valid(request)
    assert abs(int(request.headers["x-leadflow-timestamp"]) - time.time()) <= 5


@pytest.mark.django_db(transaction=True)
def test_two_workers_attempting_one_delivery_at_once_post_once(receiver):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    receiver.script(Answer(200, delay=0.5))  # the first POST is still going on
    delivery = make_delivery(make_hook(receiver.url))
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(webhooks.attempt(delivery.pk))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(results) == ["delivered", "skipped"]
    assert len(receiver.posts) == 1
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_the_outbox_at_once_queue_one_delivery(
    personas, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    if not Channel.objects.exists():  # flushed by an earlier transactional test
        importlib.import_module("leadflow.intake.migrations.0003_default_channels").add(
            django_apps, None
        )
    settings.LEADFLOW_OUTBOX_TASK = ""  # no after-commit run: the workers do it
    make_hook("http://127.0.0.1:9/a", "A")
    make_hook("http://127.0.0.1:9/b", "B", events=["inquiry.registered"])
    rows = 20
    for n in range(rows):
        register(personas["inside"], f"Person{n} Test", company="")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            process_outbox()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert WebhookDelivery.objects.count() == rows * 2
    assert (
        WebhookDelivery.objects.values("webhook", "source").distinct().count()
        == rows * 2
    )
