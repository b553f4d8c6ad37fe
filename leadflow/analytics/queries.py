"""Read-only forecast queries: sums per group in SQL, only over leads the user may see.

The forecast covers open qualified leads (DOMAIN.md §6.1): per group the number of
leads, the unweighted sum of their expected values and the weighted sum (value ×
weight, the pipeline board's weight). Leads in the "omitted" category are left out
unless asked for. A snapshot answers the same question from its frozen lines.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Expression,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from leadflow.accounts.models import Role, User
from leadflow.accounts.permissions import has_capability
from leadflow.analytics.forecast import (
    CENT,
    FORECAST_CATEGORIES,
    GROUPINGS,
    month_key,
    quarter_key,
)
from leadflow.analytics.models import ForecastSnapshot, ForecastSnapshotLine
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.core.errors import ValidationFailed
from leadflow.opportunities.models import ForecastCategory
from leadflow.opportunities.queries import visible_opportunities, weight_expression
from leadflow.opportunities.states import OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=6)
ZERO = Decimal("0")


def category_expression() -> Expression:
    """SQL twin of ``forecast.effective_category``: the result decides for a closed
    lead, the lead's own override or else its stage's category for an open one."""
    return Case(
        When(status=OpportunityStatus.WON, then=Value(ForecastCategory.CLOSED)),
        When(~Q(status=OpportunityStatus.OPEN), then=Value(ForecastCategory.OMITTED)),
        When(~Q(forecast_category_override=""), then=F("forecast_category_override")),
        default=F("stage__forecast_category"),
        output_field=CharField(),
    )


# --- who may see the forecast ---------------------------------------------------------


def can_view_forecast(user: User) -> bool:
    """The sales side: people who own leads or see them all (like the board)."""
    return has_capability(user, "opportunity.own") or has_capability(
        user, "opportunity.view_all"
    )


def can_take_snapshot(user: User) -> bool:
    """Directors and administrators freeze the forecast by hand."""
    return user.is_authenticated and user.effective_role in (
        Role.SALES_DIRECTOR,
        Role.ADMIN,
    )


def sees_all_leads(user: User) -> bool:
    return has_capability(user, "opportunity.view_all")


# --- the forecast ------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastFilters:
    date_from: date | None = None  # decision date on or after
    date_to: date | None = None  # decision date on or before
    owner: int | None = None  # user id
    team: int | None = None
    service_type: str | None = None  # None: every type; "": leads without one
    categories: tuple[str, ...] = ()  # (): pipeline, best case and commit


@dataclass
class ForecastRow:
    key: str | int | None
    label: str
    count: int
    unweighted: Decimal
    weighted: Decimal


@dataclass
class Forecast:
    by: str
    rows: list[ForecastRow] = field(default_factory=list)
    count: int = 0
    unweighted: Decimal = ZERO
    weighted: Decimal = ZERO
    snapshot: ForecastSnapshot | None = None


@dataclass(frozen=True)
class _Source:
    """Where the numbers come from: live leads or a snapshot's lines."""

    queryset: QuerySet
    value: str
    weighted: Expression
    category: Expression
    owner: str
    team: str
    date: str = "decision_date"
    service: str = "service_type"


def _live_source(user: User) -> _Source:
    qs = visible_opportunities(user).filter(status=OpportunityStatus.OPEN)
    return _Source(
        queryset=qs,
        value="expected_value",
        weighted=F("expected_value") * weight_expression(),
        category=category_expression(),
        owner="owner",
        team="owner__team",
    )


def _snapshot_source(user: User, snapshot: ForecastSnapshot) -> _Source:
    qs = ForecastSnapshotLine.objects.filter(snapshot=snapshot)
    if not sees_all_leads(user):
        # Lines of the leads the user may see now (the visibility rule lives there).
        qs = qs.filter(opportunity__in=visible_opportunities(user).values("pk"))
    return _Source(
        queryset=qs,
        value="value",
        weighted=F("value") * F("weight"),
        category=F("category"),
        owner="owner",
        team="team",
    )


def _reach(scope: Scope) -> Scope:
    """The same user without filters: only who may see what."""
    f = scope.filters
    return scope.with_filters(ReportFilters(date_from=f.date_from, date_to=f.date_to))


def snapshot_line_q(filters: ReportFilters) -> Q:
    """The analysis filters as a condition on snapshot lines: owner, team and service
    type as frozen in the snapshot; channel, campaign, department and industry from
    the lead's inquiry and company (they do not change)."""
    q = Q()
    if filters.channel:
        q &= Q(opportunity__inquiry__channel_id=filters.channel)
    if filters.campaign:
        q &= Q(opportunity__inquiry__campaign_id=filters.campaign)
    if filters.department:
        q &= Q(opportunity__inquiry__department_id=filters.department)
    if filters.team:
        q &= Q(team_id=filters.team)
    if filters.person:
        q &= Q(owner_id=filters.person)
    if filters.service_type is not None:
        q &= Q(service_type=filters.service_type)
    if filters.industry is not None:
        q &= Q(opportunity__company__industry=filters.industry)
    return q


