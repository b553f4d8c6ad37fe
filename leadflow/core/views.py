"""Error pages: JSON under /api/, the normal page elsewhere."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as django_bad_request


def bad_request(request, exception, template_name="400.html"):
    """Oversized bodies and other refused requests answer JSON on the API."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _("The request was refused (too large or malformed)."),
                "code": "bad_request",
            },
            status=400,
        )
    return django_bad_request(request, exception, template_name)
