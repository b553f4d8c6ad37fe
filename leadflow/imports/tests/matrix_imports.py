"""Permission-matrix rows of the imports (merged by core/tests/test_permission_matrix).

An import made by the admin: the sales director sees every import (the import log),
marketing imports contact lists but sees only its own imports (404 on the admin's),
and roles that import nothing get 403."""

from django.core.files.uploadedfile import SimpleUploadedFile

OWNERS = "ok    403   403   403   ok    404   403   login"
OWNERS_API = "ok    403   403   403   ok    404   403   401"

PAGES = {
    "import_list": ("GET", "/imports/"),
    "import_detail": ("GET", "/imports/{import_job}/"),
    "import_check": ("POST", "/imports/{import_job}/check/"),
    "import_start": ("POST", "/imports/{import_job}/start/"),
    "import_resume": ("POST", "/imports/{import_job}/resume/"),
    "import_cancel": ("POST", "/imports/{import_job}/cancel/"),
    "import_progress": ("GET", "/imports/{import_job}/progress/"),
    "import_issues_csv": ("GET", "/imports/{import_job}/problems.csv"),
}

PAGE_MATRIX = {
    "import_list": "ok    403   403   403   ok    ok    403   login",
    **{name: OWNERS for name in PAGES if name != "import_list"},
}

API_MATRIX = {
    "GET /api/imports": "ok    403   403   403   ok    ok    403   401",
    "POST /api/imports": "ok    403   403   403   ok    ok    403   401",
    "GET /api/imports/{job_id}": OWNERS_API,
    "PUT /api/imports/{job_id}/mapping": OWNERS_API,
    "POST /api/imports/{job_id}/check": OWNERS_API,
    "POST /api/imports/{job_id}/start": OWNERS_API,
    "POST /api/imports/{job_id}/resume": OWNERS_API,
    "POST /api/imports/{job_id}/cancel": OWNERS_API,
    "GET /api/imports/{job_id}/issues": OWNERS_API,
}

BODIES = {
    "PUT /api/imports/{job_id}/mapping": {"mapping": {"name": "name"}},
}

PARAMS = {"job_id": "import_job"}


def build(users) -> dict:
    from leadflow.imports.actions import upload

    job = upload(
        actor=users["admin"],
        kind_key="contacts",
        uploaded=SimpleUploadedFile("people.csv", b"name,email\nAnn,ann@example.com\n"),
    )
    return {"import_job": job.pk}
