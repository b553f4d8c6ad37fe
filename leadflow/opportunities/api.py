"""Qualified leads and their quotes: read, edit, qualify, stage, quote, close.

Every handler is parse → get_opportunity_for_user (write=True for changes: 404 for a
lead the user may not see, 403 for a read-only role) → action → serialize.
"""

from decimal import Decimal

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from leadflow.analytics.forecast import effective_category
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.contacts.queries import get_contact_for_user
from leadflow.core.errors import ValidationFailed
from leadflow.intake.actions import resolve_user
from leadflow.opportunities import actions
from leadflow.opportunities.models import Activity, Opportunity, Quote, Stage
from leadflow.opportunities.queries import (
    get_opportunity_for_user,
    require_lead_lists,
    stakeholders_with_phases,
    visible_opportunities,
)
from leadflow.opportunities.quoting import money, totals
from leadflow.opportunities.schemas import (
    ActivityDoneIn,
    ActivityIn,
    ActivityOut,
    CompetitorIn,
    CompetitorOut,
    OpportunityCloseIn,
    OpportunityDetailOut,
    OpportunityFilters,
    OpportunityPage,
    OpportunityPatch,
    QualificationIn,
    QualificationOut,
    QuoteAcceptIn,
    QuoteDeclineIn,
    QuoteIn,
    QuoteOut,
    QuoteUpdateIn,
    StageIn,
    StakeholderChangeOut,
    StakeholderIn,
    TeamMemberIn,
    TeamMemberOut,
)
from leadflow.opportunities.states import OpportunityStatus
from leadflow.qualification.actions import score_qualification
from leadflow.qualification.frameworks import Framework
from leadflow.qualification.queries import current_scorecard

router = Router(tags=["opportunities"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- serializers -------------------------------------------------------------------------


def weighted_value(o: Opportunity) -> Decimal | None:
    """Expected value × (P win × P go when both are set, else the stage weight)."""
    if o.expected_value is None:
        return None
    if o.p_win is not None and o.p_go is not None:
        probability = o.p_win * o.p_go
    else:
        probability = o.stage.weight
    return money(o.expected_value * probability)


def opportunity_out(o: Opportunity) -> dict:
    return {
        "id": o.pk,
        "title": o.title,
        "status": o.status,
        "owner": o.owner.username,
        "stage": o.stage.code,
        "stage_name": str(o.stage),
        "expected_value": o.expected_value,
        "weighted_value": weighted_value(o),
        "decision_date": o.decision_date,
        "start_date": o.start_date,
        "p_win": o.p_win,
        "p_go": o.p_go,
        # Written by analytics.winprob only while its latest model is shown (it clears
        # every value otherwise), so null unless a shown model exists.
        "predicted_win": o.predicted_win,
        "decision_type": o.decision_type,
        "service_type": o.service_type,
        "contact_id": o.contact_id,
        "company_id": o.company_id,
        "inquiry_id": o.inquiry_id,
        "created_at": o.created_at,
        "closed_at": o.closed_at,
        "version": o.version,
    }


def stakeholder_out(s) -> dict:
    return {
        "contact_id": s.contact_id,
        "name": s.contact.name,
        "role": s.role,
        "clock_phase": s.phase_number,
        "phase_name": str(s.phase) if s.phase_id else None,
        "phase_since": s.phase_since,
    }


def clock_out(clock) -> dict:
    return {
        "deal_phase": clock.deal_phase,
        "spread": clock.spread,
        "warnings": clock.warnings,
    }


def scorecard_summary(card) -> dict:
    return {
        "framework": card.framework,
        "version": card.version,
        "met": card.met,
        "total": card.total,
        "passes_gate": card.passes_gate,
        "threshold": card.threshold,
        "work_remaining": card.work_remaining,
        "scored_at": card.scored_at,
        "scored_by": card.scored_by.username if card.scored_by_id else None,
    }


def qualification_out(card) -> dict:
    criteria = list(card.criteria.all())
    return {
        **scorecard_summary(card),
        "criteria": {c.criterion: c.status for c in criteria},
        "evidence": {c.criterion: c.evidence for c in criteria if c.evidence},
        "note": card.note,
    }


def _quote_totals(quote: Quote):
    lines = list(quote.lines.all())
    return lines, totals(
        [(line.quantity, line.unit_price, line.discount) for line in lines],
        discount=quote.discount,
        vat_rate=quote.vat_rate,
    )


def quote_out(quote: Quote) -> dict:
    lines, result = _quote_totals(quote)
    return {
        "id": quote.pk,
        "opportunity_id": quote.opportunity_id,
        "opportunity_status": quote.opportunity.status,
        "reference": quote.reference,
        "number": quote.number,
        "revision": quote.revision,
        "status": quote.status,
        "language": quote.language,
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "gross": amounts.gross,
                "net": amounts.net,
            }
            for line, amounts in zip(lines, result.lines, strict=True)
        ],
        "subtotal": result.subtotal,
        "discount": quote.discount,
        "discount_amount": result.discount_amount,
        "net": result.net,
        "vat_rate": quote.vat_rate,
        "vat": result.vat,
        "total": result.total,
        "valid_until": quote.valid_until,
        "notes": quote.notes,
        "gate_override": quote.gate_override,
        "override_reason": quote.override_reason,
        "scotsman_met": quote.scotsman_met,
        "supersedes_id": quote.supersedes_id,
        "created_at": quote.created_at,
        "created_by": quote.created_by.username if quote.created_by_id else None,
        "sent_at": quote.sent_at,
        "decided_at": quote.decided_at,
        "version": quote.version,
    }


