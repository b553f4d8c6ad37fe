"""Marketing lists for mailing tools over the API, and a contact's consent history."""

from datetime import datetime
from typing import Literal

from ninja import Router, Schema

from leadflow.api.schemas import ErrorOut
from leadflow.contacts.queries import consent_history, get_contact_for_user
from leadflow.marketing import exports

router = Router(tags=["marketing"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ExportSummaryOut(Schema):
    list_id: int
    name: str
    members: int
    rows: int
    left_out: dict[str, int]


class ConsentChangeOut(Schema):
    at: datetime
    old: str
    new: str
    actor: str | None
    source: str
    by: str
    reason: str


class ConsentHistoryOut(Schema):
    total: int
    items: list[ConsentChangeOut]


@router.get(
    "/marketing/lists/{list_id}/export-summary",
    response={200: ExportSummaryOut, **ERRORS},
)
def export_summary(request, list_id: int):
    """How many members the export holds and how many are left out, by reason
    (erased, opted_out, no_consent, no_email). Marketing and admins."""
    marketing_list = exports.get_exportable_list(request.auth, list_id)
    summary = exports.export_summary(marketing_list)
    return {
        "list_id": marketing_list.pk,
        "name": marketing_list.name,
        "members": summary.members,
        "rows": summary.rows,
        "left_out": summary.left_out,
    }


@router.get(
    "/marketing/lists/{list_id}/export",
    response=ERRORS,
    openapi_extra={
        "responses": {
            "200": {
                "description": "CSV (UTF-8 with BOM) or XLSX: Email, First name, "
                "Last name, Company, Language, Consent since, Unsubscribe URL, "
                "List-Unsubscribe; headers X-Leadflow-Rows and X-Leadflow-Left-Out",
                "content": {"text/csv": {}, exports.XLSX_TYPE: {}},
            }
        }
    },
)
def export_list(request, list_id: int, format: Literal["csv", "xlsx"] = "csv"):
    """The members who may be mailed (consent granted, an e-mail address, not erased),
    each with a signed unsubscribe link. Streamed; audited. Marketing and admins."""
    marketing_list = exports.get_exportable_list(request.auth, list_id)
    return exports.export_response(marketing_list, format, actor=request.auth)


@router.get(
    "/contacts/{contact_id}/consent-history",
    response={200: ConsentHistoryOut, **ERRORS},
)
def contact_consent_history(request, contact_id: int, limit: int = 50):
    """Marketing-consent changes, newest first (at most ``limit``, 1-200; ``total``
    counts them all). ``source``: user, unsubscribe_link, web_form or system."""
    contact = get_contact_for_user(request.auth, contact_id)
    history = consent_history(contact, limit=max(1, min(limit, 200)))
    return {
        "total": history.total,
        "items": [
            {
                "at": c.at,
                "old": c.old,
                "new": c.new,
                "actor": c.actor.get_username() if c.actor is not None else None,
                "source": c.source,
                "by": c.by_label,
                "reason": c.reason,
            }
            for c in history.changes
        ],
    }