def scoped_snapshot_lines(scope: Scope) -> QuerySet[ForecastSnapshotLine]:
    """Snapshot lines (of any snapshot) of the leads in the scope's reach, filtered."""
    qs = ForecastSnapshotLine.objects.order_by().filter(snapshot_line_q(scope.filters))
    if not scope.everything:
        qs = qs.filter(opportunity__in=_reach(scope).opportunities(None).values("pk"))
    return qs


def _scope_live_source(scope: Scope) -> _Source:
    return _Source(
        queryset=scope.opportunities(None).filter(status=OpportunityStatus.OPEN),
        value="expected_value",
        weighted=F("expected_value") * weight_expression(),
        category=category_expression(),
        owner="owner",
        team="owner__team",
    )


def _scope_snapshot_source(scope: Scope, snapshot: ForecastSnapshot) -> _Source:
    return _Source(
        queryset=scoped_snapshot_lines(scope).filter(snapshot=snapshot),
        value="value",
        weighted=F("value") * F("weight"),
        category=F("category"),
        owner="owner",
        team="team",
    )


def _source(
    user: User, snapshot: ForecastSnapshot | None, scope: Scope | None
) -> _Source:
    if scope is not None:
        if snapshot is not None:
            return _scope_snapshot_source(scope, snapshot)
        return _scope_live_source(scope)
    return _snapshot_source(user, snapshot) if snapshot else _live_source(user)


def forecast_queryset(
    user: User,
    filters: ForecastFilters,
    *,
    snapshot: ForecastSnapshot | None = None,
    scope: Scope | None = None,
) -> QuerySet:
    """The filtered rows behind a forecast, annotated ``_category``, ``_value`` and
    ``_weighted``, for a report's own grouping (e.g. month × category)."""
    check_categories(filters.categories)
    source = _source(user, snapshot, scope)
    return _filtered(source, filters).annotate(_value=F(source.value))


def check_grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise ValidationFailed(
            _("Unknown grouping %(value)r: use one of %(known)s."),
            code="invalid_grouping",
            value=by,
            known=", ".join(GROUPINGS),
        )
    return by


def check_categories(categories) -> tuple[str, ...]:
    unknown = [c for c in categories if c not in ForecastCategory.values]
    if unknown:
        raise ValidationFailed(
            _("Unknown forecast category %(value)r: use one of %(known)s."),
            code="invalid_category",
            value=unknown[0],
            known=", ".join(ForecastCategory.values),
        )
    return tuple(dict.fromkeys(categories))


def _filtered(source: _Source, filters: ForecastFilters) -> QuerySet:
    qs = source.queryset.order_by().annotate(
        _category=source.category, _weighted=source.weighted
    )
    if filters.date_from:
        qs = qs.filter(**{f"{source.date}__gte": filters.date_from})
    if filters.date_to:
        qs = qs.filter(**{f"{source.date}__lte": filters.date_to})
    if filters.owner:
        qs = qs.filter(**{f"{source.owner}_id": filters.owner})
    if filters.team:
        qs = qs.filter(**{f"{source.team}_id": filters.team})
    if filters.service_type is not None:
        qs = qs.filter(**{source.service: filters.service_type})
    return qs.filter(_category__in=filters.categories or FORECAST_CATEGORIES)


def _group_fields(source: _Source, by: str) -> tuple[dict, list[str]]:
    """Annotations that form the group, and the names to read back."""
    if by in ("month", "quarter"):
        # Grouped per decision date and folded into months here: SQLite truncates
        # dates in a Python function per row (measured with 300,000 open leads:
        # 5.9 s with TruncMonth, 2.8 s per date), and there are only so many dates.
        return {"_g": F(source.date)}, ["_g"]
    if by == "service":
        return {"_g": F(source.service)}, ["_g"]
    if by == "owner":
        names = ["username", "first_name", "last_name"]
        return (
            {f"_g_{n}": F(f"{source.owner}__{n}") for n in names},
            [f"_g_{n}" for n in names],
        )
    if by == "team":
        return (
            {"_g": F(f"{source.team}_id"), "_g_name": F(f"{source.team}__name")},
            ["_g", "_g_name"],
        )
    return {"_g": F("_category")}, ["_g"]


def _key_and_label(by: str, row: dict) -> tuple[str | int | None, str]:
    value = row.get("_g")
    if by in ("month", "quarter"):
        if value is None:
            return None, _("No decision date")
        if by == "month":
            return month_key(value), date_format(
                value.replace(day=1), "YEAR_MONTH_FORMAT"
            )
        key = quarter_key(value)
        return key, key.replace("-", " ")
    if by == "service":
        return (value, value) if value else (None, _("No service type"))
    if by == "owner":
        full = f"{row['_g_first_name']} {row['_g_last_name']}".strip()
        return row["_g_username"], full or row["_g_username"]
    if by == "team":
        return (value, row["_g_name"]) if value else (None, _("No team"))
    return value, str(ForecastCategory(value).label)