def quote_summary(quote: Quote) -> dict:
    _lines, result = _quote_totals(quote)
    return {
        "id": quote.pk,
        "reference": quote.reference,
        "number": quote.number,
        "revision": quote.revision,
        "status": quote.status,
        "total": result.total,
        "gate_override": quote.gate_override,
        "sent_at": quote.sent_at,
        "decided_at": quote.decided_at,
    }


def activity_out(a: Activity) -> dict:
    return {
        "id": a.pk,
        "opportunity_id": a.opportunity_id,
        "kind": a.kind,
        "subject": a.subject,
        "assignee": a.assignee.username,
        "due_at": a.due_at,
        "duration_minutes": a.duration_minutes,
        "notes": a.notes,
        "done": a.done_at is not None,
        "done_at": a.done_at,
        "created_at": a.created_at,
        "created_by": a.created_by.username if a.created_by_id else None,
    }


def opportunity_detail(o: Opportunity) -> dict:
    stakeholders, _phases, clock = stakeholders_with_phases(o)
    cards = [current_scorecard(o, framework) for framework in Framework.values]
    return {
        **opportunity_out(o),
        "stage_entered_at": o.stage_entered_at,
        "result_reason": o.result_reason,
        "follow_up_on": o.follow_up_on,
        "follow_up_by": o.follow_up_by,
        "follow_up_user": o.follow_up_user.username if o.follow_up_user_id else None,
        "stakeholders": [stakeholder_out(s) for s in stakeholders],
        "clock": clock_out(clock),
        "team_members": [
            {"username": m.user.username, "name": str(m.user), "role": m.role}
            for m in o.team_members.select_related("user").order_by("id")
        ],
        "competitors": [
            {"name": c.name, "note": c.note} for c in o.competitors.order_by("name")
        ],
        "scorecards": [scorecard_summary(card) for card in cards if card is not None],
        "quotes": [
            quote_summary(q)
            for q in o.quotes.prefetch_related("lines").order_by("number", "revision")
        ],
        "activities": [
            activity_out(a)
            for a in o.activities.select_related("assignee", "created_by")[:100]
        ],
        "forecast_category": effective_category(
            o.status, o.forecast_category_override, o.stage.forecast_category
        ),
        "forecast_category_override": o.forecast_category_override or None,
        "forecast_category_set_by": (
            o.forecast_category_set_by.username
            if o.forecast_category_set_by_id
            else None
        ),
        "forecast_category_set_at": o.forecast_category_set_at,
    }


def _fresh(opportunity: Opportunity) -> dict:
    """The lead as stored now. Not re-read through the user's scope: a lead handed to
    another team is answered once, then disappears for this user."""
    opportunity.refresh_from_db()
    return opportunity_detail(opportunity)


# --- access to quotes and activities (through their qualified lead) -------------------


