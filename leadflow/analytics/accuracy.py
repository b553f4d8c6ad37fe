"""Forecast accuracy (DOMAIN.md §6.5, KPI 16): pure functions, no database.

A = actual (won value), F = forecast made at a fixed earlier moment (a snapshot).
The items *i* are whatever a table groups by: months, owners, teams, service types.

    error      e = A − F
    WAPE         = Σ|A_i − F_i| / Σ A_i        (None when Σ A_i = 0: undefined)
    accuracy     = 1 − WAPE
    bias %       = (Σ F_i − Σ A_i) / Σ A_i      (> 0 = over-forecast, < 0 = under)
    MAPE         = mean_i |A_i − F_i| / A_i     (None when any A_i = 0)

Sign conventions differ between sources; the pages state this one.
"""

from collections.abc import Iterable
from decimal import Decimal

Pair = tuple[Decimal | int | float | None, Decimal | int | float | None]

ZERO = Decimal("0")


def _d(value) -> Decimal:
    """None (nothing won, nothing forecast) counts as zero."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def error(actual, forecast) -> Decimal:
    """A − F: positive when more was won than forecast."""
    return _d(actual) - _d(forecast)


def absolute_error(actual, forecast) -> Decimal:
    return abs(error(actual, forecast))


def wape(pairs: Iterable[Pair]) -> float | None:
    """Σ|A − F| / Σ A over the (actual, forecast) pairs; None when nothing was won."""
    pairs = list(pairs)
    total_actual = sum((_d(a) for a, _f in pairs), ZERO)
    if total_actual == 0:
        return None
    return float(sum((absolute_error(a, f) for a, f in pairs), ZERO) / total_actual)


def bias(pairs: Iterable[Pair]) -> float | None:
    """(Σ F − Σ A) / Σ A: > 0 over-forecast (optimism), < 0 under-forecast."""
    pairs = list(pairs)
    total_actual = sum((_d(a) for a, _f in pairs), ZERO)
    if total_actual == 0:
        return None
    total_forecast = sum((_d(f) for _a, f in pairs), ZERO)
    return float((total_forecast - total_actual) / total_actual)


def accuracy(pairs: Iterable[Pair]) -> float | None:
    """1 − WAPE (may be negative when the forecast was off by more than the actual)."""
    value = wape(pairs)
    return None if value is None else 1.0 - value


def mape(pairs: Iterable[Pair]) -> float | None:
    """Mean of |A − F| / A per item; undefined (None) as soon as one A is 0."""
    pairs = list(pairs)
    if not pairs or any(_d(a) == 0 for a, _f in pairs):
        return None
    return float(
        sum((absolute_error(a, f) / _d(a) for a, f in pairs), ZERO) / len(pairs)
    )
