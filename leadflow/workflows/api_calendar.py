"""API for the workflow engine's settings: the working calendar, holidays, escalation
settings, stale limits per stage, the escalation log and the worker's schedule.

Admins only (``config.manage``); the escalation log is also open to sales directors.
The single-row settings answer their ``updated_at``: send it back with the PUT to get
409 ``stale_settings`` when someone else saved in between.
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import (
    AwareDatetime,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from leadflow.accounts.permissions import require
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.opportunities.models import Stage
from leadflow.workflows import calendar_settings as cs
from leadflow.workflows import scheduler
from leadflow.workflows.models import Escalation, EscalationSettings, ScheduledJob

# A local time of day ("08:30" or "08:30:00"): OpenAPI's ``format: time`` means an RFC
# 3339 time with an offset, which a working day's hours do not have.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "08:30"}
    ),
]

router = Router(tags=["workflow settings"])
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}

HolidayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


def _admin(request) -> None:
    require(request.auth, "config.manage")


# --- the working calendar ------------------------------------------------------------------


class WorkingCalendarOut(Schema):
    monday: bool
    tuesday: bool
    wednesday: bool
    thursday: bool
    friday: bool
    saturday: bool
    sunday: bool
    starts_at: LocalTime
    ends_at: LocalTime
    time_zone: str = Field(description="empty: the server's time zone")
    effective_time_zone: str
    updated_at: datetime | None = Field(
        description="send back with PUT; null while the defaults were never saved"
    )


class WorkingCalendarIn(Schema):
    monday: StrictBool
    tuesday: StrictBool
    wednesday: StrictBool
    thursday: StrictBool
    friday: StrictBool
    saturday: StrictBool
    sunday: StrictBool
    starts_at: LocalTime = Field(description="local time of day, e.g. 08:30")
    ends_at: LocalTime
    time_zone: str = Field("", max_length=60, description="e.g. Europe/Brussels")
    updated_at: AwareDatetime | None = Field(
        None, description="the updated_at you read: 409 stale_settings if it changed"
    )


def _calendar_out(row: WorkingCalendar) -> dict:
    out = {name: getattr(row, name) for name in WorkingCalendar.DAYS}
    out.update(
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        time_zone=row.time_zone,
        effective_time_zone=cs.effective_time_zone(row),
        updated_at=row.updated_at if row.pk else None,
    )
    return out


@router.get("/working-calendar", response={200: WorkingCalendarOut, **ERRORS})
def working_calendar(request):
    """The working week that deadlines and inquiry ages count in."""
    _admin(request)
    return _calendar_out(cs.get_working_calendar())


@router.put("/working-calendar", response={200: WorkingCalendarOut, **ERRORS})
def working_calendar_put(request, payload: WorkingCalendarIn):
    """Replace the working week (every day, both times, the time zone)."""
    _admin(request)
    values = payload.dict(exclude={"updated_at"})
    row = cs.save_working_calendar(
        actor=request.auth, updated_at=payload.updated_at, **values
    )
    return _calendar_out(row)


# --- holidays ----------------------------------------------------------------------------


class HolidayOut(Schema):
    id: int
    day: date
    name: str


class HolidayIn(Schema):
    day: date
    name: HolidayName


class HolidayPage(Schema):
    items: list[HolidayOut]
    count: int
    page: int
    page_size: int
    pages: int


class PublicHolidaysIn(Schema):
    year: StrictInt = Field(ge=cs.FIRST_YEAR, le=cs.LAST_YEAR)
    country: Literal["BE", "NL"]


class PublicHolidaysOut(Schema):
    added: list[HolidayOut]
    skipped: list[date] = Field(description="dates that were holidays already")


def _holiday_out(holiday: Holiday) -> dict:
    return {"id": holiday.pk, "day": holiday.day, "name": holiday.name}


@router.get("/holidays", response={200: HolidayPage, **ERRORS})
def holidays(
    request,
    params: Query[PageParams],
    year: int | None = Query(None, ge=cs.FIRST_YEAR, le=cs.LAST_YEAR),
):
    """The company's holidays by date (``year`` for one year)."""
    _admin(request)
    return paginate(cs.list_holidays(year=year), params, _holiday_out)


