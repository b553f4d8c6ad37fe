"""The daily digest: one e-mail with the day's notifications instead of one each."""

import logging
from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadflow.accounts.models import User
from leadflow.workflows.models import Notification
from leadflow.workflows.tasks import absolute

logger = logging.getLogger(__name__)
MAX_ITEMS = 200


def digest_for(user: User, *, now: datetime | None = None) -> bool:
    """Claim the user's unread notifications not yet e-mailed and send them in one
    message. Returns whether a message went out (claimed rows are never sent twice)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked while this digest is written: a second run waits, then finds them
        # e-mailed (and on SQLite the write lock serialises the two anyway).
        items = list(
            Notification.objects.select_for_update()
            .filter(
                recipient=user,
                emailed_at__isnull=True,
                read_at__isnull=True,
                created_at__lte=now,
            )
            .order_by("created_at", "id")[:MAX_ITEMS]
        )
        if not items:
            return False
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=now)
        with translation.override(user.language or "en"):
            subject = ngettext(
                "Leadflow: %(count)d notification",
                "Leadflow: %(count)d notifications",
                len(items),
            ) % {"count": len(items)}
            lines = [
                _("Your notifications since the last digest:"),
                "",
                *(
                    f"- {timezone.localtime(n.created_at):%d-%m %H:%M} {n.message}\n"
                    f"  {absolute(n.url)}"
                    for n in items
                ),
                "",
                _("Change how you receive notifications: %(url)s")
                % {"url": absolute("/notifications/")},
            ]
            send_mail(
                subject=subject,
                message="\n".join(lines),
                from_email=None,
                recipient_list=[user.email],
            )
    return True


def send_digests(*, now: datetime | None = None) -> int:
    """Every user who chose the digest and has an address gets one (the worker runs
    this each morning)."""
    sent = 0
    users = User.objects.filter(
        is_active=True, email_digest=True, email_notifications=True
    ).exclude(email="")
    for user in users.iterator():
        try:
            sent += digest_for(user, now=now)
        except Exception:
            logger.exception("digest for %s failed", user.pk)
    return sent


# An e-mail task cut off by a killed worker stays RUNNING in django-tasks-db and is never
# retried; its claim rolled back, so the notification still has no ``emailed_at``. The
# sweep hands such notifications to a new task (the claim keeps it to one e-mail).
UNSENT_AFTER = timedelta(minutes=2)
UNSENT_LOOKBACK = timedelta(days=1)


def resend_unsent(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue the e-mail again for notifications that should have gone out one by one
    (address, e-mail on, no digest) but still have no ``emailed_at`` after a while."""
    from leadflow.workflows.tasks import email_notification

    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lte=now - UNSENT_AFTER,
            created_at__gte=now - UNSENT_LOOKBACK,
            recipient__is_active=True,
            recipient__email_notifications=True,
            recipient__email_digest=False,
        )
        .exclude(recipient__email="")
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        email_notification.enqueue(pk)
    return len(ids)
