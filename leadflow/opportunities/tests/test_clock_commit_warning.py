"""The buying clock warns when a lead counts as Commit while a key person is early."""

import pytest

from leadflow.contacts.models import Contact
from leadflow.opportunities.actions import set_forecast_category, set_stakeholder
from leadflow.opportunities.queries import stakeholders_with_phases
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db

WARNING = (
    "Forecast category is Commit while a key stakeholder is in phase 5 or earlier."
)


def lead_with_decider_in_phase(rep, phase: int):
    lead = make_lead(rep, owner=rep)
    boss = Contact.objects.create(name="Greet Boss")
    set_stakeholder(
        lead, actor=rep, contact=boss, role="decision_maker", phase_number=phase
    )
    return lead


def warnings_of(lead) -> list[str]:
    lead.refresh_from_db()
    _stakeholders, _phases, clock = stakeholders_with_phases(lead)
    return clock.warnings


def test_commit_set_by_the_owner_with_the_decision_maker_in_phase_4_warns(rep):
    lead = lead_with_decider_in_phase(rep, 4)
    assert WARNING not in warnings_of(lead)  # qualification stage: pipeline
    set_forecast_category(lead, actor=rep, category="commit")
    assert WARNING in warnings_of(lead)


def test_commit_with_the_decision_maker_in_phase_6_does_not_warn(rep):
    lead = lead_with_decider_in_phase(rep, 6)
    set_forecast_category(lead, actor=rep, category="commit")
    assert WARNING not in warnings_of(lead)


def test_best_case_never_gives_the_commit_warning(rep):
    lead = lead_with_decider_in_phase(rep, 2)
    set_forecast_category(lead, actor=rep, category="best_case")
    assert WARNING not in warnings_of(lead)
