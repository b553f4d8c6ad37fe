"""Human, translated names for the event types and states shown on timelines."""

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "opportunity.updated": _("Details changed"),
    "opportunity.owner_changed": _("Owner changed"),
    "opportunity.assigned": _("Qualified lead assigned"),
    "opportunity.stage_changed": _("Stage changed"),
    "opportunity.won": _("Won"),
    "opportunity.lost": _("Lost"),
    "opportunity.not_going_ahead": _("Not going ahead"),
    "opportunity.nurture": _("Parked in nurture"),
    "opportunity.qualified_scored": _("Qualification scored"),
    "opportunity.team_member": _("Team member added"),
    "opportunity.competitor": _("Competitor added"),
    "stakeholder.changed": _("Stakeholder updated"),
    "stakeholder.moved_back": _("Stakeholder moved back on the buying clock"),
    "activity.added": _("Activity planned"),
    "activity.done": _("Activity done"),
    "activity.reopened": _("Activity reopened"),
    "document.added": _("Document added"),
    "quote.created": _("Quote made"),
    "quote.updated": _("Quote changed"),
    "quote.revised": _("Quote revised"),
    "quote.sent": _("Quote sent"),
    "quote.superseded": _("Quote superseded"),
    "quote.accepted": _("Quote accepted"),
    "quote.declined": _("Quote declined"),
    "quote.expired": _("Quote expired"),
    "inquiry.registered": _("Inquiry registered"),
    "inquiry.closed": _("Inquiry closed"),
    "inquiry.updated": _("Inquiry corrected"),
    "inquiry.assigned": _("Assessor changed"),
    "contact.created": _("Contact created"),
    "contact.updated": _("Contact changed"),
    "contact.consent_changed": _("Marketing consent changed"),
    "contact.added_to_marketing_database": _("Added to the marketing database"),
    "contact.lists_added": _("Put on marketing lists"),
    "contact.lists_removed": _("Taken off marketing lists"),
    "company.created": _("Company created"),
    "company.updated": _("Company changed"),
    "order.booked": _("Re-order booked"),
    "lifecycle.changed": _("Lifecycle changed"),
    "opportunity.created": _("Qualified lead created"),
    "opportunity.question_handed_over": _("Question handed over to the owner"),
    "notification.sent": _("Notification sent"),
    "marketing_list.created": _("Marketing list created"),
    "api_token.issued": _("API token issued"),
    "api_token.revoked": _("API token revoked"),
    "user.created": _("User created"),
    "user.changed": _("User changed"),
}

STATE_LABELS = {
    "open": _("open"),
    "closed": _("closed"),
    "won": _("won"),
    "lost": _("lost"),
    "not_going_ahead": _("not going ahead"),
    "nurture": _("nurture"),
}

DETAIL_LABELS = {
    "direction": _("direction"),
    "skipped": _("stages skipped"),
    "quote": _("quote"),
    "gate_override": _("gate override"),
    "scotsman_met": _("SCOTSMAN met"),
    "met": _("met"),
    "total": _("total"),
    "framework": _("framework"),
    "passes_gate": _("passes the gate"),
    "contact": _("person"),
    "phase": _("phase"),
    "kind": _("kind"),
    "subject": _("subject"),
    "due_at": _("due"),
    "lines": _("lines"),
    "follow_up_on": _("follow up on"),
    "follow_up_by": _("followed up by"),
    "user": _("colleague"),
    "competitor": _("competitor"),
    "supersedes": _("replaces"),
    "expected_value": _("expected value"),
    "decision_date": _("decision date"),
    "start_date": _("project start"),
    "p_win": _("P win"),
    "p_go": _("P go"),
    "decision_type": _("purchase decision"),
    "service_type": _("service/product type"),
    "title": _("title"),
    "outcome": _("outcome"),
    "owner": _("owner"),
    "marketing_lists": _("marketing lists"),
    "stage": _("stage"),
    "channel": _("channel"),
    "question": _("question"),
    "to": _("to"),
    "why": _("why"),
    "assignee": _("assessed by"),
    "summary": _("question"),
    "name": _("name"),
    "email": _("e-mail"),
    "phone": _("phone"),
    "company": _("company"),
    "lifecycle": _("lifecycle"),
    "in_marketing_database": _("in marketing database"),
    "marketing_consent": _("marketing consent"),
    "description": _("description"),
    "amount": _("amount"),
    "order": _("order"),
    "size": _("employees"),
    "inquiry_id": _("inquiry"),
    "job_title": _("job title"),
    "language": _("language"),
    "industry": _("industry"),
    "country": _("country"),
    "city": _("city"),
    "vat_number": _("VAT number"),
    "website": _("website"),
    "is_key_prospect": _("key prospect"),
    "referrer": _("referred by"),
    "prompted": _("prompted by us"),
    "campaign": _("campaign"),
    "department": _("department"),
    "received_at": _("received at"),
    "role": _("role"),
    "team": _("team"),
    "is_active": _("active"),
    "is_staff": _("staff status"),
    "is_superuser": _("superuser status"),
    "token": _("API token"),
}


def event_label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type))


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state or "—"))


def detail_label(key: str) -> str:
    return str(DETAIL_LABELS.get(key, key.replace("_", " ")))


VALUE_LABELS = {
    "forward": _("forward"),
    "back": _("back"),
    "decision_maker": _("decision-maker"),
    "budget_holder": _("budget holder"),
    "technical_evaluator": _("technical evaluator"),
    "purchaser": _("purchaser"),
    "influencer": _("influencer"),
    "champion": _("champion"),
    "scotsman": "SCOTSMAN",
    "bant": "BANT",
    "qualified": _("qualified"),
    "nurture": _("nurture"),
    "archived": _("archived"),
    "prospect": _("prospect"),
    "customer": _("customer"),
    "ex_customer": _("ex-customer"),
    "unknown": _("not asked"),
    "granted": _("granted"),
    "opted_out": _("opted out"),
}


def value_label(value):
    """Stored codes shown in words (outcome, lifecycle, consent); other values as they are."""
    if isinstance(value, str) and value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    return value
