"""5. Forecast: what revenue, when, for which type of service (SPEC step 5; DOMAIN.md
§6.1 weighted pipeline, §6.4 categories and roll-ups).

The open qualified leads whose decision date falls in the period, weighted (value ×
P win × P go, or the stage's weight) and unweighted, always side by side. "Closed" is
what was won in the period (by the date it was won). Roll-ups: Commit forecast =
closed + commit, Best-case forecast = closed + commit + best case.
"""

from decimal import Decimal

from django.db.models import Case, Count, DecimalField, IntegerField, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.analytics import periods
from leadflow.analytics.forecast import CENT
from leadflow.analytics.queries import ForecastFilters, forecast_for, forecast_queryset
from leadflow.analytics.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportResult,
    Table,
    register,
)
from leadflow.analytics.scope import Scope
from leadflow.opportunities.models import ForecastCategory
from leadflow.opportunities.states import OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=6)
ZERO = Decimal("0")
OPEN_CATEGORIES = (
    ForecastCategory.COMMIT,
    ForecastCategory.BEST_CASE,
    ForecastCategory.PIPELINE,
)


def decision_month_expression(buckets: list[periods.Bucket], field: str) -> Case:
    """The month bucket of a date field (decision dates are plain dates)."""
    return Case(
        *(
            When(
                **{f"{field}__gte": b.first_day, f"{field}__lte": b.last_day},
                then=Value(b.index),
            )
            for b in buckets
        ),
        default=None,
        output_field=IntegerField(),
    )


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def _columns(first: str) -> list[Column]:
    return [
        Column("name", first),
        Column("count", _("Open leads"), Kind.INT),
        Column("unweighted", _("Unweighted"), Kind.MONEY),
        Column("weighted", _("Weighted"), Kind.MONEY),
    ]


def _forecast_table(key: str, title: str, first: str, forecast) -> Table:
    return Table(
        key,
        title,
        _columns(first),
        [
            {
                "name": r.label,
                "count": r.count,
                "unweighted": r.unweighted,
                "weighted": r.weighted,
            }
            for r in forecast.rows
        ],
        {
            "name": _("Total"),
            "count": forecast.count,
            "unweighted": forecast.unweighted,
            "weighted": forecast.weighted,
        },
    )


def won_in_period(scope: Scope):
    """Qualified leads won in the period (by the date they were won)."""
    return scope.opportunities("closed_at").filter(status=OpportunityStatus.WON)


