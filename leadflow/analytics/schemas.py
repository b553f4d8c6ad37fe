"""Request and response shapes of the forecast API (SPEC: GET /api/forecast)."""

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

MAX_ID = 2**31 - 1


class ForecastQuery(Schema):
    by: str = Field(
        "month",
        max_length=20,
        description="month, quarter, service, owner, team or category",
    )
    date_from: date | None = Field(
        None, alias="from", description="decision date on or after"
    )
    date_to: date | None = Field(
        None, alias="to", description="decision date on or before"
    )
    owner: str | None = Field(None, max_length=150, description="owner's username")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="the owner's team id")
    service_type: str | None = Field(None, max_length=100)
    category: str | None = Field(
        None,
        max_length=200,
        description=(
            "forecast categories, comma-separated (pipeline, best_case, commit, "
            "closed, omitted); default: pipeline, best_case and commit"
        ),
    )
    snapshot: int | None = Field(
        None, ge=1, le=MAX_ID, description="answer from this snapshot instead of now"
    )


class ForecastRowOut(Schema):
    key: str | int | None = Field(
        ...,
        description=(
            "2026-03 (month), 2026-Q1 (quarter), the service type, the owner's "
            "username, the team id or the category; null: no date/type/team"
        ),
    )
    label: str
    weighted: float
    unweighted: float
    count: int


class ForecastTotalsOut(Schema):
    weighted: float
    unweighted: float
    count: int


class SnapshotOut(Schema):
    id: int
    taken_at: datetime
    taken_on: date
    kind: str
    taken_by: str | None
    lead_count: int | None = Field(
        ..., description="all open leads then (null unless you see every lead)"
    )
    unweighted: float | None
    weighted: float | None


class ForecastOut(Schema):
    by: str
    rows: list[ForecastRowOut]
    totals: ForecastTotalsOut
    snapshot: SnapshotOut | None


class SnapshotPage(Schema):
    items: list[SnapshotOut]
    count: int
    page: int
    page_size: int
    pages: int


# --- the analyses (GET /api/analytics/<name>) ------------------------------------------


class ReportQuery(Schema):
    date_from: str | None = Field(
        None,
        alias="from",
        max_length=10,
        description="first day of the period (YYYY-MM-DD or YYYY-MM); default: "
        "twelve months ago",
    )
    date_to: str | None = Field(
        None, alias="to", max_length=10, description="last day (default: today)"
    )
    channel: str | None = Field(None, max_length=10, description="channel id")
    campaign: str | None = Field(None, max_length=10, description="campaign id")
    department: str | None = Field(None, max_length=10, description="department id")
    team: str | None = Field(None, max_length=10, description="team id")
    person: str | None = Field(
        None, max_length=150, description="username (owner / assessor)"
    )
    service_type: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=100)
    fresh: bool = Field(
        False, description="compute now instead of serving a result kept by the worker"
    )

    def as_data(self) -> dict[str, str]:
        return {
            "from": self.date_from or "",
            "to": self.date_to or "",
            "channel": self.channel or "",
            "campaign": self.campaign or "",
            "department": self.department or "",
            "team": self.team or "",
            "person": self.person or "",
            "service_type": self.service_type or "",
            "industry": self.industry or "",
        }


class ReportColumnOut(Schema):
    key: str
    label: str
    kind: str


class ReportTableOut(Schema):
    key: str
    title: str
    note: str
    columns: list[ReportColumnOut]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None


class ReportDatasetOut(Schema):
    label: str
    kind: str
    type: str
    axis: str
    data: list[float | int | None]


class ReportChartOut(Schema):
    key: str
    title: str
    type: str
    stacked: bool
    labels: list[str]
    datasets: list[ReportDatasetOut]


class ReportFigureOut(Schema):
    label: str
    value: Any
    kind: str


class ReportOut(Schema):
    report: str
    title: str
    computed_at: datetime
    period: dict[str, str]
    filters: dict[str, str]
    definitions: list[str]
    figures: list[ReportFigureOut]
    notes: list[str]
    tables: list[ReportTableOut]
    charts: list[ReportChartOut]


class ReportIndexOut(Schema):
    name: str
    number: int
    title: str
    summary: str
    url: str
