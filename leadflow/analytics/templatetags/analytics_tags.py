"""Formatting the analyses' values by kind (money, ratio, days...) in the page's
language; the JSON and the exports keep the raw numbers."""

from django import template
from django.utils.formats import date_format, number_format

from leadflow.analytics.reports.base import Kind

register = template.Library()
DASH = "—"


@register.filter
def cell(value, kind: str) -> str:
    if value is None or value == "":
        return DASH
    if kind == Kind.MONEY:
        return "€ " + number_format(value, 2, use_l10n=True, force_grouping=True)
    if kind == Kind.RATIO:
        return number_format(float(value) * 100, 1, use_l10n=True) + " %"
    if kind in (Kind.DAYS, Kind.HOURS, Kind.NUMBER):
        return number_format(value, 1, use_l10n=True, force_grouping=True)
    if kind == Kind.INT:
        return number_format(value, 0, use_l10n=True, force_grouping=True)
    if kind == Kind.DATE and hasattr(value, "year"):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


@register.filter
def get(row: dict, key: str):
    return row.get(key) if row else None


@register.filter
def numeric(kind: str) -> bool:
    return kind not in (Kind.TEXT, Kind.DATE)
