"""3. Sources: where inquiries, qualified leads and won business come from (SPEC step 5;
DOMAIN.md §8 KPIs 1, 3 and 8 by source).

Cohort counting: the inquiries received in the period, and what became of them
(qualified, won) whenever that happened. Volumes per month are event counts by the
date received.
"""

from django.db.models import Count, DecimalField, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
from leadflow.intake.models import Campaign, Channel
from leadflow.intake.states import Outcome
from leadflow.opportunities.states import OpportunityStatus

MONEY = DecimalField(max_digits=20, decimal_places=2)
TOP_REFERRERS = 20


def _counts(qs, group: str) -> list[dict]:
    """Per value of ``group``: inquiries, qualified, won and the won value."""
    return list(
        qs.values(group)
        .annotate(
            inquiries=Count("pk"),
            qualified=Count("pk", filter=Q(outcome=Outcome.QUALIFIED)),
            won=Count("pk", filter=Q(opportunity__status=OpportunityStatus.WON)),
            won_value=Coalesce(
                Sum(
                    "opportunity__expected_value",
                    filter=Q(opportunity__status=OpportunityStatus.WON),
                ),
                0,
                output_field=MONEY,
            ),
        )
        .order_by("-inquiries")
    )


def _row(label: str, counts: dict) -> dict:
    return {
        "name": label,
        "inquiries": counts["inquiries"],
        "qualified": counts["qualified"],
        "qualification_rate": ratio(counts["qualified"], counts["inquiries"]),
        "won": counts["won"],
        "conversion": ratio(counts["won"], counts["inquiries"]),
        "won_value": counts["won_value"],
    }


def _columns(first: str) -> list[Column]:
    return [
        Column("name", first),
        Column("inquiries", _("Inquiries"), Kind.INT),
        Column("qualified", _("Qualified"), Kind.INT),
        Column("qualification_rate", _("Qualification rate"), Kind.RATIO),
        Column("won", _("Won"), Kind.INT),
        Column("conversion", _("Inquiry → won"), Kind.RATIO),
        Column("won_value", _("Won value"), Kind.MONEY),
    ]


def _totals(rows: list[dict]) -> dict:
    inquiries = sum(r["inquiries"] for r in rows)
    qualified = sum(r["qualified"] for r in rows)
    won = sum(r["won"] for r in rows)
    return {
        "inquiries": inquiries,
        "qualified": qualified,
        "qualification_rate": ratio(qualified, inquiries),
        "won": won,
        "conversion": ratio(won, inquiries),
        "won_value": sum(r["won_value"] for r in rows),
    }


@register
class SourcesReport(Report):
    name = "sources"
    number = 3
    title = gettext_lazy("Sources")
    summary = gettext_lazy(
        "Where inquiries, qualified leads and won business come from: by channel, "
        "campaign, referrer and department, and over time."
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
        gettext_lazy("Won value: the expected value of the won qualified leads."),
    )

    def compute(self, scope: Scope) -> ReportResult:
        inquiries = scope.inquiries("received_at")
        channels = {c.pk: str(c) for c in Channel.objects.all()}
        by_channel = [
            _row(channels.get(r["channel"], "?"), r)
            for r in _counts(inquiries, "channel")
        ]
        campaign_names = dict(Campaign.objects.values_list("pk", "name"))
        by_campaign = [
            _row(campaign_names.get(r["campaign"]) or _("No campaign"), r)
            for r in _counts(inquiries, "campaign")
        ]
        by_referrer = [
            _row(r["referrer"], r)
            for r in _counts(inquiries.exclude(referrer=""), "referrer")[:TOP_REFERRERS]
        ]
        by_department = [
            _row(r["department__name"] or _("No department"), r)
            for r in _counts(inquiries, "department__name")
        ]

        months = scope.months()
        monthly = (
            inquiries.annotate(_m=periods.bucket_expression("received_at", months))
            .values("_m", "channel")
            .annotate(n=Count("pk"))
            .order_by()
        )
        series: dict[int, list[int]] = {}
        for row in monthly:
            if row["_m"] is None:
                continue
            series.setdefault(row["channel"], [0] * len(months))[row["_m"]] += row["n"]

        return ReportResult(
            figures=[
                (_("Inquiries"), _totals(by_channel)["inquiries"], Kind.INT),
                (
                    _("Qualification rate"),
                    _totals(by_channel)["qualification_rate"],
                    Kind.RATIO,
                ),
                (_("Inquiry → won"), _totals(by_channel)["conversion"], Kind.RATIO),
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
                            series.items(), key=lambda kv: -sum(kv[1])
                        )
                    ],
                ),
            ],
            tables=[
                Table(
                    "channel",
                    _("By channel"),
                    _columns(_("Channel")),
                    by_channel,
                    _totals(by_channel),
                ),
                Table(
                    "campaign", _("By campaign"), _columns(_("Campaign")), by_campaign
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
                ),
            ],
        )
