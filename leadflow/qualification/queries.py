"""Read side of qualification: settings, the current scorecard, the buying phases."""

from django.db.models import QuerySet

from leadflow.qualification.frameworks import Framework
from leadflow.qualification.models import BuyingPhase, QualificationSettings, Scorecard


def gate_settings() -> QualificationSettings:
    settings_row, _created = QualificationSettings.objects.get_or_create(pk=1)
    return settings_row


def current_scorecard(
    opportunity, framework: str = Framework.SCOTSMAN
) -> Scorecard | None:
    return (
        Scorecard.objects.filter(opportunity=opportunity, framework=framework)
        .prefetch_related("criteria")
        .order_by("-version")
        .first()
    )


def scorecard_history(opportunity) -> QuerySet[Scorecard]:
    return (
        Scorecard.objects.filter(opportunity=opportunity)
        .select_related("scored_by")
        .prefetch_related("criteria")
        .order_by("framework", "-version")
    )


def active_phases() -> list[BuyingPhase]:
    """Phases in clock order; the API's phase number is the 1-based index in this list."""
    return list(BuyingPhase.objects.filter(is_active=True).order_by("position"))


def phase_by_number(number: int) -> BuyingPhase | None:
    phases = active_phases()
    return phases[number - 1] if 1 <= number <= len(phases) else None


def phase_number(phase: BuyingPhase | None, phases: list[BuyingPhase]) -> int | None:
    if phase is None:
        return None
    for index, candidate in enumerate(phases, start=1):
        if candidate.pk == phase.pk:
            return index
    return None


def passes_gate(
    card: Scorecard | None, gate: QualificationSettings | None = None
) -> bool:
    """The gate as configured now (not as it was when the card was scored)."""
    from leadflow.qualification.frameworks import CriterionStatus

    if card is None:
        return False
    gate = gate or gate_settings()
    if card.met < gate.scotsman_threshold:
        return False
    if gate.block_on_showstopper:
        return not any(
            c.status == CriterionStatus.SHOWSTOPPER for c in card.criteria.all()
        )
    return True
