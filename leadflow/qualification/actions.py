"""Scoring a qualified lead with SCOTSMAN or BANT; every re-score is a new version."""

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from leadflow.audit.actions import record_event
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.qualification.frameworks import (
    CRITERIA,
    Framework,
    criterion_names,
    parse_status,
    score,
)
from leadflow.qualification.models import CriterionScore, Scorecard
from leadflow.qualification.queries import current_scorecard, gate_settings


@transaction.atomic
def score_qualification(
    opportunity,
    *,
    actor,
    framework: str,
    criteria: dict,
    evidence: dict[str, str] | None = None,
    note: str = "",
) -> Scorecard:
    """Store a new scorecard version. Criteria not sent keep their last status
    (or 'unknown'), so a partial re-score never loses earlier answers."""
    if framework not in Framework.values:
        raise ValidationFailed(
            _("Unknown framework %(value)r: use scotsman or bant."),
            code="invalid_framework",
            value=framework,
        )
    names = criterion_names(framework)
    unknown = sorted(set(criteria) - set(names))
    if unknown:
        raise ValidationFailed(
            _("Unknown criteria for %(framework)s: %(names)s. Known: %(known)s."),
            code="invalid_criterion",
            framework=framework,
            names=", ".join(unknown),
            known=", ".join(names),
        )
    # Lock the lead: concurrent scorings get consecutive versions; closed leads refuse.
    locked = type(opportunity).objects.select_for_update().get(pk=opportunity.pk)
    if locked.status != "open":
        raise Conflict(
            _("This qualified lead is closed; it can no longer be scored."),
            code="opportunity_closed",
        )
    previous = current_scorecard(opportunity, framework)
    statuses = {name: "unknown" for name in names}
    notes = {name: "" for name in names}
    if previous is not None:
        for c in previous.criteria.all():
            statuses[c.criterion] = c.status
            notes[c.criterion] = c.evidence
    for name, value in criteria.items():
        try:
            statuses[name] = parse_status(value)
        except ValueError as exc:
            raise ValidationFailed(
                _("%(name)s: use true/false or met, unknown, not_met, showstopper."),
                code="invalid_status",
                name=name,
            ) from exc
    for name, text in (evidence or {}).items():
        if name in notes:
            notes[name] = (text or "")[:2000]
    gate = gate_settings()
    threshold = gate.scotsman_threshold if framework == Framework.SCOTSMAN else 3
    result = score(
        statuses,
        threshold=threshold,
        block_on_showstopper=gate.block_on_showstopper
        and framework == Framework.SCOTSMAN,
    )
    version = (
        Scorecard.objects.filter(
            opportunity=opportunity, framework=framework
        ).aggregate(v=Max("version"))["v"]
        or 0
    ) + 1
    card = Scorecard.objects.create(
        opportunity=opportunity,
        framework=framework,
        version=version,
        met=result.met,
        total=result.total,
        work_remaining=result.work_remaining,
        passes_gate=result.passes_gate,
        threshold=threshold,
        scored_by=actor if actor is not None and actor.is_authenticated else None,
        note=note[:2000],
    )
    CriterionScore.objects.bulk_create(
        CriterionScore(
            scorecard=card, criterion=n, status=statuses[n], evidence=notes[n]
        )
        for n in names
    )
    record_event(
        actor=actor,
        subject=opportunity,
        event_type="opportunity.qualified_scored",
        old={"met": previous.met} if previous else None,
        new={
            "framework": framework,
            "met": result.met,
            "total": result.total,
            "passes_gate": result.passes_gate,
        },
        reason=note,
    )
    return card


__all__ = ["CRITERIA", "score_qualification"]
