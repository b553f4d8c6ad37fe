from datetime import date, datetime

from ninja import Schema


class OpportunityOut(Schema):
    id: int
    title: str
    status: str
    owner: str
    stage: str
    expected_value: float | None
    decision_date: date | None
    start_date: date | None
    p_win: float | None
    p_go: float | None
    decision_type: str
    service_type: str
    contact_id: int
    company_id: int | None
    inquiry_id: int | None
    created_at: datetime
    closed_at: datetime | None
    version: int
