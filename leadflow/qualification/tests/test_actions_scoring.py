"""score_qualification: versions with history, partial re-scores, the configured gate."""

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.opportunities.actions import close_opportunity
from leadflow.opportunities.tests.pipeline_factories import (
    gate,
    make_lead,
    scotsman_statuses,
)
from leadflow.qualification.actions import score_qualification
from leadflow.qualification.models import CriterionScore, QualificationSettings
from leadflow.qualification.queries import (
    current_scorecard,
    gate_settings,
    scorecard_history,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(rep):
    return make_lead(rep, owner=rep)


def statuses_of(card) -> dict[str, str]:
    return {c.criterion: c.status for c in card.criteria.all()}


def events(opportunity, event_type="opportunity.qualified_scored"):
    return AuditEvent.objects.filter(
        subject_type="opportunities.opportunity",
        subject_id=opportunity.pk,
        event_type=event_type,
    ).order_by("id")


def test_the_default_gate_is_five_of_eight_without_the_showstopper_rule():
    row = gate_settings()
    assert row.pk == 1
    assert row.scotsman_threshold == 5
    assert row.block_on_showstopper is False
    assert row.allow_override is True
    assert QualificationSettings.objects.count() == 1


def test_a_first_score_is_version_1_with_all_eight_criteria(lead, rep):
    card = score_qualification(
        lead,
        actor=rep,
        framework="scotsman",
        criteria={"solution": True, "need": "met", "money": False},
        evidence={"solution": "Demo done", "money": "No budget yet"},
        note="First call",
    )
    assert card.version == 1
    assert (card.met, card.total, card.work_remaining) == (2, 8, 6)
    assert card.passes_gate is False
    assert card.threshold == 5
    assert card.scored_by == rep
    assert card.note == "First call"
    assert statuses_of(card) == {
        "solution": "met",
        "competition": "unknown",
        "originality": "unknown",
        "timescales": "unknown",
        "size": "unknown",
        "money": "not_met",
        "authority": "unknown",
        "need": "met",
    }
    evidence = dict(card.criteria.values_list("criterion", "evidence"))
    assert evidence["solution"] == "Demo done"
    assert evidence["money"] == "No budget yet"
    assert evidence["need"] == ""


def test_four_of_eight_met_does_not_pass_and_five_does(lead, rep):
    four = score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(4)
    )
    five = score_qualification(
        lead, actor=rep, framework="scotsman", criteria={"size": "met"}
    )
    assert (four.met, four.passes_gate) == (4, False)
    assert (five.met, five.passes_gate) == (5, True)


def test_every_re_score_adds_a_version_and_keeps_the_history(lead, rep, director):
    first = score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(3)
    )
    second = score_qualification(
        lead, actor=director, framework="scotsman", criteria=scotsman_statuses(6)
    )
    third = score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(2)
    )
    assert [first.version, second.version, third.version] == [1, 2, 3]
    assert current_scorecard(lead) == third
    history = list(scorecard_history(lead))
    assert [(c.version, c.met, c.scored_by) for c in history] == [
        (3, 2, rep),
        (2, 6, director),
        (1, 3, rep),
    ]
    first.refresh_from_db()
    assert first.met == 3
    assert statuses_of(first) == scotsman_statuses(3)
    assert CriterionScore.objects.filter(scorecard__opportunity=lead).count() == 24


def test_a_partial_re_score_keeps_the_earlier_answers_and_evidence(lead, rep):
    score_qualification(
        lead,
        actor=rep,
        framework="scotsman",
        criteria=scotsman_statuses(4),
        evidence={"solution": "Fits the spec", "need": "Old machine broke"},
    )
    card = score_qualification(
        lead,
        actor=rep,
        framework="scotsman",
        criteria={"need": "met"},
        evidence={"need": "Line stops in June"},
    )
    expected = scotsman_statuses(4)
    expected["need"] = "met"
    assert statuses_of(card) == expected
    assert (card.version, card.met, card.passes_gate) == (2, 5, True)
    evidence = dict(card.criteria.values_list("criterion", "evidence"))
    assert evidence["solution"] == "Fits the spec"
    assert evidence["need"] == "Line stops in June"


def test_scotsman_and_bant_keep_separate_version_counters(lead, rep):
    score_qualification(lead, actor=rep, framework="scotsman", criteria={})
    bant = score_qualification(
        lead,
        actor=rep,
        framework="bant",
        criteria={"budget": True, "authority": True, "need": True, "timeline": False},
    )
    assert bant.version == 1
    assert (bant.met, bant.total, bant.threshold, bant.passes_gate) == (3, 4, 3, True)
    assert current_scorecard(lead).framework == "scotsman"
    assert current_scorecard(lead, "bant") == bant


