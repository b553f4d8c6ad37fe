"""Qualified-lead pages (list and record); the qualified-leads issue adds editing."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from leadflow.accounts.permissions import has_capability
from leadflow.audit.queries import timeline_for
from leadflow.opportunities.queries import (
    get_opportunity_for_user,
    visible_opportunities,
)
from leadflow.opportunities.states import OpportunityStatus

PAGE_SIZE = 25


@login_required
def opportunity_list(request):
    if not (
        has_capability(request.user, "opportunity.own")
        or has_capability(request.user, "opportunity.view_all")
    ):
        raise PermissionDenied
    status = request.GET.get("status") or OpportunityStatus.OPEN
    qs = visible_opportunities(request.user).order_by("-created_at", "-id")
    if status in OpportunityStatus.values:
        qs = qs.filter(status=status)
    mine = request.GET.get("mine") == "1"
    if mine:
        qs = qs.filter(owner=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "opportunities/list.html",
        {
            "page": page,
            "status": status,
            "mine": mine,
            "statuses": OpportunityStatus.choices,
        },
    )


@login_required
def opportunity_detail(request, opportunity_id: int):
    opportunity = get_opportunity_for_user(request.user, opportunity_id)
    return render(
        request,
        "opportunities/detail.html",
        {
            "o": opportunity,
            "timeline": timeline_for(opportunity, opportunity.transitions.all()),
        },
    )
