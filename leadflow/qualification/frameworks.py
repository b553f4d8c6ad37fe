"""BANT and SCOTSMAN (DOMAIN.md §3): criteria, statuses and scoring. Pure; no database."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Framework(models.TextChoices):
    SCOTSMAN = "scotsman", "SCOTSMAN"
    BANT = "bant", "BANT"


class CriterionStatus(models.TextChoices):
    MET = "met", _("Met")
    UNKNOWN = "unknown", _("Unknown")
    NOT_MET = "not_met", _("Not met")
    SHOWSTOPPER = "showstopper", _("Showstopper")


CRITERIA: dict[str, list[tuple[str, str]]] = {
    Framework.SCOTSMAN: [
        (
            "solution",
            _("Solution: a credible solution that fits and that we can deliver"),
        ),
        ("competition", _("Competition: we know who else bids and how we compare")),
        ("originality", _("Originality: something distinctive the buyer values")),
        ("timescales", _("Timescales: realistic decision and delivery dates")),
        ("size", _("Size: the right size for us")),
        ("money", _("Money: a budget that matches our price")),
        ("authority", _("Authority: we know who decides and are in contact")),
        ("need", _("Need: a real, justified, preferably urgent need")),
    ],
    Framework.BANT: [
        ("budget", _("Budget")),
        ("authority", _("Authority")),
        ("need", _("Need")),
        ("timeline", _("Timeline")),
    ],
}

# Advance-style "work remaining" points (lower is better).
WORK_POINTS = {
    CriterionStatus.MET: 0,
    CriterionStatus.UNKNOWN: 1,
    CriterionStatus.NOT_MET: 1,
    CriterionStatus.SHOWSTOPPER: 10,
}


def criterion_names(framework: str) -> list[str]:
    return [name for name, _label in CRITERIA[framework]]


def parse_status(value) -> str:
    """API booleans (true = met, false = not met) or the status words."""
    if value is True:
        return CriterionStatus.MET
    if value is False:
        return CriterionStatus.NOT_MET
    if isinstance(value, str) and value in CriterionStatus.values:
        return value
    raise ValueError(value)


@dataclass(frozen=True)
class Score:
    met: int
    total: int
    work_remaining: int
    showstoppers: int
    passes_gate: bool


def score(
    statuses: dict[str, str], *, threshold: int, block_on_showstopper: bool
) -> Score:
    """Count met criteria; the gate passes at ``threshold`` met (and no showstopper if asked)."""
    met = sum(1 for s in statuses.values() if s == CriterionStatus.MET)
    showstoppers = sum(1 for s in statuses.values() if s == CriterionStatus.SHOWSTOPPER)
    passes = met >= threshold and not (block_on_showstopper and showstoppers)
    return Score(
        met=met,
        total=len(statuses),
        work_remaining=sum(WORK_POINTS[s] for s in statuses.values()),
        showstoppers=showstoppers,
        passes_gate=passes,
    )
