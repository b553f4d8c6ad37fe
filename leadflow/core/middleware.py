"""Turn refused writes (409) and database outages or lock time-outs (503) into clear
messages instead of a 500."""

import logging

from django.db import IntegrityError, OperationalError
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
        if isinstance(exception, IntegrityError):
            logger.warning("integrity error on %s: %s", request.path, exception)
            message = _("The change conflicts with stored data and was not saved.")
            code, status = "conflict", 409
        elif isinstance(exception, OperationalError):
            logger.exception("database unavailable or busy")
            message = _(
                "The database is busy or unavailable. Nothing was saved; try again."
            )
            code, status = "database_busy", 503
        else:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": code}, status=status)
        response = TemplateResponse(
            request, "core/error.html", {"message": message}, status=status
        )
        return response.render()
