"""4. Pipeline counts and capacity: what is open now per stage, the load per person
against their capacity, and the inflow per week with its pattern (SPEC step 5;
DOMAIN.md §8 KPIs 12 and 17).

The pipeline and the load are a snapshot of now (the period does not apply; the other
filters do). The inflow counts events in the period: inquiries by the date received,
qualified leads by the date created.

Weeks, weekdays and hours of day: the database counts rows per UTC hour (epoch seconds
÷ 3600, native on SQLite and PostgreSQL, no per-row date function); each hour is then
placed in its local week, weekday and hour in Python. Exact for a time zone whose offset
is a whole number of hours (Europe/Brussels), and at most 8,784 groups a year. (A
``CASE`` over 50+ week buckets, as ``periods.bucket_expression`` builds, took seconds
per query at a million inquiries on SQLite.)
"""

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import User
from leadflow.analytics import periods
from leadflow.analytics.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportResult,
    Table,
    ratio,
    register,
)
from leadflow.analytics.scope import Scope
from leadflow.opportunities.models import Quote, Stage
from leadflow.opportunities.queries import weight_expression
from leadflow.opportunities.states import OpportunityStatus, QuoteStatus

MONEY = DecimalField(max_digits=20, decimal_places=2)
OPEN_QUOTE = (QuoteStatus.DRAFT, QuoteStatus.SENT)
SECONDS_PER_HOUR = 3600
CENT = Decimal("0.01")


class EpochHour(Func):
    """Whole hours since 1970-01-01 00:00 UTC of a datetime column, in native SQL."""

    output_field = BigIntegerField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        # Django stores UTC text; strftime('%s') is SQLite's own C function.
        return (
            f"(CAST(strftime(%s, {sql}) AS INTEGER) / {SECONDS_PER_HOUR})",
            ["%s", *params],
        )

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CAST(FLOOR(EXTRACT(EPOCH FROM {sql}) / {SECONDS_PER_HOUR}) AS BIGINT)",
            params,
        )


def hourly_counts(qs, field: str) -> dict[int, int]:
    """Rows per UTC hour number (see :class:`EpochHour`)."""
    return dict(
        qs.annotate(_h=EpochHour(field))
        .values("_h")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("_h", "n")
    )


def local_pattern(
    counts: dict[int, int], tz, weeks: list[periods.Bucket]
) -> tuple[list[int], list[int], list[int]]:
    """Totals per week of ``weeks``, per local weekday (Monday first) and per local
    hour of day, from the counts per UTC hour. A week starts at a local midnight,
    a whole UTC hour in a whole-hour time zone, so the week totals are exact."""
    per_week, weekdays, hours = [0] * len(weeks), [0] * 7, [0] * 24
    starts = [b.first_day for b in weeks]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for hour, n in counts.items():
        local = (epoch + timedelta(hours=hour)).astimezone(tz)
        weekdays[local.weekday()] += n
        hours[local.hour] += n
        index = bisect_right(starts, local.date()) - 1
        if index >= 0 and local.date() <= weeks[index].last_day:
            per_week[index] += n
    return per_week, weekdays, hours


def weekday_days(scope: Scope) -> list[int]:
    """How many Mondays, Tuesdays... the period holds."""
    days = [0] * 7
    first, last = scope.filters.date_from, scope.filters.date_to
    full, rest = divmod((last - first).days + 1, 7)
    for i in range(7):
        days[i] = full
    for i in range(rest):
        days[(first.weekday() + i) % 7] += 1
    return days


def _avg(total: int, days: int) -> float | None:
    return total / days if days else None


