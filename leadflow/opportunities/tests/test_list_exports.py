"""The qualified-lead list exports what the page shows: the user's visible leads, with
its status and "only mine" filters, every page, newest first."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadflow.audit.models import AuditEvent
from leadflow.core.tests.test_export import read_csv, read_xlsx
from leadflow.opportunities.actions import close_opportunity, update_opportunity
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ids_of(rows) -> list[int]:
    return [int(r[0]) for r in rows[1:]]


def test_the_other_teams_lead_is_absent_from_the_outsiders_export(
    rep, outsider, inside
):
    north = make_lead(rep, owner=rep, title="Northwind secret tender")
    teammate = make_lead(inside, owner=inside, title="Teammate's lead")
    south = make_lead(outsider, owner=outsider, title="Southbay cranes")
    out = client_for(outsider).get("/opportunities/", {"format": "csv"})
    body = b"".join(out.streaming_content).decode("utf-8-sig")
    assert "Northwind" not in body
    assert "Southbay cranes" in body
    rows = read_csv(client_for(rep).get("/opportunities/", {"format": "csv"}))
    assert ids_of(rows) == [teammate.pk, north.pk]
    assert south.pk not in ids_of(
        read_csv(client_for(rep).get("/opportunities/", {"format": "csv"}))
    )


def test_filters_and_order_are_the_pages(rep, inside, director):
    mine = [make_lead(rep, owner=rep, title=f"Mine {n}") for n in range(30)]
    make_lead(inside, owner=inside, title="Not mine")
    won = make_lead(rep, owner=rep, title="Won one")
    close_opportunity(won, actor=rep, result="won", reason="Signed")
    rows = read_csv(client_for(rep).get("/opportunities/?mine=1&format=csv"))
    # All 30, not the page's 25, newest first.
    assert ids_of(rows) == [o.pk for o in reversed(mine)]
    closed = read_csv(client_for(director).get("/opportunities/?status=won&format=csv"))
    assert ids_of(closed) == [won.pk]
    event = AuditEvent.objects.filter(event_type="list.exported").latest("id")
    assert event.new["filters"] == {"status": "won"}
    html = client_for(rep).get("/opportunities/?status=open&mine=1").content.decode()
    assert 'href="?status=open&amp;mine=1&amp;format=csv"' in html


def test_the_xlsx_holds_numbers_dates_and_neutralised_text(rep):
    lead = make_lead(rep, owner=rep, title="@SUM(1) Brasserie Ölé")
    update_opportunity(
        lead,
        actor=rep,
        expected_value=Decimal("12500.50"),
        p_win=Decimal("0.6"),
    )
    rows = read_xlsx(client_for(rep).get("/opportunities/", {"format": "xlsx"}))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Title"] == "'@SUM(1) Brasserie Ölé"
    assert row["Expected value"] == 12500.5
    assert row["P win"] == 0.6
    assert row["Owner"] == "Rep Persona"
    assert row["Status"] == "Open"


def test_marketing_and_colleagues_get_403_not_an_empty_file(marketer, colleague):
    assert client_for(marketer).get("/opportunities/?format=csv").status_code == 403
    assert client_for(colleague).get("/opportunities/?format=xlsx").status_code == 403


def test_an_unknown_format_is_400(rep):
    response = client_for(rep).get("/opportunities/", {"format": "json"})
    assert response.status_code == 400


def test_the_lead_export_costs_the_same_queries_for_3_or_30(rep):
    client = client_for(rep)
    read_csv(client.get("/opportunities/", {"format": "csv"}))  # warm caches
    counts = []
    for n in (3, 27):
        for i in range(n):
            make_lead(rep, owner=rep, company=f"Company {n}-{i} NV")
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(client.get("/opportunities/", {"format": "csv"}))
        counts.append(len(queries))
        assert len(rows) == 1 + (3 if n == 3 else 30)
    assert counts[0] == counts[1]
