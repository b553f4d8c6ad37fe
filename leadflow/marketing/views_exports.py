"""A marketing list for a mailing tool (summary page, CSV/XLSX download) and the public
unsubscribe page its links lead to."""

from django.contrib.auth.decorators import login_required
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from leadflow.marketing import exports
from leadflow.marketing import unsubscribe as links


@login_required
@require_GET
def marketing_list_export(request, list_id: int):
    """What the file will hold, and who is left out and why, before the download."""
    marketing_list = exports.get_exportable_list(request.user, list_id)
    return render(
        request,
        "marketing/list_export.html",
        {"list": marketing_list, "summary": exports.export_summary(marketing_list)},
    )


@login_required
@require_GET
def marketing_list_export_download(request, list_id: int):
    marketing_list = exports.get_exportable_list(request.user, list_id)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        return render(
            request,
            "marketing/list_export.html",
            {
                "list": marketing_list,
                "summary": exports.export_summary(marketing_list),
                "error": _("Choose CSV or XLSX."),
            },
            status=400,
        )
    return exports.export_response(marketing_list, fmt, actor=request.user)


def _csrf_refusal(request):
    """Django's own CSRF check, for every POST that is not an RFC 8058 one-click."""
    return CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {})


def _public(request, template: str, context: dict, *, status: int = 200):
    """A page of the public unsubscribe flow: not cached, not indexed."""
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def marketing_unsubscribe(request, token: str):
    """GET shows the button (mail scanners follow links: never opt out on GET); POST
    opts out. A mail client's one-click POST comes without a cookie: only that exact
    body skips the CSRF check."""
    if links.over_rate_limit(request):
        return _public(
            request,
            "marketing/unsubscribe_error.html",
            {"message": _("Too many requests. Please try again in a minute.")},
            status=429,
        )
    if request.method == "POST" and not links.is_one_click(request):
        refusal = _csrf_refusal(request)
        if refusal is not None:
            return refusal
    contact = links.contact_for_token(token)
    if contact is None:
        return _public(
            request,
            "marketing/unsubscribe_error.html",
            {
                "message": _(
                    "This unsubscribe link is not valid. Check that it was copied "
                    "completely, or reply to the e-mail and we will take you off "
                    "our lists."
                )
            },
            status=404,
        )
    context = {"masked_email": links.mask_email(contact.email), "token": token}
    if request.method == "GET":
        if contact.opted_out:
            return _public(
                request, "marketing/unsubscribe_done.html", {**context, "already": True}
            )
        return _public(request, "marketing/unsubscribe.html", context)
    _contact, changed = links.unsubscribe(contact)
    return _public(
        request, "marketing/unsubscribe_done.html", {**context, "already": not changed}
    )
