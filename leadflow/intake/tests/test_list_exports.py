"""The triage inbox and the re-orders export to CSV and XLSX with the page's filters."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadflow.audit.models import AuditEvent
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.tests.test_export import read_csv, read_xlsx
from leadflow.intake.actions import book_order, close_inquiry
from leadflow.intake.models import Channel
from leadflow.intake.tests.factories import make_inquiry

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_triage_page_links_its_export_with_the_current_filters(inside):
    make_inquiry(inside)
    channel = Channel.objects.get(code="phone")
    html = (
        client_for(inside)
        .get("/inquiries/", {"channel": channel.pk, "page": "1"})
        .content.decode()
    )
    assert f'href="?channel={channel.pk}&amp;format=csv"' in html
    assert "format=xlsx" in html
    assert "page=1&amp;format" not in html


def test_the_inquiry_export_holds_every_row_of_the_filter_not_one_page(inside):
    phone = [
        make_inquiry(inside, name=f"Zoë Ébène {n}", channel="phone") for n in range(27)
    ]
    make_inquiry(inside, name="Mail Person", channel="email")
    channel = Channel.objects.get(code="phone")
    response = client_for(inside).get(
        "/inquiries/", {"channel": channel.pk, "format": "csv"}
    )
    assert response.status_code == 200
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["ID", "Received at", "Contact", "Company"]
    # Ordered like the page: oldest first.
    assert [int(r[0]) for r in body] == [i.pk for i in phone]
    assert body[0][2] == "Zoë Ébène 0"
    assert "Mail Person" not in {r[2] for r in body}
    event = AuditEvent.objects.get(event_type="list.exported")
    assert event.new["list"] == "inquiries"
    assert event.new["rows"] == 27
    assert event.new["filters"] == {"channel": str(channel.pk)}


def test_closed_inquiries_export_with_their_outcome_as_xlsx(inside):
    inquiry = make_inquiry(inside, name="=cmd|' /C calc'!A0", summary="x" * 300)
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="Spam")
    make_inquiry(inside)  # open: not in the closed list
    response = client_for(inside).get(
        "/inquiries/", {"status": "closed", "format": "xlsx"}
    )
    rows = read_xlsx(response)
    header = rows[0]
    assert len(rows) == 2
    row = dict(zip(header, rows[1], strict=True))
    assert row["ID"] == inquiry.pk
    assert row["Contact"] == "'=cmd|' /C calc'!A0"
    assert row["Outcome"] == "Archived"
    assert row["Status"] == "Closed"
    assert len(row["Summary"]) == 200
    assert row["Received at"].tzinfo is None  # a spreadsheet date-time


def test_a_bad_filter_or_format_is_a_400_not_everything(inside):
    make_inquiry(inside)
    client = client_for(inside)
    bad_filter = client.get("/inquiries/", {"channel": "99999", "format": "csv"})
    assert bad_filter.status_code == 400
    assert b"Channel" in bad_filter.content
    assert client.get("/inquiries/", {"format": "pdf"}).status_code == 400


def test_salespeople_cannot_export_the_inbox(rep, outsider):
    assert client_for(outsider).get("/inquiries/?format=csv").status_code == 403


def test_the_inquiry_export_costs_the_same_queries_for_3_or_30_rows(
    inside, django_assert_max_num_queries
):
    client = client_for(inside)
    read_csv(client.get("/inquiries/", {"format": "csv"}))  # warm the calendar cache
    counts = []
    for n in (3, 27):
        for _ in range(n):
            make_inquiry(inside, company="Acme NV")
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(client.get("/inquiries/", {"format": "csv"}))
        counts.append(len(queries))
        assert len(rows) == 1 + (3 if n == 3 else 30)
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        read_xlsx(client.get("/inquiries/", {"format": "xlsx"}))


# --- re-orders ---------------------------------------------------------------------


def _order(actor, name: str, amount=Decimal("100.00")):
    contact = make_contact(name, company="Brouwerij Ölé BV")
    return book_order(
        actor=actor,
        contact=contact,
        company=contact.company,
        description="+ 20 chairs",
        amount=amount,
        reference="",
        channel=None,
    )


def test_orders_export_all_rows_newest_first(rep):
    orders = [_order(rep, f"Jérôme {n}") for n in range(3)]
    response = client_for(rep).get("/orders/", {"format": "xlsx"})
    rows = read_xlsx(response)
    header = rows[0]
    body = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert [r["ID"] for r in body] == sorted((o.pk for o in orders), reverse=True)
    assert body[0]["Company"] == "Brouwerij Ölé BV"
    assert body[0]["What"] == "'+ 20 chairs"
    assert float(body[0]["Amount"]) == 100.0
    html = client_for(rep).get("/orders/").content.decode()
    assert 'href="?format=csv"' in html


def test_orders_export_is_refused_to_marketing(marketer):
    assert client_for(marketer).get("/orders/?format=csv").status_code == 403
