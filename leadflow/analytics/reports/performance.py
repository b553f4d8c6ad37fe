"""7. Performance: which salespeople and teams are more successful (SPEC step 5;
DOMAIN.md §8 KPIs 5–7, 11 and 14 per salesperson and team).

Per owner of qualified leads, and per team (the owner's team): open leads now, the
leads closed in the period (event counting, by close date) with their win rates and
hit rate (the same definitions as the win-rates report), deal size, cycle length of
the won leads (median next to mean) and sales velocity; quotes sent in the period.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, FloatField, Func
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import Team, User
from leadflow.analytics.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportResult,
    Table,
    mean,
    median,
    register,
)
from leadflow.analytics.reports.win_rates import (
    COUNT_KEYS,
    add_up,
    closed_counts,
    rates,
)
from leadflow.analytics.scope import Scope
from leadflow.opportunities.states import CLOSED_RESULTS, OpportunityStatus

ZERO = {key: 0 for key in COUNT_KEYS}


def velocity(open_leads: int, win_rate, average_deal, cycle_days) -> float | None:
    """KPI 14: (# open × win rate × average deal size) ÷ average cycle length in
    days, the revenue per day the open pipeline is expected to bring in."""
    if win_rate is None or average_deal is None or not cycle_days:
        return None
    return open_leads * win_rate * float(average_deal) / cycle_days


def _row(name: str, open_leads: int, counts: dict, quotes_sent: int, cycles) -> dict:
    row = rates(counts)
    won = row["won"]
    average_deal = (row["won_value"] / won) if won else None
    cycle_mean = mean(cycles)
    row.update(
        name=name,
        open=open_leads,
        average_deal=average_deal,
        cycle_median=median(cycles),
        cycle_mean=cycle_mean,
        velocity=velocity(open_leads, row["win_rate"], average_deal, cycle_mean),
        quotes_sent=quotes_sent,
    )
    return row


def _columns(first: str, *, team: bool) -> list[Column]:
    columns = [Column("name", first)]
    if team:
        columns.append(Column("team", _("Team")))
    return columns + [
        Column("open", _("Open leads"), Kind.INT),
        Column("won", _("Won"), Kind.INT),
        Column("lost", _("Lost"), Kind.INT),
        Column("not_going_ahead", _("Not going ahead"), Kind.INT),
        Column("win_rate", _("Win rate"), Kind.RATIO),
        Column("win_rate_value", _("Win rate by value"), Kind.RATIO),
        Column("won_value", _("Won value"), Kind.MONEY),
        Column("average_deal", _("Average deal size"), Kind.MONEY),
        Column("cycle_median", _("Cycle, median (days)"), Kind.DAYS),
        Column("cycle_mean", _("Cycle, mean (days)"), Kind.DAYS),
        Column("velocity", _("Sales velocity (per day)"), Kind.MONEY),
        Column("quotes_sent", _("Quotes sent"), Kind.INT),
        Column("hit_rate", _("Hit rate"), Kind.RATIO),
    ]


class DaysBetween(Func):
    """Elapsed days from the second datetime to the first, computed by the database
    (parsing two datetimes per row in Python costs seconds at 100,000 won leads)."""

    arity = 2
    output_field = FloatField()
    template = (
        "(CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 86400.0)"
    )
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )


def _cycles(scope: Scope) -> dict[int, list[float]]:
    """Days from the inquiry (or, without one, the lead's creation) to the win, per
    owner, for the leads won in the period: one number per won lead (for the
    median; there is no portable SQL median)."""
    per_owner: dict[int, list[float]] = defaultdict(list)
    won = scope.opportunities("closed_at").filter(status=OpportunityStatus.WON)
    days = DaysBetween("closed_at", Coalesce("inquiry__received_at", "created_at"))
    for owner, value in (
        won.annotate(_days=days).values_list("owner", "_days").iterator(chunk_size=5000)
    ):
        per_owner[owner].append(value)
    return per_owner


@register
class PerformanceReport(Report):
    name = "performance"
    number = 7
    title = gettext_lazy("Performance")
    summary = gettext_lazy(
        "Which salespeople and teams are more successful: win rates, won value, deal "
        "size, cycle length, sales velocity and hit rate per owner and per team."
    )
    definitions = (
        gettext_lazy(
            "Per owner of the qualified lead; a team is the owner's team. Open leads: "
            "open now, whatever the period. Won, lost, not going ahead and the rates: "
            "the leads closed in the period (by close date)."
        ),
        gettext_lazy(
            "Win rate = won ÷ (won + lost + not going ahead); win rate by value = Σ "
            "expected value won ÷ Σ expected value of those closed leads; hit rate = "
            "won leads with a sent quote ÷ leads closed with a sent quote (as in "
            "report 2)."
        ),
        gettext_lazy("Average deal size = won value ÷ number won."),
        gettext_lazy(
            "Cycle: days from the inquiry's arrival (or, without an inquiry, the "
            "lead's creation) to the win, for the leads won in the period; median "
            "next to mean."
        ),
        gettext_lazy(
            "Sales velocity = (open leads × win rate × average deal size) ÷ mean "
            "cycle in days: the value per day the open leads may bring in at the "
            "current rates."
        ),
        gettext_lazy(
            "Quotes sent: quotes (each revision) sent in the period on the owner's "
            "leads."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        open_per_owner = dict(
            scope.opportunities(None)
            .filter(status=OpportunityStatus.OPEN)
            .values("owner")
            .annotate(n=Count("pk"))
            .values_list("owner", "n")
        )
        closed_per_owner = {
            r["owner"]: r
            for r in scope.opportunities("closed_at")
            .filter(status__in=CLOSED_RESULTS)
            .values("owner")
            .annotate(**closed_counts())
            .order_by()
        }
        quotes_per_owner = dict(
            scope.quotes("sent_at")
            .values("opportunity__owner")
            .annotate(n=Count("pk"))
            .values_list("opportunity__owner", "n")
        )
        cycles = _cycles(scope)
        owner_ids = set(open_per_owner) | set(closed_per_owner) | set(quotes_per_owner)
        owners = {
            u.pk: u
            for u in User.objects.filter(pk__in=owner_ids).only(
                "pk", "username", "first_name", "last_name", "team"
            )
        }
        team_names = dict(Team.objects.values_list("pk", "name"))

        people = []
        for pk in owner_ids:
            user = owners.get(pk)
            row = _row(
                str(user) if user else "?",
                open_per_owner.get(pk, 0),
                closed_per_owner.get(pk, ZERO),
                quotes_per_owner.get(pk, 0),
                cycles.get(pk, []),
            )
            row["team_id"] = user.team_id if user else None
            row["team"] = team_names.get(row["team_id"]) or _("No team")
            people.append(row)
        people.sort(key=lambda r: (-r["won_value"], r["name"]))

        grouped: dict = defaultdict(list)
        for row in people:
            grouped[row["team_id"]].append(row)
        team_cycles: dict = defaultdict(list)
        for pk, values in cycles.items():
            user = owners.get(pk)
            team_cycles[user.team_id if user else None].extend(values)
        teams = []
        for team_id, members in grouped.items():
            counts = {key: sum(m[key] for m in members) for key in COUNT_KEYS}
            teams.append(
                _row(
                    team_names.get(team_id) or _("No team"),
                    sum(m["open"] for m in members),
                    counts,
                    sum(m["quotes_sent"] for m in members),
                    team_cycles.get(team_id, []),
                )
            )
        teams.sort(key=lambda r: (-r["won_value"], r["name"]))

        totals = None
        if people:
            all_cycles = [d for values in cycles.values() for d in values]
            totals = _row(
                _("Total"),
                sum(r["open"] for r in people),
                {key: sum(r[key] for r in people) for key in COUNT_KEYS},
                sum(r["quotes_sent"] for r in people),
                all_cycles,
            )
            totals["team"] = ""
        overall = totals or add_up([])

        return ReportResult(
            figures=[
                (_("Won value"), overall.get("won_value", Decimal(0)), Kind.MONEY),
                (_("Win rate"), overall["win_rate"], Kind.RATIO),
                (_("Average deal size"), overall.get("average_deal"), Kind.MONEY),
                (_("Cycle, median (days)"), overall.get("cycle_median"), Kind.DAYS),
                (_("Sales velocity (per day)"), overall.get("velocity"), Kind.MONEY),
            ],
            charts=[
                Chart(
                    key="won-value-per-person",
                    title=_("Won value and win rate per owner"),
                    type="bar",
                    labels=[r["name"] for r in people],
                    datasets=[
                        Dataset(
                            _("Won value"),
                            [r["won_value"] for r in people],
                            Kind.MONEY,
                        ),
                        Dataset(
                            _("Win rate"),
                            [r["win_rate"] for r in people],
                            Kind.RATIO,
                            type="line",
                            axis="y2",
                        ),
                    ],
                )
            ],
            tables=[
                Table(
                    "person",
                    _("Per owner"),
                    _columns(_("Owner"), team=True),
                    people,
                    totals,
                ),
                Table(
                    "team",
                    _("Per team"),
                    _columns(_("Team"), team=False),
                    teams,
                    totals,
                ),
            ],
        )
