"""Who sees which qualified leads: all for inside sales, directors and admins;
for a salesperson their own and their team's."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from leadflow.accounts.models import User
from leadflow.accounts.permissions import has_capability
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.states import OpportunityStatus


def visible_opportunities(user: User) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.select_related("owner", "stage", "contact", "company")
    if has_capability(user, "opportunity.view_all"):
        return qs
    if not has_capability(user, "opportunity.own"):
        return qs.none()
    scope = Q(owner=user)
    if user.team_id:
        scope |= Q(owner__team_id=user.team_id)
    return qs.filter(scope)


def get_opportunity_for_user(user: User, opportunity_id: int) -> Opportunity:
    """404 for a qualified lead the user may not see, so ids leak nothing."""
    return get_object_or_404(visible_opportunities(user), pk=opportunity_id)


def open_for_contacts(
    contact_ids: list[int], company_ids: list[int]
) -> QuerySet[Opportunity]:
    """Running sales processes of these people or companies (shown during intake)."""
    scope = Q(contact_id__in=contact_ids)
    if company_ids:
        scope |= Q(company_id__in=company_ids)
    return (
        Opportunity.objects.filter(scope, status=OpportunityStatus.OPEN)
        .select_related("owner", "stage", "contact")
        .order_by("-created_at")
    )


def get_opportunity_for_handover(user: User, opportunity_id: int) -> Opportunity:
    """Any colleague who registers inquiries may pass a question to a running lead's owner
    (intake shows running leads and their owner to everyone who registers)."""
    from leadflow.accounts.permissions import require

    require(user, "inquiry.register")
    return get_object_or_404(
        Opportunity.objects.select_related("owner"),
        pk=opportunity_id,
        status=OpportunityStatus.OPEN,
    )
