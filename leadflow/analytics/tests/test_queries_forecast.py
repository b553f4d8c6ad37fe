"""Forecast sums in SQL against the hand-computed dataset (factories.py docstring)."""

from datetime import date

import pytest

from leadflow.analytics.queries import ForecastFilters, compare, forecast_for
from leadflow.analytics.tests.factories import D, table
from leadflow.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_by_month_for_a_director(director, leads):
    f = forecast_for(director, by="month")
    assert table(f) == [
        # L1 10000/2500 + L2 20000/6000 + L5 (no value) 0/0
        ("2026-03", 3, D("30000"), D("8500")),
        # L4 40000/10000 (L7 is omitted)
        ("2026-04", 1, D("40000"), D("10000")),
        ("2026-05", 1, D("8000"), D("6000")),  # L3: stage weight 0.75, not P win 0.8
        ("2026-06", 1, D("1000"), D("250")),  # L9
        (None, 1, D("5000"), D("4500")),  # L6 has no decision date: 5000 × 0.9 × 1.0
    ]
    assert (f.count, f.unweighted, f.weighted) == (7, D("84000"), D("29250"))
    assert f.rows[-1].label == "No decision date"
    assert f.rows[0].label == "March 2026"


def test_by_quarter(director, leads):
    f = forecast_for(director, by="quarter")
    assert table(f) == [
        ("2026-Q1", 3, D("30000"), D("8500")),  # L1, L2, L5
        ("2026-Q2", 3, D("49000"), D("16250")),  # L4 10000 + L3 6000 + L9 250
        (None, 1, D("5000"), D("4500")),
    ]
    assert f.rows[0].label == "2026 Q1"


def test_by_service_type(director, leads):
    f = forecast_for(director, by="service")
    assert table(f) == [
        ("Consulting", 1, D("5000"), D("4500")),  # L6
        ("Installation", 3, D("19000"), D("8750")),  # L1 2500 + L3 6000 + L9 250
        ("Maintenance", 2, D("60000"), D("16000")),  # L2 6000 + L4 10000
        (None, 1, D("0"), D("0")),  # L5: no type, no value
    ]
    assert f.rows[-1].label == "No service type"


def test_by_owner_keyed_by_username(director, leads):
    f = forecast_for(director, by="owner")
    assert table(f) == [
        ("director", 1, D("5000"), D("4500")),
        ("inside", 1, D("1000"), D("250")),
        ("outsider", 2, D("40000"), D("10000")),
        ("rep", 3, D("38000"), D("14500")),  # L1 2500 + L2 6000 + L3 6000
    ]
    assert [r.label for r in f.rows] == [
        "Director Persona",
        "Inside Persona",
        "Outsider Persona",
        "Rep Persona",
    ]


def test_by_team_keyed_by_id(director, leads, teams):
    f = forecast_for(director, by="team")
    assert table(f) == [
        (teams["North"].pk, 4, D("39000"), D("14750")),  # L1 L2 L3 L9
        (teams["South"].pk, 2, D("40000"), D("10000")),  # L4 L5
        (None, 1, D("5000"), D("4500")),  # the director has no team
    ]
    assert [r.label for r in f.rows] == ["North", "South", "No team"]


def test_by_category(director, leads):
    f = forecast_for(director, by="category")
    assert table(f) == [
        ("pipeline", 2, D("50000"), D("12500")),  # L1, L4
        ("best_case", 2, D("20000"), D("6000")),  # L2, L5
        ("commit", 3, D("14000"), D("10750")),  # L3 6000 + L6 4500 + L9 250
    ]
    assert [r.label for r in f.rows] == ["Pipeline", "Best case", "Commit"]


def test_omitted_leads_only_when_asked_for(director, leads):
    f = forecast_for(
        director, by="category", filters=ForecastFilters(categories=("omitted",))
    )
    assert table(f) == [("omitted", 1, D("12000"), D("3000"))]  # L7: 12000 × 0.25
    both = forecast_for(
        director,
        by="month",
        filters=ForecastFilters(categories=("commit", "omitted")),
    )
    assert (both.count, both.weighted) == (4, D("13750"))  # L3, L6, L9 + L7