def _quote_for_user(user, quote_id: int, *, write: bool = False) -> Quote:
    quote = get_object_or_404(
        Quote.objects.select_related("opportunity", "created_by"), pk=quote_id
    )
    get_opportunity_for_user(user, quote.opportunity_id, write=write)
    return quote


def _reload_quote(quote_id: int) -> Quote:
    return Quote.objects.select_related("opportunity", "created_by").get(pk=quote_id)


def _activity_for_user(user, activity_id: int, *, write: bool = False) -> Activity:
    activity = get_object_or_404(Activity, pk=activity_id)
    get_opportunity_for_user(user, activity.opportunity_id, write=write)
    return activity


def _line_inputs(lines) -> list[actions.LineInput]:
    return [
        actions.LineInput(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
        )
        for line in lines
    ]


# --- qualified leads ------------------------------------------------------------------------


@router.get("/opportunities", response={200: OpportunityPage, **ERRORS})
def opportunities(
    request, params: Query[PageParams], filters: Query[OpportunityFilters]
):
    """Visible qualified leads, newest first, filtered (status=all for every status);
    403 for roles that own no leads and see none (as the page)."""
    require_lead_lists(request.auth)
    qs = visible_opportunities(request.auth).order_by("-created_at", "-id")
    status = filters.status.strip()
    if status and status != "all":
        if status not in OpportunityStatus.values:
            raise ValidationFailed(
                _("Unknown status %(value)r."), code="invalid_status", value=status
            )
        qs = qs.filter(status=status)
    if filters.mine:
        qs = qs.filter(owner=request.auth)
    elif filters.owner:
        owner = resolve_user(filters.owner, label="owner")
        if owner is not None:
            qs = qs.filter(owner=owner)
    if filters.team:
        qs = qs.filter(owner__team_id=filters.team)
    if filters.stage:
        if not Stage.objects.filter(code=filters.stage.strip()).exists():
            raise ValidationFailed(
                _("Unknown stage %(value)r."), code="unknown_stage", value=filters.stage
            )
        qs = qs.filter(stage__code=filters.stage.strip())
    if filters.service_type:
        qs = qs.filter(service_type=filters.service_type)
    return paginate(qs, params, opportunity_out)


@router.get(
    "/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS}
)
def opportunity(request, opportunity_id: int):
    """A qualified lead with stakeholders, team, competitors, scorecards and quotes."""
    return opportunity_detail(get_opportunity_for_user(request.auth, opportunity_id))


@router.patch(
    "/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS}
)
def opportunity_patch(request, opportunity_id: int, payload: OpportunityPatch):
    """Edit details; ``owner`` hands the lead over (both told), ``stage`` moves it (with
    ``reason``), ``forecast_category`` overrides the stage's (null: back to it). Send
    the ``version`` you read to get 409 stale_version if it changed."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    values = payload.dict(exclude_unset=True, exclude={"version", "reason"})
    new_owner, new_stage = "owner" in values, "stage" in values
    owner_name, stage_code = values.pop("owner", None), values.pop("stage", None)
    new_category = "forecast_category" in values
    category = values.pop("forecast_category", None)
    for key in ("decision_type", "service_type"):
        if key in values and values[key] is None:
            values[key] = ""
    reason = payload.reason or ""
    with transaction.atomic():
        # Always runs (even without values): it checks the version and that it is open.
        actions.update_opportunity(
            opportunity, actor=request.auth, version=payload.version, **values
        )
        if new_owner:
            actions.reassign_owner(
                opportunity,
                actor=request.auth,
                owner=resolve_user(owner_name, label="owner"),
                reason=reason,
            )
        if new_stage:
            if stage_code is None:
                raise ValidationFailed(_("Choose a stage."), code="unknown_stage")
            actions.move_stage(
                opportunity, actor=request.auth, stage=stage_code, reason=reason
            )
        if new_category:
            actions.set_forecast_category(
                opportunity, actor=request.auth, category=category, reason=reason
            )
    return _fresh(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/stage",
    response={200: OpportunityDetailOut, **ERRORS},
)
def opportunity_stage(request, opportunity_id: int, payload: StageIn):
    """Move to any stage (by code), forward or back; a reason is required."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    actions.move_stage(
        opportunity,
        actor=request.auth,
        stage=payload.stage,
        reason=payload.reason or "",
    )
    return _fresh(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/close",
    response={200: OpportunityDetailOut, **ERRORS},
)
def opportunity_close(request, opportunity_id: int, payload: OpportunityCloseIn):
    """Won, lost, not going ahead or nurture (with follow_up_on and follow_up_by)."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    actions.close_opportunity(
        opportunity,
        actor=request.auth,
        result=payload.result,
        reason=payload.reason or "",
        follow_up_on=payload.follow_up_on,
        follow_up_by=payload.follow_up_by or "",
        follow_up_user=payload.follow_up_user,
    )
    return _fresh(opportunity)


# --- qualification --------------------------------------------------------------------------


@router.put(
    "/opportunities/{opportunity_id}/qualification",
    response={200: QualificationOut, **ERRORS},
)
def qualification_put(request, opportunity_id: int, payload: QualificationIn):
    """Score SCOTSMAN or BANT (true = met, false = not met, or a status word); criteria
    not sent keep their last status. Every call stores a new version."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    card = score_qualification(
        opportunity,
        actor=request.auth,
        framework=payload.framework,
        criteria=payload.criteria,
        evidence=payload.evidence,
        note=payload.note or "",
    )
    return qualification_out(card)


