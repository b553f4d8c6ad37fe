"""What an analysis counts: the user's reach, the filters and the period.

Every report reads its rows through a :class:`Scope`, so the same rule decides for
the page, the CSV/XLSX export and ``GET /api/analytics/<name>``:

- who: directors, administrators, inside sales and marketing see figures over all
  records (``analytics.view_all``); a salesperson over the leads they may see (their
  own and their team's, as on the board), the inquiries behind those leads and the
  inquiries they took in or assessed.
  Colleagues see no analyses.
- filters: period, channel, campaign, department, team, person, service type and
  industry (SPEC step 5). An unknown value is a clear 422, never an empty answer.
- the period: a date range in the company's time zone; each report says which date it
  counts by (cohort: received/created; event: closed), see ``docs/adr/0010``.
"""

import calendar
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.accounts.models import Department, Team, User
from leadflow.accounts.permissions import has_capability
from leadflow.analytics import periods
from leadflow.core.errors import ValidationFailed
from leadflow.core.worktime import current_calendar
from leadflow.intake.models import Campaign, Channel, Inquiry
from leadflow.opportunities.models import Activity, Opportunity, Quote
from leadflow.opportunities.queries import visibility_q

DEFAULT_MONTHS = 12
MAX_DAYS = 366 * 10
TEXT_LIMIT = 100


def can_view_analytics(user: User) -> bool:
    return user.is_authenticated and has_capability(user, "analytics.view")


def require_analytics(user: User) -> None:
    if not can_view_analytics(user):
        raise PermissionDenied("analytics.view")


def sees_everything(user: User) -> bool:
    return has_capability(user, "analytics.view_all")


@dataclass(frozen=True)
class ReportFilters:
    date_from: date
    date_to: date
    channel: int | None = None
    campaign: int | None = None
    department: int | None = None
    team: int | None = None
    person: int | None = None  # user id (the API and the page take a username)
    service_type: str | None = None
    industry: str | None = None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous_period(self) -> "ReportFilters":
        """The same number of days just before this period."""
        return replace(
            self,
            date_from=self.date_from - timedelta(days=self.days),
            date_to=self.date_from - timedelta(days=1),
        )

    def year_earlier(self) -> "ReportFilters":
        def back(day: date) -> date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                return day.replace(year=day.year - 1, day=28)

        return replace(self, date_from=back(self.date_from), date_to=back(self.date_to))

    def as_params(self) -> dict[str, str]:
        """Query parameters that reproduce these filters (links, exports)."""
        params = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        for f in fields(self):
            if f.name in ("date_from", "date_to"):
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "person":
                value = (
                    User.objects.filter(pk=value)
                    .values_list("username", flat=True)
                    .first()
                )
            params[f.name] = str(value)
        return params


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve whole months and this month so far."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _i in range(DEFAULT_MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, today


def _fail(label: str, value: str) -> ValidationFailed:
    return ValidationFailed(
        _("Unknown %(label)s %(value)r."),
        code="invalid_filter",
        label=label,
        value=value,
    )


def _parse_date(value: str, *, end: bool, label: str) -> date:
    """``2026-03-15`` or a month ``2026-03`` (its first or last day)."""
    text = value.strip()
    try:
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            day = calendar.monthrange(year, month)[1] if end else 1
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            _("%(label)s: %(value)r is not a date (use YYYY-MM-DD or YYYY-MM)."),
            code="invalid_date",
            label=label,
            value=text[:40],
        ) from None


def _parse_id(value: str, model, label: str) -> int:
    text = value.strip()
    if (
        not text.isdigit()
        or len(text) > 9
        or not model.objects.filter(pk=text).exists()
    ):
        raise _fail(label, text[:40])
    return int(text)


def parse_filters(data, *, today: date | None = None) -> ReportFilters:
    """Filters from query parameters (the page's GET form and the API alike):
    ``from``, ``to``, ``channel``, ``campaign``, ``department``, ``team`` (ids),
    ``person`` (username), ``service_type``, ``industry``. Empty means "all"."""

    def get(name: str) -> str:
        value = data.get(name)
        return "" if value is None else str(value).strip()

    default_from, default_to = default_period(today)
    date_from = (
        _parse_date(get("from"), end=False, label="from")
        if get("from")
        else default_from
    )
    date_to = _parse_date(get("to"), end=True, label="to") if get("to") else default_to
    if date_to < date_from:
        raise ValidationFailed(
            _("The period ends before it starts."), code="invalid_period"
        )
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed(
            _("The period is longer than ten years."), code="invalid_period"
        )
    person = None
    if get("person"):
        person = (
            User.objects.filter(username=get("person")[:150])
            .values_list("pk", flat=True)
            .first()
        )
        if person is None:
            raise _fail(_("person"), get("person")[:40])
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        channel=_parse_id(get("channel"), Channel, _("channel"))
        if get("channel")
        else None,
        campaign=_parse_id(get("campaign"), Campaign, _("campaign"))
        if get("campaign")
        else None,
        department=_parse_id(get("department"), Department, _("department"))
        if get("department")
        else None,
        team=_parse_id(get("team"), Team, _("team")) if get("team") else None,
        person=person,
        service_type=get("service_type")[:TEXT_LIMIT] or None,
        industry=get("industry")[:TEXT_LIMIT] or None,
    )


