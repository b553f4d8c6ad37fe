"""Settings pages of the workflow engine: the hub, the working calendar and holidays,
escalations (settings, stale limits per stage, the log) and the worker's schedule.

Each POST handler: parse a form → check the capability (admins: ``config.manage``) →
one action in workflows.calendar_settings → back to the page (HTMX: the section that
changed, with the error or the confirmation inside it).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from leadflow.accounts.permissions import has_capability, require
from leadflow.audit.queries import timeline_for
from leadflow.core.errors import DomainError
from leadflow.core.export import (
    Column,
    bad_filters,
    choice_label,
    export_response,
    filter_query,
    is_export,
)
from leadflow.core.models import Holiday
from leadflow.core.pagination import IdPaginator
from leadflow.opportunities.models import Stage
from leadflow.workflows import calendar_settings as cs
from leadflow.workflows.forms_calendar import (
    EscalationFilterForm,
    EscalationSettingsForm,
    HolidayForm,
    PublicHolidaysForm,
    StaleLimitForm,
    WorkingCalendarForm,
)
from leadflow.workflows.models import EscalationKind, EscalationStatus

PAGE_SIZE = 25
HISTORY = 10
CALENDAR = "workflows/settings/calendar.html"
ESCALATIONS = "workflows/settings/escalations.html"
SCHEDULE = "workflows/settings/schedule.html"


def _require_manage(request) -> None:
    require(request.user, "config.manage")


def _form_error(form, exc: DomainError) -> int:
    """Show the action's refusal in the form: next to its field where it names one."""
    errors = getattr(exc, "errors", None) or {None: str(exc)}
    for name, message in errors.items():
        form.add_error(name if name in form.fields else None, message)
    return exc.status


@login_required
def settings_home(request):
    """Links to every settings page the user may open."""
    can_manage = has_capability(request.user, "config.manage")
    can_view_escalations = cs.can_view_escalations(request.user)
    if not (can_manage or can_view_escalations or request.user.is_staff):
        raise PermissionDenied
    return render(
        request,
        "workflows/settings/home.html",
        {"can_manage": can_manage, "can_view_escalations": can_view_escalations},
    )


# --- the working calendar and holidays ----------------------------------------------------


def _calendar_context(request, **forms) -> dict:
    row = cs.get_working_calendar()
    this_year = timezone.localdate().year
    return {
        "row": row,
        "time_zone": cs.effective_time_zone(row),
        "form": forms.get("form") or WorkingCalendarForm.for_row(row),
        "holidays": list(cs.list_holidays().filter(day__year__gte=this_year - 1)),
        "past_count": cs.list_holidays().filter(day__year__lt=this_year - 1).count(),
        "holiday_form": forms.get("holiday_form") or HolidayForm(),
        "public_form": forms.get("public_form")
        or PublicHolidaysForm(initial={"year": this_year, "country": "BE"}),
        "history": timeline_for(row)[:HISTORY] if row.pk else [],
        "notice": forms.get("notice", ""),
    }


@login_required
def calendar_page(request):
    """The working week (days, hours, time zone) and the holidays."""
    _require_manage(request)
    status = 200
    form = None
    if request.method == "POST":
        form = WorkingCalendarForm.for_row(cs.get_working_calendar(), request.POST)
        status = 422
        if form.is_valid():
            try:
                cs.save_working_calendar(
                    actor=request.user,
                    updated_at=form.cleaned_data["updated_at"],
                    **form.values(),
                )
            except DomainError as exc:
                status = _form_error(form, exc)
            else:
                messages.success(request, _("The working calendar is saved."))
                return redirect("settings_calendar")
    return render(
        request, CALENDAR, _calendar_context(request, form=form), status=status
    )


def _holidays_answer(request, *, status=200, notice="", **forms):
    """The holiday section (HTMX) or the whole page."""
    context = _calendar_context(request, notice=notice, **forms)
    if request.htmx:
        return render(request, CALENDAR + "#holidays", context, status=status)
    if status == 200:
        messages.success(request, notice)
        return redirect("settings_calendar")
    return render(request, CALENDAR, context, status=status)


