"""The demo's qualified leads: worked through the real actions, in every state the
qualified-lead screens show, with customer context for the customers."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F
from django.utils import timezone

from leadflow.accounts.models import Role
from leadflow.contacts.models import (
    Company,
    Complaint,
    Invoice,
    Lifecycle,
    SalesRecord,
)
from leadflow.opportunities.models import (
    Activity,
    Competitor,
    Opportunity,
    OpportunityTransition,
    Quote,
    Stakeholder,
    StakeholderPhaseChange,
    TeamMember,
)
from leadflow.opportunities.states import OpportunityStatus, QuoteStatus
from leadflow.qualification.frameworks import Framework
from leadflow.qualification.models import Scorecard


@pytest.mark.django_db
def test_load_demo_works_the_qualified_leads_through_the_actions():
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Pipeline:" in out.getvalue()
    now = timezone.now()
    today = timezone.localdate()

    # Results from the demo's history, and a live pipeline.
    status = dict(
        Opportunity.objects.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    assert {"open", "won", "lost", "not_going_ahead", "nurture"} <= set(status)
    assert status["open"] >= 20 and status["won"] >= 5 and status["lost"] >= 5
    open_leads = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    for lead in open_leads:
        assert Decimal(5_000) <= lead.expected_value <= Decimal(250_000)
        assert lead.service_type in {
            "Installatie",
            "Onderhoudscontract",
            "Machines",
            "Software",
        }
        assert today - timedelta(weeks=6) <= lead.decision_date
        assert lead.decision_date <= today + timedelta(days=125)
        assert lead.start_date is None or lead.start_date > lead.decision_date
    assert open_leads.exclude(p_win=None).exclude(p_go=None).exists()
    assert open_leads.exclude(decision_type="").exists()
    stale = open_leads.filter(stage_entered_at__lt=now - timedelta(days=14))
    assert stale.exists() and stale.count() < open_leads.count()
    assert {"qualification", "proposal", "negotiation"} <= set(
        open_leads.values_list("stage__code", flat=True)
    )

    # Stage moves with reasons, forward and back, at historic times.
    moves = OpportunityTransition.objects.filter(
        data__event="opportunity.stage_changed"
    )
    assert moves.filter(data__direction="forward").exists()
    assert moves.filter(data__direction="back").exists()
    assert not moves.filter(reason="").exists()
    assert not OpportunityTransition.objects.filter(at__gt=now).exists()
    assert not OpportunityTransition.objects.filter(
        at__lt=F("opportunity__created_at")
    ).exists()

    # Closed leads: won by accepting a quote, lost on price or to a competitor,
    # nurture with a follow-up.
    won = Opportunity.objects.filter(status=OpportunityStatus.WON)
    assert all(o.quotes.filter(status=QuoteStatus.ACCEPTED).exists() for o in won)
    lost_reasons = Opportunity.objects.filter(
        status=OpportunityStatus.LOST
    ).values_list("result_reason", flat=True)
    assert all(reason for reason in lost_reasons)
    nurture = Opportunity.objects.filter(status=OpportunityStatus.NURTURE)
    assert not nurture.filter(follow_up_on=None).exists()
    assert not nurture.filter(follow_up_by="").exists()

    # SCOTSMAN below and above the gate, re-scores with history, BANT on some.
    scotsman = Scorecard.objects.filter(framework=Framework.SCOTSMAN)
    assert scotsman.filter(passes_gate=False, met__in=[3, 4]).exists()
    assert scotsman.filter(passes_gate=True, met__gte=5).exists()
    assert scotsman.filter(version__gte=2).exists()
    assert Scorecard.objects.filter(framework=Framework.BANT).exists()
    assert not scotsman.filter(scored_at__gt=now).exists()

    # Stakeholders of the lead's company, on the buying clock, some moved back.
    assert Stakeholder.objects.count() > open_leads.count()
    assert not (
        Stakeholder.objects.exclude(opportunity__company=None)
        .exclude(contact__company=F("opportunity__company"))
        .exists()
    )
    assert Stakeholder.objects.filter(role="decision_maker").exists()
    assert Stakeholder.objects.filter(role="budget_holder").exists()
    regressions = StakeholderPhaseChange.objects.filter(regression=True)
    assert regressions.exists() and not regressions.filter(note="").exists()
    assert TeamMember.objects.exists() and Competitor.objects.exists()

    # Activities of the owner: done, overdue and upcoming.
    activities = Activity.objects.filter(opportunity__status=OpportunityStatus.OPEN)
    assert not activities.exclude(assignee=F("opportunity__owner")).exists()
    assert activities.filter(done_at__isnull=False).exists()
    assert activities.filter(done_at=None, due_at__lt=now).exists()
    assert activities.filter(done_at=None, due_at__gt=now).exists()
    assert {"call", "appointment", "task"} <= set(
        Activity.objects.values_list("kind", flat=True)
    )

    # Quotes: drafts, sent, revised, accepted, one through the director's override.
    quotes = Quote.objects.all()
    for state in ("draft", "sent", "accepted", "superseded"):
        assert quotes.filter(status=state).exists(), state
    superseded = quotes.filter(status=QuoteStatus.SUPERSEDED).first()
    assert superseded.superseded_by.revision == superseded.revision + 1
    override = quotes.get(gate_override=True)
    assert override.created_by.role == Role.SALES_DIRECTOR
    assert override.override_reason and override.scotsman_met < 5
    assert not quotes.filter(gate_override=False, scotsman_met__lt=5).exists()
    assert all(q.lines.exists() for q in quotes)
    assert not quotes.filter(created_at__gt=now).exists()

    # Customer context and addresses.
    assert not Company.objects.filter(street="").exists()
    assert not Company.objects.filter(postcode="").exists()
    assert Invoice.objects.filter(paid_on=None, due_on__lt=today).exists()
    assert Invoice.objects.exclude(paid_on=None).exists()
    assert Complaint.objects.filter(resolved_on=None).exists()
    for company in Company.objects.filter(lifecycle=Lifecycle.CUSTOMER):
        years = set(company.sales_records.values_list("year", flat=True))
        assert {today.year - 2, today.year - 1, today.year} <= years
    assert (
        SalesRecord.objects.filter(revenue__gt=0).count() == SalesRecord.objects.count()
    )
