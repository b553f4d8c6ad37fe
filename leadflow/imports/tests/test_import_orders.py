"""Importing orders (re-orders of known customers) end to end: Dutch and English
headers, messy dates and amounts, the customer found like the intake lookup finds
them, duplicates, re-imports, row rules, and the order in the customer's history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Lifecycle
from leadflow.contacts.tests.factories import make_company, make_contact
from leadflow.core.errors import Forbidden
from leadflow.imports import actions
from leadflow.imports.models import ImportedRecord, ImportStatus
from leadflow.imports.tests.messy import write_csv, write_xlsx
from leadflow.imports.tests.test_import_contacts import checked, run, upload
from leadflow.imports.tests.test_import_context import issues
from leadflow.intake.models import Order

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
def customers(admin):
    acme = make_company("Acme BV", actor=admin)
    return {
        "acme": acme,
        "ann": make_contact("Ann Peeters", email="ann@acme.example", company=acme),
        "jan": make_contact("Jan Claes", email="jan@claes.example"),
        "brule": make_company("Café Brûlé NV", actor=admin),
    }


ORDERS_NL = [
    [
        "Ordernummer",
        "Klant",
        "Contactpersoon",
        "E-mail",
        "Omschrijving",
        "Bedrag",
        "Orderdatum",
        "Kanaal",
        "Referentie",
    ],
    [
        "O-1",
        "ACME B.V.",
        "Ann Peeters",
        " ANN@acme.example ",
        "20 bureaustoelen",
        "1.234,56",
        "25/03/2024 14:30",
        "Telefoon",
        "PO 778",
    ],
    [
        "O-2",
        "",
        "",
        "jan@claes.example",
        "Onderhoudscontract",
        "€ 99,90",
        "13/01/2024",
        "",
        "",
    ],
    [],
    ["O-3", "Café Brûlé", "", "", "Koffiemachine", "", "31/12/2023", "E-mail", ""],
    [
        "O-1",
        "ACME B.V.",
        "Ann Peeters",
        "ann@acme.example",
        "20 bureaustoelen",
        "1.234,56",
        "25/03/2024 14:30",
        "Telefoon",
        "PO 778",
    ],
]


def test_orders_with_dutch_headers_and_messy_values(admin, customers, tmp_path):
    path = write_csv(
        tmp_path / "orders.csv", ORDERS_NL, encoding="cp1252", delimiter=";"
    )
    job = upload(admin, "orders", path)
    assert job.mapping == {
        "Ordernummer": "external_id",
        "Klant": "company",
        "Contactpersoon": "contact",
        "E-mail": "email",
        "Omschrijving": "description",
        "Bedrag": "amount",
        "Orderdatum": "ordered_at",
        "Kanaal": "channel",
        "Referentie": "reference",
    }
    job = actions.check_job(job, actor=admin)
    assert (job.report["date_order"], job.report["decimal"]) == ("dmy", ",")
    assert (job.report["rows"], job.report["errors"]) == (4, 0)
    assert job.report["duplicates_in_file"] == 1
    assert Order.objects.count() == 0

    job = run(admin, job)
    assert job.status == ImportStatus.DONE
    assert (job.created, job.unchanged) == (3, 1)
    chairs = Order.objects.get(reference="PO 778")
    assert chairs.contact == customers["ann"]
    assert chairs.company == customers["acme"]
    assert chairs.description == "20 bureaustoelen"
    assert chairs.amount == Decimal("1234.56")
    assert chairs.ordered_at == datetime(2024, 3, 25, 14, 30, tzinfo=BRUSSELS)
    assert chairs.channel.code == "phone"
    assert chairs.booked_by == admin
    contract = Order.objects.get(description="Onderhoudscontract")
    assert (contract.contact, contract.company) == (customers["jan"], None)
    assert contract.amount == Decimal("99.90")
    assert contract.ordered_at == datetime(2024, 1, 13, tzinfo=BRUSSELS)
    coffee = Order.objects.get(description="Koffiemachine")
    assert (coffee.contact, coffee.company, coffee.amount) == (
        None,
        customers["brule"],
        None,
    )
    assert coffee.channel.code == "email"
    # Booked like a re-order entered by hand: audited, and the buyer is a customer.
    assert AuditEvent.objects.filter(event_type="order.booked").count() == 3
    customers["acme"].refresh_from_db()
    assert customers["acme"].lifecycle == Lifecycle.CUSTOMER
    assert ImportedRecord.objects.get(kind="orders", external_id="O-1").object_id == (
        chairs.pk
    )


def test_english_headers_and_a_second_import_books_nothing_twice(
    admin, customers, tmp_path
):
    rows = [
        ["Company", "Email", "Description", "Amount", "Order date", "Channel", "PO"],
        ["Acme", "ann@acme.example", "Desk", "250.00", "2024-02-01", "phone", "A1"],
        ["Acme", "", "Lamp", "12.5", "2024-02-02", "", ""],
    ]
    path = write_csv(tmp_path / "orders.csv", rows)
    job = upload(admin, "orders", path)
    assert job.mapping == {
        "Company": "company",
        "Email": "email",
        "Description": "description",
        "Amount": "amount",
        "Order date": "ordered_at",
        "Channel": "channel",
        "PO": "reference",
    }
    job = run(admin, actions.check_job(job, actor=admin))
    assert job.created == 2
    again = run(admin, checked(admin, "orders", path))
    assert again.report["existing"] == 2
    assert (again.created, again.unchanged) == (0, 2)
    assert Order.objects.count() == 2
    lamp = Order.objects.get(description="Lamp")
    assert (lamp.amount, lamp.contact, lamp.company) == (
        Decimal("12.50"),
        None,
        customers["acme"],
    )


def test_customers_found_by_name_at_their_company_or_by_old_ids(
    admin, customers, tmp_path
):
    run(
        admin,
        checked(
            admin,
            "contacts",
            write_csv(
                tmp_path / "c.csv",
                [["id", "name", "email"], ["P-9", "Els Wouters", "els@w.example"]],
            ),
        ),
    )
    rows = [
        ["Contact id", "Naam", "Bedrijf", "Artikel", "Datum"],
        ["P-9", "", "", "Stoel", "2024-02-01"],
        ["", "ann peeters", "Acme", "Tafel", "2024-02-01"],
        ["", "Unknown Person", "Acme", "Kast", "2024-02-01"],
    ]
    job = upload(admin, "orders", write_csv(tmp_path / "o.csv", rows))
    assert job.mapping == {
        "Contact id": "contact_id",
        "Naam": "contact",
        "Bedrijf": "company",
        "Artikel": "description",
        "Datum": "ordered_at",
    }
    job = actions.check_job(job, actor=admin)
    assert job.report["errors"] == 0
    assert issues(job) == {
        4: ["Unknown Person is not known at Acme BV: the order goes to the company."]
    }
    run(admin, job)
    assert Order.objects.get(description="Stoel").contact.email == "els@w.example"
    assert Order.objects.get(description="Tafel").contact == customers["ann"]
    cupboard = Order.objects.get(description="Kast")
    assert (cupboard.contact, cupboard.company) == (None, customers["acme"])


def test_order_row_rules(admin, customers, tmp_path):
    make_contact("Twin Name", email="twin1@example.com")
    make_contact("Twin Name", email="twin2@example.com")
    future = f"{timezone.localdate().year + 1}-01-01"
    rows = [
        ["Email", "Contact", "Company", "Description", "Amount", "Date"],
        ["nobody@example.com", "", "", "Chair", "1", "2024-01-01"],
        ["ann@acme.example", "", "Café Brûlé", "Chair", "1", "2024-01-01"],
        ["ann@acme.example", "", "", "Chair", "-5", "2024-01-01"],
        ["ann@acme.example", "", "", "Chair", "1", future],
        ["ann@acme.example", "", "", "", "1", "2024-01-01"],
        ["", "Twin Name", "", "Chair", "1", "2024-01-01"],
        ["", "", "", "Chair", "1", "2024-01-01"],
        ["ann@acme.example", "", "", "Chair", "1", "2024-01-01"],
    ]
    job = checked(admin, "orders", write_csv(tmp_path / "bad.csv", rows))
    found = issues(job)
    assert found[2] == [
        "nobody@example.com is not in Leadflow: import companies and contacts first."
    ]
    assert found[3] == ["Ann Peeters works at another company than Café Brûlé NV."]
    assert found[4] == ["The amount cannot be negative (credit notes are left out)."]
    assert found[5] == [f"An order cannot be placed in the future ({future})."]
    assert found[6] == ["This column must be filled."]
    assert found[7] == [
        "Several contacts are called Twin Name: add their e-mail address or company."
    ]
    assert "Fill at least one of" in found[8][0]
    assert 9 not in found
    assert job.report["error_lines"] == 7
    job = actions.set_mapping(
        job, actor=admin, mapping=job.mapping, options={"skip_invalid": True}
    )
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.created, job.skipped) == (1, 7)
    assert Order.objects.get().contact == customers["ann"]


def test_unknown_channels_are_listed_and_mapped(admin, customers, tmp_path):
    rows = [
        ["Email", "Description", "Date", "Channel"],
        ["ann@acme.example", "Chair", "2024-01-01", "Beurs Kortrijk"],
        ["ann@acme.example", "Desk", "2024-01-02", "Beurs Kortrijk"],
    ]
    job = checked(admin, "orders", write_csv(tmp_path / "ch.csv", rows))
    assert job.report["unknown"] == {"channel": [["Beurs Kortrijk", 2]]}
    job = actions.set_mapping(
        job,
        actor=admin,
        mapping=job.mapping,
        options={"values": {"channel": {"Beurs Kortrijk": "event"}}},
    )
    job = run(admin, actions.check_job(job, actor=admin))
    assert set(Order.objects.values_list("channel__code", flat=True)) == {"event"}


def test_imported_orders_show_in_the_intake_lookup(admin, customers, tmp_path, api_as):
    path = write_xlsx(
        tmp_path / "orders.xlsx",
        [
            ["Order id", "E-mail", "Product", "Value", "Ordered"],
            ["X1", "ann@acme.example", "Chairs", 1500, datetime(2024, 5, 2, 9, 15)],
        ],
    )
    job = run(admin, checked(admin, "orders", path))
    assert job.file_format == "xlsx" and job.created == 1
    response = api_as("inside").post(
        "/api/intake/lookup", {"email": "ann@acme.example"}
    )
    assert response.status_code == 200
    orders = response.json()["matches"][0]["orders"]
    assert [(o["description"], o["amount"]) for o in orders] == [("Chairs", 1500.0)]
    # 09:15 in Brussels (summer time) is 07:15 UTC.
    assert orders[0]["ordered_at"] == "2024-05-02T07:15:00Z"


def test_orders_are_imported_by_admins_and_the_sales_director_only(
    admin, director, marketer, rep, inside, customers, tmp_path
):
    path = write_csv(tmp_path / "o.csv", ORDERS_NL, delimiter=";")
    for user in (marketer, rep, inside):
        with pytest.raises(Forbidden):
            upload(user, "orders", path)
    assert run(director, checked(director, "orders", path)).created == 3
