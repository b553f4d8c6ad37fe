"""The analysis pages (SPEC step 5): an index, one page per report with its filters,
charts and tables, and the CSV/XLSX export of what the page shows.

Thin: parse the filters (a bad value is shown on the page, never a 500), check access,
``report.compute(scope)``, render or export.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache as django_cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leadflow.accounts.models import Department, Team, User
from leadflow.accounts.permissions import CAPABILITIES
from leadflow.analytics import cache as report_cache
from leadflow.analytics.export import table_csv, tables_xlsx
from leadflow.analytics.reports.base import report_for, reports_for, serialize
from leadflow.analytics.scope import (
    Scope,
    default_period,
    parse_filters,
    require_analytics,
)
from leadflow.contacts.models import Company
from leadflow.core.errors import ValidationFailed
from leadflow.intake.models import Campaign, Channel
from leadflow.opportunities.models import Opportunity

CHOICES_SECONDS = 300
CHOICES_LIMIT = 500


def _distinct(key: str, queryset, field: str) -> list[str]:
    """Distinct non-empty values (service types, industries), cached a few minutes:
    at a million rows a DISTINCT is not free and the lists rarely change."""

    def load():
        return list(
            queryset.exclude(**{field: ""})
            .order_by(field)
            .values_list(field, flat=True)
            .distinct()[:CHOICES_LIMIT]
        )

    return django_cache.get_or_set(f"analytics:choices:{key}", load, CHOICES_SECONDS)


def filter_choices() -> dict:
    return {
        "channels": Channel.objects.order_by("order", "name"),
        "campaigns": Campaign.objects.order_by("name"),
        "departments": Department.objects.order_by("name"),
        "teams": Team.objects.order_by("name"),
        "people": User.objects.filter(
            is_active=True,
            role__in=CAPABILITIES["opportunity.own"] | CAPABILITIES["inquiry.triage"],
        ).order_by("first_name", "last_name", "username"),
        "service_types": _distinct(
            "service_types", Opportunity.objects.all(), "service_type"
        ),
        "industries": _distinct("industries", Company.objects.all(), "industry"),
    }


@login_required
@require_GET
def analytics_index(request):
    require_analytics(request.user)
    reports = reports_for(request.user)
    return render(request, "analytics/index.html", {"reports": reports})


def _export(report, result, fmt: str, table_key: str, filters) -> HttpResponse:
    base = f"leadflow-{report.name}-{filters.date_from}-{filters.date_to}"
    if fmt == "xlsx":
        response = HttpResponse(
            tables_xlsx(result.tables),
            content_type="application/vnd.openxmlformats-officedocument."
            "spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{base}.xlsx"'
        return response
    table = result.table(table_key) if table_key else None
    table = table or (result.tables[0] if result.tables else None)
    if table is None:
        raise Http404("no table")
    body = "\ufeff" + table_csv(table)
    response = HttpResponse(
        body.encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{base}-{table.key}.csv"'
    return response


@login_required
@require_GET
def analytics_report(request, name: str):
    require_analytics(request.user)
    report = report_for(request.user, name)
    error = ""
    try:
        filters = parse_filters(request.GET)
    except ValidationFailed as exc:
        error = str(exc)
        date_from, date_to = default_period()
        filters = parse_filters(
            {"from": date_from.isoformat(), "to": date_to.isoformat()}
        )
    scope = Scope(user=request.user, filters=filters)
    computed = report_cache.compute(
        report, scope, fresh=request.GET.get("fresh") == "1"
    )
    result = computed.result
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx") and not error:
        return _export(report, result, fmt, request.GET.get("table", ""), filters)
    params = filters.as_params()
    context = {
        "report": report,
        "reports": reports_for(request.user),
        "result": result,
        "filters": filters,
        "params": params,
        "query": urlencode(params),
        "error": error,
        "document": serialize(report, scope, result, params),
        "computed": computed,
        **filter_choices(),
    }
    template = "analytics/report.html"
    if request.htmx and request.htmx.target == "report-body":
        template += "#report_body"
    return render(request, template, context, status=422 if error else 200)
