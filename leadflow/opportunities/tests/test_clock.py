"""The deal's buying clock (DOMAIN.md §5.4): slowest essential stakeholder, spread and
the consistency warnings. Pure."""

import pytest

from leadflow.opportunities.clock import DealClock, StakeholderPosition, deal_clock

QUOTE_WARNING = (
    "A quote was sent while the decision-maker is still in phase 3 or earlier."
)
COMMIT_WARNING = (
    "Forecast category is Commit while a key stakeholder is in phase 5 or earlier."
)
AUTHORITY_WARNING = (
    "SCOTSMAN Authority is marked met, but no decision-maker is recorded."
)


def spread_warning(spread: int) -> str:
    return (
        f"The buying group is not aligned: {spread} phases between the slowest "
        "and the fastest."
    )


def at(role: str, phase: int | None, name: str = "") -> StakeholderPosition:
    return StakeholderPosition(name or role, role, phase)


def clock(*positions, quote_sent=False, commit=False, authority=False) -> DealClock:
    return deal_clock(
        list(positions),
        quote_sent=quote_sent,
        commit_forecast=commit,
        authority_met=authority,
    )


# --- the deal phase and the spread -----------------------------------------------------


def test_no_stakeholders_no_phase_no_spread_no_warnings():
    assert clock() == DealClock(deal_phase=None, spread=0, warnings=[])


def test_the_deal_phase_is_the_slowest_essential_stakeholder():
    result = clock(
        at("decision_maker", 5),
        at("budget_holder", 4),
        at("user", 2),
        at("champion", 7),
    )
    assert result.deal_phase == 4


def test_a_fast_champion_does_not_speed_up_the_deal():
    result = clock(at("decision_maker", 3), at("champion", 7), at("influencer", 6))
    assert result.deal_phase == 3


def test_a_slow_non_essential_stakeholder_does_not_slow_the_deal():
    result = clock(at("decision_maker", 6), at("budget_holder", 6), at("user", 1))
    assert result.deal_phase == 6


def test_the_budget_holder_alone_counts_as_essential():
    result = clock(at("budget_holder", 5), at("purchaser", 2))
    assert result.deal_phase == 5


def test_without_essential_stakeholders_the_slowest_of_all_counts():
    result = clock(at("user", 4), at("technical_evaluator", 2), at("champion", 6))
    assert result.deal_phase == 2


def test_unplaced_essential_stakeholders_fall_back_to_the_slowest_placed_one():
    result = clock(at("decision_maker", None), at("user", 3), at("champion", 5))
    assert result.deal_phase == 3


def test_stakeholders_not_placed_on_the_clock_are_ignored():
    result = clock(at("decision_maker", 4), at("budget_holder", None), at("user", None))
    assert (result.deal_phase, result.spread) == (4, 0)


def test_nobody_placed_gives_no_phase():
    assert clock(at("decision_maker", None), at("user", None)).deal_phase is None


def test_the_spread_is_highest_minus_lowest_over_everyone_placed():
    result = clock(at("decision_maker", 4), at("user", 2), at("champion", 6))
    assert result.spread == 4


def test_one_stakeholder_has_no_spread():
    assert clock(at("decision_maker", 5)).spread == 0


# --- consistency warnings ------------------------------------------------------------


@pytest.mark.parametrize("phase", [1, 2, 3])
def test_a_sent_quote_with_the_decision_maker_in_phase_3_or_earlier_warns(phase):
    result = clock(at("decision_maker", phase), quote_sent=True)
    assert result.warnings == [QUOTE_WARNING]


def test_a_sent_quote_with_the_decision_maker_in_phase_4_does_not_warn():
    assert clock(at("decision_maker", 4), quote_sent=True).warnings == []


def test_no_quote_sent_no_quote_warning():
    assert clock(at("decision_maker", 2)).warnings == []


def test_the_quote_warning_looks_at_the_decision_maker_not_others():
    result = clock(
        at("decision_maker", 5), at("budget_holder", 3), at("user", 1), quote_sent=True
    )
    assert QUOTE_WARNING not in result.warnings


@pytest.mark.parametrize(
    ("role", "phase"), [("decision_maker", 5), ("budget_holder", 4)]
)
def test_commit_while_a_key_stakeholder_is_in_phase_5_or_earlier_warns(role, phase):
    other = "budget_holder" if role == "decision_maker" else "decision_maker"
    result = clock(at(role, phase), at(other, 6), commit=True)
    assert result.warnings == [COMMIT_WARNING]


def test_commit_with_every_key_stakeholder_past_phase_5_does_not_warn():
    result = clock(at("decision_maker", 6), at("budget_holder", 7), commit=True)
    assert result.warnings == []


def test_no_commit_no_commit_warning():
    assert clock(at("decision_maker", 2), at("budget_holder", 2)).warnings == []


def test_authority_met_without_a_decision_maker_warns():
    result = clock(at("budget_holder", 5), at("champion", 6), authority=True)
    assert result.warnings == [AUTHORITY_WARNING]


def test_authority_met_with_a_decision_maker_does_not_warn():
    assert clock(at("decision_maker", 5), authority=True).warnings == []


def test_authority_met_with_an_unplaced_decision_maker_does_not_warn():
    assert clock(at("decision_maker", None), authority=True).warnings == []


def test_authority_not_met_without_a_decision_maker_does_not_warn():
    assert clock(at("user", 5)).warnings == []


def test_a_spread_of_3_phases_warns():
    result = clock(at("decision_maker", 5), at("user", 2))
    assert result.warnings == [spread_warning(3)]


def test_a_spread_of_2_phases_does_not_warn():
    assert clock(at("decision_maker", 5), at("user", 3)).warnings == []


def test_every_warning_at_once_in_a_fixed_order():
    result = clock(
        at("budget_holder", 1),
        at("champion", 8),
        quote_sent=True,
        commit=True,
        authority=True,
    )
    assert result.deal_phase == 1
    assert result.warnings == [COMMIT_WARNING, AUTHORITY_WARNING, spread_warning(7)]
    result = clock(
        at("decision_maker", 2),
        at("champion", 6),
        quote_sent=True,
        commit=True,
        authority=True,
    )
    assert result.warnings == [QUOTE_WARNING, COMMIT_WARNING, spread_warning(4)]
