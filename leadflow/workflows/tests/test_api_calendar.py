"""The settings API: working calendar, holidays, escalation settings, stale limits,
the escalation log and the schedule. Admins only (the log: also sales directors);
errors are {detail, code} with a 4xx status, never a 500."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.core.worktime import current_calendar, forget_calendar
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.models import Stage
from leadflow.workflows import calendar_settings as cs
from leadflow.workflows import scheduler
from leadflow.workflows.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    ScheduledJob,
)

pytestmark = pytest.mark.django_db

NOT_ADMINS = ["inside", "rep", "outsider", "director", "marketer", "colleague"]
FORBIDDEN = {"detail": "Your role may not do this.", "code": "forbidden"}

WEEK = {
    "monday": True,
    "tuesday": True,
    "wednesday": True,
    "thursday": True,
    "friday": True,
    "saturday": False,
    "sunday": False,
    "starts_at": "08:30",
    "ends_at": "17:30",
    "time_zone": "",
}
ESCALATIONS = {
    "inquiry_after_hours": 4,
    "manager_after_hours": 4,
    "remind_overdue_activities": True,
    "remind_stale_leads": True,
}


@pytest.fixture(autouse=True)
def fresh_calendar():
    forget_calendar()
    yield
    forget_calendar()


@pytest.fixture
def admin_api(api_as):
    return api_as("admin")


def delete(client, path: str):
    return client.client.delete(path, **client._auth())


# --- who may call what -------------------------------------------------------------------


ADMIN_CALLS = [
    ("get", "/api/working-calendar", None),
    ("put", "/api/working-calendar", WEEK),
    ("get", "/api/holidays", None),
    ("post", "/api/holidays", {"day": "2026-12-24", "name": "Eve"}),
    ("post", "/api/holidays/public", {"year": 2026, "country": "BE"}),
    ("get", "/api/escalation-settings", None),
    ("put", "/api/escalation-settings", ESCALATIONS),
    ("get", "/api/stale-limits", None),
    ("put", "/api/stale-limits/proposal", {"stale_after_days": 3}),
    ("get", "/api/scheduled-jobs", None),
    ("post", "/api/scheduled-jobs/process_outbox/run", {}),
]


@pytest.mark.parametrize("name", NOT_ADMINS)
def test_other_roles_get_403_and_nothing_changes(api_as, name, admin):
    holiday = cs.add_holiday(actor=admin, day=date(2026, 1, 2), name="Bridge")
    client = api_as(name)
    for method, path, body in ADMIN_CALLS:
        response = (
            client.get(path) if method == "get" else getattr(client, method)(path, body)
        )
        assert response.status_code == 403, (method, path)
        assert response.json() == FORBIDDEN
    response = delete(client, f"/api/holidays/{holiday.pk}")
    assert response.status_code == 403
    assert not WorkingCalendar.objects.exists()
    assert list(Holiday.objects.all()) == [holiday]
    assert not EscalationSettings.objects.exists()
    assert Stage.objects.get(code="proposal").stale_after_days == 10
    assert not ScheduledJob.objects.exists()


@pytest.mark.parametrize("method, path, body", ADMIN_CALLS)
def test_without_a_token_every_call_is_401(anonymous_api, method, path, body):
    response = (
        anonymous_api.get(path)
        if method == "get"
        else getattr(anonymous_api, method)(path, body)
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("name", ["inside", "rep", "outsider", "marketer", "colleague"])
def test_the_escalation_log_is_for_admins_and_directors_only(api_as, name):
    assert api_as(name).get("/api/escalations").status_code == 403
    assert api_as("director").get("/api/escalations").status_code == 200
    assert api_as("admin").get("/api/escalations").status_code == 200


# --- the working calendar ----------------------------------------------------------------


def test_get_the_default_calendar(admin_api):
    response = admin_api.get("/api/working-calendar")
    assert response.status_code == 200
    assert response.json() == {
        **WEEK,
        "starts_at": "08:30:00",
        "ends_at": "17:30:00",
        "effective_time_zone": "Europe/Brussels",
        "updated_at": None,
    }


def test_put_the_calendar_stores_it_and_the_engine_uses_it(admin_api, admin):
    body = {
        **WEEK,
        "friday": False,
        "saturday": True,
        "starts_at": "09:00",
        "ends_at": "18:15",
        "time_zone": "Europe/Amsterdam",
    }
    response = admin_api.put("/api/working-calendar", body)
    assert response.status_code == 200
    data = response.json()
    assert data["saturday"] is True and data["friday"] is False
    assert (data["starts_at"], data["ends_at"]) == ("09:00:00", "18:15:00")
    assert data["effective_time_zone"] == "Europe/Amsterdam"
    assert data["updated_at"] is not None
    row = WorkingCalendar.objects.get()
    assert row.ends_at == time(18, 15)
    cal = current_calendar()
    assert cal.workdays == frozenset({0, 1, 2, 3, 5})
    assert cal.start == time(9, 0)
    assert AuditEvent.objects.get(event_type="working_calendar.updated").actor == admin
    assert admin_api.get("/api/working-calendar").json() == data


def test_put_with_the_version_read_and_then_with_a_stale_one(admin_api):
    read = admin_api.put("/api/working-calendar", WEEK).json()["updated_at"]
    ok = admin_api.put(
        "/api/working-calendar", {**WEEK, "starts_at": "08:00", "updated_at": read}
    )
    assert ok.status_code == 200
    stale = admin_api.put(
        "/api/working-calendar", {**WEEK, "starts_at": "07:00", "updated_at": read}
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_settings"
    assert WorkingCalendar.objects.get().starts_at == time(8, 0)


@pytest.mark.parametrize(
    ("change", "code", "detail"),
    [
        (
            {"starts_at": "18:00", "ends_at": "09:00"},
            "invalid_settings",
            "The working day ends after it starts.",
        ),
        (
            {
                d: False
                for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
            "invalid_settings",
            "Choose at least one working day.",
        ),
        (
            {"time_zone": "Mars/Olympus"},
            "invalid_settings",
            "Unknown time zone 'Mars/Olympus'.",
        ),
        (
            {"starts_at": "08:30+02:00"},
            "invalid_settings",
            "Give a local time of day, e.g. 08:30, without a zone.",
        ),
    ],
)
def test_put_a_broken_calendar_is_422(admin_api, change, code, detail):
    response = admin_api.put("/api/working-calendar", {**WEEK, **change})
    assert response.status_code == 422
    assert response.json() == {"detail": detail, "code": code}
    assert not WorkingCalendar.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {**WEEK, "monday": "yes"},
        {**WEEK, "starts_at": "25:00"},
        {**WEEK, "starts_at": None},
        {k: v for k, v in WEEK.items() if k != "sunday"},
        {**WEEK, "time_zone": "x" * 61},
        {**WEEK, "updated_at": "2026-01-01T10:00:00"},  # no zone
        {**WEEK, "updated_at": "yesterday"},
        [],
    ],
)
def test_put_a_malformed_calendar_is_422(admin_api, body):
    response = admin_api.put("/api/working-calendar", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_put_invalid_json_is_a_4xx(admin_api):
    response = admin_api.put("/api/working-calendar", raw="{not json")
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


# --- holidays ----------------------------------------------------------------------------


def test_add_list_and_remove_holidays(admin_api, admin):
    created = admin_api.post("/api/holidays", {"day": "2026-12-24", "name": " Eve "})
    assert created.status_code == 201
    holiday = created.json()
    assert holiday == {"id": holiday["id"], "day": "2026-12-24", "name": "Eve"}
    admin_api.post("/api/holidays", {"day": "2027-01-02", "name": "Bridge"})
    listed = admin_api.get("/api/holidays").json()
    assert [h["day"] for h in listed["items"]] == ["2026-12-24", "2027-01-02"]
    assert (listed["count"], listed["page"], listed["pages"]) == (2, 1, 1)
    only = admin_api.get("/api/holidays", {"year": 2027}).json()
    assert [h["name"] for h in only["items"]] == ["Bridge"]
    assert not current_calendar().is_working_day(date(2026, 12, 24))
    removed = delete(admin_api, f"/api/holidays/{holiday['id']}")
    assert removed.status_code == 204
    assert removed.content == b""
    assert current_calendar().is_working_day(date(2026, 12, 24))
    assert AuditEvent.objects.filter(event_type="holiday.removed").count() == 1


def test_a_second_holiday_on_a_date_is_409(admin_api):
    admin_api.post("/api/holidays", {"day": "2026-12-24", "name": "Eve"})
    response = admin_api.post("/api/holidays", {"day": "2026-12-24", "name": "Again"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "2026-12-24 is a holiday already.",
        "code": "holiday_exists",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"day": "2026-12-24", "name": ""},
        {"day": "2026-12-24", "name": "   "},
        {"day": "2026-12-24", "name": "x" * 101},
        {"day": "24/12/2026", "name": "Eve"},
        {"day": "2026-02-30", "name": "Eve"},
        {"name": "Eve"},
    ],
)
def test_a_malformed_holiday_is_422(admin_api, body):
    response = admin_api.post("/api/holidays", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert not Holiday.objects.exists()


def test_removing_an_unknown_holiday_is_404(admin_api):
    response = delete(admin_api, "/api/holidays/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_holidays_year_out_of_range_is_422(admin_api):
    assert admin_api.get("/api/holidays", {"year": 99999}).status_code == 422


def test_add_public_holidays_of_a_year(admin_api):
    response = admin_api.post("/api/holidays/public", {"year": 2026, "country": "BE"})
    assert response.status_code == 201
    data = response.json()
    assert [h["day"] for h in data["added"]][:3] == [
        "2026-01-01",
        "2026-04-06",
        "2026-05-01",
    ]
    assert data["skipped"] == []
    again = admin_api.post("/api/holidays/public", {"year": 2026, "country": "NL"})
    skipped = again.json()["skipped"]
    assert skipped == [
        "2026-01-01",
        "2026-04-06",
        "2026-05-14",
        "2026-05-25",
        "2026-12-25",
    ]
    assert Holiday.objects.count() == 15


@pytest.mark.parametrize(
    "body",
    [
        {"year": 2026, "country": "FR"},
        {"year": 1500, "country": "BE"},
        {"year": "next", "country": "BE"},
        {"country": "BE"},
    ],
)
def test_add_public_holidays_refuses_bad_input(admin_api, body):
    response = admin_api.post("/api/holidays/public", body)
    assert response.status_code == 422
    assert not Holiday.objects.exists()


# --- escalation settings and stale limits ---------------------------------------------------


def test_get_and_put_the_escalation_settings(admin_api, admin):
    assert admin_api.get("/api/escalation-settings").json() == {
        **ESCALATIONS,
        "updated_at": None,
    }
    body = {
        "inquiry_after_hours": 2.5,
        "manager_after_hours": None,
        "remind_overdue_activities": False,
        "remind_stale_leads": True,
    }
    response = admin_api.put("/api/escalation-settings", body)
    assert response.status_code == 200
    data = response.json()
    assert {k: data[k] for k in body} == body
    row = EscalationSettings.objects.get()
    assert row.inquiry_after_hours == Decimal("2.50")
    assert row.manager_after_hours is None
    assert (
        AuditEvent.objects.get(event_type="escalation_settings.updated").actor == admin
    )


def test_put_escalation_settings_with_a_stale_version_is_409(admin_api):
    read = admin_api.put("/api/escalation-settings", ESCALATIONS).json()["updated_at"]
    admin_api.put(
        "/api/escalation-settings",
        {**ESCALATIONS, "remind_stale_leads": False, "updated_at": read},
    )
    response = admin_api.put(
        "/api/escalation-settings",
        {**ESCALATIONS, "inquiry_after_hours": 1, "updated_at": read},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale_settings"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"inquiry_after_hours": 0}, "invalid_input"),
        ({"inquiry_after_hours": -1}, "invalid_input"),
        ({"inquiry_after_hours": 10000}, "invalid_input"),
        ({"inquiry_after_hours": 1.234}, "invalid_input"),
        ({"inquiry_after_hours": "NaN"}, "invalid_input"),
        ({"remind_stale_leads": 1}, "invalid_input"),
        ({"inquiry_after_hours": None}, "invalid_settings"),  # manager still 4
    ],
)
def test_put_bad_escalation_settings_is_422(admin_api, change, code):
    response = admin_api.put("/api/escalation-settings", {**ESCALATIONS, **change})
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert not EscalationSettings.objects.exists()


def test_stale_limits_list_and_set(admin_api):
    listed = admin_api.get("/api/stale-limits").json()
    assert [(s["stage"], s["stale_after_days"]) for s in listed] == [
        (s.code, s.stale_after_days) for s in Stage.objects.order_by("order", "id")
    ]
    response = admin_api.put("/api/stale-limits/proposal", {"stale_after_days": 21})
    assert response.status_code == 200
    assert response.json()["stale_after_days"] == 21
    assert Stage.objects.get(code="proposal").stale_after_days == 21
    cleared = admin_api.put("/api/stale-limits/proposal", {"stale_after_days": None})
    assert cleared.json()["stale_after_days"] is None


@pytest.mark.parametrize("days", [0, 3651, "often", True])
def test_stale_limit_out_of_range_is_422(admin_api, days):
    response = admin_api.put("/api/stale-limits/proposal", {"stale_after_days": days})
    assert response.status_code == 422
    assert Stage.objects.get(code="proposal").stale_after_days == 10


def test_stale_limit_of_an_unknown_stage_is_404(admin_api):
    response = admin_api.put("/api/stale-limits/nope", {"stale_after_days": 3})
    assert response.status_code == 404


# --- the escalation log -------------------------------------------------------------------


def _escalation(inquiry, i: int, **extra) -> Escalation:
    return Escalation.objects.create(
        kind=extra.pop("kind", EscalationKind.INQUIRY_OPEN),
        status=extra.pop("status", EscalationStatus.SENT),
        inquiry=inquiry,
        target=f"inquiry:{inquiry.pk}",
        key=f"k{i}",
        due_at=timezone.now() - timedelta(minutes=i),
        **extra,
    )


def test_the_escalation_log_as_json(api_as, inside):
    inquiry = make_inquiry(inside)
    sent = _escalation(
        inquiry,
        1,
        sent_at=timezone.now(),
        recipients=["inside"],
        note="",
    )
    response = api_as("director").get("/api/escalations")
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["page"], data["pages"]) == (1, 1, 1)
    (item,) = data["items"]
    assert item["id"] == sent.pk
    assert item["kind"] == "inquiry_open"
    assert item["kind_name"] == "Inquiry still open"
    assert item["status"] == "sent"
    assert item["inquiry_id"] == inquiry.pk
    assert item["opportunity_id"] is None
    assert item["record"] == f"/inquiries/{inquiry.pk}/"
    assert item["record_name"] == f"Inquiry #{inquiry.pk}"
    assert item["recipients"] == ["inside"]
    assert item["sent_at"] is not None and item["cancelled_at"] is None


def test_the_escalation_log_filters_and_pages(admin_api, inside):
    inquiry = make_inquiry(inside)
    for i in range(5):
        _escalation(inquiry, i)
    pending = _escalation(
        inquiry, 9, status=EscalationStatus.PENDING, kind=EscalationKind.INQUIRY_MANAGER
    )
    only = admin_api.get("/api/escalations", {"status": "pending"}).json()
    assert [e["id"] for e in only["items"]] == [pending.pk]
    kind = admin_api.get("/api/escalations", {"kind": "inquiry_open"}).json()
    assert kind["count"] == 5
    page = admin_api.get("/api/escalations", {"page": 2, "page_size": 2}).json()
    assert (page["count"], page["pages"], len(page["items"])) == (6, 3, 2)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "lost"}, "invalid_status"),
        ({"kind": "coffee"}, "invalid_kind"),
        ({"page": 0}, "invalid_input"),
        ({"page_size": 1000}, "invalid_input"),
    ],
)
def test_the_escalation_log_refuses_unknown_filters(admin_api, params, code):
    response = admin_api.get("/api/escalations", params)
    assert response.status_code == 422
    assert response.json()["code"] == code


# --- the schedule ---------------------------------------------------------------------------


def test_the_schedule_lists_every_job(admin_api):
    data = admin_api.get("/api/scheduled-jobs").json()
    assert data["alive"] is False and data["heartbeat_at"] is None
    assert [j["name"] for j in data["jobs"]] == [job.name for job in scheduler.JOBS]
    digests = next(j for j in data["jobs"] if j["name"] == "send_digests")
    assert digests == {
        "name": "send_digests",
        "schedule": "daily at 07:30",
        "scheduled": True,
        "next_run_at": None,
        "last_started_at": None,
        "last_finished_at": None,
        "last_result": "",
        "last_error": "",
    }


def test_run_a_job_now(admin_api, admin):
    response = admin_api.post("/api/scheduled-jobs/process_outbox/run")
    assert response.status_code == 200
    data = response.json()
    assert (data["name"], data["result"], data["failed"]) == (
        "process_outbox",
        "0",
        False,
    )
    assert data["job"]["last_result"] == "0"
    assert data["job"]["next_run_at"] is not None
    assert AuditEvent.objects.get(event_type="scheduled_job.run").actor == admin
    listed = admin_api.get("/api/scheduled-jobs").json()
    outbox = next(j for j in listed["jobs"] if j["name"] == "process_outbox")
    assert outbox["last_started_at"] is not None


def test_run_a_failing_job_answers_200_with_the_error(admin_api, monkeypatch):
    monkeypatch.setattr(
        scheduler,
        "JOBS",
        [
            scheduler.Job(
                "broken",
                "leadflow.workflows.tests.test_calendar_settings.broken_job",
                every=timedelta(hours=1),
            )
        ],
    )
    response = admin_api.post("/api/scheduled-jobs/broken/run")
    assert response.status_code == 200
    data = response.json()
    assert data["failed"] is True
    assert data["job"]["last_error"] == "RuntimeError: mail server down"


def test_run_an_unknown_job_is_404(admin_api):
    response = admin_api.post("/api/scheduled-jobs/make_coffee/run")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "There is no scheduled job of that name.",
        "code": "unknown_job",
    }


def test_the_settings_are_in_the_openapi_document(admin_api):
    paths = admin_api.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/working-calendar",
        "/api/holidays",
        "/api/holidays/{holiday_id}",
        "/api/holidays/public",
        "/api/escalation-settings",
        "/api/stale-limits",
        "/api/stale-limits/{code}",
        "/api/escalations",
        "/api/scheduled-jobs",
        "/api/scheduled-jobs/{name}/run",
    ):
        assert path in paths
