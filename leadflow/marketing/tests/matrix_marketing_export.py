"""Permission-matrix rows (merged by core/tests/test_permission_matrix.py): a marketing
list's export for mailing tools, the public unsubscribe page and consent history.

Exports hold personal data for mailings: marketing and admins only (marketing.manage).
The unsubscribe page is public (the token is the key): the same for every visitor.
"""

from leadflow.contacts.models import Consent
from leadflow.contacts.tests.factories import make_contact
from leadflow.marketing.actions import record_consent
from leadflow.marketing.unsubscribe import token_for

PAGES = {
    "marketing_list_export": ("GET", "/marketing/lists/{mlist}/export/"),
    "marketing_list_export_download": (
        "GET",
        "/marketing/lists/{mlist}/export/download/",
    ),
    "marketing_unsubscribe": ("GET", "/unsubscribe/{unsubscribe_token}/"),
}

PAGE_MATRIX = {
    "marketing_list_export": "ok    403   403   403   403   ok    403   login",
    "marketing_list_export_download": "ok    403   403   403   403   ok    403   login",
    "marketing_unsubscribe": "ok    ok    ok    ok    ok    ok    ok    ok",
}

API_MATRIX = {
    "GET /api/marketing/lists/{list_id}/export": (
        "ok    403   403   403   403   ok    403   401"
    ),
    "GET /api/marketing/lists/{list_id}/export-summary": (
        "ok    403   403   403   403   ok    403   401"
    ),
    "GET /api/contacts/{contact_id}/consent-history": (
        "ok    ok    ok    ok    ok    ok    ok    401"
    ),
}

PARAMS = {"list_id": "mlist"}


def build(users) -> dict:
    """A contact who granted consent: the unsubscribe link the matrix opens."""
    contact = make_contact("Matrix Subscriber", email="subscriber@matrix.example.be")
    record_consent(
        contact, actor=users["marketer"], consent=Consent.GRANTED, reason="matrix"
    )
    return {"unsubscribe_token": token_for(contact)}
