"""Values every page needs: the navigation for the user's role and unread count."""

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from leadflow.accounts.permissions import capabilities_of
    from leadflow.workflows.queries import unread_count

    return {
        "caps": capabilities_of(user),
        "unread_notifications": unread_count(user),
    }