@login_required
@require_POST
def holiday_add(request):
    _require_manage(request)
    form = HolidayForm(request.POST)
    if not form.is_valid():
        return _holidays_answer(request, status=422, holiday_form=form)
    try:
        holiday = cs.add_holiday(actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        status = _form_error(form, exc)
        return _holidays_answer(request, status=status, holiday_form=form)
    return _holidays_answer(
        request,
        notice=_("Holiday “%(name)s” on %(day)s added.")
        % {"name": holiday.name, "day": holiday.day.isoformat()},
    )


@login_required
@require_POST
def public_holidays_add(request):
    _require_manage(request)
    form = PublicHolidaysForm(request.POST)
    if not form.is_valid():
        return _holidays_answer(request, status=422, public_form=form)
    d = form.cleaned_data
    try:
        result = cs.add_public_holidays(
            actor=request.user, year=d["year"], country=d["country"]
        )
    except DomainError as exc:
        status = _form_error(form, exc)
        return _holidays_answer(request, status=status, public_form=form)
    return _holidays_answer(
        request,
        notice=_(
            "%(added)s public holidays of %(year)s added; %(skipped)s dates were on "
            "the list already."
        )
        % {
            "added": len(result.added),
            "year": d["year"],
            "skipped": len(result.skipped),
        },
    )


@login_required
@require_POST
def holiday_remove(request, holiday_id: int):
    _require_manage(request)
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    cs.remove_holiday(holiday, actor=request.user)
    return _holidays_answer(
        request,
        notice=_("Holiday “%(name)s” on %(day)s removed.")
        % {"name": holiday.name, "day": holiday.day.isoformat()},
    )


# --- escalations --------------------------------------------------------------------------


def _stage_rows(stages, *, forms=None, errors=None):
    forms = forms or {}
    errors = errors or {}
    rows = []
    for stage in stages:
        stage.form = forms.get(stage.pk) or StaleLimitForm(
            auto_id=f"stage{stage.pk}_%s",
            initial={"stale_after_days": stage.stale_after_days},
        )
        stage.error = errors.get(stage.pk, "")
        rows.append(stage)
    return rows


def _escalation_log(request):
    """The log's filter form and its rows (the page and the export)."""
    filters = EscalationFilterForm(request.GET or None)
    status = kind = None
    if filters.is_valid():
        status = filters.cleaned_data["status"] or None
        kind = filters.cleaned_data["kind"] or None
    return filters, cs.list_escalations(status=status, kind=kind)


def _escalation_columns(request) -> list[Column]:
    def record(e) -> str:
        return cs.escalation_record(e)[1]

    def link(e) -> str:
        url = cs.escalation_record(e)[0]
        return request.build_absolute_uri(url) if url else ""

    return [
        Column("pk", _l("ID")),
        Column(choice_label("kind", EscalationKind.choices), _l("Kind")),
        Column(choice_label("status", EscalationStatus.choices), _l("Status")),
        Column(record, _l("Record")),
        Column(link, _l("Link")),
        Column("due_at", _l("Due")),
        Column("sent_at", _l("Sent at")),
        Column("cancelled_at", _l("Cancelled at")),
        Column(
            lambda e: ", ".join(str(r) for r in e.recipients or []), _l("Recipients")
        ),
        Column("note", _l("Note")),
        Column("created_at", _l("Created at")),
    ]


def _escalations_context(request, *, form=None) -> dict:
    can_manage = has_capability(request.user, "config.manage")
    row = cs.get_escalation_settings()
    filters, log = _escalation_log(request)
    page = IdPaginator(log, PAGE_SIZE).get_page(request.GET.get("page"))
    for escalation in page:
        escalation.record_url, escalation.record_label = cs.escalation_record(
            escalation
        )
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "can_manage": can_manage,
        "row": row,
        "form": form or EscalationSettingsForm.for_row(row),
        "stages": _stage_rows(cs.list_stages()),
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "export_query": filter_query(request),
        "history": timeline_for(row)[:HISTORY] if row.pk and can_manage else [],
    }


