"""Read side of intake: the triage queue, visibility, and the history shown at intake."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leadflow.accounts.models import User
from leadflow.accounts.permissions import has_capability, require
from leadflow.contacts.models import (
    Company,
    Complaint,
    Contact,
    Invoice,
    Visit,
    VisitKind,
)
from leadflow.contacts.queries import find_matches
from leadflow.core.worktime import current_calendar, working_hours_between
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.states import InquiryStatus
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.queries import open_for_contacts, visible_opportunities

HISTORY_LIMIT = 10


def visible_inquiries(user: User) -> QuerySet[Inquiry]:
    """Inside sales, directors, admins and marketing see all; others what they took in."""
    qs = Inquiry.objects.select_related(
        "contact",
        "company",
        "channel",
        "campaign",
        "assignee",
        "received_by",
        "department",
    )
    if has_capability(user, "inquiry.view_all"):
        return qs
    return qs.filter(Q(received_by=user) | Q(created_by=user) | Q(assignee=user))


def get_inquiry_for_user(
    user: User, inquiry_id: int, *, write: bool = False
) -> Inquiry:
    """404 when the user may not see it; 403 when they may see but not assess it."""
    inquiry = get_object_or_404(visible_inquiries(user), pk=inquiry_id)
    if write:
        require(user, "inquiry.triage")
    return inquiry


@dataclass
class QueueFilters:
    channel: int | None = None
    department: int | None = None
    assignee: int | None = None
    unassigned: bool = False
    status: str = InquiryStatus.OPEN


def triage_queue(user: User, filters: QueueFilters) -> QuerySet[Inquiry]:
    """Open inquiries oldest first (the partial indexes keep this fast at 1M rows)."""
    qs = visible_inquiries(user)
    if filters.status in InquiryStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.status == InquiryStatus.OPEN:
        return qs.order_by("received_at", "id")
    return qs.order_by("-received_at", "-id")


def age_in_working_hours(inquiry: Inquiry, now=None) -> float:
    end = inquiry.closed_at or now or timezone.now()
    return round(working_hours_between(inquiry.received_at, end, current_calendar()), 1)


def is_overdue(inquiry: Inquiry, now=None) -> bool:
    return age_in_working_hours(inquiry, now) > settings.LEADFLOW_TRIAGE_TARGET_HOURS


# --- history shown while registering ----------------------------------------------


@dataclass
class ContactHistory:
    contact: Contact
    inquiries: list[Inquiry] = field(default_factory=list)
    open_opportunities: list[Opportunity] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    website_visits: list[Visit] = field(default_factory=list)
    marketing_lists: list[str] = field(default_factory=list)
    # The company's customer context (imported or entered): shown, not typed.
    overdue_invoices: int = 0
    open_complaints: int = 0
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def flags(self) -> dict:
        c = self.contact
        company = c.company
        return {
            "lifecycle": c.effective_lifecycle,
            "customer": c.effective_lifecycle == "customer",
            "ex_customer": c.effective_lifecycle == "ex_customer",
            "key_prospect": bool(company and company.is_key_prospect),
            "in_marketing_database": c.in_marketing_database,
            "marketing_consent": c.marketing_consent,
            "opted_out": c.opted_out,
            "overdue_invoices": self.overdue_invoices,
            "open_complaints": self.open_complaints,
        }

    @property
    def last_sales_visit_at(self):
        dates = [
            d
            for d in (
                self.contact.last_sales_visit_at,
                self.contact.company.last_sales_visit_at
                if self.contact.company_id
                else None,
            )
            if d
        ]
        return max(dates) if dates else None


def _latest_per(
    qs: QuerySet, partition: str, order: str, ids: list[int], limit: int
) -> list:
    """The newest ``limit`` rows per ``partition`` value in one query (window function)."""
    if not ids:
        return []
    ranked = qs.filter(**{f"{partition}__in": ids}).annotate(
        _rank=Window(RowNumber(), partition_by=[F(partition)], order_by=F(order).desc())
    )
    return list(ranked.filter(_rank__lte=limit).order_by(F(order).desc()))


def histories_for(
    contacts: list[Contact], *, viewer: User, limit: int = HISTORY_LIMIT
) -> list[ContactHistory]:
    """The intake history of several people in a fixed number of queries (no N+1).

    Orders, visits and running qualified leads belong to the company when the
    person has one (a colleague's re-order counts), else to the person. Everyone who
    registers sees that a lead is running and with whom (the hand-over, ADR 0004);
    its stage and expected value only those who may open the lead (``viewer``):
    ``lead.details_visible``.
    """
    contact_ids = [c.pk for c in contacts]
    company_ids = sorted({c.company_id for c in contacts if c.company_id})
    loose_ids = [c.pk for c in contacts if not c.company_id]
    inquiries = _latest_per(
        Inquiry.objects.select_related("channel", "opportunity__owner"),
        "contact_id",
        "received_at",
        contact_ids,
        limit,
    )
    orders = _latest_per(
        Order.objects.all(), "company_id", "ordered_at", company_ids, limit
    )
    orders += _latest_per(
        Order.objects.filter(company__isnull=True),
        "contact_id",
        "ordered_at",
        loose_ids,
        limit,
    )
    web = Visit.objects.filter(kind=VisitKind.WEBSITE)
    visits = _latest_per(web, "company_id", "at", company_ids, limit)
    visits += _latest_per(
        web.filter(company__isnull=True), "contact_id", "at", loose_ids, limit
    )
    opportunities = list(
        open_for_contacts(contact_ids, company_ids)[: limit * len(contacts)]
    )
    visible = (
        set(
            visible_opportunities(viewer)
            .filter(pk__in=[o.pk for o in opportunities])
            .values_list("pk", flat=True)
        )
        if opportunities
        else set()
    )
    for lead in opportunities:
        lead.details_visible = lead.pk in visible
    memberships: dict[int, list[str]] = {}
    for cid, name in (
        ListMembership.objects.filter(contact_id__in=contact_ids)
        .order_by("marketing_list__name")
        .values_list("contact_id", "marketing_list__name")
    ):
        memberships.setdefault(cid, []).append(name)

    overdue, complaints = _context_counts(company_ids)

    def mine(rows, contact):
        if contact.company_id:
            return [r for r in rows if r.company_id == contact.company_id][:limit]
        return [r for r in rows if r.contact_id == contact.pk and not r.company_id][
            :limit
        ]

    return [
        ContactHistory(
            contact=c,
            inquiries=[i for i in inquiries if i.contact_id == c.pk],
            open_opportunities=[
                o
                for o in opportunities
                if o.contact_id == c.pk
                or (c.company_id and o.company_id == c.company_id)
            ][:limit],
            orders=mine(orders, c),
            website_visits=mine(visits, c),
            marketing_lists=memberships.get(c.pk, []),
            overdue_invoices=overdue.get(c.company_id, 0),
            open_complaints=complaints.get(c.company_id, 0),
        )
        for c in contacts
    ]


def _context_counts(company_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Overdue invoices and open complaints per company (two grouped queries)."""
    if not company_ids:
        return {}, {}
    overdue = dict(
        Invoice.objects.filter(
            company_id__in=company_ids,
            paid_on__isnull=True,
            due_on__lt=timezone.localdate(),
        )
        .values("company_id")
        .annotate(n=Count("id"))
        .values_list("company_id", "n")
    )
    complaints = dict(
        Complaint.objects.filter(company_id__in=company_ids, resolved_on__isnull=True)
        .values("company_id")
        .annotate(n=Count("id"))
        .values_list("company_id", "n")
    )
    return overdue, complaints


def contact_history(
    contact: Contact, *, viewer: User, limit: int = HISTORY_LIMIT
) -> ContactHistory:
    return histories_for([contact], viewer=viewer, limit=limit)[0]


@dataclass
class LookupResult:
    contacts: list[ContactHistory]
    companies: list[Company]


def lookup(
    user: User,
    *,
    email: str = "",
    phone: str = "",
    name: str = "",
    company: str = "",
    with_history: bool = True,
) -> LookupResult:
    """Matches for what is being typed at intake, each with its history."""
    require(user, "inquiry.register")
    matches, companies = find_matches(
        email=email, phone=phone, name=name, company=company
    )
    contacts = [m.contact for m in matches]
    histories = (
        histories_for(contacts, viewer=user, limit=5)
        if with_history
        else [ContactHistory(contact=c) for c in contacts]
    )
    for history, m in zip(histories, matches, strict=True):
        history.score = m.score
        history.reasons = sorted(set(m.reasons))
    return LookupResult(contacts=histories, companies=companies)