def test_totals_do_not_depend_on_the_grouping(director, leads):
    totals = {
        by: (f.count, f.unweighted, f.weighted)
        for by in ("month", "quarter", "service", "owner", "team", "category")
        for f in [forecast_for(director, by=by)]
    }
    assert set(totals.values()) == {(7, D("84000"), D("29250"))}


def test_filters(director, leads, rep, teams):
    def totals(**kwargs):
        f = forecast_for(director, by="month", filters=ForecastFilters(**kwargs))
        return f.count, f.unweighted, f.weighted

    # March and April: L1, L2, L5, L4 (the undated L6 is outside any period)
    assert totals(date_from=date(2026, 3, 1), date_to=date(2026, 4, 30)) == (
        4,
        D("70000"),
        D("18500"),
    )
    assert totals(date_from=date(2026, 5, 1)) == (2, D("9000"), D("6250"))  # L3, L9
    assert totals(owner=rep.pk) == (3, D("38000"), D("14500"))
    assert totals(team=teams["North"].pk) == (4, D("39000"), D("14750"))
    assert totals(service_type="Installation") == (3, D("19000"), D("8750"))
    assert totals(categories=("commit",)) == (3, D("14000"), D("10750"))
    assert totals(service_type="Installation", categories=("commit",)) == (
        2,
        D("9000"),
        D("6250"),
    )


def test_the_closed_won_lead_is_not_in_the_forecast(director, leads):
    f = forecast_for(
        director, by="category", filters=ForecastFilters(categories=("closed",))
    )
    assert f.rows == [] and f.count == 0


# --- visibility ------------------------------------------------------------------------


def test_a_salesperson_sees_their_own_and_their_teams_leads(rep, leads):
    f = forecast_for(rep, by="owner")
    assert table(f) == [
        ("inside", 1, D("1000"), D("250")),  # L9: same team (North)
        ("rep", 3, D("38000"), D("14500")),
    ]


def test_the_outsider_sees_only_their_team(outsider, leads):
    f = forecast_for(outsider, by="month")
    assert table(f) == [
        ("2026-03", 1, D("0"), D("0")),  # L5
        ("2026-04", 1, D("40000"), D("10000")),  # L4
    ]


def test_inside_sales_and_directors_see_everything(inside, director, leads):
    assert forecast_for(inside).weighted == forecast_for(director).weighted
    assert forecast_for(inside).weighted == D("29250")


def test_a_role_without_leads_sees_nothing(marketer, leads):
    assert forecast_for(marketer).rows == []


# --- input and query count ----------------------------------------------------------------


def test_an_unknown_grouping_is_refused(director):
    with pytest.raises(ValidationFailed) as exc:
        forecast_for(director, by="week")
    assert exc.value.code == "invalid_grouping"
    assert "month, quarter, service, owner, team, category" in str(exc.value)


def test_an_unknown_category_is_refused(director):
    with pytest.raises(ValidationFailed) as exc:
        forecast_for(director, filters=ForecastFilters(categories=("maybe",)))
    assert exc.value.code == "invalid_category"


@pytest.mark.parametrize(
    "by", ["month", "quarter", "service", "owner", "team", "category"]
)
def test_one_query_per_forecast(director, leads, by, django_assert_num_queries):
    with django_assert_num_queries(1):
        forecast_for(director, by=by)


def test_compare_puts_then_and_now_side_by_side(director, leads):
    now = forecast_for(director, by="category")
    then = forecast_for(
        director,
        by="category",
        filters=ForecastFilters(categories=("pipeline", "omitted")),
    )
    rows = {r.key: r for r in compare(now, then)}
    assert list(rows) == ["pipeline", "best_case", "commit", "omitted"]
    assert rows["pipeline"].diff_weighted == D("0")
    assert rows["best_case"].diff_weighted == D("6000")  # not in "then"
    assert rows["omitted"].then_weighted == D("3000")
    assert rows["omitted"].diff_weighted == D("-3000")  # gone "now"
    assert rows["omitted"].count == 0
