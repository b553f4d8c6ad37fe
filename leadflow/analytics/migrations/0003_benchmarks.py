"""The published ratios of DOMAIN.md §7 as editable reference data (Benchmark): what
the process report (analysis 9) compares our own ratios with. Ranges where the source
gives one; a single published figure is stored as low = high."""

from decimal import Decimal as D

from django.db import migrations

HBR = (
    "Oldroyd, McElheran & Elkington, “The Short Life of Online Sales Leads”, "
    "Harvard Business Review"
)
IMPLISIT = "Implisit, about 500 US B2B companies on Salesforce (reported by eMarketer)"
MV3 = "mv3marketing glossary, Demand Waterfall (“typical enterprise”, no dataset)"
FAIRVIEW = "Fairview, marketing funnel metrics template (blog aggregator)"
B2BLEAD = "b2blead.io, B2B conversion rate (blog aggregator)"
ALTIOR = "Altior, RevOps dictionary: conversion rate (blog aggregator)"
CSO = "CSO Insights, Sales Management Optimization Key Trends (via CustomerThink)"
EBSTA = "Ebsta × Pavilion GTM Benchmarks, 4,000+ SaaS opportunities (cited second-hand)"
USERGEMS = "UserGems blog, citing Zippia and uPilot"

# (metric, label, low, high, unit, segment, source, year, definition)
BENCHMARKS = [
    (
        "speed_to_lead_1h",
        "Responded to a web lead within one hour",
        D("0.37"),
        D("0.37"),
        "ratio",
        "",
        HBR,
        2011,
        "Audit of about 2,200 US companies, each sent a web test lead: 37% responded "
        "within an hour, 16% within 1–24 h, 24% later, 23% never.",
    ),
    (
        "qualification_rate",
        "Lead → opportunity",
        D("0.13"),
        D("0.13"),
        "ratio",
        "",
        IMPLISIT,
        2014,
        "13% of leads became an opportunity, after 84 days on average. One dataset, "
        "reported second-hand.",
    ),
    (
        "qualification_rate",
        "Inquiry → MQL",
        D("0.10"),
        D("0.25"),
        "ratio",
        "",
        MV3,
        None,
        "Inquiry → marketing-qualified lead, “typical enterprise”; undated.",
    ),
    (
        "sql_to_opportunity",
        "SQL → opportunity",
        D("0.30"),
        D("0.50"),
        "ratio",
        "",
        FAIRVIEW,
        2026,
        "Sales-qualified lead → opportunity.",
    ),
    (
        "sql_to_opportunity",
        "SQL → opportunity",
        D("0.40"),
        D("0.80"),
        "ratio",
        "",
        B2BLEAD,
        2026,
        "Sales-qualified lead → opportunity.",
    ),
    (
        "sql_to_opportunity",
        "SQL → opportunity",
        D("0.60"),
        D("0.75"),
        "ratio",
        "",
        ALTIOR,
        2026,
        "Sales-qualified lead → opportunity.",
    ),
    (
        "mql_to_sql",
        "MQL → SQL",
        D("0.13"),
        D("0.22"),
        "ratio",
        "",
        FAIRVIEW,
        2026,
        "Ranges conflict between sources: stage definitions differ.",
    ),
    (
        "mql_to_sql",
        "MQL → SQL",
        D("0.30"),
        D("0.60"),
        "ratio",
        "",
        B2BLEAD,
        2026,
        "Ranges conflict between sources: stage definitions differ.",
    ),
    (
        "win_rate",
        "Opportunity → won",
        D("0.20"),
        D("0.30"),
        "ratio",
        "mid-market",
        B2BLEAD,
        2026,
        "Opportunity win rate, mid-market.",
    ),
    (
        "win_rate",
        "Opportunity → won",
        D("0.10"),
        D("0.20"),
        "ratio",
        "enterprise",
        B2BLEAD,
        2026,
        "Opportunity win rate, enterprise.",
    ),
    (
        "win_rate",
        "Opportunity → won",
        D("0.20"),
        D("0.35"),
        "ratio",
        "",
        FAIRVIEW,
        2026,
        "Opportunity win rate.",
    ),
    (
        "win_rate",
        "Opportunity → deal",
        D("0.06"),
        D("0.06"),
        "ratio",
        "",
        IMPLISIT,
        2014,
        "6% on average, after 18 days on average; the definitions look unusual.",
    ),
    (
        "win_rate",
        "Average win rate",
        D("0.19"),
        D("0.19"),
        "ratio",
        "SaaS",
        EBSTA,
        2025,
        "Average win rate 29% (2024) → 19% (2025); primary report not read.",
    ),
    (
        "win_rate",
        "Win rate on forecast deals",
        D("0.45"),
        D("0.45"),
        "ratio",
        "forecast deals",
        CSO,
        2011,
        "Win rate on deals already forecast: just over 50% (2006) to under 45% "
        "(2011); “no decision” about 25%.",
    ),
    (
        "lead_to_deal",
        "Lead → deal: referrals",
        D("0.0363"),
        D("0.0363"),
        "ratio",
        "referral",
        IMPLISIT,
        2014,
        "Lead → closed deal by source. Segment: the channel code compared.",
    ),
    (
        "lead_to_deal",
        "Lead → deal: website",
        D("0.0155"),
        D("0.0155"),
        "ratio",
        "web_form",
        IMPLISIT,
        2014,
        "Lead → closed deal by source. Segment: the channel code compared.",
    ),
    (
        "lead_to_deal",
        "Lead → deal: social",
        D("0.0147"),
        D("0.0147"),
        "ratio",
        "social",
        IMPLISIT,
        2014,
        "Lead → closed deal by source. Segment: the channel code compared.",
    ),
    (
        "lead_to_deal",
        "Lead → deal: trade shows",
        D("0.006"),
        D("0.006"),
        "ratio",
        "event",
        IMPLISIT,
        2014,
        "Lead → closed deal by source. Segment: the channel code compared.",
    ),
    (
        "lead_to_deal",
        "Lead → deal: webinars",
        D("0.005"),
        D("0.005"),
        "ratio",
        "webinar",
        IMPLISIT,
        2014,
        "Lead → closed deal by source. Segment: the channel code compared.",
    ),
    (
        "sales_cycle_days",
        "B2B sales cycle, mid-market",
        D("30"),
        D("180"),
        "days",
        "mid-market",
        USERGEMS,
        None,
        "Typically 1–6 months; measured on won deals, start events differ.",
    ),
    (
        "sales_cycle_days",
        "B2B sales cycle, new customers",
        D("120"),
        D("180"),
        "days",
        "new customers",
        USERGEMS,
        None,
        "4–6 months for new customers.",
    ),
    (
        "sales_cycle_days",
        "B2B sales cycle, existing customers",
        D("30"),
        D("90"),
        "days",
        "existing customers",
        USERGEMS,
        None,
        "1–3 months for existing customers.",
    ),
    (
        "sales_cycle_days",
        "B2B sales cycle, enterprise",
        D("180"),
        D("270"),
        "days",
        "enterprise",
        USERGEMS,
        None,
        "6–9 months.",
    ),
    (
        "sales_cycle_days",
        "Average B2B sales cycle",
        D("198"),
        D("198"),
        "days",
        "SaaS",
        EBSTA,
        2025,
        "6.5 months (2025), up from 4.9 months (2019); about 198 days.",
    ),
]


def add(apps, schema_editor):
    Benchmark = apps.get_model("analytics", "Benchmark")
    for metric, label, low, high, unit, segment, source, year, definition in BENCHMARKS:
        Benchmark.objects.update_or_create(
            metric=metric,
            label=label,
            segment=segment,
            source=source,
            defaults={
                "low": low,
                "high": high,
                "unit": unit,
                "year": year,
                "definition": definition,
            },
        )


def remove(apps, schema_editor):
    Benchmark = apps.get_model("analytics", "Benchmark")
    for metric, label, _low, _high, _unit, segment, source, _y, _d in BENCHMARKS:
        Benchmark.objects.filter(
            metric=metric, label=label, segment=segment, source=source
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_benchmark_winmodel")]
    operations = [migrations.RunPython(add, remove)]
