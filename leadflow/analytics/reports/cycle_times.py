"""1. Cycle times: how long each step from inquiry to decision takes, where leads stall,
and which disqualified inquiries came back (SPEC step 5; DOMAIN.md §8 KPIs 9 and 10).

Event counting: the qualified leads closed as won or lost in the period, each step
measured on those leads whenever it happened. Won and lost are reported apart, the
median next to the mean. Stalls are the state of today (the period does not apply).
"""

from collections import defaultdict
from datetime import timedelta

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    When,
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
from leadflow.intake.states import InquiryStatus, Outcome
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


class DaysBetween(Func):
    """Days from ``start`` to ``end`` as a float, computed by the database (NULL when
    either is missing). Django's datetime subtraction runs a Python function per row
    on SQLite, many times slower over a hundred thousand leads."""

    output_field = FloatField()
    arity = 2
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
    arg_joiner = " - "

    def __init__(self, start, end):
        super().__init__(end, start)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra_context,
        )


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
    four step durations in days (None when a step's start or end is missing)."""
    first_sent = Subquery(
        Quote.objects.filter(opportunity=OuterRef("pk"))
        .values("opportunity")
        .annotate(first=Min("sent_at"))
        .values("first"),
        output_field=DateTimeField(),
    )
    return (
        scope.opportunities("closed_at")
        # Won or lost, written as NOT IN: SQLite would otherwise walk the status index
        # over every closed lead of all time, three times slower than one scan.
        .exclude(
            status__in=(
                OpportunityStatus.OPEN,
                OpportunityStatus.NOT_GOING_AHEAD,
                OpportunityStatus.NURTURE,
            )
        )
        .annotate(
            _start=Coalesce("inquiry__received_at", "created_at"),
            _month=periods.bucket_expression("closed_at", months),
        )
        .annotate(
            d_qualify=DaysBetween("inquiry__received_at", "inquiry__closed_at"),
            d_quote=DaysBetween("created_at", first_sent),
            d_open=DaysBetween("created_at", "closed_at"),
            d_total=DaysBetween("_start", "closed_at"),
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
            "d_open",
            "d_total",
        )
    )


def _stalled_condition(stages: list[Stage], now) -> Q | None:
    """Open leads longer in their stage than the stage allows (None: no stage has a
    limit)."""
    condition = None
    for stage in stages:
        limit = now - timedelta(days=stage.stale_after_days)
        # A lead without a stage date (generated, imported) counts from its creation,
        # as on the dashboard.
        part = Q(stage_id=stage.pk) & (
            Q(stage_entered_at__lt=limit)
            | Q(stage_entered_at__isnull=True, created_at__lt=limit)
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
            "its stage than the stage's “stale after” days (now − entered the stage; "
            "a lead without that date counts from its creation). "
            "Stages without that limit never stall."
        ),
        gettext_lazy(
            "Came back: inquiries closed in the period as nurture or archived whose "
            "requester (or the requester's company) sent an inquiry received after "
            "that closing which became a qualified lead. Days between: from the "
            "closing to the later inquiry's reception. The list shows the newest "
            "closings first, only for leads you may open."
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
        for status, service, dept, campaign, owner, month, *days in rows:
            qualify, quote, open_days, total = days
            decide = None if quote is None else open_days - quote
            values = dict(zip(STEPS, (qualify, quote, decide, total), strict=True))
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
            .annotate(_since=Coalesce("stage_entered_at", "created_at"))
            .order_by("_since", "pk")
            .values("pk", "title", "stage_id", "owner_id", "_since")[:LIST_LIMIT]
        )
        listed = list(listed)
        owners = {
            u.pk: str(u)
            for u in User.objects.filter(pk__in={r["owner_id"] for r in listed})
        }
        stalled_rows = []
        for r in listed:
            stage = limits[r["stage_id"]]
            in_stage = days_between(r["_since"], now)
            stalled_rows.append(
                {
                    "name": r["title"],
                    "url": f"/opportunities/{r['pk']}/",
                    "stage": str(stage),
                    "owner": owners.get(r["owner_id"], "?"),
                    "since": timezone.localtime(r["_since"], scope.tz).date(),
                    "days_in_stage": in_stage,
                    "days_over": in_stage - stage.stale_after_days,
                }
            )
        return stage_rows, stalled_rows, stalled_total

    # --- disqualified inquiries that came back ------------------------------------------

    def _came_back(self, scope: Scope) -> tuple[int, list[dict]]:
        count, ids = came_back(scope, limit=LIST_LIMIT * 25)
        if not count:
            return 0, []
        visible = visible_opportunities(scope.user)
        rows: list[dict] = []
        if not visible.query.is_empty():
            # Newest first, a chunk at a time, until the list is full: the details
            # (which later inquiry, which lead) are looked up for these rows only.
            for offset in range(0, min(len(ids), LIST_LIMIT * 25), LIST_LIMIT * 5):
                chunk = ids[offset : offset + LIST_LIMIT * 5]
                rows += _came_back_details(chunk, visible.values("pk"), scope)
                if len(rows) >= LIST_LIMIT:
                    break
        return count, rows[:LIST_LIMIT]


def came_back(scope: Scope, *, limit: int) -> tuple[int, list[int]]:
    """How many inquiries closed in the period as nurture or archived have a
    requester or company that later sent an inquiry that was qualified, and the ids
    of the first ``limit`` of them, newest closing first. Set-based: the latest
    qualified reception per company and per contact is grouped once and joined,
    instead of a look-up per disqualified inquiry."""
    start, _end = scope.period_range()
    disqualified = (
        scope.inquiries("closed_at")
        .filter(outcome__in=(Outcome.NURTURE, Outcome.ARCHIVED))
        .annotate(
            d_id=F("pk"),
            d_contact=F("contact_id"),
            d_company=F("company_id"),
            d_closed=F("closed_at"),
        )
        .values("d_id", "d_contact", "d_company", "d_closed")
    )

    def latest(key: str):
        return (
            Inquiry.objects.order_by()
            # "closed" is implied by the outcome, but lets the database read only
            # this period's receptions through the (status, received_at) index.
            .filter(
                status=InquiryStatus.CLOSED,
                outcome=Outcome.QUALIFIED,
                received_at__gte=start,
            )
            .exclude(**{key: None})
            .values(key)
            .annotate(last=Max("received_at"))
            .values(key, "last")
        )

    parts = [
        q.query.sql_with_params()
        for q in (disqualified, latest("company_id"), latest("contact_id"))
    ]
    (d_sql, d_params), (co_sql, co_params), (ct_sql, ct_params) = parts
    sql = (
        f"SELECT d.d_id, COUNT(*) OVER () FROM ({d_sql}) d "
        f"LEFT JOIN ({co_sql}) co ON co.company_id = d.d_company "
        f"LEFT JOIN ({ct_sql}) ct ON ct.contact_id = d.d_contact "
        "WHERE co.last > d.d_closed OR ct.last > d.d_closed "
        "ORDER BY d.d_closed DESC, d.d_id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*d_params, *co_params, *ct_params, limit))
        rows = cursor.fetchall()
    return (rows[0][1] if rows else 0), [row[0] for row in rows]


def _came_back_details(ids: list[int], visible, scope: Scope) -> list[dict]:
    def later(field: str):
        return (
            Inquiry.objects.filter(
                **{field: OuterRef(field)},
                outcome=Outcome.QUALIFIED,
                received_at__gt=OuterRef("closed_at"),
            )
            .order_by("received_at", "pk")
            .values("received_at", "opportunity__id")
        )

    by_contact, by_company = later("contact_id"), later("company_id")
    # The earlier of the two (either may be missing).
    use_contact = Q(_company_at__isnull=True) | Q(
        _contact_at__isnull=False, _contact_at__lte=F("_company_at")
    )
    found = (
        Inquiry.objects.filter(pk__in=ids)
        .annotate(
            _contact_at=Subquery(by_contact.values("received_at")[:1]),
            _contact_lead=Subquery(by_contact.values("opportunity__id")[:1]),
            _company_at=Subquery(by_company.values("received_at")[:1]),
            _company_lead=Subquery(by_company.values("opportunity__id")[:1]),
        )
        .annotate(
            _back_at=Case(
                When(use_contact, then=F("_contact_at")),
                default=F("_company_at"),
                output_field=DateTimeField(),
            ),
            _back_lead=Case(
                When(use_contact, then=F("_contact_lead")),
                default=F("_company_lead"),
            ),
        )
        .filter(_back_lead__in=visible)
        .order_by("-closed_at", "-pk")
        .values("contact__name", "outcome", "closed_at", "_back_at", "_back_lead")
    )
    outcomes = dict(Outcome.choices)
    return [
        {
            "name": r["contact__name"],
            "url": f"/opportunities/{r['_back_lead']}/",
            "outcome": str(outcomes.get(r["outcome"], r["outcome"])),
            "closed_on": timezone.localtime(r["closed_at"], scope.tz).date(),
            "back_on": timezone.localtime(r["_back_at"], scope.tz).date(),
            "days": days_between(r["closed_at"], r["_back_at"]),
        }
        for r in found
    ]


def _names(model, keys, empty: str):
    """A label function for the ids in ``keys`` (one query)."""
    found = {obj.pk: str(obj) for obj in model.objects.filter(pk__in=list(keys))}

    def label(key):
        if key is None:
            return empty
        return found.get(key, "?")

    return label
