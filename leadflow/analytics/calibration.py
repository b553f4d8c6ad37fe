"""Stage-weight calibration (DOMAIN.md §6.2): the chance of winning observed per stage
in closed history, next to the configured ``Stage.weight``, and adopting it.

Method: only qualified leads that have closed count (won, lost, not going ahead,
nurture: cohorts with a known end). A closed lead *passed* a stage when the furthest
stage it ever reached (its stage moves and its last stage, in the configured order) is
that stage or a later one; a won lead passed every stage (Won lies beyond the last).
Then, per active stage in order::

    advance rate(stage → next)  = passed(next) ÷ passed(stage)
    advance rate(last → Won)    = won ÷ passed(last)
    P(win | stage)              = product of the advance rates from the stage to Won

The product telescopes to won ÷ passed(stage). A figure is shown only when at least
:data:`MIN_CLOSED_LEADS` closed leads passed the stage ("not enough history").

Adopting sets ``Stage.weight`` to the observed value (3 decimals, the field's
precision): administrators only (``config.manage``, checked at the edge), audited as
``stage.updated`` like the other stage settings, and optimistic: the caller sends the
weight it saw and a change in between is refused with 409 ``stale_weight``.
"""

import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, User
from leadflow.accounts.permissions import has_capability
from leadflow.analytics.scope import Scope, parse_filters
from leadflow.audit.actions import record_event
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.opportunities.models import Opportunity, OpportunityTransition, Stage
from leadflow.opportunities.states import OpportunityStatus

# Fewer closed leads than this behind a stage: no observed figure, no adopting.
MIN_CLOSED_LEADS = 20
WEIGHT_STEP = Decimal("0.001")
CACHE_SECONDS = 600  # Stage.weight: max_digits=4, decimal_places=3

CLOSED = (
    OpportunityStatus.WON,
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
    OpportunityStatus.NURTURE,
)


def can_view_calibration(user: User) -> bool:
    """Directors and administrators (like freezing the forecast by hand)."""
    return user.is_authenticated and user.effective_role in (
        Role.SALES_DIRECTOR,
        Role.ADMIN,
    )


def can_adopt_weights(user: User) -> bool:
    """Stage weights are configuration: administrators only."""
    return has_capability(user, "config.manage")


@dataclass(frozen=True)
class StageCalibration:
    stage: Stage
    configured: Decimal
    passed: int  # closed leads that passed this stage (won ones included)
    won: int  # of them won (every won lead passed every stage)
    advance: float | None  # to the next active stage, or to Won for the last one
    observed: float | None  # P(win | stage); None below MIN_CLOSED_LEADS

    @property
    def enough(self) -> bool:
        return self.passed >= MIN_CLOSED_LEADS

    @property
    def suggested(self) -> Decimal | None:
        """The observed value as a storable weight (3 decimals), when there is one."""
        if self.observed is None:
            return None
        return Decimal(str(self.observed)).quantize(WEIGHT_STEP, ROUND_HALF_UP)

    @property
    def difference(self) -> float | None:
        if self.observed is None:
            return None
        return self.observed - float(self.configured)


def _position(field: str, stages: list[Stage], attribute: str) -> Case:
    return Case(
        *(
            When(**{field: getattr(s, attribute)}, then=Value(i))
            for i, s in enumerate(stages)
        ),
        default=None,
        output_field=IntegerField(),
    )


def _furthest_counts(closed: QuerySet[Opportunity], stages: list[Stage]) -> list[int]:
    """Closed, not-won leads counted by the position of the furthest stage they
    reached: one aggregate query (a correlated MAX over each lead's stage moves)."""
    moved_to = (
        OpportunityTransition.objects.filter(
            opportunity=OuterRef("pk"), data__event="opportunity.stage_changed"
        )
        .order_by()
        .values("opportunity")
        .annotate(furthest=Max(_position("to_state", stages, "code")))
        .values("furthest")
    )
    by_furthest = (
        closed.exclude(status=OpportunityStatus.WON)
        .annotate(
            _furthest=Greatest(
                _position("stage_id", stages, "pk"),
                Coalesce(Subquery(moved_to, output_field=IntegerField()), Value(-1)),
            )
        )
        .values("_furthest")
        .annotate(n=Count("pk"))
        .order_by()
    )
    reached = [0] * len(stages)
    for row in by_furthest:
        if row["_furthest"] is not None and row["_furthest"] >= 0:
            reached[row["_furthest"]] += row["n"]
    return reached


