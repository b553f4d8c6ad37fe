import pytest

from leadflow.analytics.tests.factories import Leads, make_leads


@pytest.fixture
def leads(personas) -> Leads:
    """The dataset of factories.py (its docstring has the hand-computed sums)."""
    return make_leads(personas)
