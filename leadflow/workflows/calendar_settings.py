"""Settings of the workflow engine: the working calendar, holidays, escalation
settings, each stage's stale limit, and running a scheduled job now.

Every writer is one transaction that locks the row it changes (``select_for_update``),
checks the rules, writes with ``update_fields`` and records an audit row with the old
and new values. The single-row settings also take the ``updated_at`` the editor read:
when another admin saved in between, the second save is refused (409) instead of
silently overwriting the first. A change of the calendar or the holidays forgets this
process's cached calendar at once and again after the commit (other processes pick it
up within ``worktime._CACHE_SECONDS``).

Public holidays of Belgium and the Netherlands are computed from Easter (the
Gregorian computus below), so no calendar library is needed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from leadflow.accounts.models import Role, User
from leadflow.accounts.permissions import has_capability
from leadflow.audit.actions import changed_fields, record_event
from leadflow.core.errors import Conflict, DomainError, ValidationFailed
from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.core.worktime import forget_calendar
from leadflow.opportunities.models import Stage
from leadflow.workflows import scheduler
from leadflow.workflows.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    ScheduledJob,
)

MAX_HOURS = Decimal("9999.99")  # EscalationSettings: max_digits=6, decimal_places=2
MAX_STALE_DAYS = 3650
FIRST_YEAR, LAST_YEAR = 1900, 2199


class SettingsInvalid(ValidationFailed):
    """One or more settings fields are wrong; ``errors`` maps field → message so a
    form can show each next to its field."""

    code = "invalid_settings"

    def __init__(self, errors: dict[str, str], *, code: str | None = None):
        self.errors = {name: str(message) for name, message in errors.items()}
        super().__init__(" ".join(self.errors.values()), code=code)


class UnknownJob(DomainError):
    status = 404
    code = "unknown_job"
    default_message = _("There is no scheduled job of that name.")


def can_view_escalations(user: User) -> bool:
    """Admins and sales directors read the escalation log (directors are told of the
    escalated inquiries); only admins change the settings."""
    return has_capability(user, "config.manage") or (
        user.is_authenticated
        and user.is_active
        and user.effective_role == Role.SALES_DIRECTOR
    )


def _same_moment(a: datetime, b: datetime) -> bool:
    """Equal to the millisecond: the API's JSON gives datetimes to the millisecond
    (DjangoJSONEncoder), the page's hidden field to the microsecond."""

    def ms(moment: datetime) -> datetime:
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    return ms(a) == ms(b)


def _check_version(row: models.Model, updated_at: datetime | None) -> None:
    """Refuse the save when the row changed since the editor read it."""
    if updated_at is None:
        return
    if row.pk is None or not _same_moment(row.updated_at, updated_at):
        raise Conflict(
            _(
                "Someone else saved these settings in the meantime. Reload the page, "
                "check their change and save again."
            ),
            code="stale_settings",
        )


def _forget_calendar_now_and_after_commit() -> None:
    # Now: this process reads the new calendar in the rest of the request. After the
    # commit: a read by another thread of this process during the transaction cached
    # the old rows.
    forget_calendar()
    transaction.on_commit(forget_calendar)


# --- the working calendar -------------------------------------------------------------


def get_working_calendar() -> WorkingCalendar:
    """The stored calendar, or the defaults (unsaved) while nobody has saved one."""
    return WorkingCalendar.objects.order_by("pk").first() or WorkingCalendar()


def _locked_singleton(model: type[models.Model]) -> models.Model:
    """The one settings row, locked; created when missing. Creating uses the fixed
    primary key 1, so two admins saving the first time cannot create two rows."""
    row = model.objects.select_for_update().order_by("pk").first()
    if row is None:
        model.objects.get_or_create(pk=1)
        row = model.objects.select_for_update().get(pk=1)
    return row


CALENDAR_FIELDS = (*WorkingCalendar.DAYS, "starts_at", "ends_at", "time_zone")


