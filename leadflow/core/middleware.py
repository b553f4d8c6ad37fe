"""Turn database outages and lock time-outs into a clear 503 instead of a 500."""

import logging

from django.db import OperationalError
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class DatabaseErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        logger.exception("database unavailable or busy")
        message = _(
            "The database is busy or unavailable. Nothing was saved; try again."
        )
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": message, "code": "database_busy"}, status=503
            )
        response = TemplateResponse(
            request, "core/error.html", {"message": message}, status=503
        )
        return response.render()
