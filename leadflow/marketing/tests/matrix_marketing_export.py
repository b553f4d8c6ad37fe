"""Permission-matrix rows (merged by core/tests/test_permission_matrix.py): a marketing
list's export for mailing tools, the public unsubscribe page and consent history.

Exports hold personal data for mailings: marketing and admins only (marketing.manage).
The unsubscribe page is public (the token is the key): the same for every visitor.
"""

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
