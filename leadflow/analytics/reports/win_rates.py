"""2. Win rates: how many inquiries and quotes reach the end, where the rest drop out,
and which kinds of business do better (SPEC step 5; DOMAIN.md §8 KPIs 3–8).

Two ways of counting, each said on the page:

- the funnel is a cohort: the inquiries received in the period and what became of
  them, whenever that happened;
- win rates and their breakdowns count events: the qualified leads closed in the
  period (by their close date).

The rate helpers here (:func:`closed_counts`, :func:`rates`) are shared with the
performance report, so a win rate means the same on both pages.
"""

from datetime import timedelta

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import User
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
from leadflow.contacts.models import Company
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.states import InquiryStatus, Outcome
from leadflow.opportunities.models import Opportunity, Quote
from leadflow.opportunities.states import CLOSED_RESULTS, OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=2)
WON = OpportunityStatus.WON
LOST = OpportunityStatus.LOST
NOT_GOING_AHEAD = OpportunityStatus.NOT_GOING_AHEAD
NURTURE = OpportunityStatus.NURTURE
DECIDED = (WON, LOST, NOT_GOING_AHEAD)

# Expected-value bands for "does the size of a deal change the win rate": (key, lower
# bound inclusive, upper bound exclusive or None). Leads without a value form a band
# of their own.
VALUE_BANDS = (
    ("lt_5k", 0, 5_000),
    ("5k_25k", 5_000, 25_000),
    ("25k_100k", 25_000, 100_000),
    ("ge_100k", 100_000, None),
)
VALUE_BAND_LABELS = {
    "lt_5k": gettext_lazy("< 5,000"),
    "5k_25k": gettext_lazy("5,000 – 25,000"),
    "25k_100k": gettext_lazy("25,000 – 100,000"),
    "ge_100k": gettext_lazy("≥ 100,000"),
    "none": gettext_lazy("No expected value"),
}

# "Asks for quotes often and never orders": this many sent quotes in this many days.
FREQUENT_QUOTES = 3
FREQUENT_QUOTES_DAYS = 730
FREQUENT_QUOTES_LIMIT = 20

CUSTOMER, KNOWN, UNKNOWN = "customer", "known", "unknown"
CONTACT_TYPE_LABELS = {
    CUSTOMER: gettext_lazy("Customer"),
    KNOWN: gettext_lazy("Known"),
    UNKNOWN: gettext_lazy("Unknown"),
}


# --- the shared counting -------------------------------------------------------------


def sent_quote_exists(outer: str = "pk") -> Exists:
    """The lead (``outer``: the path to its id) has at least one quote that was sent."""
    return Exists(
        Quote.objects.filter(opportunity=OuterRef(outer), sent_at__isnull=False)
    )


def closed_counts() -> dict:
    """The aggregates a win-rate row needs, for ``.values(...).annotate(**...)`` on the
    leads closed in the period (``scope.opportunities("closed_at")``)."""
    quoted = sent_quote_exists()
    value = Coalesce("expected_value", 0, output_field=MONEY)
    return {
        "won": Count("pk", filter=Q(status=WON)),
        "lost": Count("pk", filter=Q(status=LOST)),
        "not_going_ahead": Count("pk", filter=Q(status=NOT_GOING_AHEAD)),
        "nurture": Count("pk", filter=Q(status=NURTURE)),
        "won_value": Coalesce(Sum(value, filter=Q(status=WON)), 0, output_field=MONEY),
        "decided_value": Coalesce(
            Sum(value, filter=Q(status__in=DECIDED)), 0, output_field=MONEY
        ),
        "quoted": Count("pk", filter=Q(quoted, status__in=CLOSED_RESULTS)),
        "quoted_won": Count("pk", filter=Q(quoted, status=WON)),
    }


def rates(counts: dict) -> dict:
    """Win rates (count, without no-decision, value) and hit rate from the counts."""
    won, lost, nga = counts["won"], counts["lost"], counts["not_going_ahead"]
    return {
        "won": won,
        "lost": lost,
        "not_going_ahead": nga,
        "nurture": counts["nurture"],
        "win_rate": ratio(won, won + lost + nga),
        "win_rate_decided": ratio(won, won + lost),
        "won_value": counts["won_value"],
        "decided_value": counts["decided_value"],
        "win_rate_value": ratio(counts["won_value"], counts["decided_value"]),
        "quoted": counts["quoted"],
        "hit_rate": ratio(counts["quoted_won"], counts["quoted"]),
        "quoted_won": counts["quoted_won"],
    }


