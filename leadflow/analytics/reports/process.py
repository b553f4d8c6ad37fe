"""9. Process and ratios: what did not follow the process (DOMAIN.md §8 KPI 15), and our
ratios next to the published benchmarks (§7), plus the stage weights observed in
closed history (§6.2, see ``leadflow.analytics.calibration``).

Exceptions are counted by the date of the event that should or should not have
happened (inquiry received, quote made, stage move, lead closed); leads without a next
activity are the open leads now. Ratios are cohort counts, except the sales cycle
(won leads closed in the period: event counting, median next to the mean).
"""

from datetime import timedelta

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Trim
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.permissions import has_capability
from leadflow.analytics.calibration import (
    MIN_CLOSED_LEADS,
    calibrate_scope,
    can_view_calibration,
)
from leadflow.analytics.models import Benchmark
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
    ratio,
    register,
)
from leadflow.analytics.scope import Scope
from leadflow.core.worktime import current_calendar
from leadflow.intake.models import Channel, Inquiry
from leadflow.intake.queries import visible_inquiries
from leadflow.intake.states import Outcome
from leadflow.opportunities.models import Activity, OpportunityTransition, Stage
from leadflow.opportunities.queries import visible_opportunities
from leadflow.opportunities.states import OpportunityStatus
from leadflow.qualification.queries import gate_settings

LIST_LIMIT = 20
SPEED_TO_LEAD = timedelta(hours=1)
NO_REASON_RESULTS = (OpportunityStatus.LOST, OpportunityStatus.NOT_GOING_AHEAD)
DECIDED = (
    OpportunityStatus.WON,
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
)

# Benchmark.metric codes (seeded by migration analytics 0003_benchmarks).
SPEED = "speed_to_lead_1h"
QUALIFICATION = "qualification_rate"
WIN_RATE = "win_rate"
LEAD_TO_DEAL = "lead_to_deal"  # segment = the channel code
CYCLE = "sales_cycle_days"

BELOW, WITHIN, ABOVE = "below", "within", "above"


# --- working-day deadlines ---------------------------------------------------------------


def _working_windows(scope: Scope) -> list[tuple]:
    """[opens, closes) of every working day in the period that has ended, in order
    (UTC instants)."""
    cal = current_calendar()
    tz = cal.tz
    now = timezone.now()
    windows = []
    day = scope.filters.date_from
    while day <= scope.filters.date_to:
        if cal.is_working_day(day):
            opens, closes = cal.opens(day, tz), cal.closes(day, tz)
            if opens < closes <= now:
                windows.append((opens, closes))
        day += timedelta(days=1)
    return windows


def _late_flag(windows: list[tuple]) -> RawSQL:
    """SQL per inquiry: 1 when it was received within working hours and was still
    open at the end of that working day, 0 when closed by then, NULL when received
    outside working hours.

    A balanced tree of CASEs over the days, so each row costs about log2(days)
    comparisons instead of one per working day. Written as SQL text (plain CASE and
    comparisons, the same on SQLite and PostgreSQL): as ORM expressions a year's
    250 days took the ORM about a second to resolve and compile."""
    ops = connection.ops
    table = ops.quote_name(Inquiry._meta.db_table)
    received = f"{table}.{ops.quote_name('received_at')}"
    closed = f"{table}.{ops.quote_name('closed_at')}"
    params: list = []

    def instant(moment) -> str:
        params.append(ops.adapt_datetimefield_value(moment))
        return "%s"

    def tree(part: list[tuple]) -> str:
        if len(part) == 1:
            opens, closes = part[0]
            lo, hi = instant(opens), instant(closes)
            deadline = instant(closes)
            return (
                f"CASE WHEN {received} >= {lo} AND {received} < {hi} THEN "
                f"CASE WHEN {closed} IS NULL OR {closed} >= {deadline} THEN 1 "
                "ELSE 0 END ELSE NULL END"
            )
        mid = len(part) // 2
        boundary = instant(part[mid][0])
        left = tree(part[:mid])
        right = tree(part[mid:])
        return f"CASE WHEN {received} < {boundary} THEN {left} ELSE {right} END"

    sql = tree(windows)
    return RawSQL(sql, params, output_field=IntegerField())


# --- small helpers -----------------------------------------------------------------------


class ElapsedSeconds(Func):
    """Seconds from the second datetime to the first, computed by the database's own
    functions: Django's datetime arithmetic calls a Python function per row on SQLite
    (seconds at a million inquiries)."""

    arity = 2
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::float",
            arg_joiner=" - ",
            **extra,
        )