@router.get(
    "/opportunities/{opportunity_id}/qualification",
    response={200: QualificationOut, **ERRORS},
)
def qualification_get(request, opportunity_id: int, framework: str = "scotsman"):
    """The current scorecard of a framework; 404 while it was never scored."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id)
    if framework not in Framework.values:
        raise ValidationFailed(
            _("Unknown framework: use scotsman or bant."), code="invalid_framework"
        )
    card = current_scorecard(opportunity, framework)
    if card is None:
        return Status(404, {"detail": str(_("Not scored yet.")), "code": "not_scored"})
    return qualification_out(card)


# --- stakeholders, team members, competitors -----------------------------------------


@router.put(
    "/opportunities/{opportunity_id}/stakeholders/{contact_id}",
    response={200: StakeholderChangeOut, **ERRORS},
)
def stakeholder_put(
    request, opportunity_id: int, contact_id: int, payload: StakeholderIn
):
    """Role and buying-clock phase (1 = first phase); moving back needs a note."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    contact = get_contact_for_user(request.auth, contact_id)
    actions.set_stakeholder(
        opportunity,
        actor=request.auth,
        contact=contact,
        role=payload.role,
        phase_number=payload.clock_phase,
        note=payload.note or "",
    )
    stakeholders, _phases, clock = stakeholders_with_phases(opportunity)
    changed = next(s for s in stakeholders if s.contact_id == contact.pk)
    return {**stakeholder_out(changed), **clock_out(clock)}


@router.put(
    "/opportunities/{opportunity_id}/team/{username}",
    response={200: TeamMemberOut, **ERRORS},
)
def team_member_put(request, opportunity_id: int, username: str, payload: TeamMemberIn):
    """One of our people on the deal, with their role (estimator, engineer, ...)."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    user = resolve_user(username[:150], label="team member")
    if user is None:
        raise ValidationFailed(_("Name the colleague."), code="unknown_user")
    member = actions.add_team_member(
        opportunity, actor=request.auth, user=user, role=payload.role
    )
    return {"username": user.username, "name": str(user), "role": member.role}


@router.post(
    "/opportunities/{opportunity_id}/competitors",
    response={201: CompetitorOut, **ERRORS},
)
def competitor_post(request, opportunity_id: int, payload: CompetitorIn):
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    competitor = actions.add_competitor(
        opportunity, actor=request.auth, name=payload.name, note=payload.note or ""
    )
    return Status(201, {"name": competitor.name, "note": competitor.note})


# --- activities -------------------------------------------------------------------------------


@router.post(
    "/opportunities/{opportunity_id}/activities",
    response={201: ActivityOut, **ERRORS},
)
def activity_post(request, opportunity_id: int, payload: ActivityIn):
    """An appointment, call or task with its assignee (by username) and due date."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    assignee = resolve_user(payload.assignee, label="assignee")
    if assignee is None:
        raise ValidationFailed(_("Choose an assignee."), code="assignee_required")
    activity = actions.add_activity(
        opportunity,
        actor=request.auth,
        kind=payload.kind,
        subject=payload.subject,
        assignee=assignee,
        due_at=payload.due_at,
        duration_minutes=payload.duration_minutes,
        notes=payload.notes or "",
    )
    return Status(201, activity_out(activity))