@transaction.atomic
def save_working_calendar(
    *, actor: User | None, updated_at: datetime | None = None, **values
) -> WorkingCalendar:
    """Change the working week (days, hours, time zone); validated, audited."""
    unknown = set(values) - set(CALENDAR_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s"),
            code="invalid_field",
            fields=", ".join(sorted(unknown)),
        )
    for name in ("starts_at", "ends_at"):
        value = values.get(name)
        if name in values and (not isinstance(value, time) or value.tzinfo):
            raise SettingsInvalid(
                {name: _("Give a local time of day, e.g. 08:30, without a zone.")}
            )
    if "time_zone" in values:
        values["time_zone"] = (values["time_zone"] or "").strip()
    row = _locked_singleton(WorkingCalendar)
    _check_version(row, updated_at)
    old, new = changed_fields(row, values)
    for name, value in values.items():
        setattr(row, name, value)
    try:
        row.clean()
    except ValidationError as exc:
        raise SettingsInvalid(
            {name: " ".join(messages) for name, messages in exc.message_dict.items()}
        ) from exc
    if not new:
        return row
    row.save(update_fields=[*new, "updated_at"])
    record_event(
        actor=actor,
        subject=row,
        event_type="working_calendar.updated",
        old=old,
        new=new,
    )
    _forget_calendar_now_and_after_commit()
    return row


def effective_time_zone(row: WorkingCalendar) -> str:
    return row.time_zone or settings.TIME_ZONE


# --- holidays ---------------------------------------------------------------------------


def list_holidays(*, year: int | None = None) -> QuerySet[Holiday]:
    qs = Holiday.objects.order_by("day")
    if year is not None:
        qs = qs.filter(day__year=year)
    return qs


def _holiday_exists(day: date) -> Conflict:
    return Conflict(
        _("%(day)s is a holiday already."), code="holiday_exists", day=day.isoformat()
    )


@transaction.atomic
def add_holiday(*, actor: User | None, day: date, name: str) -> Holiday:
    """A day off for the whole company (one per date)."""
    name = (name or "").strip()
    if not name:
        raise SettingsInvalid({"name": _("Give the holiday a name.")})
    if len(name) > 100:
        raise SettingsInvalid({"name": _("A name has at most 100 characters.")})
    if not isinstance(day, date) or isinstance(day, datetime):
        raise SettingsInvalid({"day": _("Give a date.")})
    if Holiday.objects.filter(day=day).exists():
        raise _holiday_exists(day)
    try:
        with transaction.atomic():
            holiday = Holiday.objects.create(day=day, name=name)
    except IntegrityError:  # added by someone else a moment ago
        raise _holiday_exists(day) from None
    record_event(
        actor=actor,
        subject=holiday,
        event_type="holiday.added",
        new={"day": day.isoformat(), "name": name},
    )
    _forget_calendar_now_and_after_commit()
    return holiday


@transaction.atomic
def remove_holiday(holiday: Holiday, *, actor: User | None) -> bool:
    """Make the day a normal day again; False when it was removed already."""
    locked = Holiday.objects.select_for_update().filter(pk=holiday.pk).first()
    if locked is None:
        return False
    record_event(
        actor=actor,
        subject=locked,
        event_type="holiday.removed",
        old={"day": locked.day.isoformat(), "name": locked.name},
    )
    locked.delete()
    _forget_calendar_now_and_after_commit()
    return True


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian computus
    (Meeus/Jones/Butcher), valid for every year from 1583 on."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century + 8) // 25
    sun_correction = (century - moon_correction + 1) // 3
    epact = (
        19 * golden + century - leap_centuries - sun_correction + 15
    ) % 30  # days from the equinox to the paschal full moon, roughly
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


COUNTRIES = {"BE": _("Belgium"), "NL": _("The Netherlands")}


def _kings_day(year: int) -> tuple[date, str]:
    """27 April (King's Day, since 2014; 30 April Queen's Day before), a day earlier
    when it falls on a Sunday."""
    if year >= 2014:
        day, name = date(year, 4, 27), _("King's Day")
    else:
        day, name = date(year, 4, 30), _("Queen's Day")
    if day.weekday() == 6:
        day -= timedelta(days=1)
    return day, name


