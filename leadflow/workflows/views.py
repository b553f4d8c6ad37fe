"""The notifications page and 'mark read'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from leadflow.core.export import Column, export_response, filter_query, is_export
from leadflow.core.pagination import IdPaginator
from leadflow.workflows.actions import mark_read, set_email_preference
from leadflow.workflows.queries import EMAIL_MODES, email_preference, notifications_for

PAGE_SIZE = 30


def _notification_columns(request) -> list[Column]:
    def link(n) -> str:
        return request.build_absolute_uri(n.url) if n.url else ""

    return [
        Column("pk", _l("ID")),
        Column("created_at", _l("Created at")),
        Column("actor", _l("By")),
        Column("message", _l("Message")),
        Column(link, _l("Link")),
        Column("read_at", _l("Read at")),
    ]


@login_required
def notifications(request):
    rows = notifications_for(request.user)
    if is_export(request):
        return export_response(
            request,
            rows=rows,
            columns=_notification_columns(request),
            filename_stem="notifications",
            format=request.GET["format"],
        )
    page = IdPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/notifications.html",
        {
            "page": page,
            "email_mode": email_preference(request.user),
            "export_query": filter_query(request),
            # (posted value, mode, label): "1" for "each" is what the former
            # on/off checkbox posted, so old forms and bookmarks keep working.
            "email_choices": [
                ("0", "off", _("No e-mail")),
                ("1", "each", _("An e-mail for each notification")),
                ("digest", "digest", _("One daily digest, each morning")),
            ],
        },
    )


# What the form posts; "1" and nothing are what the former on/off checkbox sent
# (checked / unchecked) and keep meaning the same.
POSTED_EMAIL = {"": "off", "0": "off", "1": "each", **{m: m for m in EMAIL_MODES}}


@login_required
@require_POST
def notification_preferences(request):
    """How the user's own notifications reach them by e-mail: off, each, digest."""
    mode = POSTED_EMAIL.get(request.POST.get("email", ""))
    if mode is None:
        messages.error(request, _("Choose how you want your notifications by e-mail."))
        return redirect("notifications")
    enabled, digest = EMAIL_MODES[mode]
    set_email_preference(request.user, enabled=enabled, digest=digest)
    messages.success(request, _("Your notification settings are saved."))
    return redirect("notifications")


@login_required
@require_POST
def notifications_read(request):
    given = request.POST.getlist("id")
    ids = [int(i) for i in given if i.isdigit()] if given else None
    mark_read(request.user, notification_ids=ids)
    return redirect("notifications")
