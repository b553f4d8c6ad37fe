"""Who sees which qualified leads: all for inside sales, directors and admins;
for a salesperson their own and their team's."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Now
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.accounts.permissions import has_capability
from leadflow.opportunities.models import Activity, Opportunity, Stage
from leadflow.opportunities.states import FollowUpBy, OpportunityStatus


def visibility_q(user: User, prefix: str = "") -> Q | None:
    """The leads ``user`` may see as a condition (``prefix``: the path from another
    model, e.g. ``"opportunity__"``): None = all of them, ``Q(pk__in=[])`` = none.
    The one rule behind every list, record, report and export."""
    if has_capability(user, "opportunity.view_all"):
        return None
    if not has_capability(user, "opportunity.own"):
        return Q(**{f"{prefix}pk__in": []})
    scope = Q(**{f"{prefix}owner": user})
    if user.team_id:
        scope |= Q(**{f"{prefix}owner__team_id": user.team_id})
    return scope


def visible_opportunities(user: User) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.select_related("owner", "stage", "contact", "company")
    scope = visibility_q(user)
    if scope is None:
        return qs
    if not has_capability(user, "opportunity.own"):
        return qs.none()
    return qs.filter(scope)


def require_lead_lists(user: User) -> None:
    """Lists of qualified leads (page, API, board) are for people who own leads or see
    them all; others get 403, not an empty list."""
    if not (
        has_capability(user, "opportunity.own")
        or has_capability(user, "opportunity.view_all")
    ):
        raise PermissionDenied("opportunity.list")


def follow_up_scope(user: User) -> Q:
    """Leads parked in nurture that come back to this user: as the named follow-up
    person, or — without one — as a member of the team that follows up."""
    scope = Q(status=OpportunityStatus.NURTURE, follow_up_user=user)
    team = {
        Role.MARKETING: FollowUpBy.MARKETING,
        Role.INSIDE_SALES: FollowUpBy.TELEMARKETING,
    }.get(user.role)
    if team:
        # The team also takes over when the named person has left.
        scope |= Q(status=OpportunityStatus.NURTURE, follow_up_by=team) & (
            Q(follow_up_user__isnull=True) | Q(follow_up_user__is_active=False)
        )
    return scope


def get_opportunity_for_user(
    user: User, opportunity_id: int, *, write: bool = False
) -> Opportunity:
    """404 for a qualified lead the user may not see, so ids leak nothing; 403 for
    one they may see but not change (e.g. a read-only role). A lead in nurture may be
    opened (read only) by whoever it comes back to, since they are sent its link."""
    opportunity = visible_opportunities(user).filter(pk=opportunity_id).first()
    if opportunity is None:
        opportunity = get_object_or_404(
            Opportunity.objects.select_related(
                "owner", "stage", "contact", "company"
            ).filter(follow_up_scope(user)),
            pk=opportunity_id,
        )
        if write:
            raise PermissionDenied("opportunity.change")
        return opportunity
    if write and not (
        has_capability(user, "opportunity.own") or has_capability(user, "config.manage")
    ):
        raise PermissionDenied("opportunity.change")
    return opportunity


def open_for_contacts(
    contact_ids: list[int], company_ids: list[int]
) -> QuerySet[Opportunity]:
    """Running sales processes of these people or companies (shown during intake).

    Two index lookups (contact, company) instead of one OR: SQLite without planner
    statistics would otherwise walk every open lead (measured: 77 ms vs 0.1 ms)."""
    open_leads = Opportunity.objects.filter(status=OpportunityStatus.OPEN).order_by()
    ids = set(
        open_leads.filter(contact_id__in=contact_ids).values_list("pk", flat=True)[
            :OPEN_FOR_CONTACTS_CAP
        ]
    )
    if company_ids:
        ids.update(
            open_leads.filter(company_id__in=company_ids).values_list("pk", flat=True)[
                :OPEN_FOR_CONTACTS_CAP
            ]
        )
    return (
        Opportunity.objects.filter(pk__in=ids)
        .select_related("owner", "stage", "contact")
        .order_by("-created_at")
    )


OPEN_FOR_CONTACTS_CAP = 500


def get_opportunity_for_handover(user: User, opportunity_id: int) -> Opportunity:
    """Any colleague who registers inquiries may pass a question to a running lead's owner
    (intake shows running leads and their owner to everyone who registers)."""
    from leadflow.accounts.permissions import require

    require(user, "inquiry.register")
    # Closed leads are found too, so the action can answer 409 instead of 404.
    return get_object_or_404(
        Opportunity.objects.select_related("owner"), pk=opportunity_id
    )


# --- the pipeline board ------------------------------------------------------------------

BOARD_PAGE = 20


@dataclass
class BoardFilters:
    owner: int | None = None
    team: int | None = None
    service_type: str = ""
    mine: bool = False


@dataclass
class BoardColumn:
    stage: Stage
    count: int
    unweighted: Decimal
    weighted: Decimal
    cards: list


def weight_expression():
    """P win × P go when both are filled in, else the stage's weight (DOMAIN.md §6.1/§6.3)."""
    return Case(
        When(p_win__isnull=False, p_go__isnull=False, then=F("p_win") * F("p_go")),
        default=F("stage__weight"),
        output_field=DecimalField(max_digits=8, decimal_places=6),
    )


def open_pipeline(user: User, filters: BoardFilters) -> QuerySet[Opportunity]:
    qs = visible_opportunities(user).filter(status=OpportunityStatus.OPEN)
    if filters.mine:
        qs = qs.filter(owner=user)
    elif filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.team:
        qs = qs.filter(owner__team_id=filters.team)
    if filters.service_type:
        qs = qs.filter(service_type=filters.service_type)
    return qs


