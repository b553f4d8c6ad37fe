"""Inquiries, the intake lookup and re-orders (SPEC steps 1 and 2)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from leadflow.accounts.permissions import require
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.contacts.actions import ContactData
from leadflow.contacts.models import Company, Contact
from leadflow.contacts.queries import get_contact_for_user
from leadflow.core.errors import ValidationFailed
from leadflow.intake import actions
from leadflow.intake.models import Channel, Order
from leadflow.intake.queries import (
    QueueFilters,
    get_inquiry_for_user,
    lookup,
    triage_queue,
)
from leadflow.intake.schemas import (
    AssignIn,
    CloseOut,
    HandoverIn,
    InquiryCloseIn,
    InquiryIn,
    InquiryOut,
    InquiryPage,
    InquiryPatch,
    LookupIn,
    LookupOut,
    OrderIn,
    OrderOut,
)
from leadflow.intake.serializers import contact_out, inquiry_out, order_out
from leadflow.opportunities.queries import get_opportunity_for_handover

router = Router(tags=["intake"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.post("/inquiries", response={201: InquiryOut, **ERRORS})
def register(request, payload: InquiryIn):
    """Register an inquiry; an unknown requester becomes a contact (matched by e-mail)."""
    require(request.auth, "inquiry.register")
    contact_data = None
    if payload.contact is not None:
        contact_data = ContactData(
            name=payload.contact.name,
            email=payload.contact.email or "",
            phone=payload.contact.phone or "",
            company_name=payload.contact.company.name
            if payload.contact.company
            else "",
            company_size=payload.contact.company.size
            if payload.contact.company
            else None,
            job_title=payload.contact.job_title or "",
        )
    if payload.contact_id is not None:
        get_contact_for_user(request.auth, payload.contact_id)
    inquiry = actions.register_inquiry(
        actions.InquiryInput(
            summary=payload.summary,
            channel=payload.channel,
            contact=contact_data,
            contact_id=payload.contact_id,
            campaign=payload.campaign,
            referrer=payload.referrer or "",
            prompted=payload.prompted,
            received_by=payload.received_by,
            department=payload.department,
            received_at=payload.received_at,
        ),
        actor=request.auth,
    )
    # The new row already carries its relations: no second query with seven joins.
    return Status(201, inquiry_out(inquiry))


@router.get("/inquiries", response={200: InquiryPage, **ERRORS})
def queue(
    request,
    params: Query[PageParams],
    status: str = "open",
    channel: str | None = None,
    department: int | None = None,
    assignee: str | None = None,
):
    """The triage queue: open inquiries oldest first (status=closed: newest first)."""
    filters = QueueFilters(status=status, department=department)
    if status not in ("open", "closed"):
        raise ValidationFailed(
            _("status must be open or closed."), code="invalid_status"
        )
    if channel:
        filters.channel = actions.resolve_channel(channel).pk
    if assignee == "none":
        filters.unassigned = True
    elif assignee:
        filters.assignee = actions.resolve_user(assignee, label="assignee").pk
    return paginate(triage_queue(request.auth, filters), params, inquiry_out)


@router.get("/inquiries/{inquiry_id}", response={200: InquiryOut, **ERRORS})
def inquiry_detail(request, inquiry_id: int):
    return inquiry_out(get_inquiry_for_user(request.auth, inquiry_id))


@router.patch("/inquiries/{inquiry_id}", response={200: InquiryOut, **ERRORS})
def inquiry_patch(request, inquiry_id: int, payload: InquiryPatch):
    """Correct an open inquiry (send the version you read: 409 if it changed since)."""
    inquiry = get_inquiry_for_user(request.auth, inquiry_id, write=True)
    values = payload.dict(exclude_unset=True, exclude={"version"})
    actions.update_inquiry(
        inquiry, actor=request.auth, version=payload.version, **values
    )
    return inquiry_out(get_inquiry_for_user(request.auth, inquiry_id))


@router.post("/inquiries/{inquiry_id}/assign", response={200: InquiryOut, **ERRORS})
def inquiry_assign(request, inquiry_id: int, payload: AssignIn):
    inquiry = get_inquiry_for_user(request.auth, inquiry_id, write=True)
    assignee = actions.resolve_user(payload.assignee, label="assignee")
    actions.assign_inquiry(inquiry, actor=request.auth, assignee=assignee)
    return inquiry_out(get_inquiry_for_user(request.auth, inquiry_id))


@router.post("/inquiries/{inquiry_id}/close", response={200: CloseOut, **ERRORS})
def close(request, inquiry_id: int, payload: InquiryCloseIn):
    """Close into qualified / nurture / archived. A closed inquiry answers 409."""
    inquiry = get_inquiry_for_user(request.auth, inquiry_id, write=True)
    closed = actions.close_inquiry(
        inquiry,
        actor=request.auth,
        outcome=payload.outcome,
        reason=payload.reason or "",
        owner=payload.owner,
        marketing_lists=payload.marketing_lists,
        expected_value=payload.expected_value,
    )
    closed = get_inquiry_for_user(request.auth, inquiry_id)
    opportunity = (
        getattr(closed, "opportunity", None) if closed.outcome == "qualified" else None
    )
    lists = (
        closed.transitions.filter(to_state="closed")
        .values_list("data", flat=True)
        .first()
    )
    return {
        "id": closed.pk,
        "status": closed.status,
        "outcome": closed.outcome,
        "opportunity_id": opportunity.pk if opportunity else None,
        "marketing_lists": (lists or {}).get("marketing_lists", []),
    }


@router.post("/intake/lookup", response={200: LookupOut, **ERRORS})
def intake_lookup(request, payload: LookupIn):
    """Find the requester again (e-mail, phone, name, company) with their history."""
    result = lookup(
        request.auth,
        email=payload.email or "",
        phone=payload.phone or "",
        name=payload.name or "",
        company=payload.company or "",
    )
    return {
        "matches": [
            {**contact_out(h), "score": h.score, "matched_on": h.reasons}
            for h in result.contacts
        ],
        "companies": [
            {
                "id": c.pk,
                "name": c.name,
                "size": c.size,
                "lifecycle": c.lifecycle,
                "is_key_prospect": c.is_key_prospect,
            }
            for c in result.companies
        ],
    }


@router.post("/orders", response={201: OrderOut, **ERRORS})
def create_order(request, payload: OrderIn):
    """Book a re-order or repeat purchase for a known contact or company."""
    require(request.auth, "order.book")
    contact = (
        get_object_or_404(
            Contact.objects.select_related("company"), pk=payload.contact_id
        )
        if payload.contact_id
        else None
    )
    company = (
        get_object_or_404(Company, pk=payload.company_id)
        if payload.company_id
        else None
    )
    order = actions.book_order(
        actor=request.auth,
        contact=contact,
        company=company,
        description=payload.description,
        amount=payload.amount,
        reference=payload.reference or "",
        ordered_at=payload.ordered_at,
        channel=payload.channel,
    )
    return Status(201, order_out(order))


@router.get("/orders", response={200: dict, **ERRORS})
def orders(
    request,
    params: Query[PageParams],
    contact_id: int | None = None,
    company_id: int | None = None,
):
    require(request.auth, "order.book")
    qs = Order.objects.select_related("booked_by").order_by("-ordered_at", "-id")
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if company_id:
        qs = qs.filter(company_id=company_id)
    return paginate(qs, params, order_out)


@router.post("/opportunities/{opportunity_id}/handover", response={200: dict, **ERRORS})
def handover(request, opportunity_id: int, payload: HandoverIn):
    """The requester is in a running sales process: log the question there, notify the owner."""
    opportunity = get_opportunity_for_handover(request.auth, opportunity_id)
    actions.hand_over_question(
        opportunity,
        actor=request.auth,
        question=payload.question,
        channel=payload.channel,
    )
    return {"id": opportunity.pk, "owner": opportunity.owner.username, "logged": True}


@router.get("/channels", response={200: list[dict], **ERRORS})
def channels(request):
    return [
        {"code": c.code, "name": str(c), "prompted_by_default": c.prompted_by_default}
        for c in Channel.objects.filter(is_active=True)
    ]
