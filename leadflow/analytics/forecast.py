"""Forecast arithmetic (DOMAIN.md §6): pure functions, no database.

The SQL that sums thousands of leads uses the same definitions:
``leadflow.opportunities.queries.weight_expression`` (the pipeline board's) for the
weight and ``leadflow.analytics.queries.category_expression`` for the category; the
tests hold each pair to the same answers.
"""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from leadflow.opportunities.models import ForecastCategory
from leadflow.opportunities.states import OpportunityStatus

CENT = Decimal("0.01")

# DOMAIN.md §6.4 default mapping for the three default stages (migration 0007 of
# opportunities writes it; an administrator may change it per stage).
DEFAULT_STAGE_CATEGORIES: dict[str, str] = {
    "qualification": ForecastCategory.PIPELINE,
    "proposal": ForecastCategory.BEST_CASE,
    "negotiation": ForecastCategory.COMMIT,
}

# The categories that count in the forecast unless asked for explicitly: "omitted"
# means "leave this lead out" (DOMAIN.md §6.4).
FORECAST_CATEGORIES: tuple[str, ...] = (
    ForecastCategory.PIPELINE,
    ForecastCategory.BEST_CASE,
    ForecastCategory.COMMIT,
)

# Ways to group the forecast (``GET /api/forecast?by=``).
GROUPINGS: tuple[str, ...] = (
    "month",
    "quarter",
    "service",
    "owner",
    "team",
    "category",
)


def lead_weight(
    p_win: Decimal | None, p_go: Decimal | None, stage_weight: Decimal
) -> Decimal:
    """P win × P go when both are filled in, else the stage's weight (§6.1, §6.3).

    One missing probability does not count as 1: the stage weight applies until both
    are known (the pipeline board's rule)."""
    if p_win is not None and p_go is not None:
        return p_win * p_go
    return stage_weight


def weighted_value(
    value: Decimal | None,
    p_win: Decimal | None,
    p_go: Decimal | None,
    stage_weight: Decimal,
) -> Decimal | None:
    """Expected value × weight, in cents; None while the value is unknown."""
    if value is None:
        return None
    return (value * lead_weight(p_win, p_go, stage_weight)).quantize(CENT)


def effective_category(status: str, override: str, stage_category: str) -> str:
    """Won → closed; lost, not going ahead, nurture → omitted; an open lead takes its
    own override, else its stage's category."""
    if status == OpportunityStatus.WON:
        return ForecastCategory.CLOSED
    if status != OpportunityStatus.OPEN:
        return ForecastCategory.OMITTED
    return override or stage_category


def default_category_for_stage(code: str) -> str:
    return DEFAULT_STAGE_CATEGORIES.get(code, ForecastCategory.PIPELINE)


# --- periods -----------------------------------------------------------------------------


def month_key(day: date | None) -> str | None:
    """``2026-03``; None for a lead without a decision date."""
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


def quarter_key(day: date | None) -> str | None:
    """``2026-Q1``; None for a lead without a decision date."""
    return None if day is None else f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


# --- when the worker takes a snapshot ------------------------------------------------------


def first_working_day_of_month(
    day: date, is_working_day: Callable[[date], bool]
) -> date:
    """The first working day of ``day``'s month (the 1st itself when nothing is open:
    a month without a single working day still gets its snapshot)."""
    first = day.replace(day=1)
    candidate = first
    while candidate.month == first.month:
        if is_working_day(candidate):
            return candidate
        candidate += timedelta(days=1)
    return first


def is_snapshot_day(day: date, is_working_day: Callable[[date], bool]) -> bool:
    """Every Monday (holiday or not: one picture a week) and the first working day of
    each month (DOMAIN.md §6.5)."""
    return day.weekday() == 0 or day == first_working_day_of_month(day, is_working_day)
