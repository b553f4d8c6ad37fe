"""Contacts: read with flags and history, correct, record visits and consent."""

from ninja import Query, Router, Status

from leadflow.accounts.permissions import require
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.contacts.actions import record_visit, update_contact
from leadflow.contacts.queries import get_contact_for_user, list_contacts
from leadflow.contacts.schemas import ConsentIn, ContactPatch, VisitIn, VisitOut
from leadflow.intake.queries import contact_history
from leadflow.intake.schemas import ContactDetailOut
from leadflow.intake.serializers import contact_out
from leadflow.marketing.actions import record_consent

router = Router(tags=["contacts"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/contacts", response={200: dict, **ERRORS})
def contacts(request, params: Query[PageParams], search: str = ""):
    """Contacts by name, word prefix or e-mail, paginated."""
    return paginate(
        list_contacts(request.auth, search=search[:200]),
        params,
        lambda c: {
            "id": c.id,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "company": c.company.name if c.company_id else None,
        },
    )


@router.get("/contacts/{contact_id}", response={200: ContactDetailOut, **ERRORS})
def contact(request, contact_id: int):
    """A contact with marketing lists, marketing-database flag, lifecycle flags and history."""
    found = get_contact_for_user(request.auth, contact_id)
    return contact_out(contact_history(found, viewer=request.auth))


@router.patch("/contacts/{contact_id}", response={200: ContactDetailOut, **ERRORS})
def patch_contact(request, contact_id: int, payload: ContactPatch):
    require(request.auth, "contact.edit")
    found = get_contact_for_user(request.auth, contact_id)
    values = payload.dict(exclude_unset=True, exclude={"version"})
    # null clears an optional text field; a name or lifecycle cannot be cleared.
    for key in ("email", "phone", "job_title"):
        if key in values and values[key] is None:
            values[key] = ""
    updated = update_contact(
        found, actor=request.auth, version=payload.version, **values
    )
    return contact_out(contact_history(updated, viewer=request.auth))


@router.post("/contacts/{contact_id}/visits", response={201: VisitOut, **ERRORS})
def add_visit(request, contact_id: int, payload: VisitIn):
    """Record a website visit (e.g. from a web-analytics export) or a sales visit."""
    require(request.auth, "contact.record_visits")
    found = get_contact_for_user(request.auth, contact_id)
    visit = record_visit(actor=request.auth, contact=found, **payload.dict())
    return Status(201, visit)


@router.post(
    "/contacts/{contact_id}/consent", response={200: ContactDetailOut, **ERRORS}
)
def set_contact_consent(request, contact_id: int, payload: ConsentIn):
    """Record marketing consent or an opt-out (an opt-out leaves every list)."""
    require(request.auth, "contact.edit")
    found = get_contact_for_user(request.auth, contact_id)
    updated = record_consent(
        found, actor=request.auth, consent=payload.consent, reason=payload.reason
    )
    return contact_out(contact_history(updated, viewer=request.auth))
