"""Request and response shapes of the forecast API (SPEC: GET /api/forecast)."""

from datetime import date, datetime

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
