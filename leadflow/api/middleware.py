"""Refuse API input that contains NUL characters, before any view sees it.

PostgreSQL cannot store NUL in text and no real CRM input contains it; answering 422
here keeps both databases behaving the same (SQLite would store it).
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
        return self.get_response(request)

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
