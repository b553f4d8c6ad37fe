"""Background work: the workflow outbox and notification e-mails (django-tasks-db)."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation

from leadflow.workflows.models import Notification


def absolute(url: str) -> str:
    """Links in e-mails must open from a mail client: prefix the site address."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.LEADFLOW_BASE_URL.rstrip("/") + url


@task()
def process_outbox() -> int:
    from leadflow.workflows.outbox import process_outbox as run

    return run()


@task()
def email_notification(notification_id: int) -> bool:
    """Send one notification by e-mail, once (emailed_at is claimed first)."""
    with transaction.atomic():
        claimed = Notification.objects.filter(
            pk=notification_id, emailed_at__isnull=True
        ).update(emailed_at=timezone.now())
        if not claimed:
            return False
        notification = Notification.objects.select_related("recipient").get(
            pk=notification_id
        )
        recipient = notification.recipient
        with translation.override(recipient.language or "en"):
            send_mail(
                subject=f"Leadflow: {notification.message[:120]}",
                message=f"{notification.message}\n\n{absolute(notification.url)}",
                from_email=None,
                recipient_list=[recipient.email],
            )
    return True


@task()
def fire_escalation(escalation_id: int) -> str:
    from leadflow.workflows.escalations import fire

    return fire(escalation_id)


@task()
def deliver_webhook(delivery_id: int) -> str:
    from leadflow.workflows.webhooks import attempt

    return attempt(delivery_id)


@task()
def scheduler_tick(token: str) -> str:
    """Run the recurring jobs that are due, then schedule the next tick (unless a newer
    scheduler chain has taken over)."""
    from leadflow.workflows.scheduler import tick

    return tick(token)
