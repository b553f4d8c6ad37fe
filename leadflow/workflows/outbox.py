"""The workflow worker's loop: read unprocessed transition rows, match rules, deliver.

Each row is claimed with a conditional UPDATE (``processed_at IS NULL``) inside the
same transaction that writes its notifications, so a crash rolls the claim back (no
event lost) and two workers never both handle a row; the unique (rule, source,
recipient) constraint makes a repeated delivery impossible anyway.
"""

import logging
import time

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, User
from leadflow.intake.models import InquiryTransition
from leadflow.opportunities.models import (
    OpportunityTransition,
    QuoteTransition,
    StakeholderPhaseChange,
)
from leadflow.workflows import escalations, webhooks
from leadflow.workflows.actions import notify
from leadflow.workflows.models import Notification, NotificationRule
from leadflow.workflows.rules import Event, RuleSpec, matches

logger = logging.getLogger(__name__)
BATCH = 500

EVENT_TEXT = {
    "inquiry.registered": _("New inquiry from %(subject)s"),
    "inquiry.closed": _("Inquiry closed (%(detail)s): %(subject)s"),
    "opportunity.created": _("New qualified lead: %(subject)s"),
    "opportunity.stage_changed": _("Stage changed (%(detail)s): %(subject)s"),
    "opportunity.won": _("Won: %(subject)s"),
    "opportunity.lost": _("Lost: %(subject)s"),
    "quote.sent": _("Quote sent: %(subject)s"),
    "quote.accepted": _("Quote accepted: %(subject)s"),
    "stakeholder.moved_back": _(
        "Moved back on the buying clock (%(detail)s): %(subject)s"
    ),
}


def load_rules() -> list[tuple[RuleSpec, NotificationRule]]:
    rules = NotificationRule.objects.filter(is_active=True).prefetch_related(
        "companies", "channels", "campaigns", "departments", "teams", "recipient_users"
    )
    return [
        (
            RuleSpec(
                id=r.pk,
                event=r.event,
                created_at=r.created_at,
                outcome=r.outcome,
                company_ids=frozenset(c.pk for c in r.companies.all()),
                min_company_size=r.min_company_size,
                channel_ids=frozenset(c.pk for c in r.channels.all()),
                campaign_ids=frozenset(c.pk for c in r.campaigns.all()),
                department_ids=frozenset(d.pk for d in r.departments.all()),
                min_value=r.min_value,
                service_type=r.service_type,
                team_ids=frozenset(t.pk for t in r.teams.all()),
            ),
            r,
        )
        for r in rules
    ]


# --- turning outbox rows into events ------------------------------------------------


def _inquiry_event(row: InquiryTransition) -> Event | None:
    kind = row.data.get("event")
    if kind not in ("inquiry.registered", "inquiry.closed"):
        return None
    inquiry = row.inquiry
    company = inquiry.company
    return Event(
        type=kind,
        source=f"intake.inquirytransition:{row.pk}",
        at=row.at,
        subject=inquiry,
        subject_label=f"{inquiry.contact}" + (f" ({company})" if company else ""),
        url=f"/inquiries/{inquiry.pk}/",
        actor_id=row.actor_id,
        outcome=inquiry.outcome,
        company_id=inquiry.company_id,
        company_size=company.size if company else None,
        channel_id=inquiry.channel_id,
        campaign_id=inquiry.campaign_id,
        department_id=inquiry.department_id,
        detail=inquiry.get_outcome_display() if inquiry.outcome else "",
    )


def _lead_event(o, row, *, type: str, source: str, **extra) -> Event:
    """An event about a qualified lead: the attributes rules filter on come from the
    lead and, for channel/campaign/department, from the inquiry it came from."""
    inquiry = o.inquiry
    values = {
        "subject_label": o.title,
        "url": f"/opportunities/{o.pk}/",
        **extra,
    }
    return Event(
        type=type,
        source=source,
        at=row.at,
        subject=o,
        actor_id=row.actor_id,
        channel_id=inquiry.channel_id if inquiry else None,
        campaign_id=inquiry.campaign_id if inquiry else None,
        department_id=inquiry.department_id if inquiry else None,
        company_id=o.company_id,
        company_size=o.company.size if o.company_id else None,
        value=o.expected_value,
        service_type=o.service_type,
        owner_id=o.owner_id,
        owner_team_id=o.owner.team_id,
        **values,
    )


def _opportunity_event(row: OpportunityTransition) -> Event | None:
    kind = row.data.get("event")
    if kind not in EVENT_TEXT:
        return None
    return _lead_event(
        row.opportunity,
        row,
        type=kind,
        source=f"opportunities.opportunitytransition:{row.pk}",
        detail=f"{row.from_state} → {row.to_state}",
    )


def _quote_event(row: QuoteTransition) -> Event | None:
    kind = row.data.get("event")
    if kind not in ("quote.sent", "quote.accepted"):
        return None
    o = row.quote.opportunity
    return _lead_event(
        o,
        row,
        type=kind,
        source=f"opportunities.quotetransition:{row.pk}",
        subject_label=f"{row.quote.reference} · {o.title}",
        url=f"/opportunities/{o.pk}/#quotes",
    )


