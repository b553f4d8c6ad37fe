"""The OpenAPI document describes each close call with its own body (two schemas
once shared the name CloseIn, and the document showed the lead's body for inquiries)."""

import pytest

pytestmark = pytest.mark.django_db


def body_fields(doc, path: str) -> list[str]:
    schema = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    name = schema["schema"]["$ref"].split("/")[-1]
    return list(doc["components"]["schemas"][name]["properties"])


def test_inquiry_and_lead_close_bodies_are_documented_as_the_contract_says(client):
    doc = client.get("/api/openapi.json").json()
    inquiry = body_fields(doc, "/api/inquiries/{inquiry_id}/close")
    lead = body_fields(doc, "/api/opportunities/{opportunity_id}/close")
    assert {"outcome", "reason", "owner", "marketing_lists"} <= set(inquiry)
    assert "result" not in inquiry
    assert {"result", "reason", "follow_up_on"} <= set(lead)
    assert "outcome" not in lead
