"""The home page's dashboard: a few headline figures per role, each counted through a
:class:`~leadflow.analytics.scope.Scope` and linked to the analysis that explains it.

- directors and administrators: the company's pipeline, forecast, won business against
  last year, win rate, inflow and triage backlog, a table per team and a chart of won
  value per month;
- a salesperson: the same questions about their own leads, plus overdue activities and
  stalled leads;
- inside sales: the triage backlog, this week's inquiries, speed to first action;
- marketing: this month's inquiries per channel and the share qualified;
- colleagues: nothing (they see no analyses).

Speed at scale: a fixed handful of aggregate queries per role (the qualified-lead
figures are one grouped query with conditional sums), never a loop over rows; only the
speed to first action reads one column of durations to take its median.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import Role, User
from leadflow.analytics import periods
from leadflow.analytics.forecast import CENT, FORECAST_CATEGORIES
from leadflow.analytics.queries import category_expression
from leadflow.analytics.reports.base import (
    Chart,
    Dataset,
    Kind,
    ReportResult,
    median,
    ratio,
    serialize,
)
from leadflow.analytics.scope import ReportFilters, Scope, can_view_analytics
from leadflow.core.worktime import current_calendar, working_hours_between
from leadflow.intake.models import Channel
from leadflow.intake.states import InquiryStatus, Outcome
from leadflow.opportunities.models import ForecastCategory, Stage
from leadflow.opportunities.queries import weight_expression
from leadflow.opportunities.states import OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=6)
ZERO = Decimal("0")
WIN_RATE_DAYS = 90
SPEED_DAYS = 30
CHART_MONTHS = 12
# Results that count as a decision in the win rate (DOMAIN.md §8 KPI 5): nurture is
# parked, not decided.
DECIDED = (
    OpportunityStatus.WON,
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
)


# The page shows the figures in rows under these headings (consecutive keys).
GROUPS = {
    **dict.fromkeys(
        ("open_count", "open_unweighted", "open_weighted", "forecast_weighted"),
        gettext_lazy("Pipeline and forecast"),
    ),
    **dict.fromkeys(("won_month", "won_quarter", "win_rate"), gettext_lazy("Won")),
    **dict.fromkeys(
        (
            "inquiries_month",
            "inquiries_week",
            "qualified_share",
            "triage_backlog",
            "oldest_waiting",
            "speed_to_first_action",
        ),
        gettext_lazy("Inquiries"),
    ),
    **dict.fromkeys(("overdue_activities", "stalled"), gettext_lazy("Needs attention")),
}


@dataclass
class Figure:
    """One headline figure: its value, an optional comparison and the analysis link."""

    key: str
    label: str
    value: Any
    kind: str
    url: str
    compare: Any = None
    compare_label: str = ""
    detail: str = ""

    @property
    def group(self) -> str:
        return str(GROUPS.get(self.key, ""))


@dataclass
class Dashboard:
    kind: str  # "team", "sales", "inside", "marketing"
    title: str
    figures: list[Figure]
    # Per team (directors) or per channel (marketing): dicts with a "url".
    rows: list[dict] = field(default_factory=list)
    rows_title: str = ""
    chart: dict | None = None  # the chart JSON of the report pages

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


# --- the calendar ---------------------------------------------------------------------


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_back(day: date) -> date:
    """The same day of the previous month, clipped to its last day."""
    last_of_previous = day.replace(day=1) - timedelta(days=1)
    return last_of_previous.replace(day=min(day.day, last_of_previous.day))


@dataclass(frozen=True)
class Periods:
    """Today's periods, as (first day, last day) in the company's time zone."""

    now: datetime
    today: date

    @property
    def month(self) -> tuple[date, date]:
        return self.today.replace(day=1), self.today

    @property
    def last_month_same_days(self) -> tuple[date, date]:
        first = (self.today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return first, _month_back(self.today)

    @property
    def quarter_start(self) -> date:
        return date(self.today.year, (self.today.month - 1) // 3 * 3 + 1, 1)

    @property
    def quarter(self) -> tuple[date, date]:
        """This quarter so far."""
        return self.quarter_start, self.today

    @property
    def whole_quarter(self) -> tuple[date, date]:
        start = self.quarter_start
        if start.month == 10:
            following = date(start.year + 1, 1, 1)
        else:
            following = date(start.year, start.month + 3, 1)
        return start, following - timedelta(days=1)

    @property
    def week(self) -> tuple[date, date]:
        return self.today - timedelta(days=self.today.weekday()), self.today

    @property
    def last_days(self) -> tuple[date, date]:
        return self.today - timedelta(days=WIN_RATE_DAYS - 1), self.today

    @property
    def speed_days(self) -> tuple[date, date]:
        return self.today - timedelta(days=SPEED_DAYS - 1), self.today

    @property
    def chart_months(self) -> tuple[date, date]:
        first = self.today.replace(day=1)
        for _i in range(CHART_MONTHS - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        return first, self.today


def year_earlier(span: tuple[date, date]) -> tuple[date, date]:
    return _year_back(span[0]), _year_back(span[1])


def _between(field_name: str, span: tuple[date, date], tz) -> Q:
    start, end = periods.day_range(span[0], span[1], tz)
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


def _link(report: str, span: tuple[date, date] | None = None, **params: Any) -> str:
    query = {}
    if span is not None:
        query = {"from": span[0].isoformat(), "to": span[1].isoformat()}
    query.update({k: str(v) for k, v in params.items() if v not in (None, "")})
    url = reverse("analytics_report", args=[report])
    return f"{url}?{urlencode(query)}" if query else url


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


# --- qualified leads: two grouped queries ------------------------------------------------


@dataclass
class LeadMeasures:
    """The qualified-lead figures, per team of the owner and in total, and the won
    value per month for the chart."""

    teams: list[dict]
    totals: dict
    months: list[periods.Bucket]
    won_per_month: list[tuple[Decimal, int]]


OPEN_KEYS = (
    "open_count",
    "open_unweighted",
    "open_weighted",
    "forecast_count",
    "forecast_weighted",
    "commit_value",
    "stalled",
)
CLOSED_KEYS = (
    "won_month_count",
    "won_month_value",
    "won_month_ly_count",
    "won_month_ly_value",
    "won_quarter_count",
    "won_quarter_value",
    "won_quarter_ly_count",
    "won_quarter_ly_value",
    "won_recent",
    "decided_recent",
)


def _money(expression, condition: Q | None = None):
    return Coalesce(Sum(expression, filter=condition), ZERO, output_field=MONEY)


def _open_measures(scope: Scope, p: Periods, stalled: Q | None) -> list[dict]:
    """Per owner, over the open leads: count, unweighted and weighted value, this
    quarter's forecast (by decision date, omitted left out), the commit leads due
    this quarter and (for a salesperson) the stalled ones."""
    quarter_start, quarter_end = p.whole_quarter
    due = Q(decision_date__gte=quarter_start, decision_date__lte=quarter_end)
    in_forecast = due & Q(_category__in=FORECAST_CATEGORIES)
    weighted = F("expected_value") * weight_expression()
    measures = {
        "open_count": Count("pk"),
        "open_unweighted": _money("expected_value"),
        "open_weighted": _money(weighted),
        "forecast_count": Count("pk", filter=in_forecast),
        "forecast_weighted": _money(weighted, in_forecast),
        "commit_value": _money(
            "expected_value", due & Q(_category=ForecastCategory.COMMIT)
        ),
    }
    if stalled is not None:
        measures["stalled"] = Count("pk", filter=stalled)
    return list(
        scope.opportunities(None)
        .filter(status=OpportunityStatus.OPEN)
        .annotate(_category=category_expression())
        .values("owner")
        .annotate(**measures)
        .order_by()
    )


def _spans(p: Periods, tz) -> dict[str, tuple[datetime, datetime]]:
    """The close-date periods the figures count, as [start, end) instants."""
    return {
        key: periods.day_range(span[0], span[1], tz)
        for key, span in (
            ("month", p.month),
            ("month_ly", year_earlier(p.month)),
            ("quarter", p.quarter),
            ("quarter_ly", year_earlier(p.quarter)),
            ("recent", p.last_days),
        )
    }


def _segment_expression(field_name: str, edges: list[datetime], lo: int, hi: int):
    """SQL: the index ``i`` of the segment [edges[i], edges[i + 1]) holding the value
    (for rows already within [edges[lo], edges[hi])), found by halving: about five
    comparisons a row for twenty segments instead of twenty."""
    if hi - lo == 1:
        return Value(lo, output_field=IntegerField())
    mid = (lo + hi) // 2
    return Case(
        When(
            **{f"{field_name}__lt": edges[mid]},
            then=_segment_expression(field_name, edges, lo, mid),
        ),
        default=_segment_expression(field_name, edges, mid, hi),
        output_field=IntegerField(),
    )


def _closed_measures(scope: Scope, edges: list[datetime]) -> list[dict]:
    """Per owner, result and segment of close dates (the stretches between
    consecutive ``edges``): the number of leads and their value.

    Every period shown (this month, this quarter, the same days last year, the last
    90 days, each month of the chart) is a run of whole segments, so one pass over the
    closed leads with one CASE and two sums answers them all; a conditional sum per
    figure would make the database evaluate a dozen filters per row."""
    segment = _segment_expression("closed_at", edges, 0, len(edges) - 1)
    # Only the close date bounds the rows (closed_at is set for closed leads alone),
    # and the groups are expressions no index provides: SQLite then reads the table
    # in one pass instead of walking an (owner, status) index and fetching each row
    # from it (measured at 300,000 leads: 1.0 s against 2.5 s on a busy machine).
    return list(
        scope.opportunities(None)
        .filter(closed_at__gte=edges[0], closed_at__lt=edges[-1])
        .annotate(
            _s=segment,
            owner_=Cast("owner", IntegerField()),
            status_=Cast("status", CharField()),
        )
        .values("_s", "owner_", "status_")
        .annotate(n=Count("pk"), value=_money("expected_value"))
        .order_by()
    )


def _lead_measures(
    scope: Scope, p: Periods, *, stalled: Q | None = None
) -> LeadMeasures:
    months = periods.months(p.chart_months[0], p.chart_months[1], scope.tz)
    spans = _spans(p, scope.tz)
    edges = sorted(
        {t for span in spans.values() for t in span}
        | {b.start for b in months}
        | {b.end for b in months}
    )
    by_owner: dict[int, dict] = {}

    def owner_row(owner: int) -> dict:
        return by_owner.setdefault(owner, {key: 0 for key in OPEN_KEYS + CLOSED_KEYS})

    for row in _open_measures(scope, p, stalled):
        owner_row(row["owner"]).update({k: row[k] for k in OPEN_KEYS if k in row})
    won_per_month = [[ZERO, 0] for _b in months]
    for row in _closed_measures(scope, edges):
        if row["_s"] is None or row["status_"] not in DECIDED:
            continue  # nurture is parked, not decided
        start = edges[row["_s"]]
        won = row["status_"] == OpportunityStatus.WON
        target = owner_row(row["owner_"])
        for key, (lo, hi) in spans.items():
            if not lo <= start < hi:
                continue
            if key == "recent":
                target["decided_recent"] += row["n"]
                target["won_recent"] += row["n"] if won else 0
            elif won:
                target[f"won_{key}_count"] += row["n"]
                target[f"won_{key}_value"] += row["value"]
        if won:
            for b in months:
                if b.start <= start < b.end:
                    won_per_month[b.index][0] += row["value"]
                    won_per_month[b.index][1] += row["n"]
    # Owners are a few dozen people: their teams in one small query.
    teams_of = (
        {
            pk: (team, name)
            for pk, team, name in User.objects.filter(
                pk__in=list(by_owner)
            ).values_list("pk", "team", "team__name")
        }
        if by_owner
        else {}
    )
    teams: dict[int | None, dict] = {}
    totals = {key: 0 for key in OPEN_KEYS + CLOSED_KEYS}
    for owner, row in by_owner.items():
        team, name = teams_of.get(owner, (None, None))
        target = teams.setdefault(
            team,
            {"team": team, "name": name, **{key: 0 for key in OPEN_KEYS + CLOSED_KEYS}},
        )
        for key in OPEN_KEYS + CLOSED_KEYS:
            target[key] += row[key]
            totals[key] += row[key]
    return LeadMeasures(
        teams=list(teams.values()),
        totals=totals,
        months=months,
        won_per_month=[(_cents(v), n) for v, n in won_per_month],
    )


def _won_chart(scope: Scope, measures: LeadMeasures) -> dict:
    """Won value per month over the last twelve months (by close date)."""
    chart = Chart(
        key="won-per-month",
        title=_("Won value per month (last 12 months)"),
        type="bar",
        labels=[b.label for b in measures.months],
        datasets=[
            Dataset(
                _("Won value"), [v for v, _n in measures.won_per_month], Kind.MONEY
            ),
            Dataset(
                _("Won leads"),
                [n for _v, n in measures.won_per_month],
                Kind.INT,
                type="line",
                axis="y2",
            ),
        ],
    )
    return serialize(_Home(), scope, ReportResult(charts=[chart]), {})["charts"][0]


class _Home:
    """Stands in for a report so the chart JSON has exactly the report pages' shape."""

    name = "home"
    title = ""
    definitions = ()


