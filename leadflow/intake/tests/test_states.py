"""The inquiry lifecycle table (pure, no database)."""

import pytest

from leadflow.intake.states import InquiryStatus, Outcome, can_move, reason_required


def test_an_open_inquiry_may_be_closed():
    assert can_move(InquiryStatus.OPEN, InquiryStatus.CLOSED)


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (InquiryStatus.CLOSED, InquiryStatus.OPEN),
        (InquiryStatus.CLOSED, InquiryStatus.CLOSED),
        (InquiryStatus.OPEN, InquiryStatus.OPEN),
        ("unknown", InquiryStatus.CLOSED),
    ],
)
def test_closed_is_final_and_nothing_else_moves(from_status, to_status):
    assert not can_move(from_status, to_status)


def test_only_archiving_needs_a_reason():
    assert reason_required(Outcome.ARCHIVED)
    assert not reason_required(Outcome.QUALIFIED)
    assert not reason_required(Outcome.NURTURE)


def test_there_are_exactly_three_outcomes():
    assert Outcome.values == ["qualified", "nurture", "archived"]
