"""The forecast page: grouped open pipeline, weighted and unweighted, compared with a
snapshot; directors and administrators take snapshots here.

Each view parses input (malformed filters are ignored, never a 500), checks access,
calls one query or action and renders.
"""

import calendar
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from leadflow.accounts.models import Team, User
from leadflow.accounts.permissions import CAPABILITIES
from leadflow.analytics.actions import take_snapshot
from leadflow.analytics.forecast import FORECAST_CATEGORIES, GROUPINGS
from leadflow.analytics.models import ForecastSnapshot, SnapshotKind
from leadflow.analytics.queries import (
    ForecastFilters,
    can_take_snapshot,
    can_view_forecast,
    compare,
    forecast_for,
    list_snapshots,
    service_types_for,
)
from leadflow.opportunities.models import ForecastCategory

GROUP_LABELS = {
    "month": gettext_lazy("Month"),
    "quarter": gettext_lazy("Quarter"),
    "service": gettext_lazy("Service type"),
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "category": gettext_lazy("Forecast category"),
}
SNAPSHOT_CHOICES = 60


def _require_forecast(user: User) -> None:
    if not can_view_forecast(user):
        raise PermissionDenied("forecast.view")


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _month(value: str | None, *, end: bool) -> date | None:
    """``2026-03`` (a month input) or ``2026-03-15``; the month's first or last day."""
    value = (value or "").strip()
    try:
        if len(value) == 7:
            year, month = int(value[:4]), int(value[5:7])
            day = calendar.monthrange(year, month)[1] if end else 1
            return date(year, month, day)
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_filters(data) -> tuple[str, ForecastFilters]:
    by = (data.get("by") or "month").strip()
    if by not in GROUPINGS:
        by = "month"
    category = (data.get("category") or "").strip()
    return by, ForecastFilters(
        date_from=_month(data.get("from"), end=False),
        date_to=_month(data.get("to"), end=True),
        owner=_int_or_none(data.get("owner")),
        team=_int_or_none(data.get("team")),
        service_type=(data.get("service_type") or "").strip()[:100] or None,
        categories=(category,) if category in ForecastCategory.values else (),
    )


def _choices(user: User) -> dict:
    return {
        "groupings": [(g, GROUP_LABELS[g]) for g in GROUPINGS],
        "owners": User.objects.filter(
            Q(is_active=True, role__in=CAPABILITIES["opportunity.own"])
        ).order_by("first_name", "last_name", "username"),
        "teams": Team.objects.order_by("name"),
        "service_types": service_types_for(user),
        "categories": ForecastCategory.choices,
        "default_categories": ", ".join(
            str(ForecastCategory(c).label) for c in FORECAST_CATEGORIES
        ),
        "snapshots": list_snapshots()[:SNAPSHOT_CHOICES],
    }


@login_required
@require_GET
def forecast_page(request):
    """The open pipeline grouped by period, service, owner, team or category."""
    _require_forecast(request.user)
    by, filters = parse_filters(request.GET)
    now = forecast_for(request.user, by=by, filters=filters)
    snapshot = None
    compare_id = _int_or_none(request.GET.get("compare"))
    if compare_id:
        snapshot = list_snapshots().filter(pk=compare_id).first()
    then = (
        forecast_for(request.user, by=by, filters=filters, snapshot=snapshot)
        if snapshot
        else None
    )
    rows = compare(now, then) if then else now.rows
    scale = max(
        (max(r.unweighted, getattr(r, "then_unweighted", 0)) for r in rows),
        default=Decimal("0"),
    )
    context = {
        "by": by,
        "by_label": GROUP_LABELS[by],
        "filters": filters,
        "raw": request.GET,
        "forecast": now,
        "rows": rows,
        "scale": scale or Decimal("1"),
        "snapshot": snapshot,
        "then": then,
        "diff_unweighted": now.unweighted - then.unweighted if then else None,
        "diff_weighted": now.weighted - then.weighted if then else None,
        "can_take_snapshot": can_take_snapshot(request.user),
        **_choices(request.user),
    }
    return render(request, "analytics/forecast.html", context)


@login_required
@require_POST
def snapshot_take(request):
    """Freeze the forecast now and compare the page with it."""
    if not can_take_snapshot(request.user):
        raise PermissionDenied("forecast.snapshot")
    snapshot: ForecastSnapshot = take_snapshot(
        actor=request.user, kind=SnapshotKind.MANUAL
    )
    messages.success(
        request,
        _("Snapshot taken: %(count)s open qualified leads frozen.")
        % {"count": snapshot.line_count},
    )
    query = urlencode({"compare": snapshot.pk})
    return redirect(f"{reverse('forecast')}?{query}")