@dataclass(frozen=True)
class Scope:
    """The rows one user may count, with the filters applied. Querysets come back
    without ordering or joins beyond what the filters need: add the aggregate."""

    user: User
    filters: ReportFilters

    @property
    def tz(self) -> ZoneInfo:
        return current_calendar().tz

    @property
    def everything(self) -> bool:
        return sees_everything(self.user)

    def with_filters(self, filters: ReportFilters) -> "Scope":
        return replace(self, filters=filters)

    # --- the period ------------------------------------------------------------------

    def period_range(self):
        """The period as aware [start, end) instants."""
        return periods.day_range(self.filters.date_from, self.filters.date_to, self.tz)

    def months(self) -> list[periods.Bucket]:
        return periods.months(self.filters.date_from, self.filters.date_to, self.tz)

    def weeks(self) -> list[periods.Bucket]:
        return periods.weeks(self.filters.date_from, self.filters.date_to, self.tz)

    def _in_period(self, qs: QuerySet, date_field: str | None) -> QuerySet:
        if not date_field:
            return qs
        start, end = self.period_range()
        return qs.filter(**{f"{date_field}__gte": start, f"{date_field}__lt": end})

    # --- inquiries ---------------------------------------------------------------------

    def inquiries(self, date_field: str | None = "received_at") -> QuerySet[Inquiry]:
        """Inquiries in reach, filtered; ``date_field`` (a datetime field, or None for
        no period) decides which of them fall in the period."""
        f = self.filters
        qs = Inquiry.objects.order_by()
        if not self.everything:
            # What they took in or assessed, and the inquiries behind the leads they
            # may see (a salesperson's funnel starts at their leads' inquiries).
            reach = Q(received_by=self.user) | Q(created_by=self.user)
            reach |= Q(assignee=self.user)
            leads = visibility_q(self.user, "opportunity__")
            if leads is not None:
                reach |= leads
            qs = qs.filter(reach)
        if f.channel:
            qs = qs.filter(channel_id=f.channel)
        if f.campaign:
            qs = qs.filter(campaign_id=f.campaign)
        if f.department:
            qs = qs.filter(department_id=f.department)
        if f.team:
            qs = qs.filter(assignee__team_id=f.team)
        if f.person:
            qs = qs.filter(assignee_id=f.person)
        if f.service_type is not None:
            qs = qs.filter(opportunity__service_type=f.service_type)
        if f.industry is not None:
            qs = qs.filter(company__industry=f.industry)
        return self._in_period(qs, date_field)

    # --- qualified leads -----------------------------------------------------------------

    def opportunity_q(self, prefix: str = "") -> Q:
        """The filters as a condition on qualified leads (``prefix``: the path from
        another model, e.g. ``"opportunity__"``)."""
        f = self.filters
        q = Q()
        if f.channel:
            q &= Q(**{f"{prefix}inquiry__channel_id": f.channel})
        if f.campaign:
            q &= Q(**{f"{prefix}inquiry__campaign_id": f.campaign})
        if f.department:
            q &= Q(**{f"{prefix}inquiry__department_id": f.department})
        if f.team:
            q &= Q(**{f"{prefix}owner__team_id": f.team})
        if f.person:
            q &= Q(**{f"{prefix}owner_id": f.person})
        if f.service_type is not None:
            q &= Q(**{f"{prefix}service_type": f.service_type})
        if f.industry is not None:
            q &= Q(**{f"{prefix}company__industry": f.industry})
        return q

    def reach_q(self, prefix: str = "") -> Q:
        """The leads this user's figures cover, as a condition (all of them for
        ``analytics.view_all``; else the lead visibility rule)."""
        if self.everything:
            return Q()
        return visibility_q(self.user, prefix) or Q()

    def opportunities(
        self, date_field: str | None = "created_at"
    ) -> QuerySet[Opportunity]:
        """Qualified leads in reach, filtered; ``date_field`` picks the period's date
        (``created_at``: the cohort; ``closed_at``: the outcome; None: no period)."""
        qs = Opportunity.objects.order_by().filter(self.reach_q(), self.opportunity_q())
        return self._in_period(qs, date_field)

    def quotes(self, date_field: str | None = "created_at") -> QuerySet[Quote]:
        qs = Quote.objects.order_by().filter(
            self.reach_q("opportunity__"), self.opportunity_q("opportunity__")
        )
        return self._in_period(qs, date_field)

    def activities(self, date_field: str | None = "created_at") -> QuerySet[Activity]:
        qs = Activity.objects.order_by().filter(
            self.reach_q("opportunity__"), self.opportunity_q("opportunity__")
        )
        return self._in_period(qs, date_field)


def scope_for(user: User, data, *, today: date | None = None) -> Scope:
    """Access check and filters in one step (the page, the export and the API)."""
    require_analytics(user)
    return Scope(user=user, filters=parse_filters(data, today=today))
