"""The import pages and API: what the user sees at each step and what is stored."""

from __future__ import annotations

import pytest
from django.test import Client

from leadflow.contacts.models import Company, Contact
from leadflow.imports.models import ImportJob, ImportStatus
from leadflow.imports.tests.messy import write_csv

pytestmark = pytest.mark.django_db

ROWS = [
    ["Naam", "E-mail", "Bedrijf", "Sector"],
    ["Ann Peeters", "ann@example.com", "Peeters BV", "Bouw"],
    ["Bob Claes", "bob(at)example.com", "Claes NV", "Bouw"],
    ["Cas Wouters", "cas@example.com", "PEETERS B.V.", "Zorg"],
]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload_page(client, path, kind="contacts"):
    with path.open("rb") as handle:
        return client.post("/imports/", {"kind": kind, "file": handle})


def test_the_whole_journey_on_the_pages(
    admin, tmp_path, django_capture_on_commit_callbacks
):
    client = browser(admin)
    page = client.get("/imports/")
    assert page.status_code == 200
    assert "Import a file" in page.content.decode()

    response = upload_page(client, write_csv(tmp_path / "p.csv", ROWS, delimiter=";"))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    detail = client.get(f"/imports/{job.pk}/").content.decode()
    # Auto-matched Dutch headers are pre-selected, with the file's first values.
    assert '<option value="email" selected>' in detail
    assert "ann@example.com · bob(at)example.com" in detail

    form = {
        "version": job.version,
        "col-0": "name",
        "col-1": "email",
        "col-2": "company",
    }
    form["col-3"] = "industry"
    response = client.post(f"/imports/{job.pk}/check/", form)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.report["error_lines"] == 3  # a bad e-mail, and two unknown industries
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "bob(at)example.com is not an e-mail address." in page
    assert "Values Leadflow does not know yet" in page
    assert "Probably the same name, spelled differently" in page
    assert "PEETERS B.V. · Peeters BV" in page
    assert 'data-testid="import-start"' not in page

    # Map the industries (create one, the other to an empty cell), merge the
    # spellings, skip the bad line: check again, then import.
    unknown = dict(job.report["unknown"]["industry"])
    assert unknown == {"Bouw": 2, "Zorg": 1}
    form |= {
        "version": job.version,
        "value-industry-0": "+new",
        "value-industry-1": "",
        "merge-company-0": "on",
        "merge-company-0-target": "Peeters BV",
        "skip_invalid": "on",
    }
    client.post(f"/imports/{job.pk}/check/", form)
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert job.report["error_lines"] == 1
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Import 3 rows" in page

    with django_capture_on_commit_callbacks(execute=True):  # the worker's task
        response = client.post(f"/imports/{job.pk}/start/", {"version": job.version})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created, job.skipped) == (2, 1)
    assert sorted(Contact.objects.values_list("name", flat=True)) == [
        "Ann Peeters",
        "Cas Wouters",
    ]
    assert list(Company.objects.values_list("name", "industry")) == [
        ("Peeters BV", "Bouw")
    ]
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="count-created">2<' in page
    progress = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"  # done: the page reloads itself
    problems = client.get(f"/imports/{job.pk}/problems.csv")
    body = b"".join(problems.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "line,column,level,message"
    assert "3,E-mail,error,bob(at)example.com is not an e-mail address." in body
    log = client.get("/imports/").content.decode()
    assert "p.csv" in log


def test_a_stale_version_is_refused_with_a_message(admin, tmp_path):
    client = browser(admin)
    upload_page(client, write_csv(tmp_path / "p.csv", ROWS))
    job = ImportJob.objects.get()
    response = client.post(
        f"/imports/{job.pk}/check/", {"version": job.version + 1, "col-0": "name"}
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()


def test_unreadable_upload_shows_the_reason(admin, tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    response = upload_page(browser(admin), path)
    assert response.status_code == 422
    assert 'data-testid="import-error"' in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_marketing_sees_only_its_own_imports(admin, marketer, tmp_path):
    upload_page(browser(admin), write_csv(tmp_path / "a.csv", ROWS))
    admins = ImportJob.objects.get()
    client = browser(marketer)
    assert client.get(f"/imports/{admins.pk}/").status_code == 404
    assert "a.csv" not in client.get("/imports/").content.decode()
    # The history kinds are not offered to marketing.
    page = client.get("/imports/").content.decode()
    assert 'value="contacts"' in page
    assert 'value="opportunities"' not in page


def test_the_api_does_the_same_steps(
    api_as, tmp_path, django_capture_on_commit_callbacks
):
    api = api_as("admin")
    path = write_csv(tmp_path / "p.csv", ROWS)
    with path.open("rb") as handle:
        response = api.client.post(
            "/api/imports", {"kind": "contacts", "file": handle}, **api._auth()
        )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["mapping"] == {
        "Naam": "name",
        "E-mail": "email",
        "Bedrijf": "company",
        "Sector": "industry",
    }
    url = f"/api/imports/{job['id']}"
    checked = api.post(f"{url}/check", {"version": job["version"]}).json()
    assert checked["report"]["error_lines"] == 3
    assert checked["can_start"] is False
    issues = api.get(f"{url}/issues", {"level": "error"}).json()
    # Bob's line has two problems (the e-mail and the industry).
    assert issues["count"] == 4 and issues["items"][0]["line"] == 2

    response = api.put(
        f"{url}/mapping",
        {
            "mapping": checked["mapping"],
            "options": {
                "skip_invalid": True,
                "values": {"industry": {"Bouw": "+new", "Zorg": "+new"}},
            },
            "version": checked["version"],
        },
    )
    assert response.status_code == 200, response.content
    checked = api.post(f"{url}/check", {}).json()
    assert checked["can_start"] is True
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{url}/start", {"version": checked["version"]})
    assert started.status_code == 202
    done = api.get(url).json()
    assert (done["status"], done["created"], done["skipped"]) == ("done", 2, 1)
    assert api.post(f"{url}/start", {}).status_code == 409
    assert api.post(f"{url}/cancel", {}).status_code == 409


def test_api_errors_are_clear(api_as):
    api = api_as("admin")
    response = api.post("/api/imports", {})
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["detail"]
    assert api_as("rep").get("/api/imports").status_code == 403
    assert api.get("/api/imports/999999").status_code == 404


def test_a_big_file_is_checked_by_the_worker(
    admin, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.LEADFLOW_IMPORT_INLINE_CHECK_BYTES = 10
    client = browser(admin)
    upload_page(client, write_csv(tmp_path / "p.csv", ROWS))
    job = ImportJob.objects.get()
    form = {"version": job.version, "col-0": "name", "col-1": "email"}
    response = client.post(f"/imports/{job.pk}/check/", form)
    job.refresh_from_db()
    assert response.status_code == 302 and job.status == ImportStatus.CHECKING
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "checking the file" in page
    assert f'hx-get="/imports/{job.pk}/progress/"' in page
    assert 'data-testid="import-mapping"' not in page  # no edits while it runs

    from leadflow.imports.tasks import check_import_task

    check_import_task.enqueue(job.pk)  # what the worker does
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED and job.report["error_lines"] == 1


def test_a_queued_import_can_be_cancelled_on_its_page(admin, tmp_path):
    client = browser(admin)
    rows = [["name", "email"], ["Ann", "ann@example.com"]]
    upload_page(client, write_csv(tmp_path / "c.csv", rows))
    job = ImportJob.objects.get()
    client.post(f"/imports/{job.pk}/check/", {"version": job.version, "col-0": "name"})
    job.refresh_from_db()
    client.post(f"/imports/{job.pk}/start/", {"version": job.version})
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED  # the worker has not taken it yet
    response = client.post(
        f"/imports/{job.pk}/cancel/", {"version": job.version}, follow=True
    )
    assert "The import was cancelled." in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    from leadflow.imports.actions import run_job

    assert run_job(job.pk) == f"import {job.pk}: cancelled, nothing to do"
    assert Contact.objects.count() == 0
    again = client.post(f"/imports/{job.pk}/cancel/", {"version": job.version})
    assert again.status_code == 409
    assert "The import was cancelled." not in again.content.decode()
