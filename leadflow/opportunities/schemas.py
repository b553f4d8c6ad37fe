"""Request and response shapes of the qualified-lead and quote API.

Money and probabilities are Decimals on the way in (bounded by the model's digits, so
hostile input is a 422, never a database error) and JSON numbers on the way out.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, StrictBool, StringConstraints

MAX_ID = 2**31 - 1

CriterionName = Annotated[str, StringConstraints(max_length=40)]
CriterionValue = StrictBool | Literal["met", "unknown", "not_met", "showstopper"]
EvidenceText = Annotated[str, StringConstraints(max_length=2000)]


def money(default=..., **extra):
    return Field(default, ge=0, max_digits=14, decimal_places=2, **extra)


def probability(default=None):
    return Field(default, ge=0, le=1, max_digits=4, decimal_places=3)


# --- qualified leads --------------------------------------------------------------------


class OpportunityFilters(Schema):
    status: str = Field(
        "open",
        max_length=20,
        description="open, won, lost, not_going_ahead, nurture; empty or 'all' for all",
    )
    owner: str | None = Field(None, max_length=150, description="owner's username")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="the owner's team id")
    stage: str | None = Field(None, max_length=40, description="stage code")
    service_type: str | None = Field(None, max_length=100)
    mine: bool = False


class OpportunityOut(Schema):
    id: int
    title: str
    status: str
    owner: str
    stage: str
    stage_name: str
    expected_value: float | None
    weighted_value: float | None
    decision_date: date | None
    start_date: date | None
    p_win: float | None
    p_go: float | None
    predicted_win: float | None = Field(
        None,
        description="the learned win probability (0-1); null unless the latest "
        "model beat the stage weights in its backtest",
    )
    decision_type: str
    service_type: str
    contact_id: int
    company_id: int | None
    inquiry_id: int | None
    created_at: datetime
    closed_at: datetime | None
    version: int


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    count: int
    page: int
    page_size: int
    pages: int


class StakeholderOut(Schema):
    contact_id: int
    name: str
    role: str
    clock_phase: int | None
    phase_name: str | None
    phase_since: datetime | None


class ClockOut(Schema):
    deal_phase: int | None
    spread: int
    warnings: list[str]


class TeamMemberOut(Schema):
    username: str
    name: str
    role: str


class CompetitorOut(Schema):
    name: str
    note: str


class ScorecardSummaryOut(Schema):
    framework: str
    version: int
    met: int
    total: int
    passes_gate: bool
    threshold: int
    work_remaining: int
    scored_at: datetime
    scored_by: str | None


class QuoteSummaryOut(Schema):
    id: int
    reference: str
    number: int
    revision: int
    status: str
    total: float
    gate_override: bool
    sent_at: datetime | None
    decided_at: datetime | None


class ActivityOut(Schema):
    id: int
    opportunity_id: int
    kind: str
    subject: str
    assignee: str
    due_at: datetime | None
    duration_minutes: int | None
    notes: str
    done: bool
    done_at: datetime | None
    created_at: datetime
    created_by: str | None


class OpportunityDetailOut(OpportunityOut):
    stage_entered_at: datetime | None
    result_reason: str
    follow_up_on: date | None
    follow_up_by: str
    follow_up_user: str | None
    stakeholders: list[StakeholderOut]
    clock: ClockOut
    team_members: list[TeamMemberOut]
    competitors: list[CompetitorOut]
    scorecards: list[ScorecardSummaryOut]
    quotes: list[QuoteSummaryOut]
    activities: list[ActivityOut]
    forecast_category: str = Field(
        ..., description="effective: the lead's own category, else its stage's"
    )
    forecast_category_override: str | None
    forecast_category_set_by: str | None
    forecast_category_set_at: datetime | None


class OpportunityPatch(Schema):
    """Any subset; ``null`` clears an optional field. ``stage`` and ``owner`` changes
    take ``reason`` (required for a stage move)."""

    version: int | None = Field(None, ge=1, le=MAX_ID)
    title: str | None = Field(None, max_length=200)
    owner: str | None = Field(None, max_length=150)
    stage: str | None = Field(None, max_length=40)
    reason: str | None = Field(None, max_length=5000)
    expected_value: Decimal | None = money(None)
    decision_date: date | None = None
    start_date: date | None = None
    p_win: Decimal | None = probability()
    p_go: Decimal | None = probability()
    decision_type: str | None = Field(None, max_length=20)
    service_type: str | None = Field(None, max_length=100)
    forecast_category: str | None = Field(
        None,
        max_length=20,
        description="pipeline, best_case, commit or omitted; null: the stage's",
    )


class StageIn(Schema):
    stage: str = Field(..., max_length=40)
    reason: str | None = Field(None, max_length=5000)


class OpportunityCloseIn(Schema):
    result: str = Field(..., max_length=20)
    reason: str | None = Field(None, max_length=5000)
    follow_up_on: date | None = None
    follow_up_by: str | None = Field(None, max_length=20)
    follow_up_user: str | None = Field(None, max_length=150)


# --- qualification ----------------------------------------------------------------------


class QualificationIn(Schema):
    framework: str = Field(..., max_length=10)
    criteria: dict[CriterionName, CriterionValue] = Field(..., max_length=20)
    evidence: dict[CriterionName, EvidenceText] | None = Field(None, max_length=20)
    note: str | None = Field(None, max_length=2000)


class QualificationOut(Schema):
    framework: str
    version: int
    met: int
    total: int
    passes_gate: bool
    threshold: int
    work_remaining: int
    criteria: dict[str, str]
    evidence: dict[str, str]
    note: str
    scored_at: datetime
    scored_by: str | None


# --- stakeholders, team, competitors, activities ---------------------------------------


class StakeholderIn(Schema):
    role: str = Field(..., max_length=30)
    clock_phase: int | None = Field(None, ge=1, le=1000)
    note: str | None = Field(None, max_length=1000)


class StakeholderChangeOut(StakeholderOut):
    deal_phase: int | None
    spread: int
    warnings: list[str]


class TeamMemberIn(Schema):
    role: str = Field(..., min_length=1, max_length=100)


class CompetitorIn(Schema):
    name: str = Field(..., max_length=150)
    note: str | None = Field(None, max_length=300)


class ActivityIn(Schema):
    kind: str = Field(..., max_length=12)
    subject: str = Field(..., max_length=200)
    assignee: str = Field(..., max_length=150)
    due_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(None, ge=0, le=100_000)
    notes: str | None = Field(None, max_length=10_000)


class ActivityDoneIn(Schema):
    done: bool = True


# --- quotes ------------------------------------------------------------------------------


class QuoteLineIn(Schema):
    description: str = Field(..., max_length=500)
    quantity: Decimal = Field(..., gt=0, max_digits=12, decimal_places=3)
    unit_price: Decimal = money()
    discount: Decimal = Field(Decimal("0"), ge=0, le=1, max_digits=4, decimal_places=3)


class QuoteIn(Schema):
    lines: list[QuoteLineIn] = Field(..., max_length=500)
    discount: Decimal = Field(Decimal("0"), ge=0, le=1, max_digits=4, decimal_places=3)
    vat_rate: Decimal | None = Field(None, ge=0, lt=1, max_digits=4, decimal_places=3)
    language: Literal["en", "nl"] | None = None
    valid_until: date | None = None
    notes: str | None = Field(None, max_length=10_000)
    override_reason: str | None = Field(None, max_length=5000)


class QuoteUpdateIn(Schema):
    """Replace the lines of a draft (and optionally its terms)."""

    version: int | None = Field(None, ge=1, le=MAX_ID)
    lines: list[QuoteLineIn] = Field(..., max_length=500)
    discount: Decimal | None = Field(None, ge=0, le=1, max_digits=4, decimal_places=3)
    vat_rate: Decimal | None = Field(None, ge=0, lt=1, max_digits=4, decimal_places=3)
    language: Literal["en", "nl"] | None = None
    valid_until: date | None = None
    notes: str | None = Field(None, max_length=10_000)


class QuoteAcceptIn(Schema):
    reason: str | None = Field(None, max_length=5000)
    close_as_won: bool = False


class QuoteDeclineIn(Schema):
    reason: str | None = Field(None, max_length=5000)


class QuoteLineOut(Schema):
    position: int
    description: str
    quantity: float
    unit_price: float
    discount: float
    gross: float
    net: float


class QuoteOut(Schema):
    id: int
    opportunity_id: int
    opportunity_status: str
    reference: str
    number: int
    revision: int
    status: str
    language: str
    lines: list[QuoteLineOut]
    subtotal: float
    discount: float
    discount_amount: float
    net: float
    vat_rate: float
    vat: float
    total: float
    valid_until: date | None
    notes: str
    gate_override: bool
    override_reason: str
    scotsman_met: int | None
    supersedes_id: int | None
    created_at: datetime
    created_by: str | None
    sent_at: datetime | None
    decided_at: datetime | None
    version: int
