"""The one NinjaAPI at /api/: authentication, error mapping, and each app's router."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from leadflow.api.auth import API_AUTH
from leadflow.api.renderers import LeadflowRenderer
from leadflow.api.schemas import ErrorOut
from leadflow.core.errors import DomainError

logger = logging.getLogger(__name__)


class LeadflowAPI(NinjaAPI):
    """The NinjaAPI whose document declares the errors any operation may answer."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        declare_shared_errors(schema)
        return schema


def declare_shared_errors(schema) -> None:
    """Every operation with input can answer 422 ``invalid_input`` (ninja's validation,
    the NUL check) and every operation with a body 400 (not JSON, too large, too deep:
    api/middleware.py), whatever its router declares (found by schemathesis)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema())
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            declared = {str(status) for status in responses}
            wanted = []
            if operation.get("parameters") or "requestBody" in operation:
                wanted.append((422, "Unprocessable Entity"))
            if "requestBody" in operation:
                wanted.append((400, "Bad Request"))
            for status, description in wanted:
                if str(status) not in declared:
                    responses[status] = {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorOut"}
                            }
                        },
                    }


api = LeadflowAPI(
    title="Leadflow API",
    version="1",
    description=(
        "Lead-to-quote CRM. Send `Authorization: Bearer <token>` (POST /api/auth/token). "
        "Errors are `{detail, code}` with a 4xx status."
    ),
    auth=API_AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    renderer=LeadflowRenderer(),
)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(
        request, {"detail": str(exc), "code": exc.code}, status=exc.status
    )


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    return api.create_response(
        request, {"detail": exc.errors, "code": "invalid_input"}, status=422
    )


@api.exception_handler(ValidationError)
def django_validation_error(request, exc: ValidationError):
    return api.create_response(
        request, {"detail": " ".join(exc.messages), "code": "invalid_input"}, status=422
    )


@api.exception_handler(IntegrityError)
def integrity_error(request, exc: IntegrityError):
    # A database rule (constraint or trigger) refused the write; nothing was saved.
    logger.warning("integrity error on %s: %s", request.path, exc)
    return api.create_response(
        request,
        {
            "detail": _("The change conflicts with stored data and was not saved."),
            "code": "conflict",
        },
        status=409,
    )


@api.exception_handler(DataError)
def data_error(request, exc: DataError):
    # A value passed validation but does not fit the column (PostgreSQL: a time zone
    # offset beyond 15:59, a number too large); the action's transaction was rolled
    # back, so nothing was saved. Found by schemathesis (docs/adr/0016).
    logger.warning("data error on %s: %s", request.path, exc)
    return api.create_response(
        request,
        {
            "detail": _("A value is outside what can be stored; nothing was saved."),
            "code": "value_out_of_range",
        },
        status=422,
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(
        request, {"detail": _("Not found."), "code": "not_found"}, status=404
    )


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(
        request,
        {"detail": _("Your role may not do this."), "code": "forbidden"},
        status=403,
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request,
        {
            "detail": _("Send a valid token: Authorization: Bearer <token>."),
            "code": "unauthenticated",
        },
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(
        request, {"detail": str(exc), "code": "http_error"}, status=exc.status_code
    )


def api_not_found(request):
    """Unknown paths under /api/ answer JSON, like every other API error."""
    return JsonResponse(
        {"detail": _("No such API path."), "code": "not_found"}, status=404
    )


def _mount() -> None:
    from leadflow.accounts.api import router as accounts_router
    from leadflow.analytics.api import router as analytics_router
    from leadflow.analytics.api_calibration import router as calibration_router
    from leadflow.analytics.api_reports import router as reports_router
    from leadflow.contacts.api import router as contacts_router
    from leadflow.contacts.api_privacy import router as privacy_router
    from leadflow.imports.api import router as imports_router
    from leadflow.intake.api import router as intake_router
    from leadflow.intake.api_mail import router as mail_router
    from leadflow.marketing.api_exports import router as marketing_exports_router
    from leadflow.opportunities.api import router as opportunities_router
    from leadflow.workflows.api import router as workflows_router
    from leadflow.workflows.api_calendar import router as calendar_router
    from leadflow.workflows.api_rules import router as rules_router

    api.add_router("/", accounts_router)
    api.add_router("/", intake_router)
    api.add_router("/", mail_router)
    api.add_router("/", contacts_router)
    api.add_router("/", opportunities_router)
    api.add_router("/", workflows_router)
    api.add_router("/", rules_router)
    api.add_router("/", calendar_router)
    api.add_router("/", analytics_router)
    api.add_router("/", reports_router)
    api.add_router("/", calibration_router)
    api.add_router("/", privacy_router)
    api.add_router("/", marketing_exports_router)
    api.add_router("/", imports_router)


_mount()