COUNT_KEYS = (
    "won",
    "lost",
    "not_going_ahead",
    "nurture",
    "won_value",
    "decided_value",
    "quoted",
    "quoted_won",
)


def add_up(rows: list[dict]) -> dict:
    """The totals of rate rows (sums of the counts, rates recomputed)."""
    return rates({k: sum(r[k] for r in rows) for k in COUNT_KEYS})


def _rate_columns(first: str) -> list[Column]:
    return [
        Column("name", first),
        Column("won", _("Won"), Kind.INT),
        Column("lost", _("Lost"), Kind.INT),
        Column("not_going_ahead", _("Not going ahead"), Kind.INT),
        Column("win_rate", _("Win rate"), Kind.RATIO),
        Column("win_rate_decided", _("Win rate without no-decision"), Kind.RATIO),
        Column("won_value", _("Won value"), Kind.MONEY),
        Column("win_rate_value", _("Win rate by value"), Kind.RATIO),
        Column("quoted", _("Closed with a sent quote"), Kind.INT),
        Column("hit_rate", _("Hit rate"), Kind.RATIO),
    ]


def grouped(qs, *fields: str) -> list[dict]:
    """The counts per combination of ``fields``, in one scan of the closed leads.
    Every count is a sum, so one grouped query feeds several breakdowns (a scan of
    the leads closed in a year is what costs; the groups are few)."""
    return list(qs.values(*fields).annotate(**closed_counts()).order_by())


def _breakdown(groups: list[dict], field: str, label) -> list[dict]:
    """Rate rows per value of ``field``, summed over the other fields' groups."""
    sums: dict = {}
    for group in groups:
        into = sums.setdefault(group[field], dict.fromkeys(COUNT_KEYS, 0))
        for key in COUNT_KEYS:
            into[key] += group[key]
    rows = []
    for value, counts in sums.items():
        row = rates(counts)
        row["value"] = value
        row["name"] = label(value)
        rows.append(row)
    rows.sort(key=lambda r: (-(r["won"] + r["lost"] + r["not_going_ahead"]), r["name"]))
    return rows


def _rate_table(key, title, first, rows, note="") -> Table:
    totals = add_up(rows) if rows else None
    if totals:
        totals["name"] = _("Total")
    return Table(key, title, _rate_columns(first), rows, totals, note=note)


# --- contact type at the time of the inquiry -------------------------------------------


def _earlier(model, field: str, when: str, ref, *extra: Q) -> Exists:
    """A ``model`` row of the same ``field`` (company or contact) dated before the
    lead's moment ``ref`` (an expression of OuterRefs: ``aggregate()`` would drop an
    annotation that only an OuterRef uses)."""
    return Exists(
        model.objects.filter(
            Q(**{field: OuterRef(field)}), Q(**{f"{when}__lt": ref}), *extra
        )
    )


def _by_company_else_contact(check) -> Case:
    """``check(field)`` on the lead's company, or on its contact when it has no
    company (a CASE: the database runs one of the two subqueries, not both)."""
    return Case(
        When(company__isnull=False, then=check("company")),
        default=check("contact"),
        output_field=BooleanField(),
    )


def bought_before(ref) -> Case:
    """The lead's company (without a company: its contact) had a won lead or a
    booked order before ``ref``."""
    return _by_company_else_contact(
        lambda field: (
            _earlier(Order, field, "ordered_at", ref)
            | _earlier(Opportunity, field, "closed_at", ref, Q(status=WON))
        )
    )


def contact_type_expression() -> Case:
    """customer / known / unknown at the moment the inquiry came in (for a lead
    without an inquiry: when the lead was created), by the lead's company or, without
    one, its contact."""
    ref = Coalesce(OuterRef("inquiry__received_at"), OuterRef("created_at"))
    known = _by_company_else_contact(
        lambda field: (
            _earlier(Inquiry, field, "received_at", ref)
            | _earlier(Opportunity, field, "created_at", ref)
        )
    )
    return Case(
        When(bought_before(ref), then=Value(CUSTOMER)),
        When(known, then=Value(KNOWN)),
        default=Value(UNKNOWN),
        output_field=CharField(),
    )


def value_band_expression() -> Case:
    whens = []
    for key, low, high in VALUE_BANDS:
        condition = Q(expected_value__gte=low)
        if high is not None:
            condition &= Q(expected_value__lt=high)
        whens.append(When(condition, then=Value(key)))
    return Case(*whens, default=Value("none"), output_field=CharField())


# --- the report ------------------------------------------------------------------------