def _filters(base: ReportFilters, span: tuple[date, date], **changes) -> ReportFilters:
    return replace(base, date_from=span[0], date_to=span[1], **changes)


# --- the figures per role ---------------------------------------------------------------


def _pipeline_figures(
    totals: dict, p: Periods, *, mine: bool, person: str = ""
) -> list[Figure]:
    """Open pipeline, forecast this quarter, won this month/quarter and the win rate:
    the same figures for the company (a director) and for one salesperson."""
    won_quarter = _cents(totals["won_quarter_value"])
    commit_rollup = won_quarter + _cents(totals["commit_value"])
    figures = [
        Figure(
            "open_count",
            _("My open qualified leads") if mine else _("Open qualified leads"),
            totals["open_count"],
            Kind.INT,
            _link("pipeline", person=person),
        ),
        Figure(
            "open_unweighted",
            _("Open pipeline (unweighted)"),
            _cents(totals["open_unweighted"]),
            Kind.MONEY,
            _link("pipeline", person=person),
            detail=_("Sum of the expected values of the open leads."),
        ),
        Figure(
            "open_weighted",
            _("Open pipeline (weighted)"),
            _cents(totals["open_weighted"]),
            Kind.MONEY,
            _link("pipeline", person=person),
            detail=_("Expected value × probability (P win × P go, else the stage's)."),
        ),
        Figure(
            "forecast_weighted",
            _("Forecast this quarter (weighted)"),
            _cents(totals["forecast_weighted"]),
            Kind.MONEY,
            _link("forecast", p.whole_quarter, person=person),
            compare=commit_rollup,
            compare_label=_("commit forecast"),
            detail=_(
                "Open leads with a decision date this quarter, omitted left out. "
                "Commit forecast = won this quarter + commit leads due this quarter "
                "(unweighted)."
            ),
        ),
    ]
    for key, label, span, count_key in (
        ("won_month", _("Won this month"), p.month, "won_month_count"),
        ("won_quarter", _("Won this quarter"), p.quarter, "won_quarter_count"),
    ):
        figures.append(
            Figure(
                key,
                label,
                _cents(totals[f"{key}_value"]),
                Kind.MONEY,
                _link("performance", span, person=person),
                compare=_cents(totals[f"{key}_ly_value"]),
                compare_label=_("same days last year"),
                detail=_("%(n)s won (last year %(then)s), by close date.")
                % {"n": totals[count_key], "then": totals[f"{key}_ly_count"]},
            )
        )
    won, decided = totals["won_recent"], totals["decided_recent"]
    figures.append(
        Figure(
            "win_rate",
            _("My win rate, last 90 days") if mine else _("Win rate, last 90 days"),
            ratio(won, decided),
            Kind.RATIO,
            _link("win-rates", p.last_days, person=person),
            detail=_(
                "Won ÷ (won + lost + not going ahead), closed in the last %(days)s "
                "days: %(won)s of %(decided)s."
            )
            % {"days": WIN_RATE_DAYS, "won": won, "decided": decided},
        )
    )
    return figures