@router.post("/activities/{activity_id}/done", response={200: ActivityOut, **ERRORS})
def activity_done(request, activity_id: int, payload: ActivityDoneIn):
    """Tick an activity off (done: false reopens it)."""
    activity = _activity_for_user(request.auth, activity_id, write=True)
    done = actions.set_activity_done(activity, actor=request.auth, done=payload.done)
    return activity_out(done)


# --- quotes ------------------------------------------------------------------------------------


@router.post(
    "/opportunities/{opportunity_id}/quotes", response={201: QuoteOut, **ERRORS}
)
def quote_create(request, opportunity_id: int, payload: QuoteIn):
    """A draft quote; 409 gate_not_passed while SCOTSMAN is below the threshold (a
    director or admin may override with override_reason)."""
    opportunity = get_opportunity_for_user(request.auth, opportunity_id, write=True)
    quote = actions.create_quote(
        opportunity,
        actor=request.auth,
        lines=_line_inputs(payload.lines),
        discount=payload.discount,
        vat_rate=payload.vat_rate,
        language=payload.language or "",
        valid_until=payload.valid_until,
        notes=payload.notes or "",
        override_reason=payload.override_reason or "",
    )
    return Status(201, quote_out(_reload_quote(quote.pk)))


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS})
def quote_detail(request, quote_id: int):
    return quote_out(_quote_for_user(request.auth, quote_id))


@router.put("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS})
def quote_update(request, quote_id: int, payload: QuoteUpdateIn):
    """Replace the lines (and terms) of a draft; a sent quote answers 409: revise it."""
    quote = _quote_for_user(request.auth, quote_id, write=True)
    values = payload.dict(exclude_unset=True, exclude={"version", "lines"})
    for key in ("discount", "vat_rate", "language"):
        if key in values and values[key] is None:
            del values[key]
    if "notes" in values and values["notes"] is None:
        values["notes"] = ""
    actions.update_draft_quote(
        quote,
        actor=request.auth,
        lines=_line_inputs(payload.lines),
        version=payload.version,
        **values,
    )
    return quote_out(_reload_quote(quote.pk))


@router.post("/quotes/{quote_id}/send", response={200: QuoteOut, **ERRORS})
def quote_send(request, quote_id: int):
    """Freeze the quote; the revision it replaces becomes superseded."""
    quote = _quote_for_user(request.auth, quote_id, write=True)
    actions.send_quote(quote, actor=request.auth)
    return quote_out(_reload_quote(quote.pk))


@router.post("/quotes/{quote_id}/revise", response={201: QuoteOut, **ERRORS})
def quote_revise(request, quote_id: int):
    """A new draft revision of a sent quote, with the same lines."""
    quote = _quote_for_user(request.auth, quote_id, write=True)
    revision = actions.revise_quote(quote, actor=request.auth)
    return Status(201, quote_out(_reload_quote(revision.pk)))


@router.post("/quotes/{quote_id}/accept", response={200: QuoteOut, **ERRORS})
def quote_accept(request, quote_id: int, payload: QuoteAcceptIn):
    """The customer accepted; close_as_won also closes the qualified lead as won."""
    quote = _quote_for_user(request.auth, quote_id, write=True)
    actions.decide_quote(
        quote,
        actor=request.auth,
        accepted=True,
        reason=payload.reason or "",
        close_as_won=payload.close_as_won,
    )
    return quote_out(_reload_quote(quote.pk))


@router.post("/quotes/{quote_id}/decline", response={200: QuoteOut, **ERRORS})
def quote_decline(request, quote_id: int, payload: QuoteDeclineIn):
    quote = _quote_for_user(request.auth, quote_id, write=True)
    actions.decide_quote(
        quote, actor=request.auth, accepted=False, reason=payload.reason or ""
    )
    return quote_out(_reload_quote(quote.pk))
