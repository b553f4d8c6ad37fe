"""The forecast API: GET /api/forecast (SPEC contract), snapshots list and take.

Same shape as the other routers: parse → access check → query or action → serialize.
Money comes out as JSON numbers; only leads the caller may see are counted.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from leadflow.accounts.models import User
from leadflow.analytics.actions import take_snapshot
from leadflow.analytics.models import ForecastSnapshot, SnapshotKind
from leadflow.analytics.queries import (
    Forecast,
    ForecastFilters,
    can_take_snapshot,
    can_view_forecast,
    forecast_for,
    get_snapshot_for_user,
    list_snapshots,
    sees_all_leads,
)
from leadflow.analytics.schemas import (
    ForecastOut,
    ForecastQuery,
    SnapshotOut,
    SnapshotPage,
)
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.core.errors import ValidationFailed

router = Router(tags=["analytics"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def require_forecast(user: User) -> None:
    if not can_view_forecast(user):
        raise PermissionDenied("forecast.view")


def owner_id(username: str | None) -> int | None:
    text = (username or "").strip()
    if not text:
        return None
    pk = User.objects.filter(username=text).values_list("pk", flat=True).first()
    if pk is None:
        raise ValidationFailed(
            _("Unknown user %(value)r for %(label)s."),
            code="unknown_user",
            value=text,
            label="owner",
        )
    return pk


def filters_from(query: ForecastQuery) -> ForecastFilters:
    categories = tuple(
        c.strip() for c in (query.category or "").split(",") if c.strip()
    )
    return ForecastFilters(
        date_from=query.date_from,
        date_to=query.date_to,
        owner=owner_id(query.owner),
        team=query.team,
        service_type=(query.service_type or "").strip() or None,
        categories=categories,
    )


def snapshot_out(snapshot: ForecastSnapshot, user: User) -> dict:
    # Totals over every lead are shown only to those who see every lead.
    everything = sees_all_leads(user)
    return {
        "id": snapshot.pk,
        "taken_at": snapshot.taken_at,
        "taken_on": snapshot.taken_on,
        "kind": snapshot.kind,
        "taken_by": snapshot.taken_by.username if snapshot.taken_by_id else None,
        "lead_count": snapshot.line_count if everything else None,
        "unweighted": snapshot.unweighted if everything else None,
        "weighted": snapshot.weighted if everything else None,
    }


def forecast_out(forecast: Forecast, user: User) -> dict:
    return {
        "by": forecast.by,
        "rows": [
            {
                "key": row.key,
                "label": row.label,
                "weighted": row.weighted,
                "unweighted": row.unweighted,
                "count": row.count,
            }
            for row in forecast.rows
        ],
        "totals": {
            "weighted": forecast.weighted,
            "unweighted": forecast.unweighted,
            "count": forecast.count,
        },
        "snapshot": snapshot_out(forecast.snapshot, user)
        if forecast.snapshot
        else None,
    }


@router.get("/forecast", response={200: ForecastOut, **ERRORS})
def forecast(request, query: Query[ForecastQuery]):
    """Open qualified leads per month, quarter, service type, owner, team or forecast
    category: count, unweighted and weighted sums (value × P win × P go when both are
    filled in, else × the stage weight). Leads without a decision date have their own
    row (key null). ``snapshot`` answers from a frozen snapshot instead; 422 for an
    unknown ``by``."""
    require_forecast(request.auth)
    snapshot = (
        get_snapshot_for_user(request.auth, query.snapshot) if query.snapshot else None
    )
    result = forecast_for(
        request.auth, by=query.by, filters=filters_from(query), snapshot=snapshot
    )
    return forecast_out(result, request.auth)


@router.get("/forecast/snapshots", response={200: SnapshotPage, **ERRORS})
def snapshots(request, params: Query[PageParams]):
    """Forecast snapshots, newest first (automatic: Mondays and the first working day
    of the month; manual: taken by a director or administrator)."""
    require_forecast(request.auth)
    return paginate(list_snapshots(), params, lambda s: snapshot_out(s, request.auth))


@router.post("/forecast/snapshots", response={201: SnapshotOut, **ERRORS})
def snapshot_take(request):
    """Freeze the forecast now (directors and administrators)."""
    if not can_take_snapshot(request.auth):
        raise PermissionDenied("forecast.snapshot")
    snapshot = take_snapshot(actor=request.auth, kind=SnapshotKind.MANUAL)
    return Status(201, snapshot_out(snapshot, request.auth))