def _funnel(scope: Scope) -> dict:
    """The cohort of inquiries received in the period, in one aggregate query."""
    opp = "opportunity__status"
    return scope.inquiries("received_at").aggregate(
        inquiries=Count("pk"),
        triage_open=Count("pk", filter=Q(status=InquiryStatus.OPEN)),
        archived=Count("pk", filter=Q(outcome=Outcome.ARCHIVED)),
        nurture_triage=Count("pk", filter=Q(outcome=Outcome.NURTURE)),
        qualified=Count("pk", filter=Q(outcome=Outcome.QUALIFIED)),
        quote_sent=Count(
            "pk",
            filter=Q(
                Exists(
                    Quote.objects.filter(
                        opportunity__inquiry=OuterRef("pk"), sent_at__isnull=False
                    )
                )
            ),
        ),
        won=Count("pk", filter=Q(**{opp: WON})),
        lost=Count("pk", filter=Q(**{opp: LOST})),
        not_going_ahead=Count("pk", filter=Q(**{opp: NOT_GOING_AHEAD})),
        nurture_lead=Count("pk", filter=Q(**{opp: NURTURE})),
        lead_open=Count("pk", filter=Q(**{opp: OpportunityStatus.OPEN})),
    )


def _funnel_tables(f: dict) -> tuple[Table, Table, Chart]:
    steps = [
        ("inquiries", _("Inquiries received"), f["inquiries"]),
        ("qualified", _("Qualified"), f["qualified"]),
        ("quote_sent", _("Quote sent"), f["quote_sent"]),
        ("won", _("Won"), f["won"]),
    ]
    rows, previous = [], None
    for key, label, n in steps:
        rows.append(
            {
                "step": key,
                "name": label,
                "count": n,
                "of_inquiries": ratio(n, f["inquiries"]),
                "of_previous": ratio(n, previous) if previous is not None else None,
            }
        )
        previous = n
    funnel = Table(
        "funnel",
        _("Funnel: inquiries received in the period"),
        [
            Column("name", _("Step")),
            Column("count", _("Inquiries"), Kind.INT),
            Column("of_inquiries", _("Share of inquiries"), Kind.RATIO),
            Column("of_previous", _("Share of the step before"), Kind.RATIO),
        ],
        rows,
        note=_(
            "Quote sent: the qualified lead has at least one sent quote. A lead can be "
            "won without a sent quote, so a step can be larger than the one before."
        ),
    )
    drops = [
        ("triage_open", _("At triage"), _("Not yet assessed"), f["triage_open"]),
        ("archived", _("At triage"), _("Archived"), f["archived"]),
        (
            "nurture_triage",
            _("At triage"),
            _("To marketing follow-up (nurture)"),
            f["nurture_triage"],
        ),
        ("lost", _("After qualification"), _("Lost"), f["lost"]),
        (
            "not_going_ahead",
            _("After qualification"),
            _("Not going ahead"),
            f["not_going_ahead"],
        ),
        (
            "nurture_lead",
            _("After qualification"),
            _("To marketing follow-up (nurture)"),
            f["nurture_lead"],
        ),
        ("lead_open", _("After qualification"), _("Still open"), f["lead_open"]),
        ("won", _("End"), _("Won"), f["won"]),
    ]
    dropout = Table(
        "dropout",
        _("Where the inquiries end up"),
        [
            Column("name", _("Result")),
            Column("where", _("Where")),
            Column("count", _("Inquiries"), Kind.INT),
            Column("share", _("Share of inquiries"), Kind.RATIO),
        ],
        [
            {
                "key": key,
                "where": where,
                "name": label,
                "count": n,
                "share": ratio(n, f["inquiries"]),
            }
            for key, where, label, n in drops
        ],
        totals={
            "name": _("Total"),
            "count": f["inquiries"],
            "share": ratio(f["inquiries"], f["inquiries"]),
        },
    )
    chart = Chart(
        key="funnel",
        title=_("Funnel: inquiries received in the period"),
        type="bar",
        labels=[r["name"] for r in rows],
        datasets=[Dataset(_("Inquiries"), [r["count"] for r in rows])],
    )
    return funnel, dropout, chart


