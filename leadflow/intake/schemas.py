from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema

from leadflow.contacts.schemas import ContactIn


class InquiryIn(Schema):
    contact: ContactIn | None = None
    contact_id: int | None = Field(None, ge=1)
    summary: str = Field(..., min_length=1, max_length=10_000)
    channel: str = Field(..., min_length=1, max_length=100)
    campaign: str | None = Field(None, max_length=150)
    referrer: str | None = Field(None, max_length=200)
    prompted: bool | None = None
    received_by: str | None = Field(None, max_length=150)
    department: str | None = Field(None, max_length=100)
    received_at: datetime | None = None


class InquiryOut(Schema):
    id: int
    status: str
    outcome: str | None
    contact_id: int
    company_id: int | None
    summary: str
    channel: str
    campaign: str | None
    referrer: str
    prompted: bool
    received_by: str | None
    department: str | None
    received_at: datetime
    assignee: str | None
    closed_at: datetime | None
    closed_by: str | None
    reason: str
    opportunity_id: int | None
    age_working_hours: float
    overdue: bool
    version: int


class InquiryPage(Schema):
    items: list[InquiryOut]
    count: int
    page: int
    page_size: int
    pages: int


class InquiryCloseIn(Schema):
    outcome: str = Field(..., pattern="^(qualified|nurture|archived)$")
    reason: str | None = Field(None, max_length=5000)
    owner: str | None = Field(None, max_length=150)
    marketing_lists: list[str] | None = Field(None, max_length=50)
    expected_value: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)


class CloseOut(Schema):
    id: int
    status: str
    outcome: str
    opportunity_id: int | None = None
    marketing_lists: list[str] = []


class AssignIn(Schema):
    assignee: str | None = Field(None, max_length=150)


class InquiryPatch(Schema):
    version: int = Field(..., ge=1)
    summary: str | None = Field(None, min_length=1, max_length=10_000)
    channel: str | None = Field(None, max_length=100)
    campaign: str | None = Field(None, max_length=150)
    referrer: str | None = Field(None, max_length=200)
    prompted: bool | None = None
    department: str | None = Field(None, max_length=100)


class LookupIn(Schema):
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=200)


class OpportunityBrief(Schema):
    id: int
    title: str
    owner: str
    owner_name: str
    stage: str | None = Field(
        None, description="null when the caller may not open this lead"
    )
    status: str
    expected_value: float | None = Field(
        None, description="null when unknown or the caller may not open this lead"
    )


class InquiryBrief(Schema):
    id: int
    summary: str
    status: str
    outcome: str | None
    channel: str
    received_at: datetime
    opportunity_id: int | None


class OrderBrief(Schema):
    id: int
    description: str
    amount: float | None
    ordered_at: datetime
    reference: str


class VisitBrief(Schema):
    at: datetime
    url: str
    source: str


class Flags(Schema):
    lifecycle: str
    customer: bool
    ex_customer: bool
    key_prospect: bool
    in_marketing_database: bool
    marketing_consent: str
    opted_out: bool
    overdue_invoices: int = 0
    open_complaints: int = 0


class ContactDetailOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    job_title: str
    company_id: int | None
    company: str | None
    company_size: int | None
    marketing_lists: list[str]
    in_marketing_database: bool
    marketing_consent: str
    flags: Flags
    last_sales_visit_at: datetime | None
    inquiries: list[InquiryBrief]
    open_opportunities: list[OpportunityBrief]
    orders: list[OrderBrief]
    website_visits: list[VisitBrief]
    version: int


class MatchOut(ContactDetailOut):
    score: int
    matched_on: list[str]


class CompanyMatch(Schema):
    id: int
    name: str
    size: int | None
    lifecycle: str
    is_key_prospect: bool


class LookupOut(Schema):
    matches: list[MatchOut]
    companies: list[CompanyMatch]


class OrderIn(Schema):
    contact_id: int | None = Field(None, ge=1)
    company_id: int | None = Field(None, ge=1)
    description: str = Field(..., min_length=1, max_length=5000)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    reference: str | None = Field(None, max_length=100)
    ordered_at: datetime | None = None
    channel: str | None = Field(None, max_length=100)


class OrderOut(Schema):
    id: int
    contact_id: int | None
    company_id: int | None
    description: str
    amount: float | None
    reference: str
    ordered_at: datetime
    booked_by: str | None


class HandoverIn(Schema):
    question: str = Field(..., min_length=1, max_length=5000)
    channel: str | None = Field(None, max_length=100)
