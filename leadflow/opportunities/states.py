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
