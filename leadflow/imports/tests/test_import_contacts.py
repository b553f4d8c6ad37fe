"""Importing companies and contacts end to end through the actions: upload, automatic
column matching, the check (dry run) with its findings, the batched run, resume,
and what is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Company, Consent, Contact
from leadflow.core.errors import Conflict, Forbidden, ValidationFailed
from leadflow.imports import actions, engine
from leadflow.imports.fields import kind_named
from leadflow.imports.models import ImportedRecord, ImportJob, ImportStatus
from leadflow.imports.tests.messy import write_csv, write_xlsx
from leadflow.marketing.models import ListMembership

pytestmark = pytest.mark.django_db


def upload(user, kind: str, path: Path) -> ImportJob:
    return actions.upload(
        actor=user,
        kind_key=kind,
        uploaded=SimpleUploadedFile(path.name, path.read_bytes()),
    )


def checked(user, kind, path, **options) -> ImportJob:
    job = upload(user, kind, path)
    if options:
        job = actions.set_mapping(job, actor=user, mapping=job.mapping, options=options)
    return actions.check_job(job, actor=user)


def run(user, job) -> ImportJob:
    return actions.start(job, actor=user, background=False)


CONTACT_ROWS = [
    ["Naam", "E-mailadres", "Telefoon", "Bedrijfsnaam", "Functie", "Nieuwsbrief"],
    [
        "Émile Dupré",
        "emile@cafe-brule.be",
        "+32 470 12 34 56",
        "Café Brûlé BV",
        "Chef",
        "ja",
    ],
    ["  Jürgen Müller ", "j.muller@example.de", "", "Müller GmbH", "", "nee"],
    [],
    ["Piet Janssens", " PIET@janssens.be ", "", "Janssens & Zonen", "Buyer", ""],
]


def test_headers_in_dutch_are_matched_and_contacts_created(admin, tmp_path):
    path = write_csv(tmp_path / "c.csv", CONTACT_ROWS, encoding="cp1252", delimiter=";")
    job = upload(admin, "contacts", path)
    assert job.encoding == "cp1252" and job.delimiter == ";"
    assert job.mapping == {
        "Naam": "name",
        "E-mailadres": "email",
        "Telefoon": "phone",
        "Bedrijfsnaam": "company",
        "Functie": "job_title",
        "Nieuwsbrief": "consent",
    }
    job = actions.check_job(job, actor=admin)
    assert job.status == ImportStatus.CHECKED
    assert job.report["rows"] == 3
    assert job.report["errors"] == 0
    assert Contact.objects.count() == 0  # the check writes nothing

    job = run(admin, job)
    assert job.status == ImportStatus.DONE
    assert (job.rows_done, job.created, job.updated, job.skipped) == (3, 3, 0, 0)
    emile = Contact.objects.get(email="emile@cafe-brule.be")
    assert emile.name == "Émile Dupré"
    assert emile.company.name == "Café Brûlé BV"
    assert emile.job_title == "Chef"
    assert emile.marketing_consent == Consent.GRANTED
    muller = Contact.objects.get(email_key="j.muller@example.de")
    assert muller.name == "Jürgen Müller"
    assert muller.marketing_consent == Consent.OPTED_OUT
    piet = Contact.objects.get(email_key="piet@janssens.be")
    assert piet.marketing_consent == Consent.UNKNOWN
    # Audited like a contact entered by hand, plus the import's own events.
    assert AuditEvent.objects.filter(event_type="contact.created").count() == 3
    assert AuditEvent.objects.filter(event_type="import.finished").count() == 1


def test_a_known_person_is_matched_like_the_intake_lookup(admin, tmp_path):
    from leadflow.contacts.actions import ContactData, create_contact

    known = create_contact(
        ContactData(name="Piet Janssens", email="piet@janssens.be"), actor=admin
    )
    path = write_csv(tmp_path / "c.csv", CONTACT_ROWS)
    job = checked(admin, "contacts", path)
    assert job.report["existing"] == 1
    job = run(admin, job)
    assert (job.created, job.updated) == (2, 1)  # Piet gets his job title and company
    known.refresh_from_db()
    assert known.job_title == "Buyer"
    assert known.company.name == "Janssens & Zonen"
    assert Contact.objects.filter(email_key="piet@janssens.be").count() == 1


def test_existing_values_are_kept_unless_update_is_chosen(admin, tmp_path):
    from leadflow.contacts.actions import ContactData, create_contact

    create_contact(
        ContactData(name="Piet", email="piet@janssens.be", job_title="CEO"),
        actor=admin,
    )
    path = write_csv(tmp_path / "c.csv", CONTACT_ROWS)
    run(admin, checked(admin, "contacts", path))
    assert Contact.objects.get(email_key="piet@janssens.be").job_title == "CEO"

    run(admin, checked(admin, "contacts", path, update_existing=True))
    piet = Contact.objects.get(email_key="piet@janssens.be")
    assert (piet.name, piet.job_title) == ("Piet Janssens", "Buyer")


def test_the_same_file_twice_creates_nothing_new(admin, tmp_path):
    path = write_csv(tmp_path / "c.csv", CONTACT_ROWS)
    run(admin, checked(admin, "contacts", path))
    second = run(admin, checked(admin, "contacts", path))
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert Contact.objects.count() == 3
    assert Company.objects.count() == 3


def test_duplicates_inside_the_file_become_one_contact(admin, tmp_path):
    rows = [["name", "email"]] + [
        [f"Person {i % 5}", f"p{i % 5}@example.com"] for i in range(40)
    ]
    path = write_csv(tmp_path / "dups.csv", rows)
    job = checked(admin, "contacts", path)
    assert job.report["duplicates_in_file"] == 35
    job = run(admin, job)
    assert Contact.objects.count() == 5
    assert (job.created, job.unchanged) == (5, 35)


def test_errors_are_listed_per_line_and_block_the_import(admin, tmp_path):
    rows = [
        ["name", "email", "employees"],
        ["Ann", "ann@example.com", "12"],
        ["Bob", "not an address", "x"],
        ["", "", "5"],
    ]
    job = checked(admin, "contacts", write_csv(tmp_path / "bad.csv", rows))
    assert job.report["error_lines"] == 2
    messages = {(i.line, i.column): i.message for i in job.issues.all()}
    assert "not an e-mail address" in messages[3, "email"]
    assert (3, "employees") in messages
    assert "at least one of" in messages[4, ""]
    ok, why = actions.can_start(job)
    assert not ok and "2 lines have errors" in why
    with pytest.raises(Conflict):
        actions.start(job, actor=admin, background=False)
    assert Contact.objects.count() == 0

    job = actions.set_mapping(
        job, actor=admin, mapping=job.mapping, options={"skip_invalid": True}
    )
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.created, job.skipped) == (1, 2)
    assert list(Contact.objects.values_list("name", flat=True)) == ["Ann"]


def test_marketing_lists_and_consent_never_override_an_opt_out(admin, tmp_path):
    from leadflow.contacts.actions import ContactData, create_contact
    from leadflow.marketing.actions import record_consent

    gone = create_contact(
        ContactData(name="Gone", email="gone@example.com"), actor=admin
    )
    record_consent(gone, actor=admin, consent=Consent.OPTED_OUT, reason="asked")
    rows = [
        ["name", "email", "opt-in", "lists"],
        ["Gone", "gone@example.com", "yes", "Newsletter"],
        ["New", "new@example.com", "yes", "Newsletter; Events"],
    ]
    run(admin, checked(admin, "contacts", write_csv(tmp_path / "l.csv", rows)))
    gone.refresh_from_db()
    assert gone.marketing_consent == Consent.OPTED_OUT
    assert not ListMembership.objects.filter(contact=gone).exists()
    new = Contact.objects.get(email="new@example.com")
    assert new.marketing_consent == Consent.GRANTED
    assert sorted(
        ListMembership.objects.filter(contact=new).values_list(
            "marketing_list__name", flat=True
        )
    ) == ["Events", "Newsletter"]


def test_companies_with_spellings_offered_for_merging(admin, tmp_path):
    rows = [
        ["Bedrijf", "Sector", "Werknemers", "Land"],
        ["Acme BV", "Bouw", "50", "BE"],
        ["ACME B.V.", "Bouw", "", "BE"],
        ["Acmee BV", "Bouw", "", "BE"],
        ["Other NV", "Zorg", "10", "nl"],
    ]
    job = checked(admin, "companies", write_csv(tmp_path / "co.csv", rows))
    groups = job.report["spelling_groups"]["name"]
    assert ["Acme BV", "ACME B.V.", "Acmee BV"] in [
        sorted(g, key=rows_order) for g in groups
    ]
    # Industries not yet known are listed; creating them is the default choice.
    assert dict(job.report["unknown"]["industry"]) == {"Bouw": 3, "Zorg": 1}
    assert not actions.can_start(job)[0]
    job = actions.set_mapping(
        job,
        actor=admin,
        mapping=job.mapping,
        options={
            "values": {"industry": {"Bouw": "+new", "Zorg": "Healthcare"}},
            "merges": {"name": {"ACME B.V.": "Acme BV", "Acmee BV": "Acme BV"}},
        },
    )
    job = run(admin, actions.check_job(job, actor=admin))
    assert job.status == ImportStatus.DONE
    acme = Company.objects.get(name="Acme BV")
    assert (acme.industry, acme.size, acme.country) == ("Bouw", 50, "BE")
    assert Company.objects.get(name="Other NV").industry == "Healthcare"
    assert Company.objects.count() == 2


def rows_order(value: str) -> int:
    return ["Acme BV", "ACME B.V.", "Acmee BV"].index(value)


def test_external_ids_are_remembered(admin, tmp_path):
    rows = [["id", "name", "city"], ["C-1", "Alpha NV", "Gent"]]
    run(admin, checked(admin, "companies", write_csv(tmp_path / "a.csv", rows)))
    alpha = Company.objects.get()
    assert (
        ImportedRecord.objects.get(kind="companies", external_id="C-1").object_id
        == alpha.pk
    )
    renamed = [["id", "name", "city"], ["C-1", "Alpha Group", "Gent"]]
    job = run(
        admin, checked(admin, "companies", write_csv(tmp_path / "b.csv", renamed))
    )
    assert job.unchanged == 1 and Company.objects.count() == 1


def test_xlsx_upload(admin, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            ["Name", "Email", "Company"],
            ["Ann Peeters", "ann@example.com", "Peeters BV"],
        ],
    )
    job = run(admin, checked(admin, "contacts", path))
    assert job.file_format == "xlsx" and job.created == 1


def test_unreadable_and_forbidden_uploads(admin, marketer, rep, tmp_path):
    with pytest.raises(ValidationFailed):
        actions.upload(
            actor=admin,
            kind_key="contacts",
            uploaded=SimpleUploadedFile(
                "x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100
            ),
        )
    with pytest.raises(ValidationFailed):
        actions.upload(
            actor=admin, kind_key="contacts", uploaded=SimpleUploadedFile("e.csv", b"")
        )
    with pytest.raises(Forbidden):
        upload(rep, "contacts", write_csv(tmp_path / "c.csv", CONTACT_ROWS))
    # Marketing imports contact lists.
    assert upload(marketer, "contacts", write_csv(tmp_path / "m.csv", CONTACT_ROWS)).pk


def test_interrupted_import_resumes_after_the_last_batch(admin, tmp_path, monkeypatch):
    """A failure in the third batch leaves the first two batches in the database and
    the job saying so; a resume writes the rest, and no line twice."""
    rows = [["name", "email"]] + [[f"P{i}", f"p{i}@example.com"] for i in range(25)]
    job = checked(admin, "contacts", write_csv(tmp_path / "r.csv", rows))
    from leadflow.imports.kinds.contacts import Contacts

    monkeypatch.setattr(Contacts, "batch_size", 10)
    real_write = Contacts.write

    def failing_write(self, row, ctx):
        if row["email"] == "p23@example.com":
            raise RuntimeError("disk full")
        return real_write(self, row, ctx)

    monkeypatch.setattr(Contacts, "write", failing_write)
    with pytest.raises(RuntimeError):
        actions.start(job, actor=admin, background=False)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert (job.rows_done, job.last_line) == (20, 21)  # header is line 1
    assert "disk full" in job.error
    assert Contact.objects.count() == 20  # the failed batch rolled back whole
    assert actions.can_resume(job)

    monkeypatch.setattr(Contacts, "write", real_write)
    job = actions.resume(job, actor=admin, background=False)
    assert job.status == ImportStatus.DONE
    assert (job.rows_done, job.created) == (25, 25)
    assert Contact.objects.count() == 25


def test_a_killed_worker_leaves_a_resumable_job(admin, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    rows = [["name", "email"], ["Ann", "ann@example.com"]]
    job = checked(admin, "contacts", write_csv(tmp_path / "k.csv", rows))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    job.refresh_from_db()
    assert actions.is_stale(job) and actions.can_resume(job)
    job = actions.resume(job, actor=admin, background=False)
    assert job.status == ImportStatus.DONE and Contact.objects.count() == 1


def test_mapping_changes_are_checked(admin, tmp_path):
    job = upload(admin, "contacts", write_csv(tmp_path / "c.csv", CONTACT_ROWS))
    with pytest.raises(ValidationFailed):
        actions.set_mapping(job, actor=admin, mapping={"Naam": "nonsense"})
    with pytest.raises(ValidationFailed):
        actions.set_mapping(
            job, actor=admin, mapping={"Naam": "name", "Functie": "name"}
        )
    with pytest.raises(Conflict):
        actions.set_mapping(
            job, actor=admin, mapping=job.mapping, version=job.version + 5
        )


def test_check_does_not_hold_the_file_in_memory(admin, tmp_path):
    """The check streams: a 20,000-line file goes through with a bounded peak."""
    import tracemalloc

    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("name,email\n")
        for i in range(20_000):
            out.write(f"Person {i},p{i}@example.com\n")
    job = upload(admin, "contacts", path)
    tracemalloc.start()
    engine.check(job, kind_named("contacts"))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Per distinct e-mail the duplicate check keeps one key (~100 bytes): 20,000
    # keys stay far below what holding the file's rows as Python lists would take.
    assert peak < 12 * 1024 * 1024


def test_a_file_broken_halfway_blocks_the_import_with_the_reason(admin, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('name,email\nAnn,ann@example.com\n"Bob,bob@example.com\n')
    job = actions.check_job(upload(admin, "contacts", path), actor=admin)
    assert job.status == ImportStatus.UPLOADED
    assert job.report["blocking"] == [
        "Row 3: a quote is opened but never closed, so the rest of the file would "
        "be one cell."
    ]
    assert not actions.can_start(job)[0]


def test_grouped_integers_follow_the_files_decimal_style(admin, tmp_path):
    rows = [
        ["name", "email", "company", "employees"],
        ["Ann", "ann@example.com", "Peeters BV", "1.000"],
    ]
    job = checked(admin, "contacts", write_csv(tmp_path / "n.csv", rows), decimal=",")
    assert job.report["errors"] == 0
    run(admin, job)
    assert Contact.objects.get().company.size == 1000
