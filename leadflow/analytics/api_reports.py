"""``GET /api/analytics/<name>``: each analysis as JSON, one path per report (SPEC
contract), and ``GET /api/analytics`` listing them. The same Scope and the same
``compute`` as the pages and the exports; an unknown filter value is a 422."""

from django.urls import reverse
from ninja import Query, Router

from leadflow.analytics import cache
from leadflow.analytics.reports import ordered_reports
from leadflow.analytics.reports.base import Report, report_for, reports_for, serialize
from leadflow.analytics.schemas import ReportIndexOut, ReportOut, ReportQuery
from leadflow.analytics.scope import require_analytics, scope_for
from leadflow.api.schemas import ErrorOut

router = Router(tags=["analytics"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("/analytics", response={200: list[ReportIndexOut], **ERRORS})
def report_index(request):
    """The analyses this API serves, in SPEC order."""
    require_analytics(request.auth)
    return [
        {
            "name": r.name,
            "number": r.number,
            "title": str(r.title),
            "summary": str(r.summary),
            "url": reverse("api:analytics_" + r.name.replace("-", "_")),
        }
        for r in reports_for(request.auth)
    ]


def _operation(report: Report):
    def view(request, query: Query[ReportQuery]):
        scope = scope_for(request.auth, query.as_data())
        report_for(request.auth, report.name)
        computed = cache.compute(report, scope, fresh=query.fresh)
        document = serialize(report, scope, computed.result, scope.filters.as_params())
        document["computed_at"] = computed.computed_at
        return document

    view.__name__ = "analytics_" + report.name.replace("-", "_")
    return view


for _report in ordered_reports():
    router.get(
        f"/analytics/{_report.name}",
        response={200: ReportOut, **ERRORS},
        url_name="analytics_" + _report.name.replace("-", "_"),
        operation_id="analytics_" + _report.name.replace("-", "_"),
        summary=str(_report.title),
        description=f"{_report.summary}\n\n"
        + "\n".join(f"- {d}" for d in _report.definitions),
    )(_operation(_report))
