from datetime import datetime

from ninja import Field, Schema


class CompanyIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    size: int | None = Field(None, ge=0, le=10_000_000)


class ContactIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    company: CompanyIn | None = None
    job_title: str | None = Field(None, max_length=100)


class CompanyOut(Schema):
    id: int
    name: str
    size: int | None
    industry: str
    lifecycle: str
    is_key_prospect: bool
    last_sales_visit_at: datetime | None


class ContactPatch(Schema):
    version: int = Field(..., ge=1)
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    job_title: str | None = Field(None, max_length=100)
    lifecycle: str | None = Field(None, max_length=20)


class VisitIn(Schema):
    kind: str = Field("website", pattern="^(website|sales)$")
    at: datetime
    url: str = Field("", max_length=500)
    note: str = Field("", max_length=500)
    source: str = Field("", max_length=100)


class VisitOut(Schema):
    id: int
    kind: str
    at: datetime
    url: str
    note: str
    source: str


class ConsentIn(Schema):
    consent: str = Field(..., pattern="^(unknown|granted|opted_out)$")
    reason: str = Field("", max_length=500)
