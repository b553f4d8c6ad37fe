"""Importing customer context (overdue invoices, complaints, sales per year) end to
end: Dutch and English headers, messy dates and amounts, companies matched by name or
old id, duplicates, re-imports, row rules, and where the records show."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.actions import record_invoice
from leadflow.contacts.models import Complaint, Invoice, SalesRecord
from leadflow.contacts.tests.factories import make_company, make_contact
from leadflow.core.errors import Conflict, Forbidden, ValidationFailed
from leadflow.imports import actions
from leadflow.imports.models import ImportedRecord, ImportStatus
from leadflow.imports.tests.messy import write_csv, write_xlsx
from leadflow.imports.tests.test_import_contacts import checked, run, upload
from leadflow.opportunities.queries import customer_context
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


@pytest.fixture
def companies(admin):
    return {
        "acme": make_company("Acme BV", actor=admin),
        "brule": make_company("Café Brûlé NV", actor=admin),
    }


def issues(job) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for issue in job.issues.all():
        found.setdefault(issue.line, []).append(issue.message)
    return found


# --- invoices -----------------------------------------------------------------------------

INVOICES_NL = [
    ["Klant", "Factuurnummer", "Factuurdatum", "Vervaldatum", "Bedrag", "Betaald op"],
    ["ACME B.V.", "F-2024-001", "05/03/2024", "04/04/2024", "1.234,56", ""],
    [" Café Brûlé ", "F-2024-002", "15/01/2024", "14/02/2024", "€ 99,90", "20/02/2024"],
    [],
    ["Acme", "F-2024-001", "05/03/2024", "04/04/2024", "1.234,56", ""],
]


def test_invoices_with_dutch_headers_and_messy_values(admin, companies, tmp_path):
    path = write_csv(
        tmp_path / "facturen.csv", INVOICES_NL, encoding="cp1252", delimiter=";"
    )
    job = upload(admin, "invoices", path)
    assert job.mapping == {
        "Klant": "company",
        "Factuurnummer": "number",
        "Factuurdatum": "issued_on",
        "Vervaldatum": "due_on",
        "Bedrag": "amount",
        "Betaald op": "paid_on",
    }
    job = actions.check_job(job, actor=admin)
    assert job.report["date_order"] == "dmy"
    assert job.report["decimal"] == ","
    assert (job.report["rows"], job.report["errors"]) == (3, 0)
    assert job.report["duplicates_in_file"] == 1
    assert Invoice.objects.count() == 0  # the check writes nothing

    job = run(admin, job)
    assert job.status == ImportStatus.DONE
    assert (job.created, job.updated, job.unchanged) == (2, 0, 1)
    first = Invoice.objects.get(number="F-2024-001")
    assert first.company == companies["acme"]
    assert (first.issued_on, first.due_on, first.amount, first.paid_on) == (
        date(2024, 3, 5),
        date(2024, 4, 4),
        Decimal("1234.56"),
        None,
    )
    second = Invoice.objects.get(number="F-2024-002")
    assert second.company == companies["brule"]
    assert (second.amount, second.paid_on) == (Decimal("99.90"), date(2024, 2, 20))
    # On the company's timeline, like the rest of its customer context.
    event = AuditEvent.objects.get(
        event_type="invoice.recorded", subject_id=companies["acme"].pk
    )
    assert event.new == {
        "id": first.pk,
        "number": "F-2024-001",
        "issued_on": "2024-03-05",
        "due_on": "2024-04-04",
        "amount": "1234.56",
        "paid_on": None,
    }
    assert event.actor == admin and event.subject_type == "contacts.company"


def test_english_headers_are_matched(admin, companies, tmp_path):
    rows = [
        ["Customer", "Invoice number", "Invoice date", "Due date", "Amount", "Paid"],
        ["Acme", "INV-9", "2024-03-05", "2024-04-04", "10.50", "2024-04-01"],
    ]
    job = upload(admin, "invoices", write_csv(tmp_path / "inv.csv", rows))
    assert job.mapping == {
        "Customer": "company",
        "Invoice number": "number",
        "Invoice date": "issued_on",
        "Due date": "due_on",
        "Amount": "amount",
        "Paid": "paid_on",
    }
    run(admin, actions.check_job(job, actor=admin))
    invoice = Invoice.objects.get()
    assert (invoice.amount, invoice.paid_on) == (Decimal("10.50"), date(2024, 4, 1))


def test_a_reimport_fills_the_paid_date_and_changes_nothing_else(
    admin, companies, tmp_path
):
    path = write_csv(tmp_path / "a.csv", INVOICES_NL, delimiter=";")
    run(admin, checked(admin, "invoices", path))
    again = run(admin, checked(admin, "invoices", path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    paid = [
        INVOICES_NL[0],
        ["Acme", "F-2024-001", "05/03/2024", "04/04/2024", "1.000,00", "10/04/2024"],
    ]
    # Every date of this one line could be d/m or m/d: the order is chosen.
    job = checked(admin, "invoices", write_csv(tmp_path / "b.csv", paid))
    assert job.report["date_problem"] == "ambiguous"
    assert not actions.can_start(job)[0]
    job = run(
        admin,
        checked(
            admin, "invoices", write_csv(tmp_path / "b.csv", paid), date_order="dmy"
        ),
    )
    assert (job.created, job.updated) == (0, 1)
    invoice = Invoice.objects.get(number="F-2024-001")
    # The paid date was empty and is filled; the amount someone had stays.
    assert (invoice.paid_on, invoice.amount) == (date(2024, 4, 10), Decimal("1234.56"))
    assert Invoice.objects.count() == 2
    event = AuditEvent.objects.get(event_type="invoice.updated")
    assert event.old == {"id": invoice.pk, "paid_on": None}
    assert event.new == {"paid_on": "2024-04-10"}

    run(
        admin,
        checked(
            admin,
            "invoices",
            write_csv(tmp_path / "c.csv", paid),
            date_order="dmy",
            update_existing=True,
        ),
    )
    assert Invoice.objects.get(number="F-2024-001").amount == Decimal("1000.00")


def test_invoice_row_rules(admin, companies, tmp_path):
    future = date(THIS_YEAR + 1, 1, 31).strftime("%d/%m/%Y")
    rows = [
        [
            "Klant",
            "Factuurnummer",
            "Factuurdatum",
            "Vervaldatum",
            "Bedrag",
            "Betaald op",
        ],
        ["Acme", "OK-1", "05/03/2024", future, "10,00", ""],  # due later: fine
        ["Acme", "F-2", future, future, "10,00", ""],
        ["Acme", "F-3", "05/03/2024", "04/04/2024", "10,00", "01/03/2024"],
        ["Acme", "F-4", "05/03/2024", "04/04/2024", "-25,00", ""],
        ["Acme", "F-5", "05/03/2024", "01/03/2024", "10,00", ""],
        ["Unknown Ltd", "F-6", "05/03/2024", "04/04/2024", "10,00", ""],
        ["Acme", "", "05/03/2024", "04/04/2024", "10,00", ""],
        ["Acme", "F-8", "05/03/2024", "04/04/2024", "10,555", ""],
    ]
    job = checked(admin, "invoices", write_csv(tmp_path / "bad.csv", rows))
    found = issues(job)
    assert 2 not in found
    assert found[3] == [f"Issued on cannot be in the future ({THIS_YEAR + 1}-01-31)."]
    assert found[4] == ["An invoice cannot be paid before it was issued."]
    assert found[5] == [
        "An invoice amount is zero or more (credit notes are left out)."
    ]
    assert found[6] == ["An invoice cannot be due before it was issued."]
    assert found[7] == ["Unknown Ltd is not in Leadflow: import companies first."]
    assert found[8] == ["This column must be filled."]
    assert found[9] == ["10.555 is not an amount in euro and cent."]
    assert job.issues.get(line=7).column == "Klant"
    assert job.issues.get(line=9).column == "Bedrag"
    assert job.report["error_lines"] == 7
    with pytest.raises(Conflict):
        actions.start(job, actor=admin, background=False)
    assert Invoice.objects.count() == 0


def test_companies_matched_by_their_id_in_the_old_system(admin, tmp_path):
    run(
        admin,
        checked(
            admin,
            "companies",
            write_csv(tmp_path / "co.csv", [["id", "name"], ["K-77", "Delta NV"]]),
        ),
    )
    rows = [
        ["Klantnummer", "Factuur", "Datum", "Vervaldag", "Openstaand"],
        ["K-77", "1", "2024-01-02", "2024-02-01", "5"],
        ["K-78", "2", "2024-01-02", "2024-02-01", "5"],
    ]
    job = upload(admin, "invoices", write_csv(tmp_path / "i.csv", rows))
    assert job.mapping == {
        "Klantnummer": "company_id",
        "Factuur": "number",
        "Datum": "issued_on",
        "Vervaldag": "due_on",
        "Openstaand": "amount",
    }
    job = actions.check_job(job, actor=admin)
    assert issues(job) == {3: ["K-78 is not in Leadflow: import companies first."]}
    job = actions.set_mapping(
        job, actor=admin, mapping=job.mapping, options={"skip_invalid": True}
    )
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.created, job.skipped) == (1, 1)
    assert Invoice.objects.get().company.name == "Delta NV"


def test_an_imported_overdue_invoice_shows_on_the_companys_qualified_lead(
    admin, rep, companies, tmp_path, client
):
    contact = make_contact(company=companies["acme"])
    lead = make_lead(admin, owner=rep, contact=contact)
    path = write_csv(tmp_path / "f.csv", INVOICES_NL, delimiter=";")
    run(admin, checked(admin, "invoices", path))
    context = customer_context(lead)
    assert [i.number for i in context["overdue_invoices"]] == ["F-2024-001"]
    assert context["overdue_total"] == Decimal("1234.56")
    client.force_login(rep)
    page = client.get(f"/opportunities/{lead.pk}/")
    assert page.status_code == 200
    assert "F-2024-001" in page.content.decode()


def test_an_imported_overdue_invoice_is_a_flag_on_the_intake_lookup(
    admin, companies, tmp_path, api_as
):
    make_contact("Ann Peeters", email="ann@acme.example", company=companies["acme"])
    path = write_csv(tmp_path / "f.csv", INVOICES_NL, delimiter=";")
    run(admin, checked(admin, "invoices", path))
    response = api_as("director").post(
        "/api/intake/lookup", {"email": "ann@acme.example"}
    )
    assert response.status_code == 200
    flags = response.json()["matches"][0]["flags"]
    assert flags["overdue_invoices"] == 1
    assert flags["open_complaints"] == 0


def test_record_invoice_refuses_a_second_invoice_with_the_same_number(admin, companies):
    values = dict(
        number="X-1",
        issued_on=date(2024, 1, 1),
        due_on=date(2024, 2, 1),
        amount=Decimal("1"),
    )
    record_invoice(companies["acme"], actor=admin, **values)
    with pytest.raises(Conflict) as caught:
        record_invoice(companies["acme"], actor=admin, **values)
    assert caught.value.code == "invoice_exists"
    # Another company may have the same number.
    record_invoice(companies["brule"], actor=admin, **values)
    with pytest.raises(ValidationFailed) as too_precise:
        record_invoice(
            companies["acme"],
            actor=admin,
            **{**values, "number": "X-2", "amount": Decimal("1.234")},
        )
    assert too_precise.value.code == "invalid_value"


# --- complaints ---------------------------------------------------------------------------


COMPLAINTS_NL = [
    ["Klachtnummer", "Bedrijf", "Datum", "Onderwerp", "Opgelost op"],
    ["K1", "Acme BV", "3/2/2024", "Levering  te laat", ""],
    ["K2", "Café Brûlé", "14/01/2024", "Factuur fout", "20/01/2024"],
    ["K1", "Acme BV", "3/2/2024", "Levering te laat", ""],
]


def test_complaints_with_dutch_headers(admin, rep, companies, tmp_path):
    path = write_csv(tmp_path / "klachten.csv", COMPLAINTS_NL, delimiter="\t")
    job = upload(admin, "complaints", path)
    assert job.mapping == {
        "Klachtnummer": "external_id",
        "Bedrijf": "company",
        "Datum": "opened_on",
        "Onderwerp": "subject",
        "Opgelost op": "resolved_on",
    }
    job = run(admin, actions.check_job(job, actor=admin))
    assert job.report["duplicates_in_file"] == 1
    assert (job.created, job.unchanged) == (2, 1)
    late = Complaint.objects.get(company=companies["acme"])
    assert (late.opened_on, late.subject, late.resolved_on) == (
        date(2024, 2, 3),
        "Levering te laat",
        None,
    )
    assert Complaint.objects.get(company=companies["brule"]).resolved_on == date(
        2024, 1, 20
    )
    assert ImportedRecord.objects.get(
        kind="complaints", external_id="K1"
    ).object_id == (late.pk)
    lead = make_lead(admin, owner=rep, contact=make_contact(company=companies["acme"]))
    assert customer_context(lead)["open_complaints"] == [late]

    resolved = [
        ["Complaint id", "Company", "Opened", "Subject", "Resolved"],
        ["K1", "Acme", "2024-02-03", "Late delivery", "2024-03-01"],
    ]
    job = upload(admin, "complaints", write_csv(tmp_path / "r.csv", resolved))
    assert job.mapping == {
        "Complaint id": "external_id",
        "Company": "company",
        "Opened": "opened_on",
        "Subject": "subject",
        "Resolved": "resolved_on",
    }
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.created, job.updated) == (0, 1)
    late.refresh_from_db()
    # Same id: the resolved date is filled, the subject someone typed stays.
    assert (late.subject, late.resolved_on) == ("Levering te laat", date(2024, 3, 1))
    assert customer_context(lead)["open_complaints"] == []


def test_complaint_rules(admin, companies, tmp_path):
    rows = [
        ["Company", "Opened", "Subject", "Resolved"],
        ["Acme", "2024-02-03", "Broken", "2024-02-01"],
        ["Acme", f"{THIS_YEAR + 1}-01-01", "From the future", ""],
        ["Nobody BV", "2024-02-03", "Who?", ""],
    ]
    job = checked(admin, "complaints", write_csv(tmp_path / "c.csv", rows))
    found = issues(job)
    assert found[2] == ["A complaint cannot be resolved before it was opened."]
    assert found[3] == [f"Opened on cannot be in the future ({THIS_YEAR + 1}-01-01)."]
    assert found[4] == ["Nobody BV is not in Leadflow: import companies first."]


# --- sales history ------------------------------------------------------------------------


def test_sales_history_from_xlsx_and_update_existing(admin, rep, companies, tmp_path):
    path = write_xlsx(
        tmp_path / "omzet.xlsx",
        [
            ["Bedrijf", "Boekjaar", "Omzet"],
            ["Acme BV", 2022, Decimal("120000.50")],
            ["Acme BV", 2023, 98000],
            ["Café Brûlé", "2023", Decimal("12345.67")],
            ["Acme BV", 2023, 98000],
        ],
    )
    job = upload(admin, "sales_history", path)
    assert job.mapping == {"Bedrijf": "company", "Boekjaar": "year", "Omzet": "revenue"}
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.created, job.unchanged) == (3, 1)
    assert list(
        SalesRecord.objects.filter(company=companies["acme"]).values_list(
            "year", "revenue"
        )
    ) == [(2023, Decimal("98000.00")), (2022, Decimal("120000.50"))]
    assert SalesRecord.objects.get(company=companies["brule"]).revenue == Decimal(
        "12345.67"
    )

    changed = [["Company", "Year", "Revenue"], ["Acme", "2023", "99.000,00"]]
    path = write_csv(tmp_path / "s.csv", changed)
    job = upload(admin, "sales_history", path)
    assert job.mapping == {"Company": "company", "Year": "year", "Revenue": "revenue"}
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.updated, job.unchanged) == (0, 1)
    assert SalesRecord.objects.get(
        company=companies["acme"], year=2023
    ).revenue == Decimal("98000.00")

    job = run(admin, checked(admin, "sales_history", path, update_existing=True))
    assert job.updated == 1
    assert SalesRecord.objects.get(
        company=companies["acme"], year=2023
    ).revenue == Decimal("99000.00")
    event = AuditEvent.objects.get(event_type="sales_year.updated")
    assert (event.old["revenue"], event.new["revenue"]) == ("98000.00", "99000.00")
    lead = make_lead(admin, owner=rep, contact=make_contact(company=companies["acme"]))
    assert [r.year for r in customer_context(lead)["sales_history"]] == [2023, 2022]


def test_sales_history_rules(admin, companies, tmp_path):
    rows = [
        ["Company", "Year", "Revenue"],
        ["Acme", "1989", "5"],
        ["Acme", str(THIS_YEAR + 1), "5"],
        ["Acme", str(THIS_YEAR), "-5"],
        ["Acme", str(THIS_YEAR), "5"],
    ]
    job = checked(admin, "sales_history", write_csv(tmp_path / "s.csv", rows))
    found = issues(job)
    assert found[2] == [f"The year is between 1990 and {THIS_YEAR}."]
    assert found[3] == [f"The year is between 1990 and {THIS_YEAR}."]
    assert found[4] == ["Revenue is zero or more."]
    assert 5 not in found


def test_history_kinds_are_for_admins_and_the_sales_director(
    admin, director, marketer, rep, outsider, companies, tmp_path
):
    path = write_csv(tmp_path / "f.csv", INVOICES_NL, delimiter=";")
    for user in (marketer, rep, outsider):
        for kind in ("invoices", "complaints", "sales_history"):
            with pytest.raises(Forbidden):
                upload(user, kind, path)
    job = run(director, checked(director, "invoices", path))
    assert job.created == 2


# --- the same kinds on the page, in the API and on the command line -------------------------


def test_the_import_page_offers_the_history_kinds_to_whom_may_use_them(
    admin, director, marketer, client
):
    client.force_login(director)
    page = client.get("/imports/").content.decode()
    for key in ("invoices", "complaints", "sales_history", "orders", "activities"):
        assert f'<option value="{key}">' in page
    assert "Credit notes (negative amounts) are refused." in page
    client.force_login(marketer)
    page = client.get("/imports/").content.decode()
    assert '<option value="contacts">' in page
    assert '<option value="invoices">' not in page


def test_invoices_through_the_api(
    companies, tmp_path, api_as, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "f.csv", INVOICES_NL, delimiter=";")
    with path.open("rb") as handle:
        refused = api_as("marketer").client.post(
            "/api/imports",
            {"kind": "invoices", "file": handle},
            **api_as("marketer")._auth(),
        )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You may not import invoices."

    api = api_as("director")
    with path.open("rb") as handle:
        response = api.client.post(
            "/api/imports", {"kind": "invoices", "file": handle}, **api._auth()
        )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["mapping"]["Betaald op"] == "paid_on"
    url = f"/api/imports/{job['id']}"
    checked = api.post(f"{url}/check", {"version": job["version"]}).json()
    assert checked["can_start"] is True
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{url}/start", {"version": checked["version"]})
    assert started.status_code == 202
    done = api.get(url).json()
    assert (done["status"], done["created"], done["unchanged"]) == ("done", 2, 1)
    assert Invoice.objects.filter(company=companies["acme"]).get().amount == Decimal(
        "1234.56"
    )


def test_sales_history_on_the_command_line(admin, companies, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = write_csv(
        tmp_path / "omzet.csv",
        [["Klant", "Jaar", "Omzet"], ["Acme", "2023", "1.500,25"]],
        delimiter=";",
    )
    out, err = StringIO(), StringIO()
    call_command(
        "import_data",
        "sales_history",
        str(path),
        "--user",
        "admin",
        stdout=out,
        stderr=err,
    )
    record = SalesRecord.objects.get()
    assert (record.company, record.year, record.revenue) == (
        companies["acme"],
        2023,
        Decimal("1500.25"),
    )


def test_an_interrupted_invoice_import_resumes_without_doubles(
    admin, companies, tmp_path, monkeypatch
):
    from leadflow.imports.kinds.context import Invoices

    rows = [["Company", "Number", "Issued", "Due", "Amount"]] + [
        ["Acme", f"N-{i}", "2024-01-15", "2024-02-14", f"{i}.00"] for i in range(12)
    ]
    job = checked(admin, "invoices", write_csv(tmp_path / "n.csv", rows))
    monkeypatch.setattr(Invoices, "batch_size", 5)
    real_write = Invoices.write

    def failing_write(self, row, ctx):
        if row["number"] == "N-7":
            raise RuntimeError("connection lost")
        return real_write(self, row, ctx)

    monkeypatch.setattr(Invoices, "write", failing_write)
    with pytest.raises(RuntimeError):
        actions.start(job, actor=admin, background=False)
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (ImportStatus.FAILED, 5)
    assert Invoice.objects.count() == 5  # the second batch rolled back whole

    monkeypatch.setattr(Invoices, "write", real_write)
    job = actions.resume(job, actor=admin, background=False)
    assert (job.status, job.created) == (ImportStatus.DONE, 12)
    assert sorted(Invoice.objects.values_list("amount", flat=True)) == [
        Decimal(i) for i in range(12)
    ]