def _triage_figures(scope: Scope, p: Periods) -> list[Figure]:
    backlog = (
        scope.inquiries(None)
        .filter(status=InquiryStatus.OPEN)
        .aggregate(n=Count("pk"), oldest=Min("received_at"))
    )
    oldest = backlog["oldest"]
    return [
        Figure(
            "triage_backlog",
            _("Inquiries waiting for triage"),
            backlog["n"],
            Kind.INT,
            _link("pipeline"),
        ),
        Figure(
            "oldest_waiting",
            _("Oldest waiting (working hours)"),
            None
            if oldest is None
            else round(working_hours_between(oldest, p.now, current_calendar()), 1),
            Kind.HOURS,
            _link("process"),
            detail=""
            if oldest is None
            else _("Waiting since %(when)s")
            % {
                "when": date_format(
                    timezone.localtime(oldest, scope.tz), "SHORT_DATETIME_FORMAT"
                )
            },
        ),
    ]


def _inquiry_volume(
    scope: Scope,
    key: str,
    label: str,
    now_span: tuple[date, date],
    then_span: tuple[date, date],
    then_label: str,
) -> Figure:
    tz = scope.tz
    this, then = (
        _between("received_at", now_span, tz),
        _between("received_at", then_span, tz),
    )
    counts = (
        _received(scope, min(now_span[0], then_span[0]), max(now_span[1], then_span[1]))
        .filter(this | then)
        .aggregate(now=Count("pk", filter=this), then=Count("pk", filter=then))
    )
    return Figure(
        key,
        label,
        counts["now"],
        Kind.INT,
        _link("sources", now_span),
        compare=counts["then"],
        compare_label=then_label,
        detail=_("Received, by the date they came in."),
    )


