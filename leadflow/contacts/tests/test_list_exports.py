"""The contact list exports what the page shows: the search, every page, by name."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadflow.audit.models import AuditEvent
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.tests.test_export import read_csv, read_xlsx

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_search_is_exported_not_everyone(colleague):
    jansens = [
        make_contact(f"Piet Janssens {n}", company="Brouwerij Ölé BV") for n in range(3)
    ]
    make_contact("Marie Peeters")
    response = client_for(colleague).get(
        "/contacts/", {"q": "janssens", "format": "csv"}
    )
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0][:5] == ["ID", "Name", "Company", "E-mail", "Phone"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(c.pk for c in jansens)
    assert {r[2] for r in rows[1:]} == {"Brouwerij Ölé BV"}
    event = AuditEvent.objects.get(event_type="list.exported")
    assert event.new["filters"] == {"q": "janssens"}
    assert event.new["rows"] == 3
    html = client_for(colleague).get("/contacts/", {"q": "janssens"}).content.decode()
    assert 'href="?q=janssens&amp;format=xlsx"' in html


def test_all_contacts_in_name_order_with_neutralised_names(rep):
    make_contact("Zoë Zeeman", phone="+32 470 12 34 56")
    make_contact("-Anna", email="anna@example.be")
    rows = read_xlsx(client_for(rep).get("/contacts/", {"format": "xlsx"}))
    names = [r[1] for r in rows[1:]]
    assert names == ["'-Anna", "Zoë Zeeman"]
    phone = rows[2][4]
    assert phone.startswith("'+32")  # a phone number is text, not a formula


def test_an_unknown_format_is_400_and_anonymous_visitors_log_in(rep):
    assert client_for(rep).get("/contacts/?format=ods").status_code == 400
    response = Client().get("/contacts/?format=csv")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_contact_export_costs_the_same_queries_for_3_or_30(rep):
    client = client_for(rep)
    read_csv(client.get("/contacts/", {"format": "csv"}))  # warm caches
    counts = []
    for n in (3, 27):
        for i in range(n):
            make_contact(f"Person {n}-{i}", company=f"Firm {n}-{i} NV")
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(client.get("/contacts/", {"format": "csv"}))
        counts.append(len(queries))
        assert len(rows) == 1 + (3 if n == 3 else 30)
    assert counts[0] == counts[1]
