"""The inquiry lifecycle: open → closed, with exactly one outcome. Closed is final."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InquiryStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    QUALIFIED = "qualified", _("Qualified")
    NURTURE = "nurture", _("Nurture")
    ARCHIVED = "archived", _("Archived")


# The only allowed move; anything else (closing twice, reopening) is refused.
ALLOWED_MOVES = {InquiryStatus.OPEN: {InquiryStatus.CLOSED}}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_MOVES.get(from_status, set())


def reason_required(outcome: str) -> bool:
    """Archiving is the exception and must be explained (SPEC step 2)."""
    return outcome == Outcome.ARCHIVED