def _team_dashboard(scope: Scope, p: Periods) -> Dashboard:
    measures = _lead_measures(scope, p)
    figures = _pipeline_figures(measures.totals, p, mine=False)
    figures.append(
        _inquiry_volume(
            scope,
            "inquiries_month",
            _("Inquiries this month"),
            p.month,
            p.last_month_same_days,
            _("same days last month"),
        )
    )
    figures.extend(_triage_figures(scope, p))
    teams = [
        {
            "name": r["name"] or _("No team"),
            "open_count": r["open_count"],
            "open_weighted": _cents(r["open_weighted"]),
            "won_quarter_value": _cents(r["won_quarter_value"]),
            "won_quarter_count": r["won_quarter_count"],
            "win_rate": ratio(r["won_recent"], r["decided_recent"]),
            "url": _link("performance", p.quarter, team=r["team"]),
        }
        for r in measures.teams
    ]
    teams.sort(key=lambda t: (t["name"] == _("No team"), t["name"].casefold()))
    return Dashboard(
        kind="team",
        title=_("Sales at a glance"),
        figures=figures,
        rows=teams,
        rows_title=_("Per team"),
        chart=_won_chart(scope, measures),
    )


def _stalled_condition(now: datetime) -> Q:
    """Open in a stage longer than the stage's own limit (stages without one never
    stall). A lead without a stage date (imported, generated) counts from its
    creation."""
    condition = Q(pk__in=[])
    for stage_id, days in Stage.objects.filter(
        stale_after_days__isnull=False
    ).values_list("pk", "stale_after_days"):
        limit = now - timedelta(days=days)
        condition |= Q(stage_id=stage_id) & (
            Q(stage_entered_at__lt=limit)
            | Q(stage_entered_at__isnull=True, created_at__lt=limit)
        )
    return condition