@login_required
def escalations_page(request):
    """Escalation settings, each stage's stale limit and the escalation log (sales
    directors see the page without the forms)."""
    if not cs.can_view_escalations(request.user):
        raise PermissionDenied
    if request.method == "GET" and is_export(request):
        filters, log = _escalation_log(request)
        if filters.is_bound and not filters.is_valid():
            return bad_filters(filters)
        return export_response(
            request,
            rows=log,
            columns=_escalation_columns(request),
            filename_stem="escalations",
            format=request.GET["format"],
        )
    status = 200
    form = None
    if request.method == "POST":
        _require_manage(request)
        form = EscalationSettingsForm.for_row(
            cs.get_escalation_settings(), request.POST
        )
        status = 422
        if form.is_valid():
            try:
                cs.save_escalation_settings(
                    actor=request.user,
                    updated_at=form.cleaned_data["updated_at"],
                    **form.values(),
                )
            except DomainError as exc:
                status = _form_error(form, exc)
            else:
                messages.success(request, _("The escalation settings are saved."))
                return redirect("settings_escalations")
    return render(
        request, ESCALATIONS, _escalations_context(request, form=form), status=status
    )


@login_required
@require_POST
def stage_stale_limit(request, stage_id: int):
    """One stage's stale limit (a row of the table)."""
    _require_manage(request)
    stage = get_object_or_404(Stage, pk=stage_id)
    form = StaleLimitForm(request.POST, auto_id=f"stage{stage.pk}_%s")
    status, error, notice = 422, "", ""
    if form.is_valid():
        try:
            stage = cs.set_stale_limit(
                stage, actor=request.user, days=form.cleaned_data["stale_after_days"]
            )
        except DomainError as exc:
            status, error = exc.status, str(exc)
        else:
            status = 200
            notice = _("Saved.")
            form = None
    else:
        error = " ".join(m for msgs in form.errors.values() for m in msgs)
    if request.htmx:
        (row,) = _stage_rows([stage], forms={stage.pk: form}, errors={stage.pk: error})
        return render(
            request,
            ESCALATIONS + "#stage_row",
            {"stage": row, "notice": notice, "can_manage": True},
            status=status,
        )
    if status == 200:
        messages.success(
            request,
            _("Stale limit of stage “%(stage)s” saved.") % {"stage": stage},
        )
    else:
        messages.error(request, f"{stage}: {error}")
    return redirect("settings_escalations")


# --- the worker's schedule ------------------------------------------------------------------


@login_required
def schedule_page(request):
    """Is the scheduler alive, and every job's next run, last run, result and error."""
    _require_manage(request)
    return render(request, SCHEDULE, {"overview": cs.schedule_overview()})


@login_required
@require_POST
def scheduled_job_run(request, name: str):
    """Run one job now (the result shows in its row)."""
    _require_manage(request)
    status, notice, error = 200, "", ""
    try:
        run = cs.run_job_now(name, actor=request.user)
    except cs.UnknownJob:
        raise Http404 from None
    except DomainError as exc:
        status, error = exc.status, str(exc)
    else:
        if run.row.last_error:
            error = _("%(name)s failed: %(error)s") % {
                "name": name,
                "error": run.row.last_error,
            }
        else:
            notice = _("%(name)s ran: %(result)s") % {
                "name": name,
                "result": run.result,
            }
    if request.htmx:
        overview = cs.schedule_overview()
        job = next(j for j in overview.jobs if j.name == name)
        return render(
            request,
            SCHEDULE + "#job_row",
            {"job": job, "notice": notice, "error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect("settings_schedule")
