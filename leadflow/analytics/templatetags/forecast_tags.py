"""The forecast category of a lead, for the record page (one rule: forecast.py)."""

from django import template

from leadflow.analytics.forecast import effective_category
from leadflow.opportunities.actions import OVERRIDE_CATEGORIES
from leadflow.opportunities.models import ForecastCategory, Opportunity

register = template.Library()


@register.simple_tag
def forecast_category_of(opportunity: Opportunity) -> dict:
    """``{% forecast_category_of o as fc %}``: the effective category, whether the lead
    overrides its stage, and the choices a salesperson has."""
    code = effective_category(
        opportunity.status,
        opportunity.forecast_category_override,
        opportunity.stage.forecast_category,
    )
    return {
        "code": code,
        "label": ForecastCategory(code).label,
        "override": opportunity.forecast_category_override,
        "stage_label": opportunity.stage.get_forecast_category_display(),
        "choices": [(c, ForecastCategory(c).label) for c in OVERRIDE_CATEGORIES],
    }
