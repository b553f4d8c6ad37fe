"""8. Then and now (SPEC step 5; DOMAIN.md §6.5, KPI 16): the forecast as frozen at
the start of each month against what was won; today's forecast against a month and a
year ago; what became of the leads open at the period's start; efficiency and inquiry
types against the same period a year earlier.

Snapshots are what make this possible: a lead's probability, value and decision date
are overwritten as it moves, so "then" is read from ``ForecastSnapshotLine`` rows
(owner, team and service type as they were then).
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import Department, Team, User
from leadflow.analytics import accuracy, periods
from leadflow.analytics.forecast import CENT, FORECAST_CATEGORIES
from leadflow.analytics.models import ForecastSnapshot
from leadflow.analytics.queries import (
    ForecastFilters,
    forecast_for,
    scoped_snapshot_lines,
)
from leadflow.analytics.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportResult,
    Table,
    days_between,
    mean,
    median,
    ratio,
    register,
)
from leadflow.analytics.scope import Scope
from leadflow.intake.models import Channel
from leadflow.opportunities.models import ForecastCategory
from leadflow.opportunities.states import OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=6)
ZERO = Decimal("0")
S = OpportunityStatus


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


# --- snapshots -----------------------------------------------------------------------


@dataclass(frozen=True)
class Snap:
    pk: int
    taken_on: date


def _all_snapshots() -> list[Snap]:
    """Every snapshot's id and date (a few a week: a small list, read once)."""
    return [
        Snap(pk, taken_on)
        for pk, taken_on in ForecastSnapshot.objects.order_by(
            "taken_at", "id"
        ).values_list("pk", "taken_on")
    ]


def nearest_on_or_before(snaps: list[Snap], day: date) -> Snap | None:
    """The latest snapshot taken on ``day`` or before (snaps in time order)."""
    found = None
    for snap in snaps:
        if snap.taken_on <= day:
            found = snap
        else:
            break
    return found


