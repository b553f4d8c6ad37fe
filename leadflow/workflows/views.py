"""The notifications page and 'mark read'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadflow.core.pagination import IdPaginator
from leadflow.workflows.actions import mark_read, set_email_preference
from leadflow.workflows.queries import notifications_for

PAGE_SIZE = 30


@login_required
def notifications(request):
    page = IdPaginator(notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "workflows/notifications.html", {"page": page})


@login_required
@require_POST
def notification_preferences(request):
    """E-mail on/off for the user's own notifications."""
    set_email_preference(request.user, enabled=request.POST.get("email") == "1")
    messages.success(request, _("Your notification settings are saved."))
    return redirect("notifications")


@login_required
@require_POST
def notifications_read(request):
    given = request.POST.getlist("id")
    ids = [int(i) for i in given if i.isdigit()] if given else None
    mark_read(request.user, notification_ids=ids)
    return redirect("notifications")