def _phase_change_event(row: StakeholderPhaseChange) -> Event | None:
    if not row.regression:
        return None
    return _lead_event(
        row.stakeholder.opportunity,
        row,
        type="stakeholder.moved_back",
        source=f"opportunities.stakeholderphasechange:{row.pk}",
        detail=f"{row.stakeholder.contact}: {row.from_phase} → {row.to_phase}",
    )


OUTBOXES = [
    (
        InquiryTransition,
        ("inquiry__contact", "inquiry__company"),
        _inquiry_event,
    ),
    (
        OpportunityTransition,
        ("opportunity__company", "opportunity__owner", "opportunity__inquiry"),
        _opportunity_event,
    ),
    (
        QuoteTransition,
        (
            "quote__opportunity__company",
            "quote__opportunity__owner",
            "quote__opportunity__inquiry",
        ),
        _quote_event,
    ),
    (
        StakeholderPhaseChange,
        (
            "stakeholder__contact",
            "stakeholder__opportunity__company",
            "stakeholder__opportunity__owner",
            "stakeholder__opportunity__inquiry",
            "from_phase",
            "to_phase",
        ),
        _phase_change_event,
    ),
]


# --- recipients and delivery -------------------------------------------------------------


def recipients(rule: NotificationRule, event: Event) -> list[User]:
    people: dict[int, User] = {
        u.pk: u for u in rule.recipient_users.all() if u.is_active
    }
    roles = rule.recipient_roles if isinstance(rule.recipient_roles, list) else []
    roles = [r for r in roles if isinstance(r, str)]
    if roles:
        wanted = Q(role__in=roles)
        if Role.ADMIN in roles:
            wanted |= Q(is_superuser=True)  # superusers act as administrators
        for user in User.objects.filter(wanted, is_active=True):
            people[user.pk] = user
    if event.owner_id and (rule.notify_owner or rule.notify_owner_manager):
        owner = User.objects.select_related("team__manager").get(pk=event.owner_id)
        if rule.notify_owner and owner.is_active:
            people[owner.pk] = owner
        manager = owner.team.manager if owner.team_id else None
        if rule.notify_owner_manager and manager is not None and manager.is_active:
            people[manager.pk] = manager
    # Nobody is told about what they did themselves.
    people.pop(event.actor_id, None)
    return list(people.values())


def deliver(
    rule: NotificationRule, event: Event, recipient: User
) -> Notification | None:
    with translation.override(recipient.language or "en"):
        message = str(EVENT_TEXT[event.type]) % {
            "subject": event.subject_label,
            "detail": event.detail,
        }
    try:
        with transaction.atomic():
            return notify(
                recipient,
                actor=None,
                event_type=event.type,
                message=message,
                subject=event.subject,
                url=event.url,
                rule=rule,
                source=event.source,
                why=rule.name,
            )
    except IntegrityError:
        return None  # already delivered by an earlier run


def process_outbox(*, batch: int = BATCH, max_seconds: float = 60.0) -> int:
    """Handle every unprocessed transition row, batch after batch, until none is left
    or ``max_seconds`` have passed (the next wake-up or tick goes on from there).
    Returns how many rows were handled.

    A batch's rows are read in one query; each is still claimed on its own (the
    conditional UPDATE in its own transaction), so exactly-once delivery holds. The
    rules and the active webhooks are read once per run."""
    started = time.monotonic()
    rules = load_rules()
    hooks = webhooks.active_webhooks()
    handled = 0
    while True:
        taken, before = 0, handled
        for model, related, to_event in OUTBOXES:
            pending = list(
                model.objects.filter(processed_at__isnull=True)
                .order_by("id")
                .values_list("pk", flat=True)[:batch]
            )
            taken += len(pending)
            rows = model.objects.select_related(*related).in_bulk(pending)
            for pk in pending:
                try:
                    handled += _handle_row(
                        model, to_event, pk, rows.get(pk), rules, hooks
                    )
                except Exception:
                    # The transaction rolled back: the row stays pending and is retried
                    # on the next run, without blocking the rows after it.
                    logger.exception(
                        "outbox row %s:%s failed", model._meta.label_lower, pk
                    )
        # A full batch means more may be waiting; a pass that handled nothing (only
        # failing rows left) or the time budget ends the run.
        if (
            taken < batch
            or handled == before
            or time.monotonic() - started > max_seconds
        ):
            return handled


def _handle_row(model, to_event, pk: int, row, rules, hooks) -> int:
    with transaction.atomic():
        claimed = model.objects.filter(pk=pk, processed_at__isnull=True).update(
            processed_at=timezone.now()
        )
        if not claimed or row is None:
            return 0  # another worker has it
        event = to_event(row)
        if event is None:
            return 1
        told: set[int] = set()  # one notification per person per event
        for spec, rule in rules:
            if not matches(spec, event):
                continue
            for person in recipients(rule, event):
                if person.pk not in told:
                    told.add(person.pk)
                    deliver(rule, event, person)
        escalations.on_event(event)
        if hooks:
            webhooks.queue_deliveries(event, hooks=hooks)
        return 1
