"""3. Sources: where inquiries, qualified leads, won business and new customers come
from (SPEC step 5; DOMAIN.md §8 KPIs 1, 3 and 8 by source, lead velocity).

Cohort counting: the inquiries received in the period, and what became of them
(qualified, won) whenever that happened. Volumes per month are event counts by the
date received.

A new customer is a won lead of the cohort whose customer — the inquiry's company, or
its contact when there is no company — had no won lead closed and no order booked
before the inquiry was received. Checked in SQL with two indexed ``EXISTS`` per won
row (opportunities by company/contact and status, orders by company/contact and date);
the history is the company's, whoever may see it: only the count is shown.
"""

from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import Department
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
from leadflow.intake.models import Campaign, Channel, Order
from leadflow.intake.states import Outcome
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.states import OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=2)
CENT = Decimal("0.01")
TOP_REFERRERS = 20


WON = Q(opportunity__status=OpportunityStatus.WON)


def new_customer_q() -> Q:
    """On inquiries: won, and the customer (company, else contact) had no won lead
    and no order before the inquiry was received."""
    won_before = Opportunity.objects.filter(
        status=OpportunityStatus.WON, closed_at__lt=OuterRef("received_at")
    )
    ordered_before = Order.objects.filter(ordered_at__lt=OuterRef("received_at"))
    by_company = Q(company__isnull=False) & ~Q(
        Exists(won_before.filter(company=OuterRef("company")))
        | Exists(ordered_before.filter(company=OuterRef("company")))
    )
    by_contact = Q(company__isnull=True) & ~Q(
        Exists(won_before.filter(contact=OuterRef("contact")))
        | Exists(ordered_before.filter(contact=OuterRef("contact")))
    )
    return WON & (by_company | by_contact)


COUNTED = ("inquiries", "qualified", "qualified_value", "won", "won_value")


def _counts(qs, *groups: str, new_customers: bool = False) -> list[dict]:
    """Per combination of ``groups``: inquiries, qualified (and their expected
    value), won, the won value and optionally the new customers."""
    extra = (
        {"new_customers": Count("pk", filter=new_customer_q())} if new_customers else {}
    )
    return list(
        qs.values(*groups)
        .annotate(
            inquiries=Count("pk"),
            qualified=Count("pk", filter=Q(outcome=Outcome.QUALIFIED)),
            qualified_value=Coalesce(
                Sum(
                    "opportunity__expected_value",
                    filter=Q(outcome=Outcome.QUALIFIED),
                ),
                0,
                output_field=MONEY,
            ),
            won=Count("pk", filter=WON),
            won_value=Coalesce(
                Sum("opportunity__expected_value", filter=WON),
                0,
                output_field=MONEY,
            ),
            **extra,
        )
        .order_by()
    )


def _roll_up(groups: list[dict], key: str) -> list[dict]:
    """Sum the fine-grained groups per value of ``key``, most inquiries first (ties
    in the key's order, None last)."""
    sums: dict = {}
    for g in groups:
        total = sums.setdefault(
            g[key], dict.fromkeys((*COUNTED, "new_customers"), 0) | {key: g[key]}
        )
        for field in (*COUNTED, "new_customers"):
            total[field] += g.get(field) or 0
    return sorted(
        sums.values(),
        key=lambda r: (-r["inquiries"], r[key] is None, r[key] or 0),
    )


def _money(value) -> Decimal:
    """Cents, whatever the database returns (SQLite sums come back unscaled)."""
    return Decimal(value or 0).quantize(CENT)


def _row(label: str, counts: dict) -> dict:
    return {
        "name": label,
        "inquiries": counts["inquiries"],
        "qualified": counts["qualified"],
        "qualification_rate": ratio(counts["qualified"], counts["inquiries"]),
        "qualified_value": _money(counts["qualified_value"]),
        "won": counts["won"],
        "conversion": ratio(counts["won"], counts["inquiries"]),
        "won_value": _money(counts["won_value"]),
        "new_customers": counts.get("new_customers"),
    }


def _columns(first: str, *, new_customers: bool = False) -> list[Column]:
    return [
        Column("name", first),
        Column("inquiries", _("Inquiries"), Kind.INT),
        Column("qualified", _("Qualified"), Kind.INT),
        Column("qualification_rate", _("Qualification rate"), Kind.RATIO),
        Column("won", _("Won"), Kind.INT),
        Column("conversion", _("Inquiry → won"), Kind.RATIO),
        Column("won_value", _("Won value"), Kind.MONEY),
        *(
            [Column("new_customers", _("New customers"), Kind.INT)]
            if new_customers
            else []
        ),
    ]


