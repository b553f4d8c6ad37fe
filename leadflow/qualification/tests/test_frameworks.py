"""SCOTSMAN and BANT scoring (DOMAIN.md §3.1): counts, the gate, work remaining. Pure."""

import pytest

from leadflow.qualification.frameworks import (
    CRITERIA,
    WORK_POINTS,
    CriterionStatus,
    Framework,
    criterion_names,
    parse_status,
    score,
)

MET = CriterionStatus.MET
UNKNOWN = CriterionStatus.UNKNOWN
NOT_MET = CriterionStatus.NOT_MET
SHOWSTOPPER = CriterionStatus.SHOWSTOPPER
SCOTSMAN = criterion_names(Framework.SCOTSMAN)


def card(*statuses: str) -> dict[str, str]:
    """SCOTSMAN statuses in criterion order; criteria not given are unknown."""
    padded = list(statuses) + [UNKNOWN] * (len(SCOTSMAN) - len(statuses))
    return dict(zip(SCOTSMAN, padded, strict=True))


def test_scotsman_has_the_eight_criteria_in_letter_order():
    assert SCOTSMAN == [
        "solution",
        "competition",
        "originality",
        "timescales",
        "size",
        "money",
        "authority",
        "need",
    ]


def test_bant_has_budget_authority_need_timeline():
    assert criterion_names(Framework.BANT) == [
        "budget",
        "authority",
        "need",
        "timeline",
    ]
    assert criterion_names("bant") == criterion_names(Framework.BANT)


def test_every_framework_has_criteria():
    assert set(CRITERIA) == set(Framework.values)


def test_score_counts_met_total_and_showstoppers():
    result = score(
        card(MET, MET, NOT_MET, SHOWSTOPPER, UNKNOWN, MET),
        threshold=5,
        block_on_showstopper=False,
    )
    assert (result.met, result.total, result.showstoppers) == (3, 8, 1)


def test_four_of_eight_met_fails_the_default_gate():
    result = score(card(*[MET] * 4), threshold=5, block_on_showstopper=False)
    assert result.met == 4
    assert result.passes_gate is False


def test_five_of_eight_met_passes_the_default_gate():
    result = score(card(*[MET] * 5), threshold=5, block_on_showstopper=False)
    assert result.met == 5
    assert result.passes_gate is True


def test_all_eight_met_passes_with_no_work_remaining():
    result = score(card(*[MET] * 8), threshold=5, block_on_showstopper=False)
    assert result.passes_gate is True
    assert result.work_remaining == 0


@pytest.mark.parametrize(
    ("threshold", "passes"), [(0, True), (3, True), (4, True), (5, False), (8, False)]
)
def test_the_threshold_is_a_minimum_count_of_met_criteria(threshold, passes):
    result = score(card(*[MET] * 4), threshold=threshold, block_on_showstopper=False)
    assert result.passes_gate is passes


def test_a_showstopper_does_not_block_when_the_rule_is_off():
    result = score(
        card(*[MET] * 5, SHOWSTOPPER), threshold=5, block_on_showstopper=False
    )
    assert result.passes_gate is True
    assert result.showstoppers == 1


def test_a_showstopper_blocks_whatever_the_count_when_the_rule_is_on():
    result = score(
        card(*[MET] * 7, SHOWSTOPPER), threshold=5, block_on_showstopper=True
    )
    assert result.met == 7
    assert result.passes_gate is False


def test_the_showstopper_rule_without_showstoppers_keeps_the_count_rule():
    passing = score(card(*[MET] * 5), threshold=5, block_on_showstopper=True)
    failing = score(card(*[MET] * 4), threshold=5, block_on_showstopper=True)
    assert (passing.passes_gate, failing.passes_gate) == (True, False)


def test_work_remaining_points_are_0_met_1_unknown_or_not_met_10_showstopper():
    assert WORK_POINTS == {MET: 0, UNKNOWN: 1, NOT_MET: 1, SHOWSTOPPER: 10}


@pytest.mark.parametrize(
    ("statuses", "points"),
    [
        ((MET,) * 8, 0),
        ((UNKNOWN,) * 8, 8),
        ((NOT_MET,) * 8, 8),
        ((SHOWSTOPPER,) * 8, 80),
        ((MET, MET, MET, MET, MET, UNKNOWN, NOT_MET, SHOWSTOPPER), 12),
        ((MET, MET, MET, MET, MET, MET, MET, SHOWSTOPPER), 10),
    ],
)
def test_work_remaining_adds_the_points_lower_is_better(statuses, points):
    result = score(card(*statuses), threshold=5, block_on_showstopper=False)
    assert result.work_remaining == points


def test_bant_scores_four_criteria():
    statuses = dict.fromkeys(criterion_names(Framework.BANT), MET)
    statuses["budget"] = NOT_MET
    result = score(statuses, threshold=3, block_on_showstopper=False)
    assert (result.met, result.total, result.work_remaining) == (3, 4, 1)
    assert result.passes_gate is True


def test_an_empty_card_scores_zero_and_passes_only_a_zero_threshold():
    assert score({}, threshold=0, block_on_showstopper=False).passes_gate is True
    empty = score({}, threshold=1, block_on_showstopper=False)
    assert (empty.met, empty.total, empty.work_remaining) == (0, 0, 0)
    assert empty.passes_gate is False


def test_parse_status_true_means_met_and_false_means_not_met():
    assert parse_status(True) == MET
    assert parse_status(False) == NOT_MET


@pytest.mark.parametrize("word", ["met", "unknown", "not_met", "showstopper"])
def test_parse_status_accepts_the_status_words(word):
    assert parse_status(word) == word


@pytest.mark.parametrize(
    "value",
    ["", "MET", "Met", "yes", "true", "false", "not met", "green", 1, 0, None, 1.0],
)
def test_parse_status_rejects_anything_else(value):
    with pytest.raises(ValueError):
        parse_status(value)
