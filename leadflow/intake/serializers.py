"""Plain-dict views of intake records, shared by the API and the HTMX pages."""

from django.conf import settings

from leadflow.intake.models import Inquiry, Order
from leadflow.intake.queries import ContactHistory, age_in_working_hours


def inquiry_out(inquiry: Inquiry) -> dict:
    age = age_in_working_hours(inquiry)
    opportunity = (
        getattr(inquiry, "opportunity", None)
        if inquiry.outcome == "qualified"
        else None
    )
    return {
        "id": inquiry.pk,
        "status": inquiry.status,
        "outcome": inquiry.outcome or None,
        "contact_id": inquiry.contact_id,
        "company_id": inquiry.company_id,
        "summary": inquiry.summary,
        "channel": inquiry.channel.code,
        "campaign": inquiry.campaign.name if inquiry.campaign_id else None,
        "referrer": inquiry.referrer,
        "prompted": inquiry.prompted,
        "received_by": inquiry.received_by.username if inquiry.received_by_id else None,
        "department": inquiry.department.name if inquiry.department_id else None,
        "received_at": inquiry.received_at,
        "assignee": inquiry.assignee.username if inquiry.assignee_id else None,
        "closed_at": inquiry.closed_at,
        "closed_by": inquiry.closed_by.username if inquiry.closed_by_id else None,
        "reason": inquiry.close_reason,
        "opportunity_id": opportunity.pk if opportunity else None,
        "age_working_hours": age,
        "overdue": inquiry.is_open and age > settings.LEADFLOW_TRIAGE_TARGET_HOURS,
        "version": inquiry.version,
    }


def order_out(order: Order) -> dict:
    return {
        "id": order.pk,
        "contact_id": order.contact_id,
        "company_id": order.company_id,
        "description": order.description,
        "amount": order.amount,
        "reference": order.reference,
        "ordered_at": order.ordered_at,
        "booked_by": order.booked_by.username if order.booked_by_id else None,
    }


def contact_out(history: ContactHistory) -> dict:
    c = history.contact
    return {
        "id": c.pk,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "job_title": c.job_title,
        "company_id": c.company_id,
        "company": c.company.name if c.company_id else None,
        "company_size": c.company.size if c.company_id else None,
        "marketing_lists": history.marketing_lists,
        "in_marketing_database": c.in_marketing_database,
        "marketing_consent": c.marketing_consent,
        "flags": history.flags,
        "last_sales_visit_at": history.last_sales_visit_at,
        "inquiries": [
            {
                "id": i.pk,
                "summary": i.summary[:300],
                "status": i.status,
                "outcome": i.outcome or None,
                "channel": i.channel.code,
                "received_at": i.received_at,
                "opportunity_id": _opportunity_id(i),
            }
            for i in history.inquiries
        ],
        "open_opportunities": [
            {
                "id": o.pk,
                "title": o.title,
                "owner": o.owner.username,
                "owner_name": str(o.owner),
                # Stage and value only for those who may open the lead.
                "stage": o.stage.code if o.details_visible else None,
                "status": o.status,
                "expected_value": o.expected_value if o.details_visible else None,
            }
            for o in history.open_opportunities
        ],
        "orders": [
            {
                "id": o.pk,
                "description": o.description[:300],
                "amount": o.amount,
                "ordered_at": o.ordered_at,
                "reference": o.reference,
            }
            for o in history.orders
        ],
        "website_visits": [
            {"at": v.at, "url": v.url, "source": v.source}
            for v in history.website_visits
        ],
        "version": c.version,
    }


def _opportunity_id(inquiry: Inquiry) -> int | None:
    if inquiry.outcome != "qualified":
        return None
    opportunity = getattr(inquiry, "opportunity", None)
    return opportunity.pk if opportunity else None
