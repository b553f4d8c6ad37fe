"""The user's own in-app notifications and how they reach them by e-mail."""

from typing import Literal

from ninja import Query, Router, Schema

from leadflow.api.pagination import PageParams, paginate
from leadflow.workflows.actions import mark_read, set_email_preference
from leadflow.workflows.queries import (
    EMAIL_MODES,
    email_preference,
    notifications_for,
    unread_count,
)

router = Router(tags=["notifications"])


class ReadIn(Schema):
    ids: list[int] | None = None


EmailMode = Literal["off", "each", "digest"]


class PreferencesIn(Schema):
    """off: in the app only; each: also one e-mail per notification; digest: also
    one e-mail each morning with the day's notifications."""

    email: EmailMode


class PreferencesOut(Schema):
    email: EmailMode


@router.get("/notifications", response=dict)
def notifications(request, params: Query[PageParams], unread: bool = False):
    qs = notifications_for(request.auth)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    page = paginate(
        qs,
        params,
        lambda n: {
            "id": n.pk,
            "event_type": n.event_type,
            "message": n.message,
            "url": n.url,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        },
    )
    page["unread"] = unread_count(request.auth)
    return page


@router.post("/notifications/read", response=dict)
def read(request, payload: ReadIn):
    return {"marked": mark_read(request.auth, notification_ids=payload.ids)}


@router.get("/notifications/preferences", response=PreferencesOut)
def preferences(request):
    return {"email": email_preference(request.auth)}


@router.put("/notifications/preferences", response=PreferencesOut)
def preferences_update(request, payload: PreferencesIn):
    enabled, digest = EMAIL_MODES[payload.email]
    set_email_preference(request.auth, enabled=enabled, digest=digest)
    return {"email": email_preference(request.auth)}