def _position(value: float | None, low, high) -> str | None:
    if value is None or (low is None and high is None):
        return None
    if low is not None and value < float(low):
        return BELOW
    if high is not None and value > float(high):
        return ABOVE
    return WITHIN


def _position_label(position: str | None) -> str:
    return {
        BELOW: _("below"),
        WITHIN: _("within"),
        ABOVE: _("above"),
    }.get(position or "", "")


def _lead_link(opportunity_id: int) -> str:
    return f"/opportunities/{opportunity_id}/"


def _local_date(moment):
    return timezone.localtime(moment, current_calendar().tz).date() if moment else None


def _visible_lead_ids(scope: Scope):
    """Lists link to leads: only those the user may open (marketing sees figures over
    all leads but no lead itself)."""
    if has_capability(scope.user, "opportunity.view_all"):
        return None
    return visible_opportunities(scope.user).select_related(None).values("pk")


def _only_visible(qs, scope: Scope, path: str = "opportunity"):
    ids = _visible_lead_ids(scope)
    return qs if ids is None else qs.filter(**{f"{path}__in": ids})


@register
class ProcessReport(Report):
    name = "process"
    number = 9
    title = gettext_lazy("Process and ratios")
    summary = gettext_lazy(
        "Inquiries and quotes that did not follow the process (and which), and our "
        "ratios next to published benchmarks."
    )
    definitions = (
        gettext_lazy(
            "Not closed within the working day: inquiries received in the period "
            "within working hours (the company's working calendar) that were still "
            "open at the end of that working day; share = of the inquiries received "
            "within working hours whose working day has ended."
        ),
        gettext_lazy(
            "Gate overrides: quotes made in the period (first revisions) although "
            "the SCOTSMAN gate was not passed. SCOTSMAN at quote time: share of those "
            "quotes whose scorecard had at least the threshold of criteria met "
            "(today's threshold)."
        ),
        gettext_lazy(
            "Stage skips: forward stage moves in the period that jumped over at "
            "least one stage, as a share of all forward moves."
        ),
        gettext_lazy(
            "No next activity: open qualified leads (now, whatever the period) "
            "without an open activity that has a due date."
        ),
        gettext_lazy(
            "Closed without a reason: qualified leads lost or not going ahead in "
            "the period (by close date) with an empty reason."
        ),
        gettext_lazy(
            "Speed to lead: inquiries received in the period whose first action "
            "(closing the inquiry: qualified, nurture or archived) came within one "
            "hour, clock time as in the benchmark, ÷ inquiries received (those "
            "received in the last hour left out)."
        ),
        gettext_lazy(
            "Qualification rate = qualified ÷ inquiries received in the period "
            "(cohort). Opportunity → won = won ÷ (won + lost + not going ahead) of "
            "the qualified leads created in the period (cohort; nurture and open "
            "leads left out). Lead → deal by source = won ÷ inquiries received per "
            "channel (cohort)."
        ),
        gettext_lazy(
            "Sales cycle: won qualified leads closed in the period (event counting), "
            "from the inquiry's receipt (or the lead's creation without an inquiry) "
            "to the close; the mean is compared with the benchmarks, the median is "
            "shown next to it."
        ),
        gettext_lazy(
            "Benchmarks are editable reference data: definitions differ between "
            "sources, so compare with the range, its source and year (there is no "
            "universal benchmark)."
        ),
        gettext_lazy(
            "Stage weights: the chance of winning observed per stage in closed "
            "history (product of the stage-to-stage advance rates to Won) next to "
            "the configured weight; shown from 20 closed leads per stage."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        late = self._late_inquiries(scope)
        overrides = self._overrides(scope)
        skips = self._skips(scope)
        idle = self._no_next_activity(scope)
        no_reason = self._no_reason(scope)
        summary_rows = [
            {
                "check": _("Inquiries not closed within the working day"),
                "count": late["count"],
                "base": late["base"],
                "share": ratio(late["count"], late["base"]),
                "exception": True,
            },
            {
                "check": _("Quotes made through a gate override"),
                "count": overrides["count"],
                "base": overrides["base"],
                "share": ratio(overrides["count"], overrides["base"]),
                "exception": True,
            },
            {
                "check": _("Quotes with SCOTSMAN at or above the threshold"),
                "count": overrides["scotsman_ok"],
                "base": overrides["base"],
                "share": ratio(overrides["scotsman_ok"], overrides["base"]),
                "exception": False,
            },
            {
                "check": _("Stage moves that skipped a stage"),
                "count": skips["count"],
                "base": skips["base"],
                "share": ratio(skips["count"], skips["base"]),
                "exception": True,
            },
            {
                "check": _("Open qualified leads without a next activity"),
                "count": idle["count"],
                "base": idle["base"],
                "share": ratio(idle["count"], idle["base"]),
                "exception": True,
            },
            {
                "check": _("Lost / not going ahead without a reason"),
                "count": no_reason["count"],
                "base": no_reason["base"],
                "share": ratio(no_reason["count"], no_reason["base"]),
                "exception": True,
            },
        ]
        ratios, cycle = self._benchmarks(scope)
        tables = [
            Table(
                "compliance",
                _("Process compliance"),
                [
                    Column("check", _("Check")),
                    Column("count", _("Count"), Kind.INT),
                    Column("base", _("Out of"), Kind.INT),
                    Column("share", _("Share"), Kind.RATIO),
                ],
                summary_rows,
            ),
            Table(
                "benchmarks",
                _("Our ratios next to the benchmarks"),
                [
                    Column("ratio", _("Ratio")),
                    Column("segment", _("Segment")),
                    Column("ours", _("Ours"), Kind.RATIO),
                    Column("basis", _("Counted over"), Kind.INT),
                    Column("low", _("Benchmark low"), Kind.RATIO),
                    Column("high", _("Benchmark high"), Kind.RATIO),
                    Column("position", _("We are")),
                    Column("benchmark", _("Benchmark")),
                    Column("source", _("Source")),
                    Column("year", _("Year")),
                ],
                ratios,
                note=_(
                    "There is no universal benchmark: stage definitions, deal size and "
                    "industry differ. Compare with the range and read its definition."
                ),
            ),
            Table(
                "cycle",
                _("Sales-cycle length (won) next to the benchmarks"),
                [
                    Column("ratio", _("Measure")),
                    Column("segment", _("Segment")),
                    Column("ours", _("Ours, mean (days)"), Kind.DAYS),
                    Column("median", _("Ours, median (days)"), Kind.DAYS),
                    Column("basis", _("Won leads"), Kind.INT),
                    Column("low", _("Benchmark low (days)"), Kind.DAYS),
                    Column("high", _("Benchmark high (days)"), Kind.DAYS),
                    Column("position", _("We are")),
                    Column("benchmark", _("Benchmark")),
                    Column("source", _("Source")),
                    Column("year", _("Year")),
                ],
                cycle,
            ),
            Table(
                "late_inquiries",
                _("Inquiries not closed within the working day (latest %(n)s)")
                % {"n": LIST_LIMIT},
                [
                    Column("inquiry", _("Inquiry")),
                    Column("channel", _("Channel")),
                    Column("received", _("Received"), Kind.DATE),
                    Column("closed", _("Closed"), Kind.DATE),
                ],
                late["rows"],
                link_key="url",
            ),
            Table(
                "overrides",
                _("Quotes made through a gate override (latest %(n)s)")
                % {"n": LIST_LIMIT},
                [
                    Column("quote", _("Quote")),
                    Column("lead", _("Qualified lead")),
                    Column("scotsman_met", _("SCOTSMAN criteria met"), Kind.INT),
                    Column("reason", _("Override reason")),
                    Column("made", _("Made"), Kind.DATE),
                ],
                overrides["rows"],
                link_key="url",
            ),
            Table(
                "skips",
                _("Stage skips (latest %(n)s)") % {"n": LIST_LIMIT},
                [
                    Column("lead", _("Qualified lead")),
                    Column("from_stage", _("From")),
                    Column("to_stage", _("To")),
                    Column("skipped", _("Stages skipped"), Kind.INT),
                    Column("at", _("Moved"), Kind.DATE),
                ],
                skips["rows"],
                link_key="url",
            ),
            Table(
                "no_next_activity",
                _("Open qualified leads without a next activity (oldest %(n)s)")
                % {"n": LIST_LIMIT},
                [
                    Column("lead", _("Qualified lead")),
                    Column("owner", _("Owner")),
                    Column("stage", _("Stage")),
                    Column("since", _("In this stage since"), Kind.DATE),
                ],
                idle["rows"],
                link_key="url",
            ),
            Table(
                "no_reason",
                _("Lost / not going ahead without a reason (latest %(n)s)")
                % {"n": LIST_LIMIT},
                [
                    Column("lead", _("Qualified lead")),
                    Column("result", _("Result")),
                    Column("closed", _("Closed"), Kind.DATE),
                ],
                no_reason["rows"],
                link_key="url",
            ),
            self._stage_weights(scope),
        ]
        return ReportResult(
            figures=[
                (
                    _("Inquiries not closed within the working day"),
                    ratio(late["count"], late["base"]),
                    Kind.RATIO,
                ),
                (_("Gate overrides"), overrides["count"], Kind.INT),
                (_("Stage skips"), skips["count"], Kind.INT),
                (_("Open leads without a next activity"), idle["count"], Kind.INT),
            ],
            charts=[
                Chart(
                    key="exceptions",
                    title=_("Process exceptions"),
                    type="horizontalBar",
                    labels=[r["check"] for r in summary_rows if r["exception"]],
                    datasets=[
                        Dataset(
                            _("Count"),
                            [r["count"] for r in summary_rows if r["exception"]],
                        )
                    ],
                ),
                Chart(
                    key="ratios",
                    title=_("Our ratios and the benchmark ranges"),
                    type="bar",
                    labels=[
                        f"{r['ratio']} · {r['source_short']}"
                        if r["segment"] == ""
                        else f"{r['ratio']} ({r['segment']}) · {r['source_short']}"
                        for r in ratios
                    ],
                    datasets=[
                        Dataset(_("Ours"), [r["ours"] for r in ratios], Kind.RATIO),
                        Dataset(
                            _("Benchmark low"), [r["low"] for r in ratios], Kind.RATIO
                        ),
                        Dataset(
                            _("Benchmark high"),
                            [r["high"] for r in ratios],
                            Kind.RATIO,
                        ),
                    ],
                ),
            ],
            tables=tables,
        )

    # --- the exceptions --------------------------------------------------------------

    def _late_inquiries(self, scope: Scope) -> dict:
        windows = _working_windows(scope)
        if not windows:
            return {"count": 0, "base": 0, "rows": []}
        flagged = scope.inquiries("received_at").annotate(_late=_late_flag(windows))
        # Grouped by the flag: the (large) expression is compiled once per query.
        counts = {
            row["_late"]: row["n"]
            for row in flagged.values("_late").annotate(n=Count("pk")).order_by()
        }
        listed = flagged.filter(_late=1)
        if not has_capability(scope.user, "inquiry.view_all"):
            listed = listed.filter(pk__in=visible_inquiries(scope.user).values("pk"))
        channels = {c.pk: str(c) for c in Channel.objects.all()}
        rows = [
            {
                "inquiry": f"#{pk} {summary[:60]}",
                "url": f"/inquiries/{pk}/",
                "channel": channels.get(channel_id, "?"),
                "received": _local_date(received),
                "closed": _local_date(closed),
            }
            for pk, summary, channel_id, received, closed in listed.order_by(
                "-received_at", "-id"
            ).values_list("pk", "summary", "channel_id", "received_at", "closed_at")[
                :LIST_LIMIT
            ]
        ]
        late = counts.get(1, 0)
        return {"count": late, "base": late + counts.get(0, 0), "rows": rows}

    def _overrides(self, scope: Scope) -> dict:
        threshold = gate_settings().scotsman_threshold
        made = scope.quotes("created_at").filter(revision=1)
        counts = made.aggregate(
            base=Count("pk"),
            count=Count("pk", filter=Q(gate_override=True)),
            scotsman_ok=Count("pk", filter=Q(scotsman_met__gte=threshold)),
        )
        listed = _only_visible(made.filter(gate_override=True), scope)
        rows = [
            {
                "quote": f"Q{number:05d}-{revision}",
                "url": _lead_link(opportunity_id),
                "lead": title,
                "scotsman_met": met,
                "reason": reason,
                "made": _local_date(created),
            }
            for number, revision, opportunity_id, title, met, reason, created in (
                listed.order_by("-created_at", "-id").values_list(
                    "number",
                    "revision",
                    "opportunity_id",
                    "opportunity__title",
                    "scotsman_met",
                    "override_reason",
                    "created_at",
                )[:LIST_LIMIT]
            )
        ]
        return {**counts, "rows": rows}

    def _moves(self, scope: Scope):
        start, end = scope.period_range()
        moves = OpportunityTransition.objects.order_by()
        if not (scope.everything and not scope.opportunity_q()):
            leads = scope.opportunities(date_field=None).values("pk")
            moves = moves.filter(opportunity__in=leads)
        return moves.filter(
            at__gte=start,
            at__lt=end,
            data__event="opportunity.stage_changed",
            data__direction="forward",
        )

    def _skips(self, scope: Scope) -> dict:
        forward = self._moves(scope)
        skipped = forward.filter(data__skipped__gt=0)
        counts = forward.aggregate(
            base=Count("pk"), count=Count("pk", filter=Q(data__skipped__gt=0))
        )
        stages = {s.code: str(s) for s in Stage.objects.all()}
        listed = _only_visible(skipped, scope)
        rows = [
            {
                "lead": title,
                "url": _lead_link(opportunity_id),
                "from_stage": stages.get(from_state, from_state),
                "to_stage": stages.get(to_state, to_state),
                "skipped": data.get("skipped") if isinstance(data, dict) else None,
                "at": _local_date(at),
            }
            for opportunity_id, title, from_state, to_state, data, at in (
                listed.order_by("-at", "-id").values_list(
                    "opportunity_id",
                    "opportunity__title",
                    "from_state",
                    "to_state",
                    "data",
                    "at",
                )[:LIST_LIMIT]
            )
        ]
        return {**counts, "rows": rows}

    def _no_next_activity(self, scope: Scope) -> dict:
        open_leads = scope.opportunities(date_field=None).filter(
            status=OpportunityStatus.OPEN
        )
        planned = Activity.objects.filter(
            opportunity=OuterRef("pk"), done_at__isnull=True, due_at__isnull=False
        )
        counts = open_leads.aggregate(
            base=Count("pk"), count=Count("pk", filter=~Exists(planned))
        )
        idle = open_leads.filter(~Exists(planned))
        listed = _only_visible(idle, scope, path="pk")
        stages = {s.pk: str(s) for s in Stage.objects.all()}
        rows = [
            {
                "lead": title,
                "url": _lead_link(pk),
                "owner": " ".join(p for p in (first, last) if p) or username,
                "stage": stages.get(stage_id, "?"),
                "since": _local_date(since),
            }
            for pk, title, first, last, username, stage_id, since in (
                listed.order_by("stage_entered_at", "id").values_list(
                    "pk",
                    "title",
                    "owner__first_name",
                    "owner__last_name",
                    "owner__username",
                    "stage_id",
                    "stage_entered_at",
                )[:LIST_LIMIT]
            )
        ]
        return {**counts, "rows": rows}

    def _no_reason(self, scope: Scope) -> dict:
        closed = scope.opportunities("closed_at").filter(status__in=NO_REASON_RESULTS)
        closed = closed.annotate(_reason=Trim("result_reason"))
        counts = closed.aggregate(
            base=Count("pk"), count=Count("pk", filter=Q(_reason=""))
        )
        blank = closed.filter(_reason="")
        listed = _only_visible(blank, scope, path="pk")
        labels = dict(OpportunityStatus.choices)
        rows = [
            {
                "lead": title,
                "url": _lead_link(pk),
                "result": str(labels.get(status, status)),
                "closed": _local_date(closed_at),
            }
            for pk, title, status, closed_at in listed.order_by(
                "-closed_at", "-id"
            ).values_list("pk", "title", "status", "closed_at")[:LIST_LIMIT]
        ]
        return {**counts, "rows": rows}

    # --- our ratios next to the benchmarks ---------------------------------------------

    def _our_ratios(self, scope: Scope) -> dict:
        """{metric: (value, counted over)}; lead → deal per channel code. The
        inquiry ratios come from one pass over the period's inquiries."""
        hour_ago = timezone.now() - SPEED_TO_LEAD
        within_hour = LessThanOrEqual(
            ElapsedSeconds("closed_at", "received_at"),
            SPEED_TO_LEAD.total_seconds(),
        )
        per_channel = list(
            scope.inquiries("received_at")
            .values("channel_id")
            .annotate(
                n=Count("pk"),
                qualified=Count("pk", filter=Q(outcome=Outcome.QUALIFIED)),
                speed_n=Count("pk", filter=Q(received_at__lte=hour_ago)),
                fast=Count(
                    "pk",
                    filter=Q(received_at__lte=hour_ago, closed_at__isnull=False)
                    & Q(within_hour),
                ),
                won=Count("pk", filter=Q(opportunity__status=OpportunityStatus.WON)),
            )
            .order_by()
        )
        total = {
            key: sum(row[key] for row in per_channel)
            for key in ("n", "qualified", "speed_n", "fast")
        }
        codes = dict(Channel.objects.values_list("pk", "code"))
        decided = scope.opportunities("created_at").aggregate(
            n=Count("pk", filter=Q(status__in=DECIDED)),
            won=Count("pk", filter=Q(status=OpportunityStatus.WON)),
        )
        return {
            SPEED: (ratio(total["fast"], total["speed_n"]), total["speed_n"]),
            QUALIFICATION: (ratio(total["qualified"], total["n"]), total["n"]),
            WIN_RATE: (ratio(decided["won"], decided["n"]), decided["n"]),
            LEAD_TO_DEAL: {
                codes.get(row["channel_id"]): (ratio(row["won"], row["n"]), row["n"])
                for row in per_channel
            },
        }

    def _cycle_days(self, scope: Scope) -> list[float]:
        """Days from receipt (or creation) to the close of the won leads closed in the
        period: one column fetched, for the median."""
        return [
            seconds / 86400
            for seconds in scope.opportunities("closed_at")
            .filter(status=OpportunityStatus.WON)
            .annotate(
                _length=ElapsedSeconds(
                    "closed_at", Coalesce(F("inquiry__received_at"), F("created_at"))
                )
            )
            .values_list("_length", flat=True)
            if seconds is not None
        ]

    def _benchmarks(self, scope: Scope) -> tuple[list[dict], list[dict]]:
        ours = self._our_ratios(scope)
        names = {
            SPEED: _("Speed to lead (first action within 1 h)"),
            QUALIFICATION: _("Qualification rate (inquiry → qualified lead)"),
            WIN_RATE: _("Opportunity → won"),
            LEAD_TO_DEAL: _("Lead → deal"),
            CYCLE: _("Sales-cycle length (won)"),
        }
        channels = {c.code: str(c) for c in Channel.objects.all()}
        benchmarks = Benchmark.objects.filter(
            is_active=True, metric__in=list(names)
        ).order_by("metric", "segment", "id")
        order = list(names)
        rows, cycle = [], []
        days = (
            self._cycle_days(scope)
            if any(b.metric == CYCLE for b in benchmarks)
            else []
        )
        for b in sorted(benchmarks, key=lambda b: (order.index(b.metric), b.pk)):
            base = {
                "ratio": names[b.metric],
                "segment": b.segment,
                "low": b.low,
                "high": b.high,
                "benchmark": b.label,
                "source": b.source,
                "source_short": b.source.split(",")[0],
                "year": str(b.year) if b.year else "",
                "definition": b.definition,
            }
            if b.metric == CYCLE:
                value = mean(days)
                cycle.append(
                    {
                        **base,
                        "ours": value,
                        "median": median(days),
                        "basis": len(days),
                        "position": _position_label(_position(value, b.low, b.high)),
                    }
                )
                continue
            if b.metric == LEAD_TO_DEAL:
                if b.segment not in channels:
                    continue  # no channel of ours to compare with
                value, basis = ours[LEAD_TO_DEAL].get(b.segment, (None, 0))
                base["segment"] = channels[b.segment]
            else:
                value, basis = ours[b.metric]
            rows.append(
                {
                    **base,
                    "ours": value,
                    "basis": basis,
                    "position": _position_label(_position(value, b.low, b.high)),
                }
            )
        return rows, cycle

    # --- stage weights -----------------------------------------------------------------

    def _stage_weights(self, scope: Scope) -> Table:
        link = (
            reverse("analytics_calibration") if can_view_calibration(scope.user) else ""
        )
        rows = [
            {
                "stage": str(c.stage),
                "url": link,
                "configured": c.configured,
                "observed": c.observed,
                "passed": c.passed,
            }
            for c in calibrate_scope(scope)
        ]
        return Table(
            "stage_weights",
            _("Stage weights: configured and observed"),
            [
                Column("stage", _("Stage")),
                Column("configured", _("Configured weight"), Kind.RATIO),
                Column("observed", _("Observed P(win)"), Kind.RATIO),
                Column("passed", _("Closed qualified leads"), Kind.INT),
            ],
            rows,
            note=_(
                "Over all closed qualified leads in reach with these filters, "
                "whenever they closed; empty: not enough history (fewer than "
                "%(n)s closed leads passed the stage)."
            )
            % {"n": MIN_CLOSED_LEADS},
            link_key="url",
        )