@router.post("/holidays", response={201: HolidayOut, **ERRORS})
def holiday_add(request, payload: HolidayIn):
    """Add a day off; 409 holiday_exists when the date is a holiday already."""
    _admin(request)
    holiday = cs.add_holiday(actor=request.auth, day=payload.day, name=payload.name)
    return Status(201, _holiday_out(holiday))


@router.post("/holidays/public", response={201: PublicHolidaysOut, **ERRORS})
def public_holidays_add(request, payload: PublicHolidaysIn):
    """Add the public holidays of Belgium (BE) or the Netherlands (NL) for a year,
    computed from Easter; dates already on the list are skipped."""
    _admin(request)
    result = cs.add_public_holidays(
        actor=request.auth, year=payload.year, country=payload.country
    )
    return Status(
        201,
        {
            "added": [_holiday_out(h) for h in result.added],
            "skipped": result.skipped,
        },
    )


@router.delete("/holidays/{holiday_id}", response={204: None, **ERRORS})
def holiday_remove(request, holiday_id: int):
    """Make the day a normal working day again."""
    _admin(request)
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    cs.remove_holiday(holiday, actor=request.auth)
    return Status(204, None)


# --- escalation settings and stale limits ---------------------------------------------------


Hours = Annotated[Decimal, Field(gt=0, le=cs.MAX_HOURS, max_digits=6, decimal_places=2)]


class EscalationSettingsOut(Schema):
    inquiry_after_hours: float | None = Field(
        description="working hours before the assignee is reminded; null: never"
    )
    manager_after_hours: float | None = Field(
        description="further working hours before a manager is told; null: never"
    )
    remind_overdue_activities: bool
    remind_stale_leads: bool
    updated_at: datetime | None


class EscalationSettingsIn(Schema):
    inquiry_after_hours: Hours | None
    manager_after_hours: Hours | None
    remind_overdue_activities: StrictBool
    remind_stale_leads: StrictBool
    updated_at: AwareDatetime | None = None


def _escalation_settings_out(row: EscalationSettings) -> dict:
    def hours(value):
        return float(value) if value is not None else None

    return {
        "inquiry_after_hours": hours(row.inquiry_after_hours),
        "manager_after_hours": hours(row.manager_after_hours),
        "remind_overdue_activities": row.remind_overdue_activities,
        "remind_stale_leads": row.remind_stale_leads,
        "updated_at": row.updated_at if row.pk else None,
    }


@router.get("/escalation-settings", response={200: EscalationSettingsOut, **ERRORS})
def escalation_settings(request):
    """When open inquiries escalate and which reminders go out."""
    _admin(request)
    return _escalation_settings_out(cs.get_escalation_settings())


@router.put("/escalation-settings", response={200: EscalationSettingsOut, **ERRORS})
def escalation_settings_put(request, payload: EscalationSettingsIn):
    """Replace the escalation settings (null hours switch a step off)."""
    _admin(request)
    values = payload.dict(exclude={"updated_at"})
    row = cs.save_escalation_settings(
        actor=request.auth, updated_at=payload.updated_at, **values
    )
    return _escalation_settings_out(row)


class StaleLimitOut(Schema):
    stage: str
    name: str
    stale_after_days: int | None


class StaleLimitIn(Schema):
    stale_after_days: StrictInt | None = Field(ge=1, le=cs.MAX_STALE_DAYS)


def _stale_out(stage: Stage) -> dict:
    return {
        "stage": stage.code,
        "name": str(stage),
        "stale_after_days": stage.stale_after_days,
    }


@router.get("/stale-limits", response={200: list[StaleLimitOut], **ERRORS})
def stale_limits(request):
    """Each stage's limit of days without activity before the owner is reminded."""
    _admin(request)
    return [_stale_out(stage) for stage in cs.list_stages()]


@router.put("/stale-limits/{code}", response={200: StaleLimitOut, **ERRORS})
def stale_limit_put(request, code: str, payload: StaleLimitIn):
    """Set one stage's limit (null: never remind)."""
    _admin(request)
    stage = get_object_or_404(Stage, code=code)
    stage = cs.set_stale_limit(stage, actor=request.auth, days=payload.stale_after_days)
    return _stale_out(stage)