def _sales_dashboard(scope: Scope, p: Periods) -> Dashboard:
    user = scope.user
    mine = scope.with_filters(_filters(scope.filters, p.month, person=user.pk))
    measures = _lead_measures(mine, p, stalled=_stalled_condition(p.now))
    figures = _pipeline_figures(measures.totals, p, mine=True, person=user.username)
    # Counted from the leads' side: Scope.activities() checks reach with a subquery
    # over every lead of the team (300 ms at 300,000 leads); the same rows joined
    # from scope.opportunities() take a few milliseconds.
    overdue = (
        scope.opportunities(None)
        .filter(
            status=OpportunityStatus.OPEN,
            activities__assignee=user,
            activities__done_at__isnull=True,
            activities__due_at__lt=p.now,
        )
        .aggregate(n=Count("activities"))["n"]
    )
    figures += [
        Figure(
            "overdue_activities",
            _("My overdue activities"),
            overdue,
            Kind.INT,
            _link("efficiency", person=user.username),
            detail=_("Not done and past their due time, on open leads."),
        ),
        Figure(
            "stalled",
            _("My stalled leads"),
            measures.totals["stalled"],
            Kind.INT,
            _link("cycle-times", person=user.username),
            detail=_("Longer in their stage than the stage's limit."),
        ),
    ]
    return Dashboard(kind="sales", title=_("My figures"), figures=figures)


class HoursBetween(Func):
    """SQL: hours from the first datetime to the second, computed by the database
    (Django's own duration arithmetic on SQLite calls Python once per row: 0.6 s for
    9,000 inquiries)."""

    output_field = FloatField()

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)  # rendered as end − start

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 24.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)",
            arg_joiner=" - ",
            **extra,
        )


