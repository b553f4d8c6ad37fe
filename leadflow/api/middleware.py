"""Refuse API input that contains NUL characters, before any view sees it.

PostgreSQL cannot store NUL in text and no real CRM input contains it; answering 422
here keeps both databases behaving the same (SQLite would store it). Also gives a
wrong HTTP method the API's JSON error shape.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _

UNSAFE = {"POST", "PUT", "PATCH"}


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and self._has_nul(request):
            return JsonResponse(
                {
                    "detail": _("Text may not contain NUL characters."),
                    "code": "invalid_characters",
                },
                status=422,
            )
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and "json" not in response.get("Content-Type", "")
        ):
            # The contract's error shape for a wrong method too (ninja answers text).
            allowed = response.get("Allow", "")
            response = JsonResponse(
                {
                    "detail": _(
                        "Method %(method)s is not allowed here; use %(allowed)s."
                    )
                    % {"method": request.method, "allowed": allowed or "-"},
                    "code": "method_not_allowed",
                },
                status=405,
            )
            if allowed:
                response["Allow"] = allowed
        return response

    @staticmethod
    def _has_nul(request) -> bool:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return True
        if request.method not in UNSAFE:
            return False
        if "json" not in (request.content_type or ""):
            return False
        body = request.body  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
        return b"\\u0000" in body