# --- the escalation log ----------------------------------------------------------------------


class EscalationOut(Schema):
    id: int
    kind: str
    kind_name: str
    status: str
    inquiry_id: int | None
    opportunity_id: int | None
    activity_id: int | None
    record: str = Field(description="the record's link in the web app")
    record_name: str
    due_at: datetime
    sent_at: datetime | None
    cancelled_at: datetime | None
    note: str
    recipients: list[str] = Field(description="usernames")
    created_at: datetime


class EscalationPage(Schema):
    items: list[EscalationOut]
    count: int
    page: int
    page_size: int
    pages: int


class EscalationFilters(Schema):
    status: str | None = Field(
        None, max_length=20, description="pending, sent, cancelled"
    )
    kind: str | None = Field(None, max_length=30)


def _escalation_out(escalation: Escalation) -> dict:
    url, label = cs.escalation_record(escalation)
    recipients = (
        escalation.recipients if isinstance(escalation.recipients, list) else []
    )
    return {
        "id": escalation.pk,
        "kind": escalation.kind,
        "kind_name": escalation.get_kind_display(),
        "status": escalation.status,
        "inquiry_id": escalation.inquiry_id,
        "opportunity_id": escalation.opportunity_id,
        "activity_id": escalation.activity_id,
        "record": url,
        "record_name": label,
        "due_at": escalation.due_at,
        "sent_at": escalation.sent_at,
        "cancelled_at": escalation.cancelled_at,
        "note": escalation.note,
        "recipients": [str(r) for r in recipients],
        "created_at": escalation.created_at,
    }


@router.get("/escalations", response={200: EscalationPage, **ERRORS})
def escalations(request, params: Query[PageParams], filters: Query[EscalationFilters]):
    """Escalations and reminders, newest deadline first (admins, sales directors)."""
    if not cs.can_view_escalations(request.auth):
        raise PermissionDenied
    qs = cs.list_escalations(
        status=(filters.status or "").strip() or None,
        kind=(filters.kind or "").strip() or None,
    )
    return paginate(qs, params, _escalation_out)


# --- the worker's schedule ------------------------------------------------------------------


class ScheduledJobOut(Schema):
    name: str
    schedule: str
    scheduled: bool = Field(description="false: a stored job no longer in the schedule")
    next_run_at: datetime | None = Field(description="null: not run by the worker yet")
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_result: str
    last_error: str


class ScheduleOut(Schema):
    alive: bool = Field(description="the scheduler beat within the last minutes")
    heartbeat_at: datetime | None
    jobs: list[ScheduledJobOut]


class JobRunOut(Schema):
    name: str
    result: str
    failed: bool
    job: ScheduledJobOut


def _job_out(name: str, schedule: str, scheduled: bool, row: ScheduledJob | None):
    return {
        "name": name,
        "schedule": schedule,
        "scheduled": scheduled,
        "next_run_at": row.next_run_at if row else None,
        "last_started_at": row.last_started_at if row else None,
        "last_finished_at": row.last_finished_at if row else None,
        "last_result": row.last_result if row else "",
        "last_error": row.last_error if row else "",
    }


@router.get("/scheduled-jobs", response={200: ScheduleOut, **ERRORS})
def scheduled_jobs(request):
    """Is the scheduler alive, and every job's next and last run."""
    _admin(request)
    overview = cs.schedule_overview()
    return {
        "alive": overview.alive,
        "heartbeat_at": overview.heartbeat_at,
        "jobs": [_job_out(j.name, j.schedule, j.known, j.row) for j in overview.jobs],
    }


@router.post("/scheduled-jobs/{name}/run", response={200: JobRunOut, **ERRORS})
def scheduled_job_run(request, name: str):
    """Run one job now; a failing job answers 200 with ``failed`` and its error."""
    _admin(request)
    run = cs.run_job_now(name, actor=request.auth)
    job = scheduler.job_named(name)
    return {
        "name": name,
        "result": run.result,
        "failed": bool(run.row.last_error),
        "job": _job_out(name, cs.describe_schedule(job), True, run.row),
    }
