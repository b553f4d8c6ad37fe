"""Creating and reading notifications."""

from django.db import models, transaction
from django.utils import timezone

from leadflow.audit.actions import record_event, subject_key
from leadflow.workflows.models import Notification


def notify(
    recipient,
    *,
    actor,
    event_type: str,
    message: str,
    subject: models.Model | None = None,
    url: str = "",
    rule=None,
    source: str = "",
    why: str = "",
) -> Notification:
    """Tell one user something in the app, note it on the subject's timeline and, when
    they want e-mail (and no daily digest), e-mail it once after the commit.

    With a ``rule``, (rule, source, recipient) is unique: a second delivery of the same
    event raises IntegrityError inside the caller's savepoint."""
    notification = Notification.objects.create(
        recipient=recipient,
        actor=actor if actor is not None and actor.is_authenticated else None,
        event_type=event_type,
        message=str(message),
        url=url,
        subject_type=subject_key(subject) if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        rule=rule,
        source=source,
    )
    if subject is not None:
        record_event(
            actor=None if rule is not None or source else actor,
            subject=subject,
            event_type="notification.sent",
            new={"to": recipient.username, "why": why or event_type},
        )
    if recipient.email and recipient.email_notifications and not recipient.email_digest:
        from leadflow.workflows.tasks import email_notification

        transaction.on_commit(lambda: email_notification.enqueue(notification.pk))
    return notification


def mark_read(user, *, notification_ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all when no ids are given)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def set_email_preference(user, *, enabled: bool, digest: bool | None = None) -> None:
    """Whether notifications also reach the user by e-mail, and if so one by one or
    in one daily digest (``digest=None`` keeps the digest choice). Off clears the
    digest too, so the stored pair is always one of off / each / digest. Audited with
    only the fields that changed; nothing is written when nothing changes."""
    from leadflow.accounts.models import User

    enabled = bool(enabled)
    wanted = {
        "email_notifications": enabled,
        "email_digest": bool(digest if digest is not None else user.email_digest)
        and enabled,
    }
    old = {
        name: getattr(user, name)
        for name, value in wanted.items()
        if getattr(user, name) != value
    }
    if not old:
        return
    new = {name: wanted[name] for name in old}
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(**new)
        record_event(
            actor=user, subject=user, event_type="user.changed", old=old, new=new
        )
    for name, value in new.items():
        setattr(user, name, value)