def test_the_threshold_comes_from_the_qualification_settings(lead, rep):
    gate(scotsman_threshold=6)
    card = score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(5)
    )
    assert card.threshold == 6
    assert card.passes_gate is False
    gate(scotsman_threshold=4)
    card = score_qualification(lead, actor=rep, framework="scotsman", criteria={})
    assert card.threshold == 4
    assert card.passes_gate is True


def test_the_showstopper_rule_blocks_a_scotsman_card_when_switched_on(lead, rep):
    criteria = scotsman_statuses(6, showstoppers=1)
    off = score_qualification(lead, actor=rep, framework="scotsman", criteria=criteria)
    gate(block_on_showstopper=True)
    on = score_qualification(lead, actor=rep, framework="scotsman", criteria={})
    assert (off.met, off.passes_gate, off.work_remaining) == (6, True, 11)
    assert (on.met, on.passes_gate) == (6, False)


def test_the_showstopper_rule_does_not_apply_to_bant(lead, rep):
    gate(block_on_showstopper=True)
    card = score_qualification(
        lead,
        actor=rep,
        framework="bant",
        criteria={
            "budget": True,
            "authority": True,
            "need": True,
            "timeline": "showstopper",
        },
    )
    assert card.passes_gate is True


def test_scoring_writes_an_audit_event_on_the_opportunity(lead, rep):
    score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(3)
    )
    score_qualification(
        lead,
        actor=rep,
        framework="scotsman",
        criteria=scotsman_statuses(5),
        note="Met the CFO",
    )
    first, second = events(lead)
    assert first.actor == rep
    assert first.old == {}
    assert first.new == {
        "framework": "scotsman",
        "met": 3,
        "total": 8,
        "passes_gate": False,
    }
    assert second.old == {"met": 3}
    assert second.new["met"] == 5
    assert second.new["passes_gate"] is True
    assert second.reason == "Met the CFO"


def test_the_system_may_score_without_a_user(lead):
    card = score_qualification(
        lead, actor=None, framework="scotsman", criteria={"need": True}
    )
    assert card.scored_by is None
    assert events(lead).get().actor is None


def test_an_unknown_framework_is_refused(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        score_qualification(lead, actor=rep, framework="meddic", criteria={})
    assert exc.value.code == "invalid_framework"
    assert exc.value.status == 422
    assert str(exc.value) == "Unknown framework 'meddic': use scotsman or bant."
    assert not lead.scorecards.exists()


def test_an_unknown_criterion_is_refused_and_named(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        score_qualification(
            lead,
            actor=rep,
            framework="scotsman",
            criteria={"need": True, "budget": True, "zeal": False},
        )
    assert exc.value.code == "invalid_criterion"
    assert str(exc.value) == (
        "Unknown criteria for scotsman: budget, zeal. Known: solution, competition, "
        "originality, timescales, size, money, authority, need."
    )
    assert not lead.scorecards.exists()
    assert not events(lead).exists()


@pytest.mark.parametrize("value", ["yes", "MET", 1, None, ""])
def test_an_unknown_status_is_refused(lead, rep, value):
    with pytest.raises(ValidationFailed) as exc:
        score_qualification(
            lead, actor=rep, framework="scotsman", criteria={"money": value}
        )
    assert exc.value.code == "invalid_status"
    assert str(exc.value) == (
        "money: use true/false or met, unknown, not_met, showstopper."
    )
    assert not lead.scorecards.exists()


def test_a_refused_re_score_leaves_the_current_card(lead, rep):
    card = score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(5)
    )
    with pytest.raises(ValidationFailed):
        score_qualification(
            lead, actor=rep, framework="scotsman", criteria={"need": "maybe"}
        )
    assert current_scorecard(lead) == card
    assert lead.scorecards.count() == 1


def test_a_closed_lead_cannot_be_scored(lead, rep):
    score_qualification(
        lead, actor=rep, framework="scotsman", criteria=scotsman_statuses(5)
    )
    close_opportunity(lead, actor=rep, result="lost", reason="Competitor")
    with pytest.raises(Conflict) as exc:
        score_qualification(lead, actor=rep, framework="scotsman", criteria={})
    assert exc.value.code == "opportunity_closed"
    assert exc.value.status == 409
    assert lead.scorecards.count() == 1
    assert events(lead).count() == 1