def public_holidays(year: int, country: str) -> list[tuple[date, str]]:
    """The public holidays of ``country`` ("BE" or "NL") in ``year``, by date.

    Belgium: the ten legal holidays. The Netherlands: the holidays of the Algemene
    termijnenwet, Liberation Day (5 May) included every year; collective agreements
    that give it only every fifth year remove it by hand."""
    if country not in COUNTRIES:
        raise ValidationFailed(
            _("Public holidays are known for: %(known)s."),
            code="unknown_country",
            known=", ".join(COUNTRIES),
        )
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(
            _("Choose a year from %(first)s to %(last)s."),
            code="invalid_year",
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    easter = easter_sunday(year)

    def after_easter(days: int) -> date:
        return easter + timedelta(days=days)

    if country == "BE":
        days = [
            (date(year, 1, 1), _("New Year's Day")),
            (after_easter(1), _("Easter Monday")),
            (date(year, 5, 1), _("Labour Day")),
            (after_easter(39), _("Ascension Day")),
            (after_easter(50), _("Whit Monday")),
            (date(year, 7, 21), _("Belgian National Day")),
            (date(year, 8, 15), _("Assumption Day")),
            (date(year, 11, 1), _("All Saints' Day")),
            (date(year, 11, 11), _("Armistice Day")),
            (date(year, 12, 25), _("Christmas Day")),
        ]
    else:
        days = [
            (date(year, 1, 1), _("New Year's Day")),
            (easter, _("Easter Sunday")),
            (after_easter(1), _("Easter Monday")),
            _kings_day(year),
            (date(year, 5, 5), _("Liberation Day")),
            (after_easter(39), _("Ascension Day")),
            (after_easter(49), _("Whit Sunday")),
            (after_easter(50), _("Whit Monday")),
            (date(year, 12, 25), _("Christmas Day")),
            (date(year, 12, 26), _("Second Day of Christmas")),
        ]
    return sorted(((day, str(name)) for day, name in days), key=lambda d: d[0])


@dataclass(frozen=True)
class PublicHolidaysAdded:
    added: list[Holiday]
    skipped: list[date]  # a holiday on that date was there already


@transaction.atomic
def add_public_holidays(
    *, actor: User | None, year: int, country: str
) -> PublicHolidaysAdded:
    """Add a country's public holidays of one year; dates already on the list keep
    their holiday (skipped, not an error)."""
    wanted = public_holidays(year, country)
    existing = set(
        Holiday.objects.filter(day__in=[day for day, _name in wanted]).values_list(
            "day", flat=True
        )
    )
    added: list[Holiday] = []
    skipped: list[date] = []
    for day, name in wanted:
        if day in existing:
            skipped.append(day)
            continue
        try:
            with transaction.atomic():
                added.append(Holiday.objects.create(day=day, name=name))
        except IntegrityError:  # added by someone else a moment ago
            skipped.append(day)
    for holiday in added:
        record_event(
            actor=actor,
            subject=holiday,
            event_type="holiday.added",
            new={"day": holiday.day.isoformat(), "name": holiday.name},
            reason=f"public holidays {country} {year}",
        )
    if added:
        _forget_calendar_now_and_after_commit()
    return PublicHolidaysAdded(added=added, skipped=skipped)


# --- escalation settings and stale limits -------------------------------------------------


def get_escalation_settings() -> EscalationSettings:
    """The stored settings, or the defaults (unsaved) while nobody has saved them."""
    return EscalationSettings.objects.order_by("pk").first() or EscalationSettings()


ESCALATION_FIELDS = (
    "inquiry_after_hours",
    "manager_after_hours",
    "remind_overdue_activities",
    "remind_stale_leads",
)


def _hours(name: str, value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise SettingsInvalid(
            {
                name: _(
                    "Give a number of working hours from 0.01 to %(max)s, or leave it "
                    "empty to switch this step off."
                )
                % {"max": MAX_HOURS}
            }
        )
    if hours != hours.quantize(Decimal("0.01")):
        raise SettingsInvalid({name: _("Give the hours with at most two decimals.")})
    return hours.quantize(Decimal("0.01"))


@transaction.atomic
def save_escalation_settings(
    *, actor: User | None, updated_at: datetime | None = None, **values
) -> EscalationSettings:
    """When open inquiries escalate and which reminders go out; audited. Switching
    a step off also cancels its pending escalations."""
    unknown = set(values) - set(ESCALATION_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s"),
            code="invalid_field",
            fields=", ".join(sorted(unknown)),
        )
    for name in ("inquiry_after_hours", "manager_after_hours"):
        if name in values:
            values[name] = _hours(name, values[name])
    for name in ("remind_overdue_activities", "remind_stale_leads"):
        if name in values and not isinstance(values[name], bool):
            raise SettingsInvalid({name: _("Give true or false.")})
    row = _locked_singleton(EscalationSettings)
    _check_version(row, updated_at)
    first = values.get("inquiry_after_hours", row.inquiry_after_hours)
    then = values.get("manager_after_hours", row.manager_after_hours)
    if then is not None and first is None:
        raise SettingsInvalid(
            {
                "manager_after_hours": _(
                    "A manager is told only after the assignee's reminder: set that "
                    "first, or leave both empty."
                )
            }
        )
    old, new = changed_fields(row, values)
    if not new:
        return row
    for name, value in new.items():
        setattr(row, name, value)
    row.save(update_fields=[*new, "updated_at"])
    # A step switched off sends nothing more, also not what was armed before.
    # (Changed hours apply to inquiries armed from now on.)
    off = []
    if "inquiry_after_hours" in new and new["inquiry_after_hours"] is None:
        off = [EscalationKind.INQUIRY_OPEN, EscalationKind.INQUIRY_MANAGER]
    elif "manager_after_hours" in new and new["manager_after_hours"] is None:
        off = [EscalationKind.INQUIRY_MANAGER]
    cancelled = (
        Escalation.objects.filter(kind__in=off, status=EscalationStatus.PENDING).update(
            status=EscalationStatus.CANCELLED,
            cancelled_at=timezone.now(),
            note="switched off",
        )
        if off
        else 0
    )
    record_event(
        actor=actor,
        subject=row,
        event_type="escalation_settings.updated",
        old=old,
        new={**new, "pending_cancelled": cancelled} if cancelled else new,
    )
    return row


def list_stages() -> QuerySet[Stage]:
    return Stage.objects.order_by("order", "id")


@transaction.atomic
def set_stale_limit(stage: Stage, *, actor: User | None, days: int | None) -> Stage:
    """After how many days without activity a lead in this stage reminds its owner
    (None: never)."""
    if days is not None and (
        isinstance(days, bool)
        or not isinstance(days, int)
        or not 1 <= days <= MAX_STALE_DAYS
    ):
        raise SettingsInvalid(
            {
                "stale_after_days": _(
                    "Give a number of days from 1 to %(max)s, or leave it empty."
                )
                % {"max": MAX_STALE_DAYS}
            }
        )
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    if locked.stale_after_days == days:
        return locked
    old = locked.stale_after_days
    locked.stale_after_days = days
    locked.save(update_fields=["stale_after_days"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="stage.updated",
        old={"stale_after_days": old},
        new={"stale_after_days": days},
    )
    return locked


# --- the escalation log -------------------------------------------------------------------


def list_escalations(
    *, status: str | None = None, kind: str | None = None
) -> QuerySet[Escalation]:
    """Newest deadline first, with what the page and the API show of each record."""
    if status and status not in EscalationStatus.values:
        raise ValidationFailed(
            _("Unknown status %(value)s; known: %(known)s."),
            code="invalid_status",
            value=status,
            known=", ".join(EscalationStatus.values),
        )
    if kind and kind not in EscalationKind.values:
        raise ValidationFailed(
            _("Unknown kind %(value)s; known: %(known)s."),
            code="invalid_kind",
            value=kind,
            known=", ".join(EscalationKind.values),
        )
    qs = Escalation.objects.select_related(
        "inquiry__contact", "opportunity", "activity__opportunity"
    ).order_by("-due_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def escalation_record(escalation: Escalation) -> tuple[str, str]:
    """(link, label) of the record the escalation is about."""
    if escalation.inquiry_id:
        return (
            f"/inquiries/{escalation.inquiry_id}/",
            str(_("Inquiry #%(id)s") % {"id": escalation.inquiry_id}),
        )
    if escalation.opportunity_id:
        return (
            f"/opportunities/{escalation.opportunity_id}/",
            escalation.opportunity.title,
        )
    if escalation.activity_id:
        activity = escalation.activity
        return (
            f"/opportunities/{activity.opportunity_id}/#activities",
            f"{activity.subject} · {activity.opportunity.title}",
        )
    return ("", "—")


# --- the worker's schedule ------------------------------------------------------------------


@dataclass(frozen=True)
class JobStatus:
    name: str
    schedule: str  # "every 1 minute", "daily at 07:30"
    row: ScheduledJob | None  # None: the worker has not run it yet
    known: bool  # False: a stored row of a job that is no longer scheduled

    @property
    def failed(self) -> bool:
        return bool(self.row and self.row.last_error)


def describe_schedule(job: scheduler.Job) -> str:
    if job.daily_at is not None:
        return str(_("daily at %(time)s") % {"time": job.daily_at.strftime("%H:%M")})
    minutes = int(job.every.total_seconds() // 60) if job.every else 0
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("every hour", "every %(n)s hours", hours) % {"n": hours}
    return ngettext("every minute", "every %(n)s minutes", minutes) % {"n": minutes}


@dataclass(frozen=True)
class ScheduleOverview:
    alive: bool
    heartbeat_at: datetime | None
    jobs: list[JobStatus]


def schedule_overview() -> ScheduleOverview:
    """Is the scheduler chain beating, and each job's next and last run (every job
    of ``scheduler.JOBS``, also before the worker first ran it)."""
    state = scheduler.status()
    rows = {row.name: row for row in state["jobs"]}
    jobs = [
        JobStatus(
            name=job.name,
            schedule=describe_schedule(job),
            row=rows.pop(job.name, None),
            known=True,
        )
        for job in scheduler.JOBS
    ]
    jobs += [
        JobStatus(name=name, schedule="—", row=row, known=False)
        for name, row in sorted(rows.items())
    ]
    return ScheduleOverview(
        alive=state["alive"], heartbeat_at=state["heartbeat_at"], jobs=jobs
    )


@dataclass(frozen=True)
class JobRun:
    name: str
    result: str
    row: ScheduledJob


def job_names() -> Iterable[str]:
    return [job.name for job in scheduler.JOBS]


def run_job_now(name: str, *, actor: User | None) -> JobRun:
    """Run one scheduled job at once, whatever its next run (admins, from the
    schedule page). Not one transaction: the job commits its own work, as it does
    under the worker; a failure is stored on the job row, not raised."""
    try:
        scheduler.job_named(name)
    except KeyError:
        raise UnknownJob() from None
    now = timezone.now()
    results = scheduler.run_due_jobs(now=now, only=name, force=True)
    row = ScheduledJob.objects.get(name=name)
    ran = name in results or row.last_started_at == now
    result = results.get(name, row.last_result if ran else "")
    if not ran:
        raise Conflict(
            _("The worker started this job at the same moment. Look again shortly."),
            code="job_running",
        )
    record_event(
        actor=actor,
        subject=row,
        event_type="scheduled_job.run",
        new={"result": result, "error": row.last_error[:200]},
    )
    return JobRun(name=name, result=result, row=row)
