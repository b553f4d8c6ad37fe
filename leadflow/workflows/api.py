"""The user's own in-app notifications."""

from ninja import Query, Router, Schema

from leadflow.api.pagination import PageParams, paginate
from leadflow.workflows.actions import mark_read
from leadflow.workflows.queries import notifications_for, unread_count

router = Router(tags=["notifications"])


class ReadIn(Schema):
    ids: list[int] | None = None


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
