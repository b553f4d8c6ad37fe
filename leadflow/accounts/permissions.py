"""Who may do what: the one table of role capabilities, checked on every page and call.

Object-level scoping (which inquiries or qualified leads a user sees) lives in each
app's ``queries.py`` and uses these capabilities.
"""

from django.core.exceptions import PermissionDenied

from leadflow.accounts.models import Role, User

ALL_ROLES = frozenset(Role.values)
SALES_SIDE = frozenset({Role.INSIDE_SALES, Role.SALES, Role.SALES_DIRECTOR, Role.ADMIN})

CAPABILITIES: dict[str, frozenset[str]] = {
    # Any colleague can register an inquiry that reached them (SPEC step 1).
    "inquiry.register": ALL_ROLES,
    # Triage: assess and close inquiries one by one (SPEC step 2).
    "inquiry.triage": frozenset({Role.INSIDE_SALES, Role.SALES_DIRECTOR, Role.ADMIN}),
    "inquiry.view_all": frozenset(
        {Role.INSIDE_SALES, Role.SALES_DIRECTOR, Role.ADMIN, Role.MARKETING}
    ),
    "order.book": SALES_SIDE,
    "contact.view": ALL_ROLES,
    "contact.edit": SALES_SIDE | {Role.MARKETING},
    "contact.record_visits": SALES_SIDE | {Role.MARKETING},
    "opportunity.view_all": frozenset(
        {Role.INSIDE_SALES, Role.SALES_DIRECTOR, Role.ADMIN}
    ),
    "opportunity.own": frozenset({Role.INSIDE_SALES, Role.SALES, Role.SALES_DIRECTOR}),
    # Quotes: the owner's side (inside sales keeps small deals up to the quote).
    "quote.override_gate": frozenset({Role.SALES_DIRECTOR, Role.ADMIN}),
    "marketing.view": frozenset(
        {Role.MARKETING, Role.ADMIN, Role.SALES_DIRECTOR, Role.INSIDE_SALES}
    ),
    "marketing.manage": frozenset({Role.MARKETING, Role.ADMIN}),
    "config.manage": frozenset({Role.ADMIN}),
    # Imports (issue 6): contact and company lists come from marketing as well;
    # history (inquiries, leads, orders, activities, customer context) is the
    # sales management's and the admin's job, as it sets owners and results.
    "data.import": frozenset({Role.ADMIN, Role.SALES_DIRECTOR, Role.MARKETING}),
    "data.import_history": frozenset({Role.ADMIN, Role.SALES_DIRECTOR}),
    # The analyses (SPEC step 5): the sales side and marketing; colleagues none.
    "analytics.view": SALES_SIDE | {Role.MARKETING},
    # Figures over all records (a salesperson's cover their own and their team's).
    "analytics.view_all": frozenset(
        {Role.INSIDE_SALES, Role.SALES_DIRECTOR, Role.ADMIN, Role.MARKETING}
    ),
}


def has_capability(user: User, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.effective_role in CAPABILITIES[capability]


def require(user: User, capability: str) -> None:
    """Raise PermissionDenied (403) unless the user's role has the capability."""
    if not has_capability(user, capability):
        raise PermissionDenied(capability)


def capabilities_of(user: User) -> dict[str, bool]:
    """Capabilities as template-friendly booleans: ``caps.inquiry_triage``."""
    return {name.replace(".", "_"): has_capability(user, name) for name in CAPABILITIES}
