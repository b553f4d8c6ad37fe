"""Quote arithmetic in Decimal: line and overall discounts, VAT, half-up cents. Pure."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.opportunities.quoting import LineAmounts, line_amounts, money, totals

D = Decimal
VAT_21, VAT_6, VAT_0 = D("0.21"), D("0.06"), D("0")


def test_the_worked_example_two_lines_line_and_overall_discount_21_percent_vat():
    result = totals(
        [(D("2"), D("1000"), D("0.10")), (D("1"), D("500"), D("0"))],
        discount=D("0.05"),
        vat_rate=VAT_21,
    )
    assert result.lines == [
        LineAmounts(gross=D("2000.00"), net=D("1800.00")),
        LineAmounts(gross=D("500.00"), net=D("500.00")),
    ]
    assert result.subtotal == D("2300.00")
    assert result.discount_amount == D("115.00")
    assert result.net == D("2185.00")
    assert result.vat == D("458.85")
    assert result.total == D("2643.85")
    assert [str(x) for x in (result.subtotal, result.net, result.total)] == [
        "2300.00",
        "2185.00",
        "2643.85",
    ]


@pytest.mark.parametrize(
    ("vat_rate", "vat", "total"),
    [(VAT_21, D("21.00"), D("121.00")), (VAT_6, D("6.00"), D("106.00"))]
    + [(VAT_0, D("0.00"), D("100.00"))],
)
def test_vat_at_21_6_and_0_percent(vat_rate, vat, total):
    result = totals([(D("1"), D("100"), D("0"))], discount=D("0"), vat_rate=vat_rate)
    assert (result.net, result.vat, result.total) == (D("100.00"), vat, total)


def test_vat_at_6_percent_rounds_half_up_to_cents():
    # 10.75 × 6% = 0.645 → 0.65
    result = totals([(D("1"), D("10.75"), D("0"))], discount=D("0"), vat_rate=VAT_6)
    assert result.vat == D("0.65")
    assert result.total == D("11.40")


def test_vat_at_21_percent_rounds_half_up_to_cents():
    # 0.50 × 21% = 0.105 → 0.11 (banker's rounding would give 0.10)
    result = totals([(D("1"), D("0.50"), D("0"))], discount=D("0"), vat_rate=VAT_21)
    assert result.vat == D("0.11")
    assert result.total == D("0.61")


def test_money_rounds_half_up_not_half_even():
    assert money(D("0.125")) == D("0.13")
    assert money(D("0.135")) == D("0.14")
    assert money(D("2.675")) == D("2.68")
    assert money(D("0.124999")) == D("0.12")
    assert money(D("7")) == D("7.00")
    assert str(money(D("7"))) == "7.00"


def test_a_line_gross_is_quantity_times_price_rounded_to_cents():
    # 3 × 0.335 = 1.005 → 1.01; 1.5 × 3.33 = 4.995 → 5.00
    assert line_amounts(D("3"), D("0.335"), D("0")).gross == D("1.01")
    assert line_amounts(D("1.5"), D("3.33"), D("0")).gross == D("5.00")
    assert line_amounts(D("0.125"), D("1"), D("0")).gross == D("0.13")


def test_a_line_discount_applies_to_the_rounded_gross_and_rounds_half_up():
    # 10.05 at 50% = 5.025 → 5.03
    assert line_amounts(D("1"), D("10.05"), D("0.5")) == LineAmounts(
        gross=D("10.05"), net=D("5.03")
    )
    # 3 × 33.33 = 99.99 at 15% = 84.9915 → 84.99
    assert line_amounts(D("3"), D("33.33"), D("0.15")).net == D("84.99")


def test_a_full_line_discount_makes_the_line_free():
    assert line_amounts(D("4"), D("25"), D("1")) == LineAmounts(
        gross=D("100.00"), net=D("0.00")
    )


def test_the_overall_discount_applies_to_the_subtotal_and_rounds_half_up():
    # subtotal 0.30 at 5% = 0.015 → 0.02
    result = totals(
        [(D("1"), D("0.10"), D("0"))] * 3, discount=D("0.05"), vat_rate=VAT_0
    )
    assert result.subtotal == D("0.30")
    assert result.discount_amount == D("0.02")
    assert result.net == D("0.28")
    assert result.total == D("0.28")


def test_the_subtotal_adds_the_rounded_line_nets():
    # each line: 1 × 0.333 → 0.33; three lines → 0.99 (not round(0.999) = 1.00)
    result = totals([(D("1"), D("0.333"), D("0"))] * 3, discount=D("0"), vat_rate=VAT_0)
    assert result.subtotal == D("0.99")


def test_line_and_overall_discounts_and_vat_together_at_6_percent():
    result = totals(
        [
            (D("12"), D("19.99"), D("0.125")),  # 239.88 → 209.895 → 209.90
            (D("0.5"), D("80.01"), D("0")),  # 40.005 → 40.01
        ],
        discount=D("0.03"),  # 249.91 × 3% = 7.4973 → 7.50
        vat_rate=VAT_6,  # 242.41 × 6% = 14.5446 → 14.54
    )
    assert [line.net for line in result.lines] == [D("209.90"), D("40.01")]
    assert result.subtotal == D("249.91")
    assert result.discount_amount == D("7.50")
    assert result.net == D("242.41")
    assert result.vat == D("14.54")
    assert result.total == D("256.95")


def test_a_full_overall_discount_leaves_nothing_to_pay():
    result = totals([(D("2"), D("50"), D("0"))], discount=D("1"), vat_rate=VAT_21)
    assert (result.discount_amount, result.net, result.vat, result.total) == (
        D("100.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )


def test_no_lines_total_zero_with_two_decimals():
    result = totals([], discount=D("0.1"), vat_rate=VAT_21)
    assert result.lines == []
    assert str(result.subtotal) == "0.00"
    assert str(result.total) == "0.00"


# --- properties --------------------------------------------------------------------

quantities = st.decimals(
    min_value=D("0.001"), max_value=D("100000"), places=3, allow_nan=False
)
prices = st.decimals(min_value=D("0"), max_value=D("1000000"), places=2)
fractions = st.decimals(min_value=D("0"), max_value=D("1"), places=3)
vat_rates = st.sampled_from([VAT_21, VAT_6, VAT_0]) | st.decimals(
    min_value=D("0"), max_value=D("0.999"), places=3
)
line_rows = st.lists(st.tuples(quantities, prices, fractions), max_size=8)


def _two_decimals_not_negative(value: Decimal) -> bool:
    return value.as_tuple().exponent == -2 and not value.is_signed() and value >= 0


@settings(max_examples=150, deadline=None)
@given(rows=line_rows, discount=fractions, vat_rate=vat_rates)
def test_total_is_net_plus_vat_and_every_amount_has_two_decimals(
    rows, discount, vat_rate
):
    result = totals(rows, discount=discount, vat_rate=vat_rate)
    assert result.total == result.net + result.vat
    assert result.net == result.subtotal - result.discount_amount
    assert result.subtotal == sum((line.net for line in result.lines), D("0"))
    amounts = [
        result.subtotal,
        result.discount_amount,
        result.net,
        result.vat,
        result.total,
        *(line.gross for line in result.lines),
        *(line.net for line in result.lines),
    ]
    for amount in amounts:
        assert _two_decimals_not_negative(amount), amount


@settings(max_examples=150, deadline=None)
@given(rows=line_rows, discount=fractions, vat_rate=vat_rates)
def test_discounts_never_raise_a_price_and_vat_never_lowers_it(
    rows, discount, vat_rate
):
    result = totals(rows, discount=discount, vat_rate=vat_rate)
    for line in result.lines:
        assert line.net <= line.gross
    assert result.discount_amount <= result.subtotal
    assert result.net <= result.total
