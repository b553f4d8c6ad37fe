"""forecast.py: the weight, the category, period keys and the snapshot calendar rule;
and the SQL twins agree with the Python rules."""

from datetime import date
from decimal import Decimal
from itertools import product

import pytest

from leadflow.analytics.forecast import (
    default_category_for_stage,
    effective_category,
    first_working_day_of_month,
    is_snapshot_day,
    lead_weight,
    month_key,
    quarter_key,
    weighted_value,
)
from leadflow.analytics.queries import category_expression
from leadflow.core.worktime import Calendar
from leadflow.opportunities.models import Opportunity, Stage
from leadflow.opportunities.queries import weight_expression
from leadflow.opportunities.tests.pipeline_factories import make_lead

D = Decimal


def test_the_weight_is_p_win_times_p_go_when_both_are_filled_in():
    assert lead_weight(D("0.6"), D("0.5"), D("0.25")) == D("0.30")


@pytest.mark.parametrize(
    ("p_win", "p_go"), [(None, None), (D("0.8"), None), (None, D("0.4"))]
)
def test_a_missing_probability_means_the_stage_weight_not_one(p_win, p_go):
    assert lead_weight(p_win, p_go, D("0.75")) == D("0.75")


def test_zero_probabilities_count_as_filled_in():
    assert lead_weight(D("0"), D("0.9"), D("0.5")) == D("0")


def test_weighted_value_is_rounded_to_cents_and_unknown_without_a_value():
    # 333.33 × 0.6 × 0.5 = 99.999 → 100.00
    assert weighted_value(D("333.33"), D("0.6"), D("0.5"), D("0.25")) == D("100.00")
    assert weighted_value(None, D("0.6"), D("0.5"), D("0.25")) is None


def test_category_comes_from_the_result_then_the_override_then_the_stage():
    assert effective_category("open", "", "best_case") == "best_case"
    assert effective_category("open", "commit", "pipeline") == "commit"
    assert effective_category("won", "omitted", "pipeline") == "closed"
    for status in ("lost", "not_going_ahead", "nurture"):
        assert effective_category(status, "commit", "commit") == "omitted"


def test_default_categories_of_the_default_stages():
    assert default_category_for_stage("qualification") == "pipeline"
    assert default_category_for_stage("proposal") == "best_case"
    assert default_category_for_stage("negotiation") == "commit"
    assert default_category_for_stage("something-new") == "pipeline"


def test_period_keys():
    assert month_key(date(2026, 3, 31)) == "2026-03"
    assert quarter_key(date(2026, 3, 31)) == "2026-Q1"
    assert quarter_key(date(2026, 4, 1)) == "2026-Q2"
    assert quarter_key(date(2026, 12, 1)) == "2026-Q4"
    assert month_key(None) is None and quarter_key(None) is None


# --- when the worker takes a snapshot ----------------------------------------------------

WEEKDAYS = Calendar()  # Monday to Friday, no holidays


def test_every_monday_is_a_snapshot_day():
    # June 2026: the 1st is a Monday; the 8th, 15th, 22nd and 29th too.
    mondays = [
        d
        for d in range(1, 31)
        if is_snapshot_day(date(2026, 6, d), WEEKDAYS.is_working_day)
    ]
    assert mondays == [1, 8, 15, 22, 29]


def test_the_first_working_day_of_the_month_is_a_snapshot_day():
    # August 2026 starts on a Saturday: Monday the 3rd is its first working day.
    # October 2026 starts on a Thursday: the 1st.
    assert first_working_day_of_month(
        date(2026, 8, 20), WEEKDAYS.is_working_day
    ) == date(2026, 8, 3)
    assert is_snapshot_day(date(2026, 10, 1), WEEKDAYS.is_working_day)
    assert not is_snapshot_day(date(2026, 10, 2), WEEKDAYS.is_working_day)
    assert not is_snapshot_day(date(2026, 8, 1), WEEKDAYS.is_working_day)  # Saturday


def test_a_holiday_on_the_first_moves_the_monthly_snapshot_to_the_next_working_day():
    # 1 January 2026 is a Thursday and New Year's Day: Friday the 2nd takes it.
    cal = Calendar(holidays=(date(2026, 1, 1),))
    assert not is_snapshot_day(date(2026, 1, 1), cal.is_working_day)
    assert is_snapshot_day(date(2026, 1, 2), cal.is_working_day)
    assert not is_snapshot_day(date(2026, 1, 3), cal.is_working_day)
    assert is_snapshot_day(date(2026, 1, 5), cal.is_working_day)  # a Monday


def test_a_holiday_monday_still_gets_its_weekly_snapshot():
    # Easter Monday 2026 (6 April) is a holiday; the weekly picture is still taken.
    cal = Calendar(holidays=(date(2026, 4, 6),))
    assert is_snapshot_day(date(2026, 4, 6), cal.is_working_day)


def test_a_month_without_working_days_still_gets_its_snapshot_on_the_first():
    closed = Calendar(workdays=frozenset())
    assert first_working_day_of_month(date(2026, 2, 14), closed.is_working_day) == date(
        2026, 2, 1
    )


# --- one definition: the SQL twins give the Python answers --------------------------------


@pytest.mark.django_db
def test_the_sql_weight_and_category_agree_with_the_python_rules(rep):
    stage = Stage.objects.get(code="proposal")
    o = make_lead(rep, owner=rep)
    probabilities = [None, D("0"), D("0.4"), D("1")]
    for p_win, p_go, override, status in product(
        probabilities, probabilities, ["", "commit", "omitted"], ["open", "won", "lost"]
    ):
        Opportunity.objects.filter(pk=o.pk).update(
            stage=stage,
            p_win=p_win,
            p_go=p_go,
            forecast_category_override=override,
            status=status,
        )
        row = (
            Opportunity.objects.filter(pk=o.pk)
            .annotate(w=weight_expression(), c=category_expression())
            .values("w", "c")
            .get()
        )
        assert Decimal(row["w"]).quantize(D("0.000001")) == lead_weight(
            p_win, p_go, stage.weight
        ).quantize(D("0.000001")), (p_win, p_go)
        assert row["c"] == effective_category(status, override, stage.forecast_category)
