"""Stage-weight calibration over the API (DOMAIN.md §6.2):
``GET /api/analytics/calibration/stages`` (directors and administrators) and
``POST /api/analytics/calibration/stages/{code}/adopt`` (administrators).

Same shape as the other routers: access check → query or action → serialize.
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema

from leadflow.analytics.calibration import (
    MIN_CLOSED_LEADS,
    StageCalibration,
    adopt_stage_weight,
    calibration_for,
    can_adopt_weights,
    can_view_calibration,
)
from leadflow.api.schemas import ErrorOut

router = Router(tags=["analytics"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class StageCalibrationOut(Schema):
    code: str
    name: str
    configured: float = Field(..., description="Stage.weight now (0–1)")
    observed: float | None = Field(
        ...,
        description=(
            "P(win | stage) from closed history: the product of the advance rates "
            f"from this stage to Won; null below {MIN_CLOSED_LEADS} closed leads"
        ),
    )
    suggested: float | None = Field(
        ..., description="the observed value rounded to the weight's 3 decimals"
    )
    advance: float | None = Field(
        ..., description="share that went on to the next stage (last stage: to Won)"
    )
    closed_leads: int = Field(..., description="closed qualified leads behind it")
    won: int
    enough_history: bool


class CalibrationOut(Schema):
    min_closed_leads: int
    stages: list[StageCalibrationOut]


class AdoptIn(Schema):
    expected_weight: Decimal = Field(
        ..., ge=0, le=1, description="the stage's weight as the caller saw it"
    )
    weight: Decimal | None = Field(
        None,
        ge=0,
        le=1,
        description="the observed value the caller saw (refused if it moved since)",
    )


class AdoptOut(Schema):
    code: str
    weight: float


def stage_out(row: StageCalibration) -> dict:
    return {
        "code": row.stage.code,
        "name": str(row.stage),
        "configured": float(row.configured),
        "observed": row.observed,
        "suggested": float(row.suggested) if row.suggested is not None else None,
        "advance": row.advance,
        "closed_leads": row.passed,
        "won": row.won,
        "enough_history": row.enough,
    }


@router.get(
    "/analytics/calibration/stages",
    response={200: CalibrationOut, **ERRORS},
    url_name="analytics_calibration_stages",
)
def calibration_stages(request):
    """Observed P(win | stage) next to each active stage's configured weight."""
    if not can_view_calibration(request.auth):
        raise PermissionDenied("analytics.calibration")
    return {
        "min_closed_leads": MIN_CLOSED_LEADS,
        "stages": [stage_out(r) for r in calibration_for(request.auth)],
    }


@router.post(
    "/analytics/calibration/stages/{code}/adopt",
    response={200: AdoptOut, **ERRORS},
    url_name="analytics_calibration_adopt",
)
def calibration_adopt(request, code: str, body: AdoptIn):
    """Set the stage's weight to its observed value (administrators; audited).
    409 ``stale_weight`` when the weight changed since the caller read it."""
    if not can_adopt_weights(request.auth):
        raise PermissionDenied("config.manage")
    stage = adopt_stage_weight(
        code[:40],
        actor=request.auth,
        expected_weight=body.expected_weight,
        weight=body.weight,
    )
    return {"code": stage.code, "weight": float(stage.weight)}
