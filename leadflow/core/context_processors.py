"""Values every page needs: the navigation for the user's role and unread count."""

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    from django.conf import settings

    user = getattr(request, "user", None)
    base = {"company_name": settings.LEADFLOW_COMPANY_NAME}
    if user is None or not user.is_authenticated:
        return base
    from leadflow.accounts.permissions import capabilities_of
    from leadflow.workflows.queries import unread_count

    return {
        **base,
        "caps": capabilities_of(user),
        "unread_notifications": unread_count(user),
    }
