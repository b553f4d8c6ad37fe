"""The shape every analysis shares: tables, charts and definitions, computed once from
a :class:`~leadflow.analytics.scope.Scope` and shown by the page, exported to CSV and
XLSX, and returned as JSON by ``GET /api/analytics/<name>``.

A report is a class with a ``name`` (its URL slug), a number (SPEC step 5), a title,
a one-line summary, the definitions written on its page (DOMAIN.md §8) and
``compute(scope)``. Register it with :func:`register`; every module in this package
is imported at start-up, so a new file is all a new report needs.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.http import Http404

from leadflow.accounts.permissions import has_capability
from leadflow.analytics.scope import Scope


class Kind:
    """How a value is shown (and exported): the JSON always carries the raw number."""

    TEXT = "text"
    INT = "int"
    MONEY = "money"
    RATIO = "ratio"  # 0–1, shown as a percentage
    DAYS = "days"
    HOURS = "hours"
    NUMBER = "number"  # a plain decimal figure
    DATE = "date"


@dataclass
class Column:
    key: str
    label: str
    kind: str = Kind.TEXT


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] | None = None
    note: str = ""
    # Key of the row field holding a link for the first column (pages only).
    link_key: str = ""


@dataclass
class Dataset:
    label: str
    data: list[float | int | Decimal | None]
    kind: str = Kind.INT
    # Chart.js type for a mixed chart ("line" over bars), and the right-hand axis.
    type: str = ""
    axis: str = ""


@dataclass
class Chart:
    key: str
    title: str
    type: str  # bar, line, doughnut, horizontalBar
    labels: list[str]
    datasets: list[Dataset]
    stacked: bool = False


@dataclass
class ReportResult:
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    # Short findings shown above the tables ("3 inquiries came back after
    # disqualification"); figures only, no advice.
    notes: list[str] = field(default_factory=list)
    # Headline figures: [(label, value, kind)].
    figures: list[tuple[str, Any, str]] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


class Report(ABC):
    name: ClassVar[str]
    number: ClassVar[int]
    title: ClassVar[str]
    summary: ClassVar[str]
    definitions: ClassVar[tuple[str, ...]] = ()
    # Capability beyond analytics.view (None: everyone who sees analyses).
    capability: ClassVar[str | None] = None

    @abstractmethod
    def compute(self, scope: Scope) -> ReportResult:
        """The report's tables, charts, notes and figures for this scope."""

    def visible_to(self, user) -> bool:
        """The report's own capability, if it has one, on top of analytics.view."""
        return not self.capability or has_capability(user, self.capability)


REPORTS: dict[str, Report] = {}


def register(cls: type[Report]) -> type[Report]:
    if cls.name in REPORTS:
        raise ValueError(f"Two analytics reports are called {cls.name!r}.")
    REPORTS[cls.name] = cls()
    return cls


def ordered_reports() -> list[Report]:
    return sorted(REPORTS.values(), key=lambda r: (r.number, r.name))


def reports_for(user) -> list[Report]:
    """The reports ``user`` may open, in SPEC order (index page, menu, API index)."""
    return [r for r in ordered_reports() if r.visible_to(user)]


def report_for(user, name: str) -> Report:
    """The report called ``name`` if ``user`` may open it; 404 otherwise (an unknown
    report and one hidden by its capability look the same)."""
    report = REPORTS.get(name)
    if report is None or not report.visible_to(user):
        raise Http404(name)
    return report


# --- small helpers the reports share ---------------------------------------------------


def ratio(part: int | Decimal | None, whole: int | Decimal | None) -> float | None:
    """part / whole, None when there is nothing to divide by (shown as "—")."""
    if not whole or part is None:
        return None
    return float(part) / float(whole)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (float(ordered[mid - 1]) + float(ordered[mid])) / 2


def mean(values: list[float]) -> float | None:
    return sum(float(v) for v in values) / len(values) if values else None


def days_between(start, end) -> float:
    """Elapsed days between two datetimes (or dates), as a float."""
    if isinstance(start, date) and not hasattr(start, "hour"):
        return float((end - start).days)
    return (end - start).total_seconds() / 86400


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def serialize(
    report: Report, scope: Scope, result: ReportResult, params: dict[str, str]
) -> dict:
    """The JSON document of ``GET /api/analytics/<name>``."""
    return {
        "report": report.name,
        "title": str(report.title),
        "period": {
            "from": scope.filters.date_from.isoformat(),
            "to": scope.filters.date_to.isoformat(),
        },
        "filters": params,
        "definitions": [str(d) for d in report.definitions],
        "figures": [
            {"label": str(label), "value": json_value(value), "kind": kind}
            for label, value, kind in result.figures
        ],
        "notes": [str(n) for n in result.notes],
        "tables": [
            {
                "key": t.key,
                "title": str(t.title),
                "note": str(t.note),
                "columns": [
                    {"key": c.key, "label": str(c.label), "kind": c.kind}
                    for c in t.columns
                ],
                "rows": [
                    {c.key: json_value(row.get(c.key)) for c in t.columns}
                    for row in t.rows
                ],
                "totals": (
                    {c.key: json_value(t.totals.get(c.key)) for c in t.columns}
                    if t.totals
                    else None
                ),
            }
            for t in result.tables
        ],
        "charts": [
            {
                "key": ch.key,
                "title": str(ch.title),
                "type": ch.type,
                "stacked": ch.stacked,
                "labels": [str(label) for label in ch.labels],
                "datasets": [
                    {
                        "label": str(d.label),
                        "kind": d.kind,
                        "type": d.type,
                        "axis": d.axis,
                        "data": [json_value(v) for v in d.data],
                    }
                    for d in ch.datasets
                ],
            }
            for ch in result.charts
        ],
    }


Formatter = Callable[[Any], str]
