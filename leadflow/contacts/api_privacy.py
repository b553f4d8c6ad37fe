"""GDPR requests over the API: export all data on a contact, erase a contact (admins)."""

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema

from leadflow.accounts.permissions import has_capability
from leadflow.api.schemas import ErrorOut
from leadflow.contacts.privacy import erase_contact, export_contact
from leadflow.contacts.queries import get_contact_for_user

router = Router(tags=["contacts"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Privacy requests are an administrator's job (no capability of their own).
CAPABILITY = "config.manage"


class ErasureIn(Schema):
    reason: str


class ErasureOut(Schema):
    id: int
    name: str
    erased: bool


def _require_admin(user) -> None:
    if not has_capability(user, CAPABILITY):
        raise PermissionDenied(CAPABILITY)


@router.get("/contacts/{contact_id}/export", response={200: dict, **ERRORS})
def export(request, contact_id: int):
    """Everything held on a contact as JSON (GDPR access / portability request)."""
    _require_admin(request.auth)
    return export_contact(get_contact_for_user(request.auth, contact_id))


@router.post("/contacts/{contact_id}/erase", response={200: ErasureOut, **ERRORS})
def erase(request, contact_id: int, payload: ErasureIn):
    """Anonymise a contact in place (GDPR erasure); analytics totals stay the same."""
    _require_admin(request.auth)
    found = get_contact_for_user(request.auth, contact_id)
    erase_contact(found, actor=request.auth, reason=payload.reason[:500])
    found.refresh_from_db()
    return {"id": found.pk, "name": found.name, "erased": True}