def _totals(rows: list[dict]) -> dict:
    inquiries = sum(r["inquiries"] for r in rows)
    qualified = sum(r["qualified"] for r in rows)
    won = sum(r["won"] for r in rows)
    return {
        "inquiries": inquiries,
        "qualified": qualified,
        "qualification_rate": ratio(qualified, inquiries),
        "qualified_value": sum(r["qualified_value"] for r in rows),
        "won": won,
        "conversion": ratio(won, inquiries),
        "won_value": sum(r["won_value"] for r in rows),
        "new_customers": sum(r["new_customers"] or 0 for r in rows),
    }


def _velocity(current: int, previous: int) -> float | None:
    """Lead velocity (KPI 1): (this period − previous period) ÷ previous period."""
    return ratio(current - previous, previous)


@register
class SourcesReport(Report):
    name = "sources"
    number = 3
    title = gettext_lazy("Sources")
    summary = gettext_lazy(
        "Where inquiries, qualified leads, won business and new customers come from: "
        "by channel, campaign, referrer and department, and over time."
    )
    definitions = (
        gettext_lazy(
            "Cohort: the inquiries received in the period; qualified and won count "
            "what became of those inquiries, whenever that happened."
        ),
        gettext_lazy("Qualification rate = qualified ÷ inquiries (same cohort)."),
        gettext_lazy(
            "Inquiry → won = won qualified leads ÷ inquiries (same cohort); compare "
            "with the lead → deal benchmarks per source."
        ),
        gettext_lazy(
            "Won value and qualified value: the expected value of the won, "
            "respectively all qualified leads of the cohort (leads without a value "
            "count as 0)."
        ),
        gettext_lazy(
            "New customers: won leads of the cohort whose company (or, without a "
            "company, whose contact) had no won lead closed and no order booked "
            "before the inquiry was received."
        ),
        gettext_lazy(
            "Lead velocity = (inquiries in the period − inquiries in the previous "
            "period of the same number of days) ÷ inquiries in the previous period; "
            "— when the previous period had none."
        ),
        gettext_lazy(
            "Per month: inquiries by the month received, in the company's time zone; "
            "the first and last month may be partial."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        inquiries = scope.inquiries("received_at")
        previous_scope = scope.with_filters(scope.filters.previous_period())
        previous = dict(
            previous_scope.inquiries("received_at")
            .values("channel")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("channel", "n")
        )
        months = scope.months()
        # One pass over the cohort: every table and chart below is a roll-up of
        # these groups (channel × campaign × department × month).
        groups = _counts(
            inquiries.annotate(_m=periods.bucket_expression("received_at", months)),
            "channel",
            "campaign",
            "department",
            "_m",
            new_customers=True,
        )
        channels = {c.pk: str(c) for c in Channel.objects.all()}
        by_channel = []
        for r in _roll_up(groups, "channel"):
            row = _row(channels.get(r["channel"], "?"), r)
            row["previous"] = previous.pop(r["channel"], 0)
            row["velocity"] = _velocity(row["inquiries"], row["previous"])
            by_channel.append(row)
        for pk, n in sorted(previous.items(), key=lambda kv: (-kv[1], kv[0])):
            # Channels with inquiries only in the previous period: a drop to zero.
            row = _row(channels.get(pk, "?"), dict.fromkeys(COUNTED, 0))
            row["new_customers"] = 0
            row["previous"] = n
            row["velocity"] = _velocity(0, n)
            by_channel.append(row)
        channel_totals = _totals(by_channel)
        channel_totals["previous"] = sum(r["previous"] for r in by_channel)
        channel_totals["velocity"] = _velocity(
            channel_totals["inquiries"], channel_totals["previous"]
        )

        campaigns = {
            c.pk: c for c in Campaign.objects.select_related("channel").order_by()
        }
        by_campaign = []
        for r in _roll_up(groups, "campaign"):
            campaign = campaigns.get(r["campaign"])
            row = _row(campaign.name if campaign else _("No campaign"), r)
            row["campaign_channel"] = (
                str(campaign.channel) if campaign and campaign.channel else ""
            )
            row["starts_on"] = campaign.starts_on if campaign else None
            row["ends_on"] = campaign.ends_on if campaign else None
            by_campaign.append(row)
        by_referrer = [
            _row(r["referrer"], r)
            for r in sorted(
                _counts(inquiries.exclude(referrer=""), "referrer"),
                key=lambda r: (-r["inquiries"], r["referrer"]),
            )[:TOP_REFERRERS]
        ]
        departments = dict(Department.objects.values_list("pk", "name"))

        def department_name(pk) -> str:
            return departments.get(pk) or _("No department")

        by_department = [
            _row(department_name(r["department"]), r)
            for r in _roll_up(groups, "department")
        ]
        for row in by_department:
            row["new_customers"] = None  # not a column of this table

        series: dict[int, list[int]] = {}
        per_department: dict[str, list[int]] = {}
        for g in groups:
            if g["_m"] is None:
                continue
            n = g["inquiries"]
            series.setdefault(g["channel"], [0] * len(months))[g["_m"]] += n
            name = department_name(g["department"])
            per_department.setdefault(name, [0] * len(months))[g["_m"]] += n
        department_order = sorted(
            per_department.items(), key=lambda kv: (-sum(kv[1]), kv[0])
        )
        department_months = [
            {"name": name, "total": sum(data), **{b.key: data[b.index] for b in months}}
            for name, data in department_order
        ]

        return ReportResult(
            figures=[
                (_("Inquiries"), channel_totals["inquiries"], Kind.INT),
                (_("Inquiries, previous period"), channel_totals["previous"], Kind.INT),
                (_("Lead velocity"), channel_totals["velocity"], Kind.RATIO),
                (
                    _("Qualification rate"),
                    channel_totals["qualification_rate"],
                    Kind.RATIO,
                ),
                (_("Inquiry → won"), channel_totals["conversion"], Kind.RATIO),
                (_("New customers"), channel_totals["new_customers"], Kind.INT),
            ],
            charts=[
                Chart(
                    key="inquiries-per-month",
                    title=_("Inquiries per month by channel"),
                    type="bar",
                    stacked=True,
                    labels=[b.label for b in months],
                    datasets=[
                        Dataset(channels.get(pk, "?"), data)
                        for pk, data in sorted(
                            series.items(), key=lambda kv: (-sum(kv[1]), kv[0])
                        )
                    ],
                ),
                Chart(
                    key="department-per-month",
                    title=_("Inquiries per month by department"),
                    type="line",
                    labels=[b.label for b in months],
                    datasets=[Dataset(name, data) for name, data in department_order],
                ),
            ],
            tables=[
                Table(
                    "channel",
                    _("By channel"),
                    [
                        *_columns(_("Channel"), new_customers=True),
                        Column("previous", _("Inquiries, previous period"), Kind.INT),
                        Column("velocity", _("Lead velocity"), Kind.RATIO),
                    ],
                    by_channel,
                    channel_totals,
                ),
                Table(
                    "campaign",
                    _("By campaign"),
                    [
                        Column("name", _("Campaign")),
                        Column("campaign_channel", _("Campaign channel")),
                        Column("starts_on", _("Starts on"), Kind.DATE),
                        Column("ends_on", _("Ends on"), Kind.DATE),
                        *_columns("", new_customers=True)[1:4],
                        Column("qualified_value", _("Qualified value"), Kind.MONEY),
                        *_columns("", new_customers=True)[4:],
                    ],
                    by_campaign,
                    _totals(by_campaign),
                ),
                Table(
                    "referrer",
                    _("By referrer (top %(n)s)") % {"n": TOP_REFERRERS},
                    _columns(_("Referred by")),
                    by_referrer,
                ),
                Table(
                    "department",
                    _("By department"),
                    _columns(_("Department")),
                    by_department,
                    _totals(by_department),
                ),
                Table(
                    "department-month",
                    _("Inquiries per department per month"),
                    [
                        Column("name", _("Department")),
                        *(Column(b.key, b.label, Kind.INT) for b in months),
                        Column("total", _("Total"), Kind.INT),
                    ],
                    department_months,
                    {
                        "total": sum(r["total"] for r in department_months),
                        **{
                            b.key: sum(r[b.key] for r in department_months)
                            for b in months
                        },
                    },
                ),
            ],
        )
