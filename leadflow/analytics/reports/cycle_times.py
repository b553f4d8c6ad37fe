"""1. Cycle times: how long each step from inquiry to decision takes, where leads stall,
and which disqualified inquiries came back (SPEC step 5; DOMAIN.md §8 KPIs 9 and 10).

Event counting: the qualified leads closed as won or lost in the period, each step
measured on those leads whenever it happened. Won and lost are reported apart, the
median next to the mean. Stalls are the state of today (the period does not apply).
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import Department, User
from leadflow.analytics import periods
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
from leadflow.intake.models import Campaign, Inquiry
from leadflow.intake.states import Outcome
from leadflow.opportunities.models import Quote, Stage
from leadflow.opportunities.queries import visible_opportunities
from leadflow.opportunities.states import OpportunityStatus

LIST_LIMIT = 20
WON, LOST = OpportunityStatus.WON, OpportunityStatus.LOST
STEPS = ("qualify", "quote", "decide", "total")


def _step_labels() -> dict[str, str]:
    return {
        "qualify": _("Inquiry → qualified"),
        "quote": _("Qualified → first quote sent"),
        "decide": _("First quote sent → decision"),
        "total": _("Inquiry → decision (total)"),
    }


def _duration(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DurationField())


def _days(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 86400


def _stats(values: list[float]) -> dict:
    return {"n": len(values), "median": median(values), "mean": mean(values)}


def _won_lost_row(label: str, won: list[float], lost: list[float]) -> dict:
    w, lo = _stats(won), _stats(lost)
    return {
        "name": label,
        "won_n": w["n"],
        "won_median": w["median"],
        "won_mean": w["mean"],
        "lost_n": lo["n"],
        "lost_median": lo["median"],
        "lost_mean": lo["mean"],
    }


def _won_lost_columns(first: str) -> list[Column]:
    return [
        Column("name", first),
        Column("won_n", _("Won"), Kind.INT),
        Column("won_median", _("Won: median days"), Kind.DAYS),
        Column("won_mean", _("Won: mean days"), Kind.DAYS),
        Column("lost_n", _("Lost"), Kind.INT),
        Column("lost_median", _("Lost: median days"), Kind.DAYS),
        Column("lost_mean", _("Lost: mean days"), Kind.DAYS),
    ]


def closed_lead_durations(scope: Scope, months: list[periods.Bucket]):
    """One row per won or lost lead closed in the period: its breakdown keys and the
    four step durations (timedeltas computed by the database; None when a step's
    start or end is missing)."""
    first_sent = Subquery(
        Quote.objects.filter(opportunity=OuterRef("pk"), sent_at__isnull=False)
        .order_by("sent_at")
        .values("sent_at")[:1],
        output_field=DateTimeField(),
    )
    return (
        scope.opportunities("closed_at")
        .filter(status__in=(WON, LOST))
        .annotate(
            _quote=first_sent,
            _start=Coalesce("inquiry__received_at", "created_at"),
            _month=periods.bucket_expression("closed_at", months),
        )
        .annotate(
            d_qualify=_duration(F("inquiry__closed_at") - F("inquiry__received_at")),
            d_quote=_duration(F("_quote") - F("created_at")),
            d_decide=_duration(F("closed_at") - F("_quote")),
            d_total=_duration(F("closed_at") - F("_start")),
        )
        .values_list(
            "status",
            "service_type",
            "inquiry__department_id",
            "inquiry__campaign_id",
            "owner_id",
            "_month",
            "d_qualify",
            "d_quote",
            "d_decide",
            "d_total",
        )
    )


def _stalled_condition(stages: list[Stage], now) -> Q | None:
    """Open leads longer in their stage than the stage allows (None: no stage has a
    limit)."""
    condition = None
    for stage in stages:
        part = Q(
            stage_id=stage.pk,
            stage_entered_at__lt=now - timedelta(days=stage.stale_after_days),
        )
        condition = part if condition is None else condition | part
    return condition


@register
class CycleTimesReport(Report):
    name = "cycle-times"
    number = 1
    title = gettext_lazy("Cycle times")
    summary = gettext_lazy(
        "How long it takes from inquiry to decision, step by step, for won and lost "
        "leads; where leads stall; and disqualified inquiries that came back."
    )
    definitions = (
        gettext_lazy(
            "Event counting: the qualified leads closed as won or lost in the period; "
            "each step is measured on those leads, whenever it happened. Won and lost "
            "are shown apart, the median next to the mean, in calendar days."
        ),
        gettext_lazy(
            "Inquiry → qualified: from the inquiry's reception to its closing as "
            "qualified. Qualified → first quote sent: from the qualified lead's "
            "creation to the sending of its first quote (the sending date, not the "
            "draft). First quote sent → decision: from that sending to the lead's "
            "closing as won or lost."
        ),
        gettext_lazy(
            "Total: from the inquiry's reception to the lead's closing; for a "
            "qualified lead registered without an inquiry, from its creation. Leads "
            "without a sent quote have no quote steps."
        ),
        gettext_lazy(
            "Action = the campaign of the inquiry; person = the owner of the "
            "qualified lead; department = the inquiry's department."
        ),
        gettext_lazy(
            "Stalled (today, whatever the period): an open qualified lead longer in "
            "its stage than the stage's “stale after” days (now − entered the stage). "
            "Stages without that limit never stall."
        ),
        gettext_lazy(
            "Came back: inquiries closed in the period as nurture or archived whose "
            "requester (or the requester's company) sent an inquiry received after "
            "that closing which became a qualified lead. Days between: from the "
            "closing to the later inquiry's reception."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        months = scope.months()
        labels = _step_labels()
        steps: dict[str, dict[str, list[float]]] = {
            s: {WON: [], LOST: []} for s in STEPS
        }
        dims = ("service", "department", "campaign", "person")
        by: dict[str, dict] = {
            d: defaultdict(lambda: {WON: [], LOST: []}) for d in dims
        }
        monthly: dict[str, list[list[float]]] = {
            WON: [[] for _b in months],
            LOST: [[] for _b in months],
        }
        rows = closed_lead_durations(scope, months).iterator(chunk_size=5000)
        for status, service, dept, campaign, owner, month, *durations in rows:
            values = dict(zip(STEPS, (_days(d) for d in durations), strict=True))
            for step, value in values.items():
                if value is not None:
                    steps[step][status].append(value)
            total = values["total"]
            if total is None:
                continue
            for dim, key in zip(dims, (service, dept, campaign, owner), strict=True):
                by[dim][key][status].append(total)
            if month is not None:
                monthly[status][month].append(total)

        step_rows = [
            _won_lost_row(str(labels[s]), steps[s][WON], steps[s][LOST]) for s in STEPS
        ]
        names = {
            "service": lambda key: key or _("No service type"),
            "department": _names(Department, by["department"], _("No department")),
            "campaign": _names(Campaign, by["campaign"], _("No campaign")),
            "person": _names(User, by["person"], "?"),
        }
        breakdowns = {
            dim: sorted(
                (
                    _won_lost_row(str(names[dim](key)), v[WON], v[LOST])
                    for key, v in by[dim].items()
                ),
                key=lambda r: (-(r["won_n"] + r["lost_n"]), r["name"]),
            )
            for dim in dims
        }

        stage_rows, stalled_rows, stalled_total = self._stalls(scope)
        came_back, came_back_rows = self._came_back(scope)
        total_row = step_rows[-1]
        notes = []
        if came_back:
            notes.append(
                _(
                    "%(n)s inquiries disqualified in the period came back later as "
                    "a qualified lead."
                )
                % {"n": came_back}
            )
        return ReportResult(
            figures=[
                (
                    _("Median total cycle, won (days)"),
                    total_row["won_median"],
                    Kind.DAYS,
                ),
                (
                    _("Median total cycle, lost (days)"),
                    total_row["lost_median"],
                    Kind.DAYS,
                ),
                (_("Stalled open leads"), stalled_total, Kind.INT),
                (_("Disqualified inquiries that came back"), came_back, Kind.INT),
            ],
            notes=notes,
            charts=[
                Chart(
                    key="median-per-step",
                    title=_("Median days per step, won vs lost"),
                    type="bar",
                    labels=[r["name"] for r in step_rows],
                    datasets=[
                        Dataset(
                            _("Won"), [r["won_median"] for r in step_rows], Kind.DAYS
                        ),
                        Dataset(
                            _("Lost"), [r["lost_median"] for r in step_rows], Kind.DAYS
                        ),
                    ],
                ),
                Chart(
                    key="total-per-month",
                    title=_("Median total cycle per month of the decision"),
                    type="line",
                    labels=[b.label for b in months],
                    datasets=[
                        Dataset(_("Won"), [median(v) for v in monthly[WON]], Kind.DAYS),
                        Dataset(
                            _("Lost"), [median(v) for v in monthly[LOST]], Kind.DAYS
                        ),
                    ],
                ),
            ],
            tables=[
                Table("steps", _("Per step"), _won_lost_columns(_("Step")), step_rows),
                Table(
                    "service",
                    _("Total cycle by service type"),
                    _won_lost_columns(_("Service type")),
                    breakdowns["service"],
                ),
                Table(
                    "department",
                    _("Total cycle by department"),
                    _won_lost_columns(_("Department")),
                    breakdowns["department"],
                ),
                Table(
                    "campaign",
                    _("Total cycle by action (campaign)"),
                    _won_lost_columns(_("Campaign")),
                    breakdowns["campaign"],
                ),
                Table(
                    "person",
                    _("Total cycle by person (owner)"),
                    _won_lost_columns(_("Owner")),
                    breakdowns["person"],
                ),
                Table(
                    "stalls",
                    _("Stalls per stage (today)"),
                    [
                        Column("name", _("Stage")),
                        Column("stale_after_days", _("Stale after (days)"), Kind.INT),
                        Column("open", _("Open leads"), Kind.INT),
                        Column("stalled", _("Stalled"), Kind.INT),
                        Column("share", _("Share stalled"), Kind.RATIO),
                    ],
                    stage_rows,
                    {
                        "open": sum(r["open"] for r in stage_rows),
                        "stalled": stalled_total,
                        "share": ratio(
                            stalled_total, sum(r["open"] for r in stage_rows)
                        ),
                    },
                ),
                Table(
                    "stalled",
                    _("Longest-stalled leads (top %(n)s)") % {"n": LIST_LIMIT},
                    [
                        Column("name", _("Qualified lead")),
                        Column("stage", _("Stage")),
                        Column("owner", _("Owner")),
                        Column("since", _("In this stage since"), Kind.DATE),
                        Column("days_in_stage", _("Days in stage"), Kind.DAYS),
                        Column("days_over", _("Days over the limit"), Kind.DAYS),
                    ],
                    stalled_rows,
                    link_key="url",
                ),
                Table(
                    "came-back",
                    _("Disqualified inquiries that came back (top %(n)s)")
                    % {"n": LIST_LIMIT},
                    [
                        Column("name", _("Requester")),
                        Column("outcome", _("Closed as")),
                        Column("closed_on", _("Closed on"), Kind.DATE),
                        Column("back_on", _("Came back on"), Kind.DATE),
                        Column("days", _("Days between"), Kind.DAYS),
                    ],
                    came_back_rows,
                    note=_(
                        "The link opens the qualified lead the later inquiry became."
                    ),
                    link_key="url",
                ),
            ],
        )

    # --- stalls ------------------------------------------------------------------------

    def _stalls(self, scope: Scope) -> tuple[list[dict], list[dict], int]:
        now = timezone.now()
        stages = list(Stage.objects.order_by("order", "id"))
        limited = [s for s in stages if s.stale_after_days is not None]
        condition = _stalled_condition(limited, now)
        open_leads = scope.opportunities(None).filter(status=OpportunityStatus.OPEN)
        aggregates = {"open": Count("pk")}
        if condition is not None:
            aggregates["stalled"] = Count("pk", filter=condition)
        counts = {
            r["stage"]: r for r in open_leads.values("stage").annotate(**aggregates)
        }
        stage_rows = []
        for stage in stages:
            row = counts.get(stage.pk)
            if row is None and not stage.is_active:
                continue
            opened = row["open"] if row else 0
            stalled = row.get("stalled", 0) if row else 0
            stage_rows.append(
                {
                    "name": str(stage),
                    "stale_after_days": stage.stale_after_days,
                    "open": opened,
                    "stalled": stalled,
                    "share": ratio(stalled, opened),
                }
            )
        stalled_total = sum(r["stalled"] for r in stage_rows)
        if condition is None:
            return stage_rows, [], stalled_total

        limits = {s.pk: s for s in limited}
        visible = visible_opportunities(scope.user).values("pk")
        listed = (
            open_leads.filter(condition, pk__in=visible)
            .order_by("stage_entered_at", "pk")
            .values("pk", "title", "stage_id", "owner_id", "stage_entered_at")[
                :LIST_LIMIT
            ]
        )
        listed = list(listed)
        owners = {
            u.pk: str(u)
            for u in User.objects.filter(pk__in={r["owner_id"] for r in listed})
        }
        stalled_rows = []
        for r in listed:
            stage = limits[r["stage_id"]]
            in_stage = days_between(r["stage_entered_at"], now)
            stalled_rows.append(
                {
                    "name": r["title"],
                    "url": f"/opportunities/{r['pk']}/",
                    "stage": str(stage),
                    "owner": owners.get(r["owner_id"], "?"),
                    "since": timezone.localtime(r["stage_entered_at"], scope.tz).date(),
                    "days_in_stage": in_stage,
                    "days_over": in_stage - stage.stale_after_days,
                }
            )
        return stage_rows, stalled_rows, stalled_total

    # --- disqualified inquiries that came back ------------------------------------------

    def _came_back(self, scope: Scope) -> tuple[int, list[dict]]:
        later = (
            Inquiry.objects.filter(
                Q(contact_id=OuterRef("contact_id"))
                | Q(company_id=OuterRef("company_id")),
                outcome=Outcome.QUALIFIED,
                received_at__gt=OuterRef("closed_at"),
            )
            .order_by("received_at", "pk")
            .values("received_at", "opportunity__id")
        )
        disqualified = (
            scope.inquiries("closed_at")
            .filter(outcome__in=(Outcome.NURTURE, Outcome.ARCHIVED))
            .annotate(
                _back_at=Subquery(later.values("received_at")[:1]),
                _back_lead=Subquery(later.values("opportunity__id")[:1]),
            )
            .filter(_back_at__isnull=False)
        )
        count = disqualified.count()
        if not count:
            return 0, []
        visible = visible_opportunities(scope.user).values("pk")
        listed = list(
            disqualified.filter(_back_lead__in=visible)
            .order_by("-_back_at", "-pk")
            .values("contact__name", "outcome", "closed_at", "_back_at", "_back_lead")[
                :LIST_LIMIT
            ]
        )
        outcomes = dict(Outcome.choices)
        return count, [
            {
                "name": r["contact__name"],
                "url": f"/opportunities/{r['_back_lead']}/",
                "outcome": str(outcomes.get(r["outcome"], r["outcome"])),
                "closed_on": timezone.localtime(r["closed_at"], scope.tz).date(),
                "back_on": timezone.localtime(r["_back_at"], scope.tz).date(),
                "days": days_between(r["closed_at"], r["_back_at"]),
            }
            for r in listed
        ]


def _names(model, keys, empty: str):
    """A label function for the ids in ``keys`` (one query)."""
    found = {obj.pk: str(obj) for obj in model.objects.filter(pk__in=list(keys))}

    def label(key):
        if key is None:
            return empty
        return found.get(key, "?")

    return label
