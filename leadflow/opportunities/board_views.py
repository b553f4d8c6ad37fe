"""The pipeline board: kanban columns per stage, lazy-loaded cards, drag-to-move.

Each view parses input, checks access through queries (get_*_for_user), calls one
action and renders; counts and totals come from SQL in queries.board.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadflow.accounts.models import Team, User
from leadflow.accounts.permissions import CAPABILITIES, has_capability
from leadflow.core.errors import DomainError
from leadflow.opportunities.actions import move_stage
from leadflow.opportunities.models import Stage
from leadflow.opportunities.queries import (
    BOARD_PAGE,
    BoardFilters,
    board,
    column_cards,
    get_opportunity_for_user,
    open_pipeline,
)


def _require_pipeline(user: User) -> None:
    """The board is for the sales side: people who own leads or see them all."""
    if not (
        has_capability(user, "opportunity.own")
        or has_capability(user, "opportunity.view_all")
    ):
        raise PermissionDenied("opportunity.view")


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def parse_filters(data) -> BoardFilters:
    """The board's GET filters; anything malformed is ignored, never a 500."""
    return BoardFilters(
        owner=_int_or_none(data.get("owner")),
        team=_int_or_none(data.get("team")),
        service_type=(data.get("service_type") or "").strip()[:100],
        mine=data.get("mine") == "1",
    )


def filters_query(filters: BoardFilters) -> str:
    """The filters as a query string, carried by 'Load more' and the move requests."""
    params = {
        "owner": filters.owner or "",
        "team": filters.team or "",
        "service_type": filters.service_type,
        "mine": "1" if filters.mine else "",
    }
    return urlencode({k: v for k, v in params.items() if v})


def _filter_choices(user: User) -> dict:
    """Options of the filter form: people who may own leads, teams, service types."""
    owners = User.objects.filter(
        is_active=True, role__in=CAPABILITIES["opportunity.own"]
    ).order_by("first_name", "last_name", "username")
    service_types = (
        open_pipeline(user, BoardFilters())
        .exclude(service_type="")
        .order_by("service_type")
        .values_list("service_type", flat=True)
        .distinct()
    )
    return {
        "owners": list(owners),
        "teams": list(Team.objects.order_by("name")),
        "service_types": list(service_types),
    }


def _board_context(request, filters: BoardFilters) -> dict:
    columns = board(request.user, filters)
    for column in columns:
        column.has_more = column.count > len(column.cards)
        column.weight_percent = column.stage.weight * 100
    return {
        "columns": columns,
        "total_count": sum(c.count for c in columns),
        "total_unweighted": sum((c.unweighted for c in columns), Decimal("0")),
        "total_weighted": sum((c.weighted for c in columns), Decimal("0")),
        "filters": filters,
        "query": filters_query(filters),
        "page_size": BOARD_PAGE,
        "today": timezone.localdate(),
    }


@login_required
@require_GET
def pipeline_board(request):
    """Open qualified leads per active stage, with count and (un)weighted totals."""
    _require_pipeline(request.user)
    filters = parse_filters(request.GET)
    context = _board_context(request, filters)
    context.update(_filter_choices(request.user))
    return render(request, "opportunities/board.html", context)


@login_required
@require_GET
def pipeline_column(request, stage_id: int):
    """HTMX: the next page of one column's cards, with a new 'Load more' if any remain."""
    _require_pipeline(request.user)
    stage = get_object_or_404(Stage, pk=stage_id, is_active=True)
    filters = parse_filters(request.GET)
    offset = _int_or_none(request.GET.get("offset")) or 0
    # One card more than a page tells whether another page follows, without a COUNT.
    cards = column_cards(
        open_pipeline(request.user, filters),
        stage,
        offset=offset,
        limit=BOARD_PAGE + 1,
    )
    return render(
        request,
        "opportunities/board.html#column_page",
        {
            "stage": stage,
            "cards": cards[:BOARD_PAGE],
            "has_more": len(cards) > BOARD_PAGE,
            "next_offset": offset + BOARD_PAGE,
            "query": filters_query(filters),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def pipeline_move(request, opportunity_id: int):
    """Drop a card on another column: move the lead with a reason, return the board."""
    opportunity = get_opportunity_for_user(request.user, opportunity_id, write=True)
    filters = parse_filters(request.GET)
    try:
        moved = move_stage(
            opportunity,
            actor=request.user,
            stage=request.POST.get("stage", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        if request.htmx:
            return render(
                request,
                "opportunities/board.html#move_error",
                {"error": str(exc)},
                status=exc.status,
            )
        messages.error(request, str(exc))
        return redirect(_board_url(filters))
    note = _("“%(title)s” moved to %(stage)s.") % {
        "title": moved.title,
        "stage": moved.stage,
    }
    if request.htmx:
        context = _board_context(request, filters)
        context["moved_note"] = note
        return render(request, "opportunities/board.html#board", context)
    messages.success(request, note)
    return redirect(_board_url(filters))


def _board_url(filters: BoardFilters) -> str:
    query = filters_query(filters)
    return reverse("pipeline_board") + (f"?{query}" if query else "")
