"""Forecast accuracy arithmetic (DOMAIN.md §6.5), worked by hand.

item  A (actual)  F (forecast)  A − F   |A − F|
m1    100         80            20      20
m2    200         260           −60     60
m3    0           40            −40     40
Σ     300         380                   120

WAPE = 120 / 300 = 0.4; accuracy = 0.6; bias = (380 − 300) / 300 = 0.2666…
(> 0: over-forecast). MAPE is undefined (m3 has A = 0); over m1, m2 only:
(20/100 + 60/200) / 2 = 0.25.
"""

from decimal import Decimal

import pytest

from leadflow.analytics.accuracy import (
    absolute_error,
    accuracy,
    bias,
    error,
    mape,
    wape,
)

PAIRS = [
    (Decimal("100"), Decimal("80")),
    (Decimal("200"), Decimal("260")),
    (Decimal("0"), Decimal("40")),
]


def test_error_is_actual_minus_forecast():
    assert error(Decimal("100"), Decimal("80")) == Decimal("20")
    assert error(Decimal("200"), Decimal("260")) == Decimal("-60")
    assert absolute_error(Decimal("200"), Decimal("260")) == Decimal("60")
    assert error(None, Decimal("5")) == Decimal("-5")
    assert error(7, None) == Decimal("7")


def test_wape_accuracy_and_bias():
    assert wape(PAIRS) == pytest.approx(0.4)
    assert accuracy(PAIRS) == pytest.approx(0.6)
    assert bias(PAIRS) == pytest.approx(80 / 300)


def test_bias_sign_under_forecast_is_negative():
    assert bias([(Decimal("100"), Decimal("75"))]) == pytest.approx(-0.25)


def test_mape_is_undefined_when_an_actual_is_zero():
    assert mape(PAIRS) is None
    assert mape(PAIRS[:2]) == pytest.approx(0.25)


def test_nothing_won_makes_wape_bias_and_accuracy_undefined():
    pairs = [(Decimal("0"), Decimal("500")), (None, None)]
    assert wape(pairs) is None
    assert bias(pairs) is None
    assert accuracy(pairs) is None
    assert wape([]) is None
    assert mape([]) is None


def test_a_perfect_forecast():
    pairs = [(Decimal("10"), Decimal("10")), (Decimal("5"), Decimal("5"))]
    assert (wape(pairs), accuracy(pairs), bias(pairs)) == (0.0, 1.0, 0.0)


def test_accuracy_can_fall_below_zero():
    # |100 − 350| / 100 = 2.5 → accuracy −1.5
    assert accuracy([(100, 350)]) == pytest.approx(-1.5)
