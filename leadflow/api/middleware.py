"""Refuse hostile API input before any view (or ninja's JSON parser) sees it.

NUL characters: PostgreSQL cannot store NUL in text and no real CRM input contains it;
answering 422 here keeps both databases behaving the same (SQLite would store it). Also
gives a wrong HTTP method the API's JSON error shape.

Hostile JSON (issue 7): a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``too_large``), a
body that is not declared as JSON (``unsupported_media_type``), is not UTF-8 (the same
400 ``http_error`` ninja gives any unparseable body), nests deeper than ``MAX_DEPTH``
(``too_deep``; Python's json would otherwise recurse until RecursionError), or holds
NaN/Infinity, integers of more than ``MAX_INT_DIGITS`` digits or floats that overflow (``invalid_number``),
duplicate keys (``duplicate_key``) or more than ``MAX_KEYS`` keys in one object
(``too_many_keys``) is answered with a 4xx ``{detail, code}``; nothing reaches a view,
so nothing is written.
"""

import json
import math
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.translation import gettext as _

UNSAFE = {"POST", "PUT", "PATCH"}
WITH_BODY = UNSAFE | {"DELETE"}

MAX_DEPTH = 64  # the deepest real body (a quote's lines) is 4 levels
MAX_KEYS = 1_000  # per object; the widest real object has about 20 keys
MAX_INT_DIGITS = 100  # any real integer (ids, sizes, versions) has at most 19
# Status of a body over the limit. 413 would be the textbook answer, but the API
# contract (docs/api.md, test_api_errors) has promised 400 for it since the start.
TOO_LARGE_STATUS = 400

# A JSON string (escapes included); an unterminated one runs to the end, so a failed
# match never rescans the rest of the body (no quadratic time on hostile input).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
_CONSTANT = re.compile(rb"NaN|Infinity")


class _Refused(Exception):
    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self) -> JsonResponse:
        return JsonResponse(
            {"detail": self.detail, "code": self.code}, status=self.status
        )


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and not _is_raw_body(request):
            try:
                _check_body(request)
            except _Refused as refusal:
                return refusal.response()
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


# Calls that take a body other than JSON; their views read and limit it themselves:
# e-mail intake (leadflow/intake/api_mail.py) takes a raw message, limited by
# LEADFLOW_MAIL_MAX_BYTES (25 MB by default), and answers 415 itself for any other
# type (None: every type); an import (leadflow/imports/api.py) a file upload, limited
# by LEADFLOW_IMPORT_MAX_BYTES (Django streams it to disk).
RAW_BODIES: dict[str, set[str] | None] = {
    "/api/intake/mail": None,
    "/api/imports": {"multipart/form-data"},
}


def _is_raw_body(request) -> bool:
    if request.path not in RAW_BODIES:
        return False
    types = RAW_BODIES[request.path]
    return types is None or request.content_type in types


def _check_body(request) -> None:
    """Raise _Refused for a hostile body; an ordinary one passes untouched."""
    if request.method not in WITH_BODY:
        return
    try:
        body = request.body
    except RequestDataTooBig:
        raise _Refused(
            TOO_LARGE_STATUS,
            "too_large",
            _("The request body is larger than %(max)d bytes.")
            % {"max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        ) from None
    if not body.strip():
        return  # no body: the view decides whether it needs one
    if "json" not in (request.content_type or ""):
        raise _Refused(
            400,
            "unsupported_media_type",
            _("Send the request body as JSON (Content-Type: application/json)."),
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # What ninja answers for any body it cannot parse (docs/api.md: http_error).
        raise _Refused(400, "http_error", "Cannot parse request body") from None
    if len(body.translate(None, _NOT_BRACKET)) > MAX_DEPTH or _CONSTANT.search(body):
        # Only then blank out the strings (brackets and words in them are text).
        structure = _STRING.sub(b'""', body)
        if _too_deep(structure):
            raise _Refused(
                400,
                "too_deep",
                _("The JSON is nested more than %(max)d levels deep.")
                % {"max": MAX_DEPTH},
            )
        if _CONSTANT.search(structure):
            raise _invalid_number()
    try:
        json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_object,
        )
    except ValueError:
        return  # malformed JSON: ninja answers 400 http_error, as before


def _too_deep(structure: bytes) -> bool:
    """Whether brackets (outside strings) nest deeper than MAX_DEPTH.

    Each pass deletes the innermost bracket pairs (in C, bytes.replace); a balanced
    body of depth d is empty after d passes. Unclosed opening brackets left at the
    end only add depth, so passes + those brackets is an upper bound, and exact for
    valid JSON.
    """
    brackets = structure.translate(_AS_PARENS, _NOT_BRACKET)
    passes = 0
    while b"()" in brackets:
        passes += 1
        if passes > MAX_DEPTH:
            return True
        brackets = brackets.replace(b"()", b"")
    return passes + brackets.count(b"(") > MAX_DEPTH


def _invalid_number() -> _Refused:
    return _Refused(
        422,
        "invalid_number",
        _(
            "Numbers must be finite (no NaN or Infinity) and have at most "
            "%(max)d digits."
        )
        % {"max": MAX_INT_DIGITS},
    )


def _parse_int(digits: str) -> int:
    # Longer ones are refused here: converting them costs quadratic time (Python
    # caps int() at 4,300 digits for that reason). Shorter out-of-range integers go
    # to the schema, whose bounds answer 422 invalid_input.
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _invalid_number()
    return int(digits)


def _parse_float(digits: str) -> float:
    if len(digits) > 1_000:
        raise _invalid_number()
    value = float(digits)
    if not math.isfinite(value):
        raise _invalid_number()
    return value


def _parse_constant(name: str):
    raise _invalid_number()


def _object(pairs: list) -> dict:
    if len(pairs) > MAX_KEYS:
        raise _Refused(
            422,
            "too_many_keys",
            _("A JSON object may have at most %(max)d keys.") % {"max": MAX_KEYS},
        )
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Refused(
            422,
            "duplicate_key",
            _("A JSON object may not repeat a key."),
        )
    return result
