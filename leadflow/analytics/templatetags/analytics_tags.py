"""Formatting the analyses' values by kind (money, ratio, days...) in the page's
language; the JSON and the exports keep the raw numbers."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import date_format, number_format

from leadflow.analytics.reports.base import Kind

register = template.Library()
DASH = "—"


def _rounded(value, places: int) -> Decimal:
    """Half up to ``places`` decimals (Django's number_format cuts a float's digits
    off: 2/3 would show as 66.6 %)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _number(value, places: int) -> str:
    return number_format(
        _rounded(value, places), places, use_l10n=True, force_grouping=True
    )


@register.filter
def cell(value, kind: str) -> str:
    if value is None or value == "":
        return DASH
    if kind == Kind.MONEY:
        return "€ " + _number(value, 2)
    if kind == Kind.RATIO:
        return _number(float(value) * 100, 1) + " %"
    if kind in (Kind.DAYS, Kind.HOURS, Kind.NUMBER):
        return _number(value, 1)
    if kind == Kind.INT:
        return _number(value, 0)
    if kind == Kind.DATE and hasattr(value, "year"):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


@register.filter
def get(row: dict, key: str):
    return row.get(key) if row else None


@register.filter
def numeric(kind: str) -> bool:
    return kind not in (Kind.TEXT, Kind.DATE)
