"""What a locked-out login gets: JSON for the API, the HTML page for the browser."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _("Too many failed attempts. Try again later."),
                "code": "locked_out",
            },
            status=429,
            content_type="application/json; charset=utf-8",
        )
    response = TemplateResponse(request, "accounts/locked_out.html", status=429)
    return response.render()