@register
class PipelineReport(Report):
    name = "pipeline"
    number = 4
    title = gettext_lazy("Pipeline counts and capacity")
    summary = gettext_lazy(
        "Open qualified leads and quotes per stage, each person's workload against "
        "their capacity, and the inflow of inquiries and qualified leads per week, "
        "weekday and hour."
    )
    definitions = (
        gettext_lazy(
            "Pipeline and workload are a snapshot of now: every qualified lead that is "
            "open today, whatever the period; the other filters apply."
        ),
        gettext_lazy(
            "Unweighted value = Σ expected value. Weighted value = Σ expected value × "
            "weight, the weight being P win × P go when both are filled in, else the "
            "stage's weight (the same rule as the forecast). Leads without a value "
            "count as 0."
        ),
        gettext_lazy(
            "Open quotes: draft or sent quotes of open qualified leads, by the lead's "
            "stage."
        ),
        gettext_lazy(
            "Workload = open qualified leads owned + their open quotes. Load = "
            "workload ÷ capacity (set per user in the admin; — when not set); over "
            "100 % is flagged."
        ),
        gettext_lazy(
            "Inflow: inquiries by the date received and qualified leads by the date "
            "created, per ISO week (Monday–Sunday) in the company's time zone; the "
            "first and last week may be partial."
        ),
        gettext_lazy(
            "Pattern: average per weekday = count on that weekday ÷ number of such "
            "days in the period; average per hour = count in that hour ÷ days in the "
            "period. Local time of the company's time zone."
        ),
        gettext_lazy(
            "Pipeline coverage (pipeline due ÷ target) is not shown: Leadflow has no "
            "sales targets to divide by."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        open_leads = scope.opportunities(None).filter(status=OpportunityStatus.OPEN)
        open_quotes = scope.quotes(None).filter(
            status__in=OPEN_QUOTE, opportunity__status=OpportunityStatus.OPEN
        )
        # One pass over the open quotes, summed per stage and per owner below.
        quote_groups = list(
            open_quotes.values("opportunity__stage", "opportunity__owner", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        stages_table, stage_chart = self._stages(open_leads, quote_groups)
        people = self._people(scope, open_leads, quote_groups)
        weeks = scope.weeks()
        inquiries = scope.inquiries("received_at")
        created = scope.opportunities("created_at")
        weekly_in, inq_day, inq_hour = local_pattern(
            hourly_counts(inquiries, "received_at"), scope.tz, weeks
        )
        weekly_leads, lead_day, lead_hour = local_pattern(
            hourly_counts(created, "created_at"), scope.tz, weeks
        )
        week_rows = [
            {
                "week": b.label,
                "first_day": b.first_day,
                "inquiries": weekly_in[b.index],
                "qualified": weekly_leads[b.index],
            }
            for b in weeks
        ]
        days = weekday_days(scope)
        period_days = scope.filters.days
        day_names = [
            _("Monday"),
            _("Tuesday"),
            _("Wednesday"),
            _("Thursday"),
            _("Friday"),
            _("Saturday"),
            _("Sunday"),
        ]
        weekday_rows = [
            {
                "weekday": day_names[i],
                "days": days[i],
                "inquiries": inq_day[i],
                "inquiries_avg": _avg(inq_day[i], days[i]),
                "qualified": lead_day[i],
                "qualified_avg": _avg(lead_day[i], days[i]),
            }
            for i in range(7)
        ]
        hour_rows = [
            {
                "hour": f"{h:02d}:00–{h:02d}:59",
                "inquiries": inq_hour[h],
                "inquiries_avg": _avg(inq_hour[h], period_days),
                "qualified": lead_hour[h],
                "qualified_avg": _avg(lead_hour[h], period_days),
            }
            for h in range(24)
        ]
        total_in, total_leads = sum(weekly_in), sum(weekly_leads)
        over = [r for r in people.rows if r["over"]]
        totals = stages_table.totals or {}
        notes = []
        if over:
            notes.append(
                _("%(n)s of %(total)s people are over their capacity.")
                % {"n": len(over), "total": len(people.rows)}
            )
        pattern_columns = [
            Column("inquiries", _("Inquiries"), Kind.INT),
            Column("inquiries_avg", _("Inquiries per day (average)"), Kind.NUMBER),
            Column("qualified", _("Qualified leads created"), Kind.INT),
            Column(
                "qualified_avg",
                _("Qualified leads per day (average)"),
                Kind.NUMBER,
            ),
        ]
        return ReportResult(
            figures=[
                (_("Open qualified leads"), totals.get("leads", 0), Kind.INT),
                (_("Unweighted pipeline"), totals.get("unweighted", 0), Kind.MONEY),
                (_("Weighted pipeline"), totals.get("weighted", 0), Kind.MONEY),
                (
                    _("Open quotes"),
                    (totals.get("draft") or 0) + (totals.get("sent") or 0),
                    Kind.INT,
                ),
                (
                    _("Inquiries per week (average)"),
                    _avg(total_in * 7, period_days),
                    Kind.NUMBER,
                ),
                (
                    _("Qualified leads per week (average)"),
                    _avg(total_leads * 7, period_days),
                    Kind.NUMBER,
                ),
            ],
            notes=notes,
            charts=[
                stage_chart,
                Chart(
                    key="inflow-per-week",
                    title=_("Inflow per week"),
                    type="line",
                    labels=[b.label for b in weeks],
                    datasets=[
                        Dataset(_("Inquiries received"), weekly_in),
                        Dataset(_("Qualified leads created"), weekly_leads),
                    ],
                ),
                Chart(
                    key="inflow-per-weekday",
                    title=_("Average inflow per weekday"),
                    type="bar",
                    labels=day_names,
                    datasets=[
                        Dataset(
                            _("Inquiries"),
                            [r["inquiries_avg"] for r in weekday_rows],
                            Kind.NUMBER,
                        ),
                        Dataset(
                            _("Qualified leads"),
                            [r["qualified_avg"] for r in weekday_rows],
                            Kind.NUMBER,
                        ),
                    ],
                ),
                Chart(
                    key="inflow-per-hour",
                    title=_("Average inflow per hour of day"),
                    type="bar",
                    labels=[f"{h:02d}" for h in range(24)],
                    datasets=[
                        Dataset(
                            _("Inquiries"),
                            [r["inquiries_avg"] for r in hour_rows],
                            Kind.NUMBER,
                        ),
                        Dataset(
                            _("Qualified leads"),
                            [r["qualified_avg"] for r in hour_rows],
                            Kind.NUMBER,
                        ),
                    ],
                ),
            ],
            tables=[
                stages_table,
                people,
                Table(
                    "weeks",
                    _("Inflow per week"),
                    [
                        Column("week", _("Week")),
                        Column("first_day", _("From"), Kind.DATE),
                        Column("inquiries", _("Inquiries received"), Kind.INT),
                        Column("qualified", _("Qualified leads created"), Kind.INT),
                    ],
                    week_rows,
                    {"inquiries": total_in, "qualified": total_leads},
                ),
                Table(
                    "weekdays",
                    _("Inflow per weekday"),
                    [
                        Column("weekday", _("Weekday")),
                        Column("days", _("Days in the period"), Kind.INT),
                        *pattern_columns,
                    ],
                    weekday_rows,
                ),
                Table(
                    "hours",
                    _("Inflow per hour of day"),
                    [Column("hour", _("Hour (local time)")), *pattern_columns],
                    hour_rows,
                ),
            ],
        )

    def _stages(self, open_leads, quote_groups) -> tuple[Table, Chart]:
        """Per stage: open leads (with a sent quote, a draft only, none), unweighted
        and weighted value, and the open quotes by status."""
        quotes_of = Quote.objects.filter(opportunity=OuterRef("pk"))
        leads = {
            r["stage"]: r
            for r in open_leads.annotate(
                _sent=Exists(quotes_of.filter(status=QuoteStatus.SENT)),
                _draft=Exists(quotes_of.filter(status=QuoteStatus.DRAFT)),
            )
            .values("stage")
            .annotate(
                leads=Count("pk"),
                with_value=Count("expected_value"),
                unweighted=Coalesce(Sum("expected_value"), 0, output_field=MONEY),
                weighted=Coalesce(
                    Sum(F("expected_value") * weight_expression()),
                    0,
                    output_field=MONEY,
                ),
                sent_quote=Count("pk", filter=Q(_sent=True)),
                draft_only=Count("pk", filter=Q(_sent=False, _draft=True)),
            )
            .order_by()
        }
        quotes: dict[int, dict[str, int]] = {}
        for r in quote_groups:
            per_status = quotes.setdefault(r["opportunity__stage"], {})
            per_status[r["status"]] = per_status.get(r["status"], 0) + r["n"]
        stages = [
            s
            for s in Stage.objects.order_by("order", "pk")
            if s.is_active or s.pk in leads or s.pk in quotes
        ]
        rows = []
        for s in stages:
            lead = leads.get(s.pk, {})
            quote = quotes.get(s.pk, {})
            unweighted = Decimal(lead.get("unweighted") or 0).quantize(CENT)
            weighted = Decimal(lead.get("weighted") or 0).quantize(CENT)
            rows.append(
                {
                    "stage": str(s),
                    "leads": lead.get("leads", 0),
                    "with_value": lead.get("with_value", 0),
                    "unweighted": unweighted,
                    "weighted": weighted,
                    "weight": ratio(weighted, unweighted),
                    "draft": quote.get(QuoteStatus.DRAFT, 0),
                    "sent": quote.get(QuoteStatus.SENT, 0),
                    "_sent_quote": lead.get("sent_quote", 0),
                    "_draft_only": lead.get("draft_only", 0),
                }
            )
        unweighted = sum(r["unweighted"] for r in rows)
        weighted = sum(r["weighted"] for r in rows)
        table = Table(
            "stages",
            _("Open pipeline per stage"),
            [
                Column("stage", _("Stage")),
                Column("leads", _("Open qualified leads"), Kind.INT),
                Column("with_value", _("With an expected value"), Kind.INT),
                Column("unweighted", _("Unweighted value"), Kind.MONEY),
                Column("weighted", _("Weighted value"), Kind.MONEY),
                Column("weight", _("Weighted ÷ unweighted"), Kind.RATIO),
                Column("draft", _("Draft quotes"), Kind.INT),
                Column("sent", _("Sent quotes"), Kind.INT),
            ],
            rows,
            {
                "leads": sum(r["leads"] for r in rows),
                "with_value": sum(r["with_value"] for r in rows),
                "unweighted": unweighted,
                "weighted": weighted,
                "weight": ratio(weighted, unweighted),
                "draft": sum(r["draft"] for r in rows),
                "sent": sum(r["sent"] for r in rows),
            },
            note=_("Open today; the period does not apply."),
        )
        chart = Chart(
            key="leads-per-stage",
            title=_("Open qualified leads per stage"),
            type="bar",
            stacked=True,
            labels=[r["stage"] for r in rows],
            datasets=[
                Dataset(_("With a sent quote"), [r["_sent_quote"] for r in rows]),
                Dataset(_("With a draft quote only"), [r["_draft_only"] for r in rows]),
                Dataset(
                    _("Without an open quote"),
                    [r["leads"] - r["_sent_quote"] - r["_draft_only"] for r in rows],
                ),
            ],
        )
        return table, chart

    def _people(self, scope: Scope, open_leads, quote_groups) -> Table:
        """Workload per person (owner) against their configured capacity."""
        leads = dict(
            open_leads.values("owner")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("owner", "n")
        )
        quotes: dict[int, int] = {}
        for r in quote_groups:
            owner = r["opportunity__owner"]
            quotes[owner] = quotes.get(owner, 0) + r["n"]
        # People with a capacity and nothing open yet belong in the list too.
        idle = User.objects.filter(is_active=True, capacity__isnull=False)
        f = scope.filters
        if f.team:
            idle = idle.filter(team_id=f.team)
        if f.person:
            idle = idle.filter(pk=f.person)
        if not scope.everything:
            reach = Q(pk=scope.user.pk)
            if scope.user.team_id:
                reach |= Q(team_id=scope.user.team_id)
            idle = idle.filter(reach)
        ids = set(leads) | set(quotes) | set(idle.values_list("pk", flat=True))
        users = User.objects.select_related("team").filter(pk__in=ids)
        rows = []
        for user in users:
            workload = leads.get(user.pk, 0) + quotes.get(user.pk, 0)
            load = ratio(workload, user.capacity) if user.capacity else None
            over = load is not None and load > 1
            rows.append(
                {
                    "person": str(user),
                    "team": str(user.team) if user.team else "",
                    "leads": leads.get(user.pk, 0),
                    "quotes": quotes.get(user.pk, 0),
                    "workload": workload,
                    "capacity": user.capacity,
                    "load": load,
                    "flag": _("Over capacity") if over else "",
                    "over": over,
                }
            )
        rows.sort(
            key=lambda r: (
                r["load"] is None,
                -(r["load"] or 0),
                -r["workload"],
                r["person"],
            )
        )
        return Table(
            "capacity",
            _("Workload and capacity per person"),
            [
                Column("person", _("Person")),
                Column("team", _("Team")),
                Column("leads", _("Open qualified leads"), Kind.INT),
                Column("quotes", _("Open quotes"), Kind.INT),
                Column("workload", _("Workload"), Kind.INT),
                Column("capacity", _("Capacity"), Kind.INT),
                Column("load", _("Load"), Kind.RATIO),
                Column("flag", _("Flag")),
            ],
            rows,
            {
                "leads": sum(r["leads"] for r in rows),
                "quotes": sum(r["quotes"] for r in rows),
                "workload": sum(r["workload"] for r in rows),
            },
            note=_("Open today; the period does not apply. Capacity: — when not set."),
        )
