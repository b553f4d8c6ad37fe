"""Notifications, the escalation log and a webhook's delivery log export to CSV and
XLSX with the page's filters, for those who may see the page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.core.tests.test_export import read_csv, read_xlsx
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import add_activity
from leadflow.opportunities.tests.pipeline_factories import make_lead
from leadflow.workflows import configuration as config
from leadflow.workflows.actions import notify
from leadflow.workflows.models import (
    DeliveryStatus,
    Escalation,
    EscalationKind,
    WebhookDelivery,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- notifications -----------------------------------------------------------------------


def test_my_notifications_export_is_mine_only(rep, outsider):
    notify(rep, actor=outsider, event_type="t", message="=Zoë's lead", url="/x/1/")
    notify(outsider, actor=None, event_type="t", message="Southbay reminder")
    response = client_for(rep).get("/notifications/", {"format": "csv"})
    rows = read_csv(response)
    assert rows[0] == ["ID", "Created at", "By", "Message", "Link", "Read at"]
    assert len(rows) == 2
    assert rows[1][2] == "Outsider Persona"
    assert rows[1][3] == "'=Zoë's lead"
    assert rows[1][4] == "http://testserver/x/1/"
    html = client_for(rep).get("/notifications/").content.decode()
    assert 'href="?format=xlsx"' in html
    assert 'href="/account/calendar/"' in html


def test_the_notification_export_costs_the_same_queries_for_3_or_30(rep):
    client = client_for(rep)
    read_csv(client.get("/notifications/", {"format": "csv"}))  # warm caches
    counts = []
    for n in (3, 27):
        for i in range(n):
            notify(rep, actor=None, event_type="t", message=f"note {i}")
        with CaptureQueriesContext(connection) as queries:
            rows = read_xlsx(client.get("/notifications/", {"format": "xlsx"}))
        counts.append(len(queries))
        assert len(rows) == 1 + (3 if n == 3 else 30)
    assert counts[0] == counts[1]


# --- the escalation log ------------------------------------------------------------------


def _escalation(kind, status, hours_ago, **records):
    return Escalation.objects.create(
        kind=kind,
        status=status,
        target="t",
        key=f"k{hours_ago}-{kind}",
        due_at=timezone.now() - timedelta(hours=hours_ago),
        recipients=["An", "Marc"],
        **records,
    )


def test_the_escalation_log_exports_with_its_filters(admin, inside, rep):
    inquiry = make_inquiry(inside)
    lead = make_lead(rep, owner=rep, title="Brouwerij Ölé")
    activity = add_activity(
        lead, actor=rep, kind="call", subject="Bel terug", assignee=rep
    )
    sent = _escalation(EscalationKind.INQUIRY_OPEN, "sent", 5, inquiry=inquiry)
    stale = _escalation(EscalationKind.LEAD_STALE, "sent", 2, opportunity=lead)
    late = _escalation(EscalationKind.ACTIVITY_OVERDUE, "sent", 1, activity=activity)
    _escalation(EscalationKind.INQUIRY_MANAGER, "pending", 3, inquiry=inquiry)
    response = client_for(admin).get(
        "/settings/escalations/", {"status": "sent", "format": "xlsx"}
    )
    rows = read_xlsx(response)
    header = rows[0]
    body = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert [r["ID"] for r in body] == [late.pk, stale.pk, sent.pk]
    assert body[0]["Record"] == "Bel terug · Brouwerij Ölé"
    assert body[1]["Link"] == f"http://testserver/opportunities/{lead.pk}/"
    assert body[2]["Recipients"] == "An, Marc"
    assert body[2]["Kind"] == "Inquiry still open"
    event = AuditEvent.objects.get(event_type="list.exported")
    assert event.new["filters"] == {"status": "sent"}
    assert event.new["rows"] == 3


def test_the_escalation_log_export_refuses_bad_filters_and_other_roles(
    admin, director, rep
):
    bad = client_for(admin).get("/settings/escalations/?status=late&format=csv")
    assert bad.status_code == 400
    assert "Status" in bad.content.decode()
    assert (
        client_for(director).get("/settings/escalations/?format=csv").status_code == 200
    )
    assert client_for(rep).get("/settings/escalations/?format=csv").status_code == 403


def test_the_escalation_log_export_costs_the_same_queries_for_3_or_30(admin, rep):
    lead = make_lead(rep, owner=rep)
    client = client_for(admin)
    read_csv(client.get("/settings/escalations/", {"format": "csv"}))
    counts = []
    for n in (3, 27):
        for i in range(n):
            activity = add_activity(
                lead, actor=rep, kind="task", subject=f"t{n}-{i}", assignee=rep
            )
            Escalation.objects.create(
                kind=EscalationKind.ACTIVITY_OVERDUE,
                status="sent",
                target="t",
                key=f"q{n}-{i}",
                due_at=timezone.now(),
                activity=activity,
            )
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(client.get("/settings/escalations/", {"format": "csv"}))
        counts.append(len(queries))
        assert len(rows) == 1 + (3 if n == 3 else 30)
    assert counts[0] == counts[1]


# --- a webhook's deliveries ------------------------------------------------------------


@pytest.fixture
def hook(admin):
    return config.create_webhook(
        actor=admin, name="ERP", url="https://erp.example.be/leadflow"
    )


def _delivery(hook, status, n):
    return WebhookDelivery.objects.create(
        webhook=hook,
        event_type="inquiry.registered",
        source=f"intake.inquirytransition:{n}",
        payload={"type": "inquiry.registered", "name": "Zoë"},
        status=status,
        attempts=n,
        last_error="-timeout" if status == DeliveryStatus.FAILED else "",
    )


def test_the_delivery_log_exports_the_filtered_status(admin, hook):
    failed = _delivery(hook, DeliveryStatus.FAILED, 6)
    _delivery(hook, DeliveryStatus.DELIVERED, 1)
    response = client_for(admin).get(
        f"/settings/webhooks/{hook.pk}/deliveries/",
        {"status": "failed", "format": "csv"},
    )
    rows = read_csv(response)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["ID"] == str(failed.pk)
    assert row["Attempts"] == "6"
    assert row["Last error"] == "'-timeout"
    assert '"name": "Zoë"' in row["Payload"]
    event = AuditEvent.objects.get(event_type="list.exported")
    assert event.subject_type == "workflows.webhook"
    assert event.subject_id == hook.pk
    html = (
        client_for(admin)
        .get(f"/settings/webhooks/{hook.pk}/deliveries/", {"status": "failed"})
        .content.decode()
    )
    assert 'href="?status=failed&amp;format=csv"' in html


def test_the_delivery_log_export_is_for_admins_and_checks_its_status(
    admin, director, hook
):
    path = f"/settings/webhooks/{hook.pk}/deliveries/"
    assert client_for(director).get(path, {"format": "csv"}).status_code == 403
    bad = client_for(admin).get(path, {"status": "lost", "format": "csv"})
    assert bad.status_code == 400
    assert b"Unknown status lost" in bad.content