def _repeat_purchases(closed) -> Table:
    """Won leads of customers who bought before (an earlier won lead or an order
    before this lead was won) against first purchases."""
    won = closed.filter(status=WON)
    repeat = bought_before(OuterRef("closed_at"))
    counts = won.aggregate(
        repeat=Count("pk", filter=repeat),
        repeat_value=Coalesce(
            Sum("expected_value", filter=repeat), 0, output_field=MONEY
        ),
        all=Count("pk"),
        all_value=Coalesce(Sum("expected_value"), 0, output_field=MONEY),
    )
    first = counts["all"] - counts["repeat"]
    first_value = counts["all_value"] - counts["repeat_value"]
    rows = [
        {
            "name": _("First purchase"),
            "won": first,
            "share": ratio(first, counts["all"]),
            "won_value": first_value,
            "average": first_value / first if first else None,
        },
        {
            "name": _("Repeat purchase"),
            "won": counts["repeat"],
            "share": ratio(counts["repeat"], counts["all"]),
            "won_value": counts["repeat_value"],
            "average": counts["repeat_value"] / counts["repeat"]
            if counts["repeat"]
            else None,
        },
    ]
    return Table(
        "repeat",
        _("Repeat purchases"),
        [
            Column("name", _("Kind")),
            Column("won", _("Won"), Kind.INT),
            Column("share", _("Share of won"), Kind.RATIO),
            Column("won_value", _("Won value"), Kind.MONEY),
            Column("average", _("Average deal size"), Kind.MONEY),
        ],
        rows if counts["all"] else [],
        note=_(
            "Repeat: the company (or, without a company, the contact) had a won "
            "qualified lead or a booked order before this lead was won."
        ),
    )


def _frequent_quoters(scope: Scope) -> Table:
    """Companies with many sent quotes in the last two years and never an order."""
    start = scope.period_range()[1] - timedelta(days=FREQUENT_QUOTES_DAYS)
    ordered = Exists(
        Opportunity.objects.filter(company=OuterRef("opportunity__company"), status=WON)
    ) | Exists(Order.objects.filter(company=OuterRef("opportunity__company")))
    rows = list(
        scope.quotes(None)
        .filter(
            sent_at__gte=start,
            sent_at__lt=scope.period_range()[1],
            opportunity__company__isnull=False,
        )
        .exclude(ordered)
        .values("opportunity__company")
        .annotate(
            quotes=Count("pk"),
            leads=Count("opportunity", distinct=True),
            last_sent=Max("sent_at"),
        )
        .filter(quotes__gte=FREQUENT_QUOTES)
        .order_by("-quotes", "-last_sent")[:FREQUENT_QUOTES_LIMIT]
    )
    names = dict(
        Company.objects.filter(
            pk__in=[r["opportunity__company"] for r in rows]
        ).values_list("pk", "name")
    )
    tz = scope.tz
    return Table(
        "frequent_quoters",
        _("Asks for quotes often, never orders"),
        [
            Column("name", _("Company")),
            Column("quotes", _("Quotes sent"), Kind.INT),
            Column("leads", _("Qualified leads"), Kind.INT),
            Column("last_sent", _("Last quote sent"), Kind.DATE),
        ],
        [
            {
                "name": names.get(r["opportunity__company"], "?"),
                "quotes": r["quotes"],
                "leads": r["leads"],
                "last_sent": r["last_sent"].astimezone(tz).date(),
                "url": reverse("company_detail", args=[r["opportunity__company"]]),
            }
            for r in rows
        ],
        note=_(
            "Companies with at least %(n)s quotes sent in the %(days)s days up to the "
            "end of the period, no won qualified lead and no booked order (at most "
            "%(limit)s, most quotes first; only quotes on leads you may see)."
        )
        % {
            "n": FREQUENT_QUOTES,
            "days": FREQUENT_QUOTES_DAYS,
            "limit": FREQUENT_QUOTES_LIMIT,
        },
        link_key="url",
    )


def _user_names(ids) -> dict:
    return {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=[i for i in ids if i is not None]).only(
            "pk", "username", "first_name", "last_name"
        )
    }


