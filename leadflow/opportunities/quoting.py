"""Quote arithmetic in Decimal (pure): line totals, discounts, VAT, rounding to cents."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal  # quantity × unit price
    net: Decimal  # after the line discount


@dataclass(frozen=True)
class Totals:
    lines: list[LineAmounts]
    subtotal: Decimal  # Σ line nets
    discount_amount: Decimal  # overall discount on the subtotal
    net: Decimal  # subtotal − overall discount (VAT base)
    vat: Decimal
    total: Decimal


def line_amounts(
    quantity: Decimal, unit_price: Decimal, discount: Decimal
) -> LineAmounts:
    gross = money(quantity * unit_price)
    return LineAmounts(gross=gross, net=money(gross * (Decimal(1) - discount)))


def totals(
    lines: Iterable[tuple[Decimal, Decimal, Decimal]],
    *,
    discount: Decimal,
    vat_rate: Decimal,
) -> Totals:
    """Totals of (quantity, unit price, line discount) rows; discounts and VAT are 0–1."""
    amounts = [line_amounts(q, p, d) for q, p, d in lines]
    subtotal = sum((a.net for a in amounts), Decimal("0.00"))
    discount_amount = money(subtotal * discount)
    net = subtotal - discount_amount
    vat = money(net * vat_rate)
    return Totals(
        lines=amounts,
        subtotal=subtotal,
        discount_amount=discount_amount,
        net=net,
        vat=vat,
        total=net + vat,
    )
