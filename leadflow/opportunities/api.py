"""Qualified leads (read side for now; the qualified-leads issue adds the writes)."""

from ninja import Query, Router

from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.queries import (
    get_opportunity_for_user,
    visible_opportunities,
)
from leadflow.opportunities.schemas import OpportunityOut

router = Router(tags=["opportunities"])


def opportunity_out(o: Opportunity) -> dict:
    return {
        "id": o.pk,
        "title": o.title,
        "status": o.status,
        "owner": o.owner.username,
        "stage": o.stage.code,
        "expected_value": o.expected_value,
        "decision_date": o.decision_date,
        "start_date": o.start_date,
        "p_win": o.p_win,
        "p_go": o.p_go,
        "decision_type": o.decision_type,
        "service_type": o.service_type,
        "contact_id": o.contact_id,
        "company_id": o.company_id,
        "inquiry_id": o.inquiry_id,
        "created_at": o.created_at,
        "closed_at": o.closed_at,
        "version": o.version,
    }


@router.get("/opportunities", response={200: dict, 403: ErrorOut, 422: ErrorOut})
def opportunities(
    request, params: Query[PageParams], status: str = "open", mine: bool = False
):
    qs = visible_opportunities(request.auth).order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(owner=request.auth)
    return paginate(qs, params, opportunity_out)


@router.get(
    "/opportunities/{opportunity_id}", response={200: OpportunityOut, 404: ErrorOut}
)
def opportunity(request, opportunity_id: int):
    return opportunity_out(get_opportunity_for_user(request.auth, opportunity_id))
