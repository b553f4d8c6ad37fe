"""The stage-weight calibration page (DOMAIN.md §6.2): observed P(win | stage) next to
each configured weight; directors and administrators see it, administrators adopt.

Thin: access check → ``calibration_for`` or ``adopt_stage_weight`` → render/redirect.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadflow.analytics.calibration import (
    MIN_CLOSED_LEADS,
    adopt_stage_weight,
    calibration_for,
    can_adopt_weights,
    can_view_calibration,
)
from leadflow.core.errors import DomainError


@login_required
@require_http_methods(["GET", "POST"])
def calibration_page(request):
    """GET: the table. POST (administrators): adopt one stage's observed weight."""
    if not can_view_calibration(request.user):
        raise PermissionDenied("analytics.calibration")
    error = ""
    status = 200
    if request.method == "POST":
        if not can_adopt_weights(request.user):
            raise PermissionDenied("config.manage")
        try:
            stage = adopt_stage_weight(
                request.POST.get("code", "")[:40],
                actor=request.user,
                expected_weight=request.POST.get("expected_weight", ""),
                weight=request.POST.get("weight") or None,
            )
        except DomainError as exc:
            error, status = str(exc), exc.status
        else:
            messages.success(
                request,
                _("The weight of %(stage)s is now %(weight)s.")
                % {"stage": stage, "weight": stage.weight},
            )
            return redirect(reverse("analytics_calibration"))
    context = {
        "rows": calibration_for(request.user),
        "min_closed_leads": MIN_CLOSED_LEADS,
        "can_adopt": can_adopt_weights(request.user),
        "error": error,
    }
    return render(request, "analytics/calibration.html", context, status=status)