def _received(scope: Scope, first: date, last: date):
    """Inquiries in reach received from ``first`` to ``last``. The condition on the
    status (always open or closed) lets the database use the (status, received_at)
    index instead of reading a million rows."""
    start, end = periods.day_range(first, last, scope.tz)
    return scope.inquiries(None).filter(
        status__in=InquiryStatus.values, received_at__gte=start, received_at__lt=end
    )


def _speed_to_first_action(scope: Scope, p: Periods) -> Figure:
    """Median hours from receipt to assessment (closing the inquiry: the first thing
    triage does with it), over the inquiries received in the last SPEED_DAYS days
    that have been assessed (cohort counting, DOMAIN.md §8 KPI 2); the ones still
    waiting are the backlog figure's."""
    hours = list(
        _received(scope, *p.speed_days)
        .filter(status=InquiryStatus.CLOSED)
        .annotate(_h=HoursBetween("received_at", "closed_at"))
        .values_list("_h", flat=True)
    )
    middle = median(hours)
    return Figure(
        "speed_to_first_action",
        _("Speed to first action (median hours)"),
        None if middle is None else round(middle, 1),
        Kind.HOURS,
        _link("efficiency", p.speed_days),
        detail=_(
            "Received → assessed, in calendar hours, over the %(n)s inquiries "
            "received in the last %(days)s days and assessed so far."
        )
        % {"n": len(hours), "days": SPEED_DAYS},
    )


def _inside_dashboard(scope: Scope, p: Periods) -> Dashboard:
    figures = _triage_figures(scope, p)
    previous_week = (p.week[0] - timedelta(days=7), p.today - timedelta(days=7))
    figures.append(
        _inquiry_volume(
            scope,
            "inquiries_week",
            _("Inquiries this week"),
            p.week,
            previous_week,
            _("same days last week"),
        )
    )
    figures.append(_speed_to_first_action(scope, p))
    return Dashboard(kind="inside", title=_("Triage at a glance"), figures=figures)


def _marketing_dashboard(scope: Scope, p: Periods) -> Dashboard:
    by_channel = list(
        _received(scope, *p.month)
        .values("channel")
        .annotate(
            n=Count("pk"),
            qualified=Count("pk", filter=Q(outcome=Outcome.QUALIFIED)),
        )
        .order_by("-n", "channel")
    )
    names = {c.pk: str(c) for c in Channel.objects.all()}
    rows = [
        {
            "name": names.get(r["channel"], "?"),
            "inquiries": r["n"],
            "qualified": r["qualified"],
            "qualified_share": ratio(r["qualified"], r["n"]),
            "url": _link("sources", p.month, channel=r["channel"]),
        }
        for r in by_channel
    ]
    total = sum(r["n"] for r in by_channel)
    qualified = sum(r["qualified"] for r in by_channel)
    figures = [
        Figure(
            "inquiries_month",
            _("Inquiries this month"),
            total,
            Kind.INT,
            _link("sources", p.month),
        ),
        Figure(
            "qualified_share",
            _("Qualified share this month"),
            ratio(qualified, total),
            Kind.RATIO,
            _link("sources", p.month),
            detail=_(
                "Qualified ÷ inquiries received this month (same cohort; inquiries "
                "still open count as not qualified): %(q)s of %(n)s."
            )
            % {"q": qualified, "n": total},
        ),
    ]
    return Dashboard(
        kind="marketing",
        title=_("Inquiries at a glance"),
        figures=figures,
        rows=rows,
        rows_title=_("Inquiries this month by channel"),
    )


BUILDERS = {
    Role.SALES_DIRECTOR: _team_dashboard,
    Role.ADMIN: _team_dashboard,
    Role.SALES: _sales_dashboard,
    Role.INSIDE_SALES: _inside_dashboard,
    Role.MARKETING: _marketing_dashboard,
}


def dashboard_for(user: User, *, now: datetime | None = None) -> Dashboard | None:
    """The user's dashboard, or None when their role sees no analyses (colleagues)."""
    if not can_view_analytics(user):
        return None
    builder = BUILDERS.get(user.effective_role)
    if builder is None:
        return None
    tz = current_calendar().tz
    now = now or timezone.now()
    p = Periods(now=now, today=timezone.localtime(now, tz).date())
    scope = Scope(user=user, filters=ReportFilters(date_from=p.today, date_to=p.today))
    return builder(scope, p)
