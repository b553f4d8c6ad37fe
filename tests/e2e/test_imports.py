"""Importing a messy contact export in a real browser.

The administrator opens the import page from the navigation, uploads a Latin-1 CSV
with semicolons and Dutch headers (a person twice, one bad e-mail address, a company
spelled two ways, an industry Leadflow does not know), sees the columns matched
automatically, checks the file and sees each finding (the error with its line, the
unknown industry, the spelling group), decides each, checks again, imports, and
sees the counts; the contacts, the one company and the new industry are stored. The
progress bar is watched on an import the worker has not finished: HTMX polls it and
the page reloads when the import ends. A marketing user sees only their own imports.

In the test settings tasks run at once (``ImmediateBackend``), so an import started
from the page is done when the page comes back; the polling journey therefore runs
the worker's part (``run_job``) itself, while the page polls.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from playwright.sync_api import Page, expect

from leadflow.accounts.models import Role
from leadflow.contacts.models import Company, Contact
from leadflow.imports import actions
from leadflow.imports.models import ImportJob, ImportStatus
from leadflow.imports.tests.messy import write_csv
from tests.e2e.conftest import _user

FILE_NAME = "export-oud-crm.csv"
ROWS = [
    ["Naam", "E-mailadres", "Telefoon", "Bedrijfsnaam", "Sector", "Functie"],
    # line 2
    ["Émile Dupré", "emile@cafe-brule.be", "+32 470 12 34 56", "Café Brûlé BV",
     "Horeca", "Chef"],
    # lines 3-4: the company as the old CRM spelled it most of the time
    ["Piet Janssens", "piet@janssens.be", "", "Janssens & Zonen BV", "", "Zaakvoerder"],
    ["An Janssens", "an@janssens.be", "", "Janssens & Zonen BV", "", "Aankoper"],
    # line 5: not an e-mail address (an error; skipped on import)
    ["Jan Peeters", "jan.peeters(at)janssens.be", "", "Janssen & Zonen BV", "", ""],
    # line 6: the same company, one letter short
    ["Els Goossens", "els@janssen-zonen.be", "", "Janssen & Zonen BV", "",
     "Boekhouder"],
    # line 7: Émile again, with stray spaces and capitals (one person)
    ["  Émile Dupré ", " EMILE@cafe-brule.be ", "", "Café Brûlé BV", "Horeca", ""],
    # line 8
    ["Søren Ørsted", "soren@orsted.dk", "", "Ørsted A/S", "Horeca", "CTO"],
]  # fmt: skip
AUTO_MAPPING = {
    "Naam": "name",
    "E-mailadres": "email",
    "Telefoon": "phone",
    "Bedrijfsnaam": "company",
    "Sector": "industry",
    "Functie": "job_title",
}


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def watch(page: Page, base_url: str) -> dict:
    """Console errors, page errors and requests to any other host."""
    seen: dict[str, list[str]] = {"errors": [], "foreign": []}
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

    def request(r):
        if not (r.url.startswith(base_url) or r.url.startswith(("data:", "blob:"))):
            seen["foreign"].append(r.url)

    page.on("request", request)
    return seen


@pytest.fixture(autouse=True)
def warm_server(request):
    """The live server's first request imports every view and the API (about 20 s on
    a busy shared machine, over the navigation timeout): made here, once, untimed."""
    if "browser_at" in request.fixturenames:
        browser_at = request.getfixturevalue("browser_at")
        browser_at.page.request.get(browser_at.url("/login/"), timeout=180_000)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ada(reference_data):
    return _user("ada", "Ada", "Admin", Role.ADMIN)


@pytest.fixture
def eva(reference_data):
    return _user("eva", "Eva", "Marketing", Role.MARKETING)


def messy_file(tmp_path):
    path = write_csv(tmp_path / FILE_NAME, ROWS, encoding="latin-1", delimiter=";")
    assert "Émile".encode("latin-1") in path.read_bytes()  # really Latin-1
    return path


def test_admin_imports_a_messy_contact_export(browser_at, ada, media, tmp_path):
    path = messy_file(tmp_path)
    page = browser_at.login(ada.username)
    seen = watch(page, browser_at.base_url)

    by_testid(page, "nav-imports").click()
    expect(page).to_have_url(browser_at.url("/imports/"))
    expect(page.locator("h1")).to_have_text("Imports")
    form = by_testid(page, "import-upload")
    form.locator("select[name=kind]").select_option("contacts")
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()

    # --- the columns, matched from their Dutch names -----------------------------------
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    job = ImportJob.objects.get()
    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    expect(page.locator("h1")).to_contain_text(FILE_NAME)
    for header, field in AUTO_MAPPING.items():
        expect(by_testid(page, f"map-{header}")).to_have_value(field)
    # The first values, read as Latin-1.
    expect(by_testid(page, "import-mapping")).to_contain_text("Émile Dupré")
    expect(by_testid(page, "import-status")).to_contain_text("uploaded")

    # --- the check: every finding, nothing written -------------------------------------
    by_testid(page, "import-check").click()
    results = by_testid(page, "import-results")
    expect(results).to_contain_text("7 rows")
    # The bad address, and the three lines naming an industry not mapped yet.
    expect(by_testid(page, "error-lines")).to_have_text("4 lines with errors")
    issues = by_testid(page, "import-issues")
    error_row = issues.locator("tr", has_text="(at)")
    expect(error_row.locator("td").nth(0)).to_have_text("5")
    expect(error_row.locator("td").nth(1)).to_have_text("E-mailadres")
    expect(error_row).to_contain_text(
        "jan.peeters(at)janssens.be is not an e-mail address."
    )
    expect(issues.locator("tr", has_text="Horeca is not known")).to_have_count(3)
    unknown = by_testid(page, "unknown-values")
    expect(unknown).to_contain_text("Industries")
    expect(unknown.locator("tr", has_text="Horeca")).to_contain_text("3")
    groups = by_testid(page, "spelling-groups")
    expect(groups).to_contain_text("Janssens & Zonen BV")
    expect(groups).to_contain_text("Janssen & Zonen BV")
    expect(by_testid(page, "why-not")).to_contain_text("4 lines have errors")
    expect(by_testid(page, "import-start")).to_have_count(0)
    assert Contact.objects.count() == 0 and Company.objects.count() == 0

    # --- decide: create the industry, merge the spellings, skip the bad line -----------
    by_testid(page, "value-industry-Horeca").select_option("+new")
    by_testid(page, "merge-company-0").check()
    page.locator("select[name='merge-company-0-target']").select_option(
        "Janssens & Zonen BV"
    )
    by_testid(page, "skip-invalid").check()
    expect(by_testid(page, "import-check")).to_have_text("Check again")
    by_testid(page, "import-check").click()
    expect(by_testid(page, "import-status")).to_contain_text("checked")
    expect(by_testid(page, "error-lines")).to_have_text("1 line with errors")
    expect(results).to_contain_text("1 line repeats an earlier line")
    duplicate_row = issues.locator("tr", has_text="The same as line 2")
    expect(duplicate_row.locator("td").nth(0)).to_have_text("7")
    expect(issues.locator("tr", has_text="Horeca is not known")).to_have_count(0)
    expect(by_testid(page, "unknown-values")).to_have_count(0)
    expect(by_testid(page, "merge-company-0")).to_be_checked()
    expect(by_testid(page, "skip-invalid")).to_be_checked()
    assert Contact.objects.count() == 0

    # --- import: done when the page comes back (tasks run at once in the tests) --------
    start = by_testid(page, "import-start")
    expect(start).to_have_text("Import 7 rows")
    start.click()
    expect(by_testid(page, "import-status")).to_have_text("done")
    progress = by_testid(page, "import-progress")
    expect(progress).to_contain_text("7 of 7 rows")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    # Finished: the bar does not poll any more.
    expect(progress).not_to_have_attribute("hx-get", re.compile("."))
    expect(by_testid(page, "count-created")).to_have_text("5")
    expect(by_testid(page, "count-skipped")).to_have_text("1")
    expect(progress).to_contain_text("already there: 1")
    # The skipped line stays listed with its reason.
    expect(
        by_testid(page, "import-issues").locator("tr", has_text="(at)").first
    ).to_contain_text("5")

    # --- what is stored -----------------------------------------------------------------
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created, job.unchanged, job.skipped, job.rows_done) == (5, 1, 1, 7)
    assert sorted(Contact.objects.values_list("name", flat=True)) == [
        "An Janssens",
        "Els Goossens",
        "Piet Janssens",
        "Søren Ørsted",
        "Émile Dupré",
    ]
    assert not Contact.objects.filter(email__icontains="(at)").exists()
    assert Contact.objects.filter(email_key="emile@cafe-brule.be").count() == 1
    janssens = Company.objects.get(name="Janssens & Zonen BV")
    assert not Company.objects.filter(name="Janssen & Zonen BV").exists()
    assert set(janssens.contacts.values_list("name", flat=True)) == {
        "Piet Janssens",
        "An Janssens",
        "Els Goossens",
    }
    assert dict(Company.objects.values_list("name", "industry")) == {
        "Café Brûlé BV": "Horeca",
        "Janssens & Zonen BV": "",
        "Ørsted A/S": "Horeca",
    }
    emile = Contact.objects.get(email_key="emile@cafe-brule.be")
    assert (emile.job_title, emile.created_by) == ("Chef", ada)

    # --- the import log -----------------------------------------------------------------
    page.locator("main a", has_text="Imports").first.click()
    log_row = by_testid(page, "import-log").locator("tbody tr")
    expect(log_row).to_have_count(1)
    expect(log_row).to_contain_text(FILE_NAME)
    expect(log_row).to_contain_text("Ada Admin")
    expect(log_row).to_contain_text("done")
    expect(log_row).to_contain_text("7/7")

    assert seen["errors"] == []
    assert seen["foreign"] == []


def test_the_progress_bar_polls_until_the_worker_is_done(
    browser_at, ada, media, tmp_path, settings
):
    """An import queued for a worker in another process (the dummy task backend keeps
    the task instead of running it): the bar polls /imports/<id>/progress/ through
    HTMX; when the worker has finished, the next poll reloads the page, which then
    shows the outcome."""
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}
    }
    path = messy_file(tmp_path)
    job = actions.upload(
        actor=ada,
        kind_key="contacts",
        uploaded=SimpleUploadedFile(path.name, path.read_bytes()),
    )
    job = actions.set_mapping(
        job,
        actor=ada,
        mapping=job.mapping,
        options={"skip_invalid": True, "values": {"industry": {"Horeca": "+new"}}},
    )
    job = actions.check_job(job, actor=ada)
    job = actions.start(job, actor=ada)
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED

    page = browser_at.login(ada.username)
    seen = watch(page, browser_at.base_url)
    polls: list[int] = []
    page.on(
        "response",
        lambda r: polls.append(r.status) if "/progress/" in r.url else None,
    )
    browser_at.goto(f"/imports/{job.pk}/")
    progress = by_testid(page, "import-progress")
    expect(progress).to_have_attribute("hx-get", f"/imports/{job.pk}/progress/")
    expect(progress).to_contain_text("0 of 7 rows")
    expect(progress).to_contain_text("waiting for the worker")
    with page.expect_response(re.compile(rf"/imports/{job.pk}/progress/$")):
        pass  # at least one poll while queued
    expect(by_testid(page, "import-status")).not_to_have_text("done")

    # The worker's part, while the page keeps polling.
    actions.run_job(job.pk)
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE

    expect(by_testid(page, "import-status")).to_have_text("done")
    expect(by_testid(page, "count-created")).to_have_text("5")
    expect(by_testid(page, "count-skipped")).to_have_text("1")
    expect(by_testid(page, "import-progress")).not_to_have_attribute(
        "hx-get", re.compile(".")
    )
    assert polls and all(status == 200 for status in polls)
    assert seen["errors"] == [] and seen["foreign"] == []


def test_a_marketing_user_sees_only_their_own_imports(
    browser_at, ada, eva, media, tmp_path
):
    path = messy_file(tmp_path)
    theirs = actions.upload(
        actor=ada,
        kind_key="contacts",
        uploaded=SimpleUploadedFile("admins-file.csv", path.read_bytes()),
    )
    actions.upload(
        actor=eva,
        kind_key="contacts",
        uploaded=SimpleUploadedFile("newsletter-list.csv", path.read_bytes()),
    )
    page = browser_at.login(eva.username)
    seen = watch(page, browser_at.base_url)
    by_testid(page, "nav-imports").click()
    rows = by_testid(page, "import-log").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("newsletter-list.csv")
    expect(by_testid(page, "import-log")).not_to_contain_text("admins-file.csv")
    # History kinds are not offered to marketing.
    kinds = page.locator("select[name=kind] option")
    expect(kinds).to_contain_text(["Companies", "Contacts"])
    assert page.request.get(browser_at.url(f"/imports/{theirs.pk}/")).status == 404
    assert seen["errors"] == [] and seen["foreign"] == []


def _dutch_catalogue_has_import_headings() -> bool:
    with translation.override("nl"):
        return all(
            translation.gettext(text) != text
            for text in ("Imports", "Import a file", "Import log")
        )


@pytest.mark.skipif(
    not _dutch_catalogue_has_import_headings(),
    reason="the Dutch catalogue has no import headings yet (translations come last)",
)
def test_the_import_page_in_dutch(browser_at, ada, media):
    page = browser_at.login(ada.username)
    by_testid(page, "nav-imports").click()
    by_testid(page, "lang-nl").click()
    with translation.override("nl"):
        headings = [
            translation.gettext("Imports"),
            translation.gettext("Import a file"),
            translation.gettext("Import log"),
        ]
    expect(page.locator("h1")).to_have_text(headings[0])
    expect(page.locator("h2")).to_contain_text(headings[1:])


def test_first_and_last_name_columns_are_enough_for_a_contact(ada, media, tmp_path):
    rows = [
        ["Voornaam", "Achternaam", "Bedrijfsnaam"],
        ["Piet", "Janssens", "Janssens & Zonen BV"],
    ]
    path = write_csv(tmp_path / "namen.csv", rows, encoding="latin-1", delimiter=";")
    job = actions.upload(
        actor=ada,
        kind_key="contacts",
        uploaded=SimpleUploadedFile(path.name, path.read_bytes()),
    )
    assert job.mapping == {
        "Voornaam": "first_name",
        "Achternaam": "last_name",
        "Bedrijfsnaam": "company",
    }
    job = actions.check_job(job, actor=ada)
    assert job.report["blocking"] == []
    assert job.report["error_lines"] == 0
    job = actions.start(job, actor=ada, background=False)
    assert Contact.objects.get().name == "Piet Janssens"