def board(
    user: User, filters: BoardFilters, *, per_column: int = BOARD_PAGE
) -> list[BoardColumn]:
    """Columns per active stage with count and totals computed in SQL, and the first cards."""
    qs = open_pipeline(user, filters)
    sums = {
        row["stage_id"]: row
        for row in qs.order_by()
        .values("stage_id")
        .annotate(
            n=Count("id"),
            unweighted=Coalesce(
                Sum("expected_value"), Decimal("0"), output_field=DecimalField()
            ),
            weighted=Coalesce(
                Sum(F("expected_value") * weight_expression()),
                Decimal("0"),
                output_field=DecimalField(),
            ),
        )
    }
    # Retired stages still show while open leads sit in them: nothing disappears.
    stages = list(
        Stage.objects.filter(Q(is_active=True) | Q(pk__in=list(sums))).order_by(
            "order", "id"
        )
    )
    columns = []
    for stage in stages:
        row = sums.get(stage.pk, {})
        columns.append(
            BoardColumn(
                stage=stage,
                count=row.get("n", 0),
                unweighted=Decimal(row.get("unweighted") or 0).quantize(
                    Decimal("0.01")
                ),
                weighted=Decimal(row.get("weighted") or 0).quantize(Decimal("0.01")),
                cards=column_cards(qs, stage, offset=0, limit=per_column),
            )
        )
    return columns


def column_cards(
    qs: QuerySet[Opportunity], stage: Stage, *, offset: int, limit: int
) -> list:
    """One page of a column, oldest decision first; each card knows its overdue activities.

    The count is a correlated subquery, not a JOIN + GROUP BY: grouping every lead of
    the stage before the LIMIT took ~250 ms per column with 10,000 open leads."""
    overdue = (
        Activity.objects.filter(
            opportunity=OuterRef("pk"), done_at__isnull=True, due_at__lt=Now()
        )
        .order_by()
        .values("opportunity")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(
        qs.filter(stage=stage)
        .annotate(
            overdue_activities=Coalesce(
                Subquery(overdue, output_field=IntegerField()), Value(0)
            )
        )
        .order_by(F("decision_date").asc(nulls_last=True), "id")[
            offset : offset + limit
        ]
    )


# --- the record page -------------------------------------------------------------------------


def customer_context(opportunity: Opportunity) -> dict:
    """Shown, not typed: overdue invoices, open complaints and sales history of the company."""
    from leadflow.contacts.models import Complaint, Invoice, SalesRecord

    company = opportunity.company
    if company is None:
        return {
            "overdue_invoices": [],
            "open_complaints": [],
            "sales_history": [],
            "overdue_total": Decimal("0"),
        }
    today = timezone.localdate()
    overdue = list(
        Invoice.objects.filter(
            company=company, paid_on__isnull=True, due_on__lt=today
        ).order_by("due_on")[:20]
    )
    return {
        "overdue_invoices": overdue,
        "overdue_total": sum((i.amount for i in overdue), Decimal("0")),
        "open_complaints": list(
            Complaint.objects.filter(company=company, resolved_on__isnull=True)[:20]
        ),
        "sales_history": list(SalesRecord.objects.filter(company=company)[:10]),
    }


def stakeholders_with_phases(opportunity: Opportunity):
    """Stakeholders with their phase number (1-based) and the derived deal clock."""
    from leadflow.opportunities.clock import StakeholderPosition, deal_clock
    from leadflow.qualification.frameworks import CriterionStatus
    from leadflow.qualification.queries import (
        active_phases,
        current_scorecard,
        phase_number,
    )

    phases = active_phases()
    stakeholders = list(
        opportunity.stakeholders.select_related("contact", "phase").order_by(
            "contact__name"
        )
    )
    for s in stakeholders:
        s.phase_number = phase_number(s.phase, phases)
    card = current_scorecard(opportunity)
    authority_met = bool(
        card
        and any(
            c.criterion == "authority" and c.status == CriterionStatus.MET
            for c in card.criteria.all()
        )
    )
    clock = deal_clock(
        [
            StakeholderPosition(str(s.contact), s.role, s.phase_number)
            for s in stakeholders
        ],
        quote_sent=opportunity.quotes.filter(status__in=["sent", "accepted"]).exists(),
        # DOMAIN §5.4: "Commit" while a key person is still early is a warning.
        commit_forecast=opportunity.status == OpportunityStatus.OPEN
        and (
            opportunity.forecast_category_override
            or opportunity.stage.forecast_category
        )
        == "commit",
        authority_met=authority_met,
    )
    return stakeholders, phases, clock


def overdue_activities_for(user: User) -> QuerySet:
    from leadflow.opportunities.models import Activity

    return (
        Activity.objects.filter(
            assignee=user,
            done_at__isnull=True,
            due_at__lt=Now(),
            opportunity__status=OpportunityStatus.OPEN,
        )
        .select_related("opportunity")
        .order_by("due_at")
    )


def stale_for(user: User, *, days: int = 14) -> QuerySet[Opportunity]:
    """Open leads of the user untouched in their stage for ``days`` (workflows makes this
    stage-specific)."""
    limit = timezone.now() - timedelta(days=days)
    return (
        visible_opportunities(user)
        .filter(owner=user, status=OpportunityStatus.OPEN, stage_entered_at__lt=limit)
        .order_by("stage_entered_at")
    )


def decisions_due_for(user: User, *, days: int = 14) -> QuerySet[Opportunity]:
    today = timezone.localdate()
    return (
        visible_opportunities(user)
        .filter(
            owner=user,
            status=OpportunityStatus.OPEN,
            decision_date__lte=today + timedelta(days=days),
        )
        .order_by("decision_date")
    )