def months_back(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's end)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _short(day: date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else ""


# --- (a) forecast at the start of each month against the actual ----------------------


def _user_names(ids) -> dict:
    names = {}
    for pk, username, first, last in User.objects.filter(pk__in=ids).values_list(
        "pk", "username", "first_name", "last_name"
    ):
        names[pk] = f"{first} {last}".strip() or username
    return names


def _accuracy_row(name: str, forecast: dict, actual: Decimal) -> dict:
    pair = [(actual, forecast["weighted"])]
    return {
        "name": name,
        "weighted": _money(forecast["weighted"]),
        "commit": _money(forecast["commit"]),
        "best_case": _money(forecast["best_case"]),
        "actual": _money(actual),
        "error": _money(accuracy.error(actual, forecast["weighted"])),
        "wape": accuracy.wape(pair),
        "bias": accuracy.bias(pair),
        "accuracy": accuracy.accuracy(pair),
    }


def _accuracy_totals(rows: list[dict]) -> dict:
    pairs = [(r["actual"], r["weighted"]) for r in rows]
    weighted = sum((r["weighted"] for r in rows), ZERO)
    actual = sum((r["actual"] for r in rows), ZERO)
    return {
        "name": _("Total"),
        "weighted": weighted,
        "commit": sum((r["commit"] for r in rows), ZERO),
        "best_case": sum((r["best_case"] for r in rows), ZERO),
        "actual": actual,
        "error": actual - weighted,
        "wape": accuracy.wape(pairs),
        "bias": accuracy.bias(pairs),
        "accuracy": accuracy.accuracy(pairs),
    }


def _accuracy_columns(first: str, *, with_snapshot: bool = False) -> list[Column]:
    columns = [Column("name", first)]
    if with_snapshot:
        columns.append(Column("snapshot", _("Snapshot of"), Kind.DATE))
    return columns + [
        Column("weighted", _("Weighted forecast then"), Kind.MONEY),
        Column("commit", _("Commit then (unweighted)"), Kind.MONEY),
        Column("best_case", _("Best case then (unweighted)"), Kind.MONEY),
        Column("actual", _("Actual (won)"), Kind.MONEY),
        Column("error", _("Error (actual − forecast)"), Kind.MONEY),
        Column("wape", _("WAPE"), Kind.RATIO),
        Column("bias", _("Bias (> 0 = over-forecast)"), Kind.RATIO),
        Column("accuracy", _("Accuracy (1 − WAPE)"), Kind.RATIO),
    ]


def _empty() -> dict:
    return {"weighted": ZERO, "commit": ZERO, "best_case": ZERO}


def forecast_vs_actual(scope: Scope, snaps: list[Snap]):
    """Per month of the period: the snapshot nearest on/before the month's first day,
    its lines with a decision date in that month, and the leads won in that month.
    Two grouped queries (lines, won leads), folded here into four tables."""
    months = scope.months()
    chosen = {b.index: nearest_on_or_before(snaps, b.first_day) for b in months}
    compared = [b for b in months if chosen[b.index] is not None]

    forecast_cells: dict[tuple, dict] = {}
    if compared:
        month_of_line = Case(
            *(
                When(
                    snapshot_id=chosen[b.index].pk,
                    decision_date__gte=b.first_day,
                    decision_date__lte=b.last_day,
                    then=Value(b.index),
                )
                for b in compared
            ),
            default=None,
            output_field=IntegerField(),
        )
        lines = (
            scoped_snapshot_lines(scope)
            .filter(
                snapshot_id__in={chosen[b.index].pk for b in compared},
                # A cheap bound first: the CASE below is then worked out only for
                # lines with a decision date in the period.
                decision_date__gte=compared[0].first_day,
                decision_date__lte=compared[-1].last_day,
            )
            .annotate(_m=month_of_line)
            .filter(_m__isnull=False)
            .values("_m", "owner_id", "team_id", "service_type")
            .annotate(
                weighted=Coalesce(
                    Sum(
                        F("value") * F("weight"),
                        filter=Q(category__in=FORECAST_CATEGORIES),
                    ),
                    ZERO,
                    output_field=MONEY,
                ),
                commit=Coalesce(
                    Sum("value", filter=Q(category=ForecastCategory.COMMIT)),
                    ZERO,
                    output_field=MONEY,
                ),
                best_case=Coalesce(
                    Sum(
                        "value",
                        filter=Q(
                            category__in=(
                                ForecastCategory.COMMIT,
                                ForecastCategory.BEST_CASE,
                            )
                        ),
                    ),
                    ZERO,
                    output_field=MONEY,
                ),
            )
            .order_by()
        )
        for row in lines:
            key = (row["_m"], row["owner_id"], row["team_id"], row["service_type"])
            forecast_cells[key] = {
                k: Decimal(row[k]) for k in ("weighted", "commit", "best_case")
            }

    actual_cells: dict[tuple, Decimal] = {}
    won = (
        scope.opportunities("closed_at")
        .filter(status=S.WON)
        .annotate(_m=periods.bucket_expression("closed_at", months))
        .values("_m", "owner_id", "owner__team_id", "service_type")
        .annotate(value=Coalesce(Sum("expected_value"), ZERO, output_field=MONEY))
        .order_by()
    )
    for row in won:
        if row["_m"] is None:
            continue
        key = (row["_m"], row["owner_id"], row["owner__team_id"], row["service_type"])
        actual_cells[key] = Decimal(row["value"])

    compared_ix = {b.index for b in compared}

    def fold(position: int):
        forecasts: dict = {}
        actuals: dict = {}
        for key, cell in forecast_cells.items():
            total = forecasts.setdefault(key[position], _empty())
            for k in total:
                total[k] += cell[k]
        for key, value in actual_cells.items():
            # A month without a snapshot has no forecast to compare with.
            if position != 0 and key[0] not in compared_ix:
                continue
            actuals[key[position]] = actuals.get(key[position], ZERO) + value
        return forecasts, actuals

    month_rows = []
    forecasts, actuals = fold(0)
    for b in months:
        snap = chosen[b.index]
        if snap is None:
            month_rows.append(
                {
                    "name": b.label,
                    "snapshot": None,
                    "weighted": None,
                    "commit": None,
                    "best_case": None,
                    "actual": _money(actuals.get(b.index)),
                    "error": None,
                    "wape": None,
                    "bias": None,
                    "accuracy": None,
                }
            )
            continue
        row = _accuracy_row(
            b.label, forecasts.get(b.index, _empty()), actuals.get(b.index, ZERO)
        )
        row["snapshot"] = snap.taken_on
        month_rows.append(row)
    month_totals = _accuracy_totals(
        [r for r, b in zip(month_rows, months, strict=True) if b.index in compared_ix]
    )

    def grouped(position: int, names: dict, none_label: str) -> list[dict]:
        forecasts, actuals = fold(position)
        keys = set(forecasts) | set(actuals)
        rows = [
            _accuracy_row(
                names.get(k, k) if k not in (None, "") else none_label,
                forecasts.get(k, _empty()),
                actuals.get(k, ZERO),
            )
            for k in keys
            # Only omitted leads and nothing won: nothing to compare.
            if any(forecasts.get(k, _empty()).values()) or actuals.get(k)
        ]
        return sorted(rows, key=lambda r: str(r["name"]).casefold())

    owner_ids = {k[1] for k in forecast_cells} | {k[1] for k in actual_cells}
    team_ids = {k[2] for k in forecast_cells} | {k[2] for k in actual_cells}
    teams = dict(
        Team.objects.filter(pk__in=[t for t in team_ids if t]).values_list("pk", "name")
    )
    by_owner = grouped(1, _user_names(owner_ids), _("No owner"))
    by_team = grouped(2, teams, _("No team"))
    by_service = grouped(3, {}, _("No service type"))
    return months, chosen, month_rows, month_totals, by_owner, by_team, by_service


# --- (b) today's forecast against a month and a year ago -----------------------------


def forecast_then_and_now(scope: Scope, snaps: list[Snap]):
    today = timezone.localdate(timezone.now(), scope.tz)
    filters = ForecastFilters()
    user = scope.user
    now = forecast_for(user, by="category", filters=filters, scope=scope)
    moments = []
    notes = []
    for label, day in (
        (_("a month ago"), months_back(today, 1)),
        (_("a year ago"), months_back(today, 12)),
    ):
        snap = nearest_on_or_before(snaps, day)
        if snap is None:
            notes.append(
                _("No snapshot that old: none taken on or before %(day)s (%(when)s).")
                % {"day": _short(day), "when": label}
            )
            moments.append((snap, None))
            continue
        snapshot = ForecastSnapshot.objects.get(pk=snap.pk)
        moments.append(
            (
                snap,
                forecast_for(
                    user, by="category", filters=filters, snapshot=snapshot, scope=scope
                ),
            )
        )

    def cells(forecast, key):
        if forecast is None:
            return None, None, None
        if key == "total":
            return forecast.count, forecast.unweighted, forecast.weighted
        row = next((r for r in forecast.rows if r.key == key), None)
        if row is None:
            return 0, ZERO, ZERO
        return row.count, row.unweighted, row.weighted

    rows = []
    for key, name in [
        (ForecastCategory.PIPELINE, ForecastCategory.PIPELINE.label),
        (ForecastCategory.BEST_CASE, ForecastCategory.BEST_CASE.label),
        (ForecastCategory.COMMIT, ForecastCategory.COMMIT.label),
        ("total", _("Total")),
    ]:
        count, unweighted, weighted = cells(now, key)
        row = {
            "name": str(name),
            "count": count,
            "unweighted": unweighted,
            "weighted": weighted,
        }
        for prefix, (_snap, forecast) in zip(("month", "year"), moments, strict=True):
            then_count, then_unweighted, then_weighted = cells(forecast, key)
            row[f"{prefix}_count"] = then_count
            row[f"{prefix}_unweighted"] = then_unweighted
            row[f"{prefix}_weighted"] = then_weighted
            row[f"{prefix}_change"] = (
                None if then_weighted is None else weighted - then_weighted
            )
        rows.append(row)
    return today, moments, rows, notes


# --- (c) the waterfall of the leads open in a snapshot -------------------------------

OUTCOMES = ("won", "lost", "not_going_ahead", "slipped", "on_time")


def outcome_expression() -> Case:
    """What became of a snapshot line's lead: its result now, or, still open, whether
    its decision date moved later than (or was cleared since) the snapshot's."""
    return Case(
        When(opportunity__status=S.WON, then=Value("won")),
        When(opportunity__status=S.LOST, then=Value("lost")),
        When(
            opportunity__status__in=(S.NOT_GOING_AHEAD, S.NURTURE),
            then=Value("not_going_ahead"),
        ),
        When(
            decision_date__isnull=False,
            opportunity__decision_date__isnull=True,
            then=Value("slipped"),
        ),
        When(opportunity__decision_date__gt=F("decision_date"), then=Value("slipped")),
        default=Value("on_time"),
        output_field=CharField(),
    )


def waterfall(scope: Scope, snaps: list[Snap]):
    snap = nearest_on_or_before(snaps, scope.filters.date_from)
    labels = {
        "won": _("Won"),
        "lost": _("Lost"),
        "not_going_ahead": _("Not going ahead or nurture"),
        "slipped": _("Slipped (decision date moved later)"),
        "on_time": _("Still open, on time"),
    }
    if snap is None:
        return None, [], None
    counts = {
        row["_outcome"]: row
        for row in scoped_snapshot_lines(scope)
        .filter(snapshot_id=snap.pk)
        .annotate(_outcome=outcome_expression())
        .values("_outcome")
        .annotate(
            n=Count("pk"),
            value_then=Coalesce(Sum("value"), ZERO, output_field=MONEY),
            value_now=Coalesce(
                Sum("opportunity__expected_value"), ZERO, output_field=MONEY
            ),
        )
        .order_by()
    }
    rows = []
    for key in OUTCOMES:
        row = counts.get(key, {"n": 0, "value_then": ZERO, "value_now": ZERO})
        rows.append(
            {
                "key": key,
                "name": labels[key],
                "count": row["n"],
                "value_then": _money(row["value_then"]),
                "value_now": _money(row["value_now"]),
            }
        )
    totals = {
        "name": _("Open in the snapshot"),
        "count": sum(r["count"] for r in rows),
        "value_then": sum((r["value_then"] for r in rows), ZERO),
        "value_now": sum((r["value_now"] for r in rows), ZERO),
    }
    return snap, rows, totals


# --- (d) efficiency against a year earlier -------------------------------------------


def efficiency(scope: Scope, inquiries: int) -> dict:
    """Inquiries received (counted by ``declining``); decided leads by the date they
    closed (event counting); cycle = won date − the inquiry's receipt (or the lead's
    creation without one)."""
    closed = scope.opportunities("closed_at")
    counts = closed.aggregate(
        won=Count("pk", filter=Q(status=S.WON)),
        lost=Count("pk", filter=Q(status=S.LOST)),
        no_decision=Count("pk", filter=Q(status=S.NOT_GOING_AHEAD)),
        won_value=Coalesce(
            Sum("expected_value", filter=Q(status=S.WON)), ZERO, output_field=MONEY
        ),
    )
    cycles = [
        days_between(received or created, closed_at)
        for closed_at, received, created in closed.filter(status=S.WON).values_list(
            "closed_at", "inquiry__received_at", "created_at"
        )
    ]
    decided = counts["won"] + counts["lost"] + counts["no_decision"]
    return {
        "inquiries": inquiries,
        "won": counts["won"],
        "decided": decided,
        "win_rate": ratio(counts["won"], decided),
        "win_rate_excl": ratio(counts["won"], counts["won"] + counts["lost"]),
        "won_value": _money(counts["won_value"]),
        "median_cycle": median(cycles),
        "mean_cycle": mean(cycles),
    }


def _change(now, then):
    if now is None or then is None:
        return None
    return now - then


# --- (e) inquiry types that are declining --------------------------------------------


def declining(scope: Scope, earlier: Scope) -> tuple[list[dict], int, int]:
    """Rows largest fall first, and the inquiries received now and a year earlier."""
    now_start, now_end = scope.period_range()
    then_start, then_end = earlier.period_range()
    in_now = Q(received_at__gte=now_start, received_at__lt=now_end)
    in_then = Q(received_at__gte=then_start, received_at__lt=then_end)
    inquiries = scope.inquiries(None).filter(in_now | in_then)

    def counted(qs, fields, now_q, then_q):
        return (
            qs.values(*fields)
            .annotate(
                now=Count("pk", filter=now_q),
                then=Count("pk", filter=then_q),
            )
            .order_by()
        )

    def folded(cells, field) -> list[dict]:
        totals: dict = {}
        for cell in cells:
            total = totals.setdefault(cell[field], {"now": 0, "then": 0})
            total["now"] += cell["now"]
            total["then"] += cell["then"]
        return [{field: key, **counts} for key, counts in totals.items()]

    channels = {c.pk: str(c) for c in Channel.objects.all()}
    departments = dict(Department.objects.values_list("pk", "name"))
    # One pass over the inquiries for both channel and department.
    cells = list(counted(inquiries, ("channel", "department"), in_now, in_then))
    rows = []
    inquiries_now = inquiries_then = 0
    for row in folded(cells, "channel"):
        rows.append((_("Channel"), channels.get(row["channel"], "?"), row))
        inquiries_now += row["now"]
        inquiries_then += row["then"]
    for row in folded(cells, "department"):
        rows.append(
            (
                _("Department"),
                departments.get(row["department"]) or _("No department"),
                row,
            )
        )
    leads_now = Q(created_at__gte=now_start, created_at__lt=now_end)
    leads_then = Q(created_at__gte=then_start, created_at__lt=then_end)
    leads = scope.opportunities(None).filter(leads_now | leads_then)
    for row in counted(leads, ("service_type",), leads_now, leads_then):
        rows.append(
            (
                _("Service type (qualified leads)"),
                row["service_type"] or _("No service type"),
                row,
            )
        )
    out = [
        {
            "dimension": dimension,
            "name": name,
            "then": row["then"],
            "now": row["now"],
            "change": row["now"] - row["then"],
            "change_pct": ratio(row["now"] - row["then"], row["then"]),
        }
        for dimension, name, row in rows
    ]
    out.sort(key=lambda r: (r["change"], str(r["dimension"]), r["name"]))
    return out, inquiries_now, inquiries_then


# --- the report ----------------------------------------------------------------------


@register
class ThenAndNowReport(Report):
    name = "then-and-now"
    number = 8
    title = gettext_lazy("Then and now")
    summary = gettext_lazy(
        "Forecast against actual revenue, today's forecast against a month and a "
        "year ago, what became of the pipeline, efficiency against a year earlier "
        "and which inquiry types are disappearing."
    )
    definitions = (
        gettext_lazy(
            "Forecast then: the snapshot nearest on or before each month's first "
            "day; its open leads with a decision date in that month. Actual: the "
            "expected value of the leads won in that month (by the date won)."
        ),
        gettext_lazy(
            "Error = actual − forecast. WAPE = Σ|actual − forecast| ÷ Σ actual over "
            "the rows of the table (undefined, —, when nothing was won); accuracy = "
            "1 − WAPE."
        ),
        gettext_lazy(
            "Bias = (Σ forecast − Σ actual) ÷ Σ actual: above 0 = over-forecast "
            "(optimism), below 0 = under-forecast."
        ),
        gettext_lazy(
            "Weighted forecast = Σ value × weight of the pipeline, best-case and "
            "commit leads; commit and best case (commit + best case) are unweighted "
            "values."
        ),
        gettext_lazy(
            "Today against a month and a year ago: all open leads whatever their "
            "decision date, against the snapshot nearest on or before that day."
        ),
        gettext_lazy(
            "Waterfall: the leads open in the snapshot nearest on or before the "
            "period's first day (choose it by the period's start) and their outcome "
            "now; slipped = still open with a later (or cleared) decision date."
        ),
        gettext_lazy(
            "Efficiency: win rate = won ÷ (won + lost + not going ahead), by close "
            "date (event counting); cycle = won date − inquiry received (or the "
            "lead's creation), median and mean; same period a year earlier."
        ),
        gettext_lazy(
            "Inquiry types: inquiries received per channel and department, and "
            "qualified leads created per service type, this period against the "
            "same period a year earlier, largest fall first."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        snaps = _all_snapshots()
        notes: list[str] = []
        (
            months,
            chosen,
            month_rows,
            month_totals,
            by_owner,
            by_team,
            by_service,
        ) = forecast_vs_actual(scope, snaps)
        if not snaps:
            notes.append(_("No forecast snapshot has been taken yet."))
        elif any(chosen[b.index] is None for b in months):
            notes.append(
                _(
                    "Months before the first snapshot (%(day)s) have no forecast to "
                    "compare with."
                )
                % {"day": _short(snaps[0].taken_on)}
            )

        today, moments, now_rows, now_notes = forecast_then_and_now(scope, snaps)
        notes.extend(now_notes)

        snap, fall_rows, fall_totals = waterfall(scope, snaps)
        if snap is None:
            notes.append(
                _("No snapshot on or before %(day)s: no waterfall.")
                % {"day": _short(scope.filters.date_from)}
            )

        earlier_scope = scope.with_filters(scope.filters.year_earlier())
        declines, inquiries_now, inquiries_then = declining(scope, earlier_scope)
        eff_now = efficiency(scope, inquiries_now)
        eff_then = efficiency(earlier_scope, inquiries_then)
        eff_keys = (
            "inquiries",
            "won",
            "decided",
            "win_rate",
            "win_rate_excl",
            "won_value",
            "median_cycle",
            "mean_cycle",
        )
        f, e = scope.filters, earlier_scope.filters
        eff_rows = [
            {
                "name": _("This period (%(from)s – %(to)s)")
                % {"from": _short(f.date_from), "to": _short(f.date_to)},
                **eff_now,
            },
            {
                "name": _("A year earlier (%(from)s – %(to)s)")
                % {"from": _short(e.date_from), "to": _short(e.date_to)},
                **eff_then,
            },
            {
                "name": _("Change"),
                **{k: _change(eff_now[k], eff_then[k]) for k in eff_keys},
            },
        ]

        figures = [
            (_("Forecast accuracy (1 − WAPE)"), month_totals["accuracy"], Kind.RATIO),
            (_("WAPE"), month_totals["wape"], Kind.RATIO),
            (_("Bias (> 0 = over-forecast)"), month_totals["bias"], Kind.RATIO),
            (_("Weighted forecast then"), month_totals["weighted"], Kind.MONEY),
            (_("Actual (won)"), month_totals["actual"], Kind.MONEY),
        ]

        def then_label(prefix: str, index: int) -> str:
            snap_then = moments[index][0]
            return (
                _("%(when)s (snapshot of %(day)s), weighted")
                % {
                    "when": _("A month ago") if prefix == "month" else _("A year ago"),
                    "day": _short(snap_then.taken_on),
                }
                if snap_then
                else (_("A month ago") if prefix == "month" else _("A year ago"))
                + " "
                + _("(no snapshot)")
            )

        charts = [
            Chart(
                key="forecast-vs-actual",
                title=_("Forecast at the start of each month against the actual"),
                type="bar",
                labels=[b.label for b in months],
                datasets=[
                    Dataset(
                        _("Weighted forecast then"),
                        [r["weighted"] for r in month_rows],
                        Kind.MONEY,
                    ),
                    Dataset(
                        _("Commit then (unweighted)"),
                        [r["commit"] for r in month_rows],
                        Kind.MONEY,
                        type="line",
                    ),
                    Dataset(
                        _("Best case then (unweighted)"),
                        [r["best_case"] for r in month_rows],
                        Kind.MONEY,
                        type="line",
                    ),
                    Dataset(
                        _("Actual (won)"),
                        [r["actual"] for r in month_rows],
                        Kind.MONEY,
                    ),
                ],
            ),
            Chart(
                key="waterfall",
                title=(
                    _("What became of the leads open on %(day)s")
                    % {"day": _short(snap.taken_on)}
                    if snap
                    else _("What became of the leads open then (no snapshot)")
                ),
                type="bar",
                labels=[r["name"] for r in fall_rows],
                datasets=[
                    Dataset(
                        _("Value in the snapshot"),
                        [r["value_then"] for r in fall_rows],
                        Kind.MONEY,
                    ),
                    Dataset(
                        _("Leads"),
                        [r["count"] for r in fall_rows],
                        Kind.INT,
                        type="line",
                        axis="right",
                    ),
                ],
            ),
        ]

        tables = [
            Table(
                "month",
                _("Forecast at the start of each month against the actual"),
                _accuracy_columns(_("Month"), with_snapshot=True),
                month_rows,
                month_totals,
                note=_("Total: WAPE and bias over the months with a snapshot."),
            ),
            Table(
                "owner",
                _("Per owner"),
                _accuracy_columns(_("Owner")),
                by_owner,
                _accuracy_totals(by_owner),
                note=_(
                    "Owner as in the snapshot for the forecast, the lead's owner "
                    "for the actual; months with a snapshot only."
                ),
            ),
            Table(
                "team",
                _("Per team"),
                _accuracy_columns(_("Team")),
                by_team,
                _accuracy_totals(by_team),
            ),
            Table(
                "service",
                _("Per service type"),
                _accuracy_columns(_("Service type")),
                by_service,
                _accuracy_totals(by_service),
            ),
            Table(
                "today",
                _("Today's forecast (%(day)s) against a month and a year ago")
                % {"day": _short(today)},
                [
                    Column("name", _("Category")),
                    Column("count", _("Open leads now"), Kind.INT),
                    Column("unweighted", _("Unweighted now"), Kind.MONEY),
                    Column("weighted", _("Weighted now"), Kind.MONEY),
                    Column("month_weighted", then_label("month", 0), Kind.MONEY),
                    Column("month_change", _("Change since a month ago"), Kind.MONEY),
                    Column("year_weighted", then_label("year", 1), Kind.MONEY),
                    Column("year_change", _("Change since a year ago"), Kind.MONEY),
                ],
                now_rows,
            ),
            Table(
                "waterfall",
                (
                    _("Pipeline then, outcome now: the leads open on %(day)s")
                    % {"day": _short(snap.taken_on)}
                    if snap
                    else _("Pipeline then, outcome now (no snapshot)")
                ),
                [
                    Column("name", _("Outcome")),
                    Column("count", _("Leads"), Kind.INT),
                    Column("value_then", _("Value in the snapshot"), Kind.MONEY),
                    Column("value_now", _("Value now"), Kind.MONEY),
                ],
                fall_rows,
                fall_totals,
            ),
            Table(
                "efficiency",
                _("Efficiency against a year earlier"),
                [
                    Column("name", _("Period")),
                    Column("inquiries", _("Inquiries"), Kind.INT),
                    Column("won", _("Won"), Kind.INT),
                    Column(
                        "decided", _("Decided (won, lost, not going ahead)"), Kind.INT
                    ),
                    Column("win_rate", _("Win rate"), Kind.RATIO),
                    Column(
                        "win_rate_excl",
                        _("Win rate without not going ahead"),
                        Kind.RATIO,
                    ),
                    Column("won_value", _("Won value"), Kind.MONEY),
                    Column("median_cycle", _("Median cycle (days)"), Kind.DAYS),
                    Column("mean_cycle", _("Mean cycle (days)"), Kind.DAYS),
                ],
                eff_rows,
            ),
            Table(
                "declining",
                _("Inquiry types against a year earlier, largest fall first"),
                [
                    Column("dimension", _("By")),
                    Column("name", _("Type")),
                    Column("then", _("A year earlier"), Kind.INT),
                    Column("now", _("This period"), Kind.INT),
                    Column("change", _("Change"), Kind.INT),
                    Column("change_pct", _("Change %"), Kind.RATIO),
                ],
                declines,
            ),
        ]
        return ReportResult(tables=tables, charts=charts, notes=notes, figures=figures)
