"""The buying clock of a deal (DOMAIN.md §5.4), derived from its stakeholders. Pure."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from leadflow.opportunities.states import ESSENTIAL_ROLES, StakeholderRole


@dataclass(frozen=True)
class StakeholderPosition:
    name: str
    role: str
    phase_number: int | None  # 1-based in the configured order; None = not placed yet


@dataclass
class DealClock:
    deal_phase: int | None  # slowest essential stakeholder (or slowest of all)
    spread: int  # highest − lowest placed phase
    warnings: list[str] = field(default_factory=list)


def deal_clock(
    positions: list[StakeholderPosition],
    *,
    quote_sent: bool,
    commit_forecast: bool,
    authority_met: bool,
) -> DealClock:
    placed = [p for p in positions if p.phase_number is not None]
    essential = [p for p in placed if p.role in ESSENTIAL_ROLES]
    basis = essential or placed
    deal_phase = min((p.phase_number for p in basis), default=None)
    numbers = [p.phase_number for p in placed]
    spread = (max(numbers) - min(numbers)) if numbers else 0
    warnings: list[str] = []
    deciders = [p for p in placed if p.role == StakeholderRole.DECISION_MAKER]
    if quote_sent and any(p.phase_number <= 3 for p in deciders):
        warnings.append(
            str(
                _(
                    "A quote was sent while the decision-maker is still in phase 3 or earlier."
                )
            )
        )
    if commit_forecast and any(p.phase_number <= 5 for p in essential):
        warnings.append(
            str(
                _(
                    "Forecast category is Commit while a key stakeholder is in phase 5 or earlier."
                )
            )
        )
    if authority_met and not any(
        p.role == StakeholderRole.DECISION_MAKER for p in positions
    ):
        warnings.append(
            str(
                _(
                    "SCOTSMAN Authority is marked met, but no decision-maker is recorded."
                )
            )
        )
    if spread >= 3:
        warnings.append(
            str(
                _(
                    "The buying group is not aligned: %(spread)s phases between the slowest and the fastest."
                )
            )
            % {"spread": spread}
        )
    return DealClock(deal_phase=deal_phase, spread=spread, warnings=warnings)