@register
class ForecastReport(Report):
    name = "forecast"
    number = 5
    title = gettext_lazy("Forecast")
    summary = gettext_lazy(
        "What revenue is expected, when and for which type of service: the open "
        "qualified leads by month of decision date, service type, owner, team and "
        "forecast category, weighted and unweighted."
    )
    definitions = (
        gettext_lazy(
            "Period: the open qualified leads whose decision date falls in the "
            "period (leads without a decision date are not counted); closed = won "
            "in the period, by the date it was won."
        ),
        gettext_lazy(
            "Unweighted = Σ expected value. Weighted = Σ expected value × P win × "
            "P go when both are filled in, otherwise × the stage's weight."
        ),
        gettext_lazy(
            "Categories: the lead's own forecast category, otherwise its stage's; "
            "omitted leads are left out."
        ),
        gettext_lazy(
            "Commit forecast = closed + commit; best-case forecast = closed + "
            "commit + best case; pipeline = all open leads in the period."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        f = scope.filters
        filters = ForecastFilters(date_from=f.date_from, date_to=f.date_to)
        months = scope.months()
        user = scope.user

        # Month × category in one query (the chart and the month table).
        grid = (
            forecast_queryset(user, filters, scope=scope)
            .annotate(_m=decision_month_expression(months, "decision_date"))
            .values("_m", "_category")
            .annotate(
                n=Count("pk"),
                unweighted=Coalesce(Sum("_value"), ZERO, output_field=MONEY),
                weighted=Coalesce(Sum("_weighted"), ZERO, output_field=MONEY),
            )
            .order_by()
        )
        per_month = [
            {
                "count": 0,
                "unweighted": ZERO,
                "weighted": ZERO,
                **{c: ZERO for c in OPEN_CATEGORIES},
            }
            for _b in months
        ]
        per_category = {c: [0, ZERO, ZERO] for c in OPEN_CATEGORIES}
        for row in grid:
            if row["_m"] is None:
                continue
            cell = per_month[row["_m"]]
            cell["count"] += row["n"]
            cell["unweighted"] += row["unweighted"]
            cell["weighted"] += row["weighted"]
            cell[row["_category"]] += row["weighted"]
            totals = per_category[row["_category"]]
            totals[0] += row["n"]
            totals[1] += row["unweighted"]
            totals[2] += row["weighted"]

        won = won_in_period(scope)
        won_months = [ZERO for _b in months]
        won_totals = {"n": 0, "value": ZERO}
        for row in (
            won.annotate(_m=periods.bucket_expression("closed_at", months))
            .values("_m")
            .annotate(
                n=Count("pk"),
                value=Coalesce(Sum("expected_value"), ZERO, output_field=MONEY),
            )
            .order_by()
        ):
            # Every lead closed in the period falls in one of its months.
            if row["_m"] is not None:
                won_months[row["_m"]] += row["value"]
                won_totals["n"] += row["n"]
                won_totals["value"] += row["value"]

        month_rows = [
            {
                "name": b.label,
                "count": cell["count"],
                "unweighted": _money(cell["unweighted"]),
                "weighted": _money(cell["weighted"]),
                "commit": _money(cell[ForecastCategory.COMMIT]),
                "best_case": _money(cell[ForecastCategory.BEST_CASE]),
                "pipeline": _money(cell[ForecastCategory.PIPELINE]),
                "won": _money(won_months[b.index]),
            }
            for b, cell in zip(months, per_month, strict=True)
        ]
        month_totals = {
            "name": _("Total"),
            "count": sum(r["count"] for r in month_rows),
        }
        for key in ("unweighted", "weighted", "commit", "best_case", "pipeline", "won"):
            month_totals[key] = sum((r[key] for r in month_rows), ZERO)

        closed = (won_totals["n"], _money(won_totals["value"]))
        commit, best, pipeline = (
            per_category[ForecastCategory.COMMIT],
            per_category[ForecastCategory.BEST_CASE],
            per_category[ForecastCategory.PIPELINE],
        )

        def rollup(name: str, parts: list, with_closed: bool) -> dict:
            count = sum(p[0] for p in parts) + (closed[0] if with_closed else 0)
            extra = closed[1] if with_closed else ZERO
            return {
                "name": name,
                "count": count,
                "unweighted": _money(sum((p[1] for p in parts), ZERO) + extra),
                "weighted": _money(sum((p[2] for p in parts), ZERO) + extra),
            }

        commit_forecast = rollup(_("Commit forecast (closed + commit)"), [commit], True)
        best_forecast = rollup(
            _("Best-case forecast (closed + commit + best case)"), [commit, best], True
        )
        rollups = [
            {
                "name": _("Closed (won in the period)"),
                "count": closed[0],
                "unweighted": closed[1],
                "weighted": closed[1],
            },
            rollup(str(ForecastCategory.COMMIT.label), [commit], False),
            rollup(str(ForecastCategory.BEST_CASE.label), [best], False),
            rollup(str(ForecastCategory.PIPELINE.label), [pipeline], False),
            commit_forecast,
            best_forecast,
            rollup(_("Pipeline view (all open)"), [commit, best, pipeline], False),
        ]
        open_total = rollups[-1]

        by = {
            grouping: forecast_for(user, by=grouping, filters=filters, scope=scope)
            for grouping in ("service", "owner", "team", "category")
        }

        return ReportResult(
            figures=[
                (_("Weighted forecast (open)"), open_total["weighted"], Kind.MONEY),
                (
                    _("Unweighted forecast (open)"),
                    open_total["unweighted"],
                    Kind.MONEY,
                ),
                (_("Won in the period"), closed[1], Kind.MONEY),
                (
                    _("Commit forecast (weighted)"),
                    commit_forecast["weighted"],
                    Kind.MONEY,
                ),
                (
                    _("Best-case forecast (weighted)"),
                    best_forecast["weighted"],
                    Kind.MONEY,
                ),
            ],
            charts=[
                Chart(
                    key="forecast-per-month",
                    title=_(
                        "Weighted forecast per month of decision date, by category, "
                        "with the unweighted total"
                    ),
                    type="bar",
                    stacked=True,
                    labels=[b.label for b in months],
                    datasets=[
                        Dataset(
                            _("Closed (won)"),
                            [r["won"] for r in month_rows],
                            Kind.MONEY,
                        ),
                        Dataset(
                            _("Commit (weighted)"),
                            [r["commit"] for r in month_rows],
                            Kind.MONEY,
                        ),
                        Dataset(
                            _("Best case (weighted)"),
                            [r["best_case"] for r in month_rows],
                            Kind.MONEY,
                        ),
                        Dataset(
                            _("Pipeline (weighted)"),
                            [r["pipeline"] for r in month_rows],
                            Kind.MONEY,
                        ),
                        Dataset(
                            _("Unweighted (open)"),
                            [r["unweighted"] for r in month_rows],
                            Kind.MONEY,
                            type="line",
                        ),
                    ],
                )
            ],
            tables=[
                Table(
                    "rollups",
                    _("Categories and roll-ups"),
                    [
                        Column("name", _("Forecast")),
                        Column("count", _("Leads"), Kind.INT),
                        Column("unweighted", _("Unweighted"), Kind.MONEY),
                        Column("weighted", _("Weighted"), Kind.MONEY),
                    ],
                    rollups,
                    note=_("Closed counts at its full value in both columns."),
                ),
                Table(
                    "month",
                    _("By month of decision date"),
                    [
                        Column("name", _("Month")),
                        Column("count", _("Open leads"), Kind.INT),
                        Column("unweighted", _("Unweighted"), Kind.MONEY),
                        Column("weighted", _("Weighted"), Kind.MONEY),
                        Column("commit", _("Commit (weighted)"), Kind.MONEY),
                        Column("best_case", _("Best case (weighted)"), Kind.MONEY),
                        Column("pipeline", _("Pipeline (weighted)"), Kind.MONEY),
                        Column("won", _("Won (by month won)"), Kind.MONEY),
                    ],
                    month_rows,
                    month_totals,
                ),
                _forecast_table(
                    "service",
                    _("By service type"),
                    _("Service type"),
                    by["service"],
                ),
                _forecast_table("owner", _("By owner"), _("Owner"), by["owner"]),
                _forecast_table("team", _("By team"), _("Team"), by["team"]),
                _forecast_table(
                    "category",
                    _("By forecast category"),
                    _("Category"),
                    by["category"],
                ),
            ],
        )