@register
class WinRatesReport(Report):
    name = "win-rates"
    number = 2
    title = gettext_lazy("Win rates")
    summary = gettext_lazy(
        "How many inquiries and quotes reach the end, where the rest drop out, and "
        "which kinds of business, customers and people win more often."
    )
    definitions = (
        gettext_lazy(
            "Funnel (cohort): the inquiries received in the period and what became of "
            "them, whenever that happened. Leads opened without an inquiry are not in "
            "the funnel."
        ),
        gettext_lazy(
            "Win rates (events): the qualified leads closed in the period, by their "
            "close date."
        ),
        gettext_lazy(
            "Win rate = won ÷ (won + lost + not going ahead). Not going ahead is the "
            "customer's no-decision; leads sent to marketing follow-up (nurture) are "
            "not a decision and are left out."
        ),
        gettext_lazy(
            "Win rate without no-decision = won ÷ (won + lost): only the deals "
            "decided between us and a competitor."
        ),
        gettext_lazy(
            "Win rate by value = Σ expected value won ÷ Σ expected value of the won, "
            "lost and not-going-ahead leads (a lead without a value counts as 0)."
        ),
        gettext_lazy(
            "Hit rate (quote to order) = won leads with a sent quote ÷ leads closed "
            "in the period (any result) that had a sent quote."
        ),
        gettext_lazy(
            "Contact type, at the moment the inquiry came in (for a lead without an "
            "inquiry: when the lead was opened), by the company (a person without a "
            "company: by the person): customer = a won qualified lead or a booked "
            "order before; known = not a customer, but an earlier inquiry or "
            "qualified lead; unknown = neither."
        ),
        gettext_lazy("Value bands use the expected value of the lead (in euros)."),
    )

    def compute(self, scope: Scope) -> ReportResult:
        funnel_counts = _funnel(scope)
        funnel, dropout, funnel_chart = _funnel_tables(funnel_counts)

        closed = scope.opportunities("closed_at").filter(status__in=CLOSED_RESULTS)
        # Two scans feed every breakdown: the lead's own fields, then the ones
        # through its company and inquiry (with the contact type, the dear part).
        own = grouped(
            closed.annotate(_band=value_band_expression()),
            "owner",
            "service_type",
            "_band",
        )
        related = grouped(
            closed.annotate(_contact_type=contact_type_expression()),
            "company__industry",
            "inquiry__department__name",
            "inquiry__campaign__name",
            "_contact_type",
        )
        overall = add_up(own)
        by_service = _breakdown(
            own, "service_type", lambda v: v or _("No service type")
        )
        names = _user_names({g["owner"] for g in own})
        by_person = _breakdown(own, "owner", lambda v: names.get(v, "?"))
        by_person.sort(key=lambda r: (-r["won_value"], r["name"]))
        band_order = [key for key, _low, _high in VALUE_BANDS] + ["none"]
        by_band = _breakdown(own, "_band", lambda v: str(VALUE_BAND_LABELS[v]))
        by_band.sort(key=lambda r: band_order.index(r["value"]))
        by_industry = _breakdown(
            related, "company__industry", lambda v: v or _("No industry")
        )
        by_contact_type = _breakdown(
            related,
            "_contact_type",
            lambda v: str(CONTACT_TYPE_LABELS.get(v, v)),
        )
        by_department = _breakdown(
            related, "inquiry__department__name", lambda v: v or _("No department")
        )
        by_campaign = _breakdown(
            related, "inquiry__campaign__name", lambda v: v or _("No campaign")
        )

        return ReportResult(
            figures=[
                (_("Inquiries received"), funnel_counts["inquiries"], Kind.INT),
                (
                    _("Inquiry → won"),
                    ratio(funnel_counts["won"], funnel_counts["inquiries"]),
                    Kind.RATIO,
                ),
                (_("Win rate"), overall["win_rate"], Kind.RATIO),
                (
                    _("Win rate without no-decision"),
                    overall["win_rate_decided"],
                    Kind.RATIO,
                ),
                (_("Win rate by value"), overall["win_rate_value"], Kind.RATIO),
                (_("Hit rate"), overall["hit_rate"], Kind.RATIO),
            ],
            charts=[
                funnel_chart,
                Chart(
                    key="win-rate-by-band",
                    title=_("Win rate by expected value"),
                    type="bar",
                    labels=[r["name"] for r in by_band],
                    datasets=[
                        Dataset(
                            _("Win rate"),
                            [r["win_rate"] for r in by_band],
                            Kind.RATIO,
                        )
                    ],
                ),
            ],
            tables=[
                funnel,
                dropout,
                _rate_table(
                    "service_type", _("By service type"), _("Service type"), by_service
                ),
                _rate_table("industry", _("By industry"), _("Industry"), by_industry),
                _rate_table(
                    "contact_type",
                    _("By contact type"),
                    _("Contact type"),
                    by_contact_type,
                    note=_(
                        "At the moment the inquiry came in: customer, known or "
                        "unknown (see How this is counted)."
                    ),
                ),
                _rate_table(
                    "department", _("By department"), _("Department"), by_department
                ),
                _rate_table("campaign", _("By campaign"), _("Campaign"), by_campaign),
                _rate_table("person", _("By owner"), _("Owner"), by_person),
                _rate_table(
                    "value_band",
                    _("By expected value"),
                    _("Expected value"),
                    by_band,
                ),
                _repeat_purchases(closed),
                _frequent_quoters(scope),
            ],
        )
