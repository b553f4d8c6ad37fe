"""Qualified-lead results (pure; no database)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    NOT_GOING_AHEAD = "not_going_ahead", _("Not going ahead")
    NURTURE = "nurture", _("Nurture")


class DecisionType(models.TextChoices):
    TENDER = "tender", _("Tender")
    COMPETITION = "competition", _("Competition")
    NO_COMPETITION = "no_competition", _("No competition")
    OTHER = "other", _("Other")


CLOSED_RESULTS = (
    OpportunityStatus.WON,
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
    OpportunityStatus.NURTURE,
)
# Results after which the qualified lead leaves the sales lists and its contacts go to
# (at least) the marketing database.
LEAVES_SALES = (
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
    OpportunityStatus.NURTURE,
)


class FollowUpBy(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TELEMARKETING = "telemarketing", _("Telemarketing")
    SALES = "sales", _("Sales")


class StakeholderRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision-maker")
    BUDGET_HOLDER = "budget_holder", _("Budget holder")
    USER = "user", _("User")
    TECHNICAL_EVALUATOR = "technical_evaluator", _("Technical evaluator")
    PURCHASER = "purchaser", _("Purchaser")
    INFLUENCER = "influencer", _("Influencer")
    CHAMPION = "champion", _("Champion")


# The stakeholders who must agree: the deal moves as fast as the slowest of them.
ESSENTIAL_ROLES = (StakeholderRole.DECISION_MAKER, StakeholderRole.BUDGET_HOLDER)


class ActivityKind(models.TextChoices):
    APPOINTMENT = "appointment", _("Appointment")
    CALL = "call", _("Call")
    TASK = "task", _("Task")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


QUOTE_MOVES = {
    QuoteStatus.DRAFT: {QuoteStatus.SENT},
    QuoteStatus.SENT: {
        QuoteStatus.ACCEPTED,
        QuoteStatus.DECLINED,
        QuoteStatus.EXPIRED,
        QuoteStatus.SUPERSEDED,
    },
}


def quote_can_move(from_status: str, to_status: str) -> bool:
    return to_status in QUOTE_MOVES.get(from_status, set())