def calibrate(
    leads: QuerySet[Opportunity], *, cache_key: str = ""
) -> list[StageCalibration]:
    """Observed P(win | stage) for each active stage over the closed leads among
    ``leads`` (pass a Scope's ``opportunities(None)``). ``cache_key`` (a name for the
    reach): keep the furthest-stage counts for at most :data:`CACHE_SECONDS`, keyed
    by a fingerprint of the closed leads (over every lead the count reads each closed
    lead's stage moves: seconds at 300,000 leads); the configured weights are always
    read fresh."""
    stages = list(Stage.objects.order_by("order", "id"))
    active = [i for i, s in enumerate(stages) if s.is_active]
    if not active:
        return []

    closed = leads.order_by().filter(status__in=CLOSED)
    if cache_key:
        # The key holds a fingerprint of the closed leads read from an index (how
        # many, how many won, the newest): a lead closing changes it, so the cache
        # does not answer for a history that has grown.
        seen = closed.aggregate(
            n=Count("pk"),
            won=Count("pk", filter=Q(status=OpportunityStatus.WON)),
            top=Max("pk"),
        )
        won = seen["won"]
        order = ",".join(f"{s.pk}.{s.code}" for s in stages)
        key = (
            "analytics:calibration:"
            + hashlib.sha256(f"{cache_key}|{order}|{seen}".encode()).hexdigest()[:32]
        )
        reached = cache.get(key)
        if reached is None:
            reached = _furthest_counts(closed, stages)
            cache.set(key, reached, CACHE_SECONDS)
    else:
        won = closed.filter(status=OpportunityStatus.WON).count()
        reached = _furthest_counts(closed, stages)
    passed = {i: won + sum(reached[i:]) for i in active}

    result = []
    for n, i in enumerate(active):
        following = passed[active[n + 1]] if n + 1 < len(active) else won
        advance = following / passed[i] if passed[i] else None
        product: float | None = None
        if passed[i] >= MIN_CLOSED_LEADS:
            product = 1.0
            for m in range(n, len(active)):
                j = active[m]
                nxt = passed[active[m + 1]] if m + 1 < len(active) else won
                product *= nxt / passed[j]
        stage = stages[i]
        result.append(
            StageCalibration(
                stage=stage,
                configured=stage.weight,
                passed=passed[i],
                won=won,
                advance=advance,
                observed=product,
            )
        )
    return result


def calibrate_scope(scope: Scope) -> list[StageCalibration]:
    """The calibration over the closed leads a Scope counts, whenever they closed;
    cached when the scope is every lead without filters (directors, administrators)."""
    f = scope.filters
    unfiltered = not any((f.channel, f.campaign, f.department, f.team, f.person)) and (
        f.service_type is None and f.industry is None
    )
    key = "all" if scope.everything and unfiltered else ""
    return calibrate(scope.opportunities(date_field=None), cache_key=key)


def calibration_for(user: User) -> list[StageCalibration]:
    """The calibration over every closed lead the user's analyses count (directors
    and administrators: all of them)."""
    return calibrate_scope(Scope(user=user, filters=parse_filters({})))


def _weight(value, *, label: str) -> Decimal:
    try:
        weight = Decimal(str(value))
    except ArithmeticError:
        weight = None
    if weight is None or not weight.is_finite() or not 0 <= weight <= 1:
        raise ValidationFailed(
            _("%(label)s must be a number from 0 to 1."),
            code="invalid_weight",
            label=label,
        )
    return weight


@transaction.atomic
def adopt_stage_weight(
    code: str,
    *,
    actor: User,
    expected_weight,
    weight=None,
) -> Stage:
    """Set the stage's weight to its observed P(win). ``expected_weight``: the weight
    the caller saw (409 ``stale_weight`` when it changed since); ``weight``: the
    observed value the caller saw, if any (409 ``calibration_changed`` when closed
    history moved it since). 422 ``not_enough_history`` below the few-data guard."""
    expected = _weight(expected_weight, label="expected_weight")
    seen = None if weight is None else _weight(weight, label="weight")
    locked = get_object_or_404(Stage.objects.select_for_update(), code=code)
    if locked.weight.quantize(WEIGHT_STEP) != expected.quantize(WEIGHT_STEP):
        raise Conflict(
            _(
                "The weight of %(stage)s was changed to %(weight)s in the meantime. "
                "Reload the page and check it first."
            ),
            code="stale_weight",
            stage=locked.name,
            weight=locked.weight,
        )
    row = next((c for c in calibration_for(actor) if c.stage.pk == locked.pk), None)
    if row is None or row.suggested is None:
        raise ValidationFailed(
            _(
                "Not enough history for %(stage)s: at least %(min)s closed qualified "
                "leads must have passed it."
            ),
            code="not_enough_history",
            stage=locked.name,
            min=MIN_CLOSED_LEADS,
        )
    if seen is not None and seen.quantize(WEIGHT_STEP) != row.suggested:
        raise Conflict(
            _(
                "The observed value for %(stage)s is now %(value)s. Reload the page "
                "and check it first."
            ),
            code="calibration_changed",
            stage=locked.name,
            value=row.suggested,
        )
    if locked.weight == row.suggested:
        return locked
    old = locked.weight
    locked.weight = row.suggested
    locked.save(update_fields=["weight"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="stage.updated",
        old={"weight": str(old)},
        new={"weight": str(row.suggested)},
        reason=f"calibrated from {row.passed} closed qualified leads",
    )
    return locked