CATEGORY_ORDER = {value: i for i, value in enumerate(ForecastCategory.values)}


def _sort_key(by: str):
    if by == "category":
        return lambda r: CATEGORY_ORDER.get(r.key, 99)
    if by in ("owner", "team"):
        return lambda r: (r.key is None, r.label.casefold())
    return lambda r: (r.key is None, str(r.key or ""))


def _aggregate(source: _Source, by: str, filters: ForecastFilters) -> Forecast:
    group, names = _group_fields(source, by)
    qs = (
        _filtered(source, filters)
        .annotate(**group)
        .values(*names)
        .annotate(
            n=Count("pk"),
            unweighted=Coalesce(Sum(source.value), ZERO, output_field=MONEY),
            weighted=Coalesce(Sum("_weighted"), ZERO, output_field=MONEY),
        )
        .order_by()
    )
    groups: dict = {}
    for row in qs:
        key, label = _key_and_label(by, row)
        count, unweighted, weighted = groups.get(key, (0, ZERO, ZERO, ""))[:3]
        groups[key] = (
            count + row["n"],
            unweighted + Decimal(row["unweighted"]),
            weighted + Decimal(row["weighted"]),
            label,
        )
    forecast = Forecast(by=by)
    for key, (count, unweighted, weighted, label) in groups.items():
        forecast.count += count
        forecast.unweighted += unweighted
        forecast.weighted += weighted
        forecast.rows.append(
            ForecastRow(
                key=key,
                label=label,
                count=count,
                unweighted=unweighted.quantize(CENT),
                weighted=weighted.quantize(CENT),
            )
        )
    forecast.rows.sort(key=_sort_key(by))
    forecast.unweighted = forecast.unweighted.quantize(CENT)
    forecast.weighted = forecast.weighted.quantize(CENT)
    return forecast


def forecast_for(
    user: User,
    *,
    by: str = "month",
    filters: ForecastFilters | None = None,
    snapshot: ForecastSnapshot | None = None,
    scope: Scope | None = None,
) -> Forecast:
    """The forecast grouped ``by`` month, quarter, service, owner, team or category,
    now or as frozen in ``snapshot``; one SQL query. With an analysis ``scope`` its
    reach and filters apply (channel, campaign, department, industry too) instead of
    the forecast page's own reach."""
    check_grouping(by)
    filters = filters or ForecastFilters()
    check_categories(filters.categories)
    source = _source(user, snapshot, scope)
    forecast = _aggregate(source, by, filters)
    forecast.snapshot = snapshot
    return forecast


@dataclass
class ComparedRow:
    key: str | int | None
    label: str
    count: int
    unweighted: Decimal
    weighted: Decimal
    then_count: int
    then_unweighted: Decimal
    then_weighted: Decimal

    @property
    def diff_unweighted(self) -> Decimal:
        return self.unweighted - self.then_unweighted

    @property
    def diff_weighted(self) -> Decimal:
        return self.weighted - self.then_weighted

    @property
    def diff_count(self) -> int:
        return self.count - self.then_count


def compare(now: Forecast, then: Forecast) -> list[ComparedRow]:
    """Rows of both forecasts side by side (a group missing on one side counts 0)."""
    rows: dict = {}
    for row in then.rows:
        rows[row.key] = ComparedRow(
            row.key, row.label, 0, ZERO, ZERO, row.count, row.unweighted, row.weighted
        )
    for row in now.rows:
        compared = rows.get(row.key) or ComparedRow(
            row.key, row.label, 0, ZERO, ZERO, 0, ZERO, ZERO
        )
        compared.label = row.label
        compared.count, compared.unweighted, compared.weighted = (
            row.count,
            row.unweighted,
            row.weighted,
        )
        rows[row.key] = compared
    return sorted(rows.values(), key=_sort_key(now.by))


# --- snapshots ----------------------------------------------------------------------------


def snapshot_on_or_before(day: date) -> ForecastSnapshot | None:
    """The latest snapshot taken on ``day`` (company calendar) or before, if any."""
    return (
        ForecastSnapshot.objects.filter(taken_on__lte=day)
        .order_by("-taken_at", "-id")
        .first()
    )


def list_snapshots() -> QuerySet[ForecastSnapshot]:
    return ForecastSnapshot.objects.select_related("taken_by").order_by(
        "-taken_at", "-id"
    )


def get_snapshot_for_user(user: User, snapshot_id: int) -> ForecastSnapshot:
    """404 for an unknown snapshot; the lines are filtered per user when read."""
    return get_object_or_404(list_snapshots(), pk=snapshot_id)


def service_types_for(user: User) -> list[str]:
    """Service types of the open leads the user sees (filter choices)."""
    return list(
        visible_opportunities(user)
        .filter(status=OpportunityStatus.OPEN)
        .exclude(service_type="")
        .order_by("service_type")
        .values_list("service_type", flat=True)
        .distinct()
    )
