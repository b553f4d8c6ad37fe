"""State changes of qualified leads. Issue 'qualified leads' extends this module."""

import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.accounts.permissions import has_capability
from leadflow.audit.actions import changed_fields, record_event
from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Contact
from leadflow.core.errors import Conflict, DomainError, ValidationFailed
from leadflow.core.lifecycle import record_transition, wake_outbox_on_commit
from leadflow.opportunities.models import (
    Activity,
    Competitor,
    Document,
    ForecastCategory,
    Opportunity,
    OpportunityTransition,
    Quote,
    QuoteLine,
    QuoteTransition,
    Stage,
    Stakeholder,
    StakeholderPhaseChange,
    TeamMember,
)
from leadflow.opportunities.states import (
    CLOSED_RESULTS,
    LEAVES_SALES,
    ActivityKind,
    DecisionType,
    FollowUpBy,
    OpportunityStatus,
    QuoteStatus,
    StakeholderRole,
    quote_can_move,
)
from leadflow.workflows.actions import notify


def first_stage() -> Stage:
    stage = Stage.objects.filter(is_active=True).order_by("order", "id").first()
    if stage is None:
        raise ValidationFailed(
            _("No active stage is configured; an administrator must add one."),
            code="no_stage",
        )
    return stage


def historical_moment(
    at: datetime | None, *, not_before: datetime | None = None
) -> datetime:
    """When a change happens: now, or the given moment of history (an import writes
    the past with its own dates). History is never in the future, and never before
    the record's previous step (``not_before``)."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        # A time without an offset is local office time.
        at = timezone.make_aware(at)
    if at > now:
        raise ValidationFailed(
            _("%(when)s is in the future: history cannot be."),
            code="in_future",
            when=date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT"),
        )
    if not_before is not None and at < not_before:
        raise ValidationFailed(
            _("%(when)s is before the previous step of this record (%(previous)s)."),
            code="before_previous_step",
            when=date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT"),
            previous=date_format(
                timezone.localtime(not_before), "SHORT_DATETIME_FORMAT"
            ),
        )
    return at


def history_fields(imported: int | None, data: dict) -> dict:
    """The transition row's ``data`` and ``processed_at`` for a change written by an
    import (``imported``: the import job's id). The past is not news: the row is
    written as already processed, so the workflow worker sends no notification,
    webhook or escalation for it."""
    if imported is None:
        return {"data": data}
    return {"data": {**data, "imported": imported}, "processed_at": timezone.now()}


def check_owner(owner: User | None) -> User:
    if owner is None:
        raise ValidationFailed(
            _("A qualified lead needs an owner."), code="owner_required"
        )
    if not owner.is_active or not has_capability(owner, "opportunity.own"):
        raise ValidationFailed(
            _("%(user)s cannot own qualified leads (role: %(role)s)."),
            code="owner_not_allowed",
            user=str(owner),
            role=owner.get_role_display(),
        )
    return owner


def open_opportunity(
    *,
    actor: User | None,
    contact: Contact,
    owner: User,
    title: str,
    inquiry=None,
    expected_value: Decimal | None = None,
    reason: str = "",
    at: datetime | None = None,
    imported: int | None = None,
) -> Opportunity:
    """Create a qualified lead with one owner in the first stage; call in a transaction.

    ``at``: when it was created, for history written later (default now);
    ``imported``: the id of the import writing it (see ``history_fields``; the owner
    is not notified of a lead of the past)."""
    owner = check_owner(owner)
    stage = first_stage()
    moment = historical_moment(
        at, not_before=inquiry.received_at if inquiry is not None else None
    )
    opportunity = Opportunity.objects.create(
        stage_entered_at=moment,
        title=title[:200],
        inquiry=inquiry,
        contact=contact,
        company=contact.company,
        owner=owner,
        stage=stage,
        status=OpportunityStatus.OPEN,
        expected_value=expected_value,
    )
    if at is not None:
        # created_at is set on insert (auto_now_add): history keeps its own date.
        Opportunity.objects.filter(pk=opportunity.pk).update(created_at=moment)
        opportunity.created_at = moment
    record_transition(
        OpportunityTransition,
        opportunity=opportunity,
        actor=actor,
        from_state="",
        to_state=OpportunityStatus.OPEN,
        at=opportunity.created_at,
        reason=reason,
        **history_fields(
            imported,
            {
                "event": "opportunity.created",
                "stage": stage.code,
                "owner": owner.username,
                "inquiry_id": inquiry.pk if inquiry else None,
            },
        ),
    )
    if owner != actor and imported is None:
        notify(
            owner,
            actor=actor,
            event_type="opportunity.assigned",
            message=_("New qualified lead for you: %(title)s")
            % {"title": opportunity.title},
            subject=opportunity,
            url=f"/opportunities/{opportunity.pk}/",
        )
    return opportunity


def log_handover(
    opportunity: Opportunity, *, actor: User | None, question: str, channel: str = ""
) -> Opportunity:
    """A running qualified lead's contact came back with a question: log it, tell the owner."""
    question = (question or "").strip()
    if not question:
        raise ValidationFailed(_("Write down the question."), code="question_required")
    record_event(
        actor=actor,
        subject=opportunity,
        event_type="opportunity.question_handed_over",
        new={"question": question, "channel": channel},
    )
    notify(
        opportunity.owner,
        actor=actor,
        event_type="opportunity.question_handed_over",
        message=_("%(who)s handed you a question on %(title)s: %(question)s")
        % {
            "who": str(actor) if actor else "Leadflow",
            "title": opportunity.title,
            "question": question[:200],
        },
        subject=opportunity,
        url=f"/opportunities/{opportunity.pk}/",
    )
    return opportunity


# --- editing, owner, stage and result ------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "expected_value",
    "decision_date",
    "start_date",
    "p_win",
    "p_go",
    "decision_type",
    "service_type",
    "contact",
)


def stale(opportunity_id: int) -> Conflict:
    """The answer to an edit made on an older version of a lead or one of its quotes:
    who changed it and when, so the user knows what to reload for."""
    last = (
        AuditEvent.objects.filter(
            subject_type=Opportunity._meta.label_lower, subject_id=opportunity_id
        )
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if last is None or last.actor is None:
        return Conflict(code="stale_version")
    return Conflict(
        _(
            "%(who)s changed this qualified lead at %(when)s, after you opened it. "
            "Reload to see the change, then make yours again."
        ),
        code="stale_version",
        who=last.actor.get_full_name() or last.actor.username,
        when=date_format(timezone.localtime(last.at), "SHORT_DATETIME_FORMAT"),
    )


def _locked_open(opportunity: Opportunity, version: int | None = None) -> Opportunity:
    locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if version is not None and locked.version != version:
        raise stale(locked.pk)
    if locked.status != OpportunityStatus.OPEN:
        raise Conflict(
            _("This qualified lead is closed (%(status)s); it can no longer change."),
            code="opportunity_closed",
            status=locked.get_status_display(),
        )
    return locked


def _check_probability(name: str, value) -> None:
    if value is not None and not (Decimal(0) <= Decimal(value) <= Decimal(1)):
        raise ValidationFailed(
            _("%(name)s is a probability between 0 and 1."),
            code="invalid_probability",
            name=name,
        )


@transaction.atomic
def update_opportunity(
    opportunity: Opportunity,
    *,
    actor: User | None,
    version: int | None = None,
    **values,
) -> Opportunity:
    """Fill in or correct the qualified lead's details (captured in phases)."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s"),
            code="invalid_field",
            fields=", ".join(sorted(unknown)),
        )
    locked = _locked_open(opportunity, version)
    for name in ("p_win", "p_go"):
        if name in values:
            _check_probability(name, values[name])
    if "expected_value" in values and values["expected_value"] is not None:
        if Decimal(values["expected_value"]) < 0:
            raise ValidationFailed(
                _("The expected value cannot be negative."), code="negative_value"
            )
    if "decision_type" in values and values["decision_type"] not in (
        "",
        *DecisionType.values,
    ):
        raise ValidationFailed(
            _("Unknown purchase decision type."), code="invalid_decision_type"
        )
    if "title" in values and not (values["title"] or "").strip():
        raise ValidationFailed(
            _("A qualified lead needs a title."), code="title_required"
        )
    old, new = changed_fields(locked, values)
    if not new:
        return locked
    for key, value in new.items():
        setattr(locked, key, value)
    locked.version += 1
    fields = [*new, "version", "updated_at"]
    if "contact" in new:
        locked.company = locked.contact.company
        fields.append("company")
    locked.save(update_fields=fields)
    record_event(
        actor=actor, subject=locked, event_type="opportunity.updated", old=old, new=new
    )
    return locked


@transaction.atomic
def reassign_owner(
    opportunity: Opportunity, *, actor: User | None, owner: User, reason: str = ""
) -> Opportunity:
    """Exactly one owner: hand the lead to someone else; both people are told."""
    owner = check_owner(owner)
    locked = _locked_open(opportunity)
    previous = locked.owner
    if previous.pk == owner.pk:
        return locked
    locked.owner = owner
    locked.version += 1
    locked.save(update_fields=["owner", "version", "updated_at"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="opportunity.owner_changed",
        old={"owner": previous.username},
        new={"owner": owner.username},
        reason=reason,
    )
    url = f"/opportunities/{locked.pk}/"
    if owner != actor:
        notify(
            owner,
            actor=actor,
            event_type="opportunity.assigned",
            subject=locked,
            url=url,
            message=_("%(title)s is now yours (from %(previous)s).")
            % {"title": locked.title, "previous": previous},
        )
    if previous != actor:
        notify(
            previous,
            actor=actor,
            event_type="opportunity.reassigned",
            subject=locked,
            url=url,
            message=_("%(title)s was handed to %(owner)s.")
            % {"title": locked.title, "owner": owner},
        )
    return locked


def resolve_stage(code: str | Stage) -> Stage:
    if isinstance(code, Stage):
        return code
    stage = Stage.objects.filter(code=(code or "").strip(), is_active=True).first()
    if stage is None:
        known = ", ".join(
            Stage.objects.filter(is_active=True).values_list("code", flat=True)
        )
        raise ValidationFailed(
            _("Unknown stage %(value)r. Stages: %(known)s."),
            code="unknown_stage",
            value=code,
            known=known,
        )
    return stage


@transaction.atomic
def move_stage(
    opportunity: Opportunity,
    *,
    actor: User | None,
    stage: str | Stage,
    reason: str,
    at: datetime | None = None,
    imported: int | None = None,
) -> Opportunity:
    """Move to any stage, forward or back; a reason is always required and recorded.
    ``at`` and ``imported``: history written later (see ``open_opportunity``)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the stage changes."), code="reason_required")
    target = resolve_stage(stage)
    locked = _locked_open(opportunity)
    current = locked.stage
    if current.pk == target.pk:
        return locked
    # All stages, active or not: a lead may sit in a stage an admin has since retired.
    ordered = list(Stage.objects.order_by("order", "id"))
    positions = {s.pk: i for i, s in enumerate(ordered)}
    step = positions[target.pk] - positions[current.pk]
    now = historical_moment(at, not_before=locked.stage_entered_at or locked.created_at)
    locked.stage = target
    locked.stage_entered_at = now
    locked.version += 1
    locked.save(update_fields=["stage", "stage_entered_at", "version", "updated_at"])
    record_transition(
        OpportunityTransition,
        opportunity=locked,
        actor=actor if actor and actor.is_authenticated else None,
        from_state=current.code,
        to_state=target.code,
        at=now,
        reason=reason,
        **history_fields(
            imported,
            {
                "event": "opportunity.stage_changed",
                "direction": "forward" if step > 0 else "back",
                "skipped": max(abs(step) - 1, 0),
            },
        ),
    )
    return locked


def _follow_up_person(value: User | str | None) -> User | None:
    if value is None or value == "":
        return None
    if isinstance(value, User):
        user = value
    else:
        user = User.objects.filter(username=value).first()
        if user is None:
            raise ValidationFailed(
                _("Unknown user %(value)r."), code="unknown_user", value=value
            )
    if not user.is_active:
        raise ValidationFailed(
            _("%(user)s is no longer active."), code="user_inactive", user=str(user)
        )
    return user


@transaction.atomic
def close_opportunity(
    opportunity: Opportunity,
    *,
    actor: User | None,
    result: str,
    reason: str,
    follow_up_on=None,
    follow_up_by: str = "",
    follow_up_user: User | str | None = None,
    at: datetime | None = None,
    imported: int | None = None,
) -> Opportunity:
    """Won, lost, not going ahead or nurture. A reason is required. Nurture needs a
    follow-up date and who follows up (a team, optionally a named person: on the date
    the lead comes back to them). Whatever the result,
    nothing is deleted; except for won, the lead leaves the sales lists and its contacts
    go to the marketing database (consent respected). ``at`` and ``imported``: a
    result of the past written later (see ``open_opportunity``)."""
    if result not in CLOSED_RESULTS:
        raise ValidationFailed(
            _("Choose a result: won, lost, not_going_ahead or nurture."),
            code="invalid_result",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the qualified lead is closed."), code="reason_required"
        )
    if result == OpportunityStatus.NURTURE:
        if follow_up_on is None:
            raise ValidationFailed(
                _("Nurture needs a follow-up date."), code="follow_up_required"
            )
        if follow_up_by not in FollowUpBy.values:
            raise ValidationFailed(
                _("Say who follows up: marketing, telemarketing or sales."),
                code="follow_up_by_required",
            )
        follow_up_user = _follow_up_person(follow_up_user)
    else:
        follow_up_user = None
    locked = _locked_open(opportunity)
    now = historical_moment(at, not_before=locked.stage_entered_at or locked.created_at)
    locked.status = result
    locked.closed_at = now
    locked.result_reason = reason
    locked.follow_up_on = follow_up_on if result == OpportunityStatus.NURTURE else None
    locked.follow_up_by = follow_up_by if result == OpportunityStatus.NURTURE else ""
    locked.follow_up_user = follow_up_user
    locked.version += 1
    locked.save(
        update_fields=[
            "status",
            "closed_at",
            "result_reason",
            "follow_up_on",
            "follow_up_by",
            "follow_up_user",
            "version",
            "updated_at",
        ]
    )
    actor_or_none = actor if actor and actor.is_authenticated else None
    record_transition(
        OpportunityTransition,
        opportunity=locked,
        actor=actor_or_none,
        from_state=OpportunityStatus.OPEN,
        to_state=result,
        at=now,
        reason=reason,
        **history_fields(
            imported,
            {
                "event": f"opportunity.{result}",
                "stage": locked.stage.code,
                "follow_up_on": locked.follow_up_on.isoformat()
                if locked.follow_up_on
                else None,
                "follow_up_by": locked.follow_up_by or None,
                "follow_up_user": follow_up_user.username if follow_up_user else None,
            },
        ),
    )
    if result in LEAVES_SALES:
        # Quotes still out with the customer are answered by the result.
        for quote in Quote.objects.select_for_update().filter(
            opportunity=locked, status=QuoteStatus.SENT
        ):
            _move_quote(
                quote,
                actor=actor,
                to=QuoteStatus.DECLINED,
                reason=f"qualified lead closed ({result})",
                decided_at=now,
            )
        from leadflow.contacts.actions import put_in_marketing_database

        people = [
            locked.contact,
            *[s.contact for s in locked.stakeholders.select_related("contact")],
        ]
        for person in {p.pk: p for p in people}.values():
            put_in_marketing_database(
                person,
                actor=actor_or_none,
                reason=f"qualified lead #{locked.pk} closed ({result})",
            )
    if result == OpportunityStatus.WON:
        from leadflow.contacts.models import Lifecycle

        customer = locked.company or locked.contact
        if customer.lifecycle != Lifecycle.CUSTOMER:
            type(customer).objects.filter(pk=customer.pk).update(
                lifecycle=Lifecycle.CUSTOMER
            )
            record_event(
                actor=actor,
                subject=customer,
                event_type="lifecycle.changed",
                old={"lifecycle": customer.lifecycle},
                new={"lifecycle": Lifecycle.CUSTOMER},
                reason=f"qualified lead #{locked.pk} won",
            )
    return locked


# --- stakeholders and the buying clock ------------------------------------------------


@transaction.atomic
def set_stakeholder(
    opportunity: Opportunity,
    *,
    actor: User | None,
    contact: Contact,
    role: str,
    phase_number: int | None = None,
    note: str = "",
) -> Stakeholder:
    """Add or update a stakeholder: role and buying-clock phase (1 = first phase).
    Moving back is allowed and shown as a regression; it needs a short reason."""
    from leadflow.qualification.queries import active_phases
    from leadflow.qualification.queries import phase_number as number_of

    if role not in StakeholderRole.values:
        raise ValidationFailed(
            _("Unknown stakeholder role %(value)r."), code="invalid_role", value=role
        )
    locked = _locked_open(opportunity)
    phases = active_phases()
    phase = None
    if phase_number is not None:
        if not 1 <= phase_number <= len(phases):
            raise ValidationFailed(
                _("The buying clock has phases 1 to %(count)s."),
                code="invalid_phase",
                count=len(phases),
            )
        phase = phases[phase_number - 1]
    stakeholder, created = Stakeholder.objects.select_for_update().get_or_create(
        opportunity=locked, contact=contact, defaults={"role": role}
    )
    old_number = number_of(stakeholder.phase, phases)
    regression = (
        phase is not None and old_number is not None and phase_number < old_number
    )
    if regression and not (note or "").strip():
        raise ValidationFailed(
            _("Moving back on the buying clock needs a short reason."),
            code="reason_required",
        )
    changes = {}
    if stakeholder.role != role:
        changes["role"] = (stakeholder.role, role)
        stakeholder.role = role
    if phase is not None and stakeholder.phase_id != phase.pk:
        StakeholderPhaseChange.objects.create(
            stakeholder=stakeholder,
            from_phase=stakeholder.phase,
            to_phase=phase,
            regression=regression,
            note=(note or "")[:1000],
            actor=actor if actor and actor.is_authenticated else None,
        )
        if regression:
            wake_outbox_on_commit()  # "moved back" is a workflow event
        changes["phase"] = (old_number, phase_number)
        stakeholder.phase = phase
        stakeholder.phase_since = timezone.now()
    if changes or created:
        stakeholder.save()
        record_event(
            actor=actor,
            subject=locked,
            event_type="stakeholder.moved_back"
            if regression
            else "stakeholder.changed",
            old={"contact": str(contact), **{k: v[0] for k, v in changes.items()}},
            new={"contact": str(contact), "role": role, "phase": phase_number},
            reason=note,
        )
    return stakeholder


@transaction.atomic
def add_team_member(
    opportunity: Opportunity, *, actor, user: User, role: str
) -> TeamMember:
    locked = _locked_open(opportunity)
    member, _created = TeamMember.objects.update_or_create(
        opportunity=locked, user=user, defaults={"role": (role or "").strip()[:100]}
    )
    record_event(
        actor=actor,
        subject=locked,
        event_type="opportunity.team_member",
        new={"user": user.username, "role": member.role},
    )
    return member


@transaction.atomic
def add_competitor(
    opportunity: Opportunity, *, actor, name: str, note: str = ""
) -> Competitor:
    name = (name or "").strip()[:150]
    if not name:
        raise ValidationFailed(_("Name the competitor."), code="name_required")
    locked = _locked_open(opportunity)
    competitor, _created = Competitor.objects.get_or_create(
        opportunity=locked, name=name, defaults={"note": note[:300]}
    )
    record_event(
        actor=actor,
        subject=locked,
        event_type="opportunity.competitor",
        new={"competitor": name},
    )
    return competitor


# --- activities and documents ---------------------------------------------------------


@transaction.atomic
def add_activity(
    opportunity: Opportunity,
    *,
    actor: User | None,
    kind: str,
    subject: str,
    assignee: User,
    due_at=None,
    duration_minutes: int | None = None,
    notes: str = "",
    at=None,
) -> Activity:
    """Plan or record an activity. ``at`` (an import of history) is when it was
    recorded: such an activity may belong to a closed lead and notifies nobody."""
    if kind not in ActivityKind.values:
        raise ValidationFailed(_("Unknown activity kind."), code="invalid_kind")
    subject = (subject or "").strip()
    if not subject:
        raise ValidationFailed(
            _("Give the activity a subject."), code="subject_required"
        )
    if at is None:
        _locked_open(opportunity)
    activity = Activity.objects.create(
        opportunity=opportunity,
        kind=kind,
        subject=subject[:200],
        assignee=assignee,
        due_at=due_at,
        duration_minutes=duration_minutes,
        notes=notes,
        created_by=actor if actor and actor.is_authenticated else None,
    )
    if at is not None:
        Activity.objects.filter(pk=activity.pk).update(created_at=at)
        activity.created_at = at
    record_event(
        actor=actor,
        subject=opportunity,
        event_type="activity.added",
        new={
            "kind": kind,
            "subject": subject[:200],
            "assigned_to": assignee.username,
            "due_at": due_at.isoformat() if due_at else None,
        },
    )
    if assignee != actor and at is None:
        notify(
            assignee,
            actor=actor,
            event_type="activity.assigned",
            subject=opportunity,
            url=f"/opportunities/{opportunity.pk}/",
            message=_("New activity for you: %(subject)s") % {"subject": subject[:200]},
        )
    return activity


@transaction.atomic
def set_activity_done(
    activity: Activity, *, actor: User | None, done: bool, at=None
) -> Activity:
    """Mark an activity done (``at``: when, for history) or open again."""
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if (locked.done_at is not None) == done:
        return locked
    locked.done_at = (at or timezone.now()) if done else None
    locked.save(update_fields=["done_at"])
    record_event(
        actor=actor,
        subject=locked.opportunity,
        event_type="activity.done" if done else "activity.reopened",
        new={"subject": locked.subject},
    )
    return locked


MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# What a sales file holds: documents, spreadsheets, slides, mails, images, archives.
# Anything else (programs, scripts, web pages, SVG) is refused; what is accepted is
# only ever served as a download with nosniff and a sandboxing CSP.
DOCUMENT_EXTENSIONS = frozenset(
    {
        ".pdf", ".doc", ".docx", ".odt", ".rtf", ".txt", ".md",
        ".xls", ".xlsx", ".ods", ".csv",
        ".ppt", ".pptx", ".odp",
        ".eml", ".msg",
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic",
        ".zip",
    }
)  # fmt: skip


@transaction.atomic
def add_document(
    opportunity: Opportunity, *, actor: User | None, upload, kind: str = ""
) -> Document:
    """Attach a file (meeting notes, customer or technical documents, e-mails)."""
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(_("Files are at most 20 MB."), code="file_too_large")
    if not upload.size:
        raise ValidationFailed(_("The file is empty."), code="file_empty")
    name = os.path.basename(upload.name or "document")[:200]
    extension = os.path.splitext(name)[1].lower()
    if extension not in DOCUMENT_EXTENSIONS:
        raise ValidationFailed(
            _("Files of type %(type)s are not accepted; use one of %(known)s."),
            code="file_type_not_allowed",
            type=extension or _("(none)"),
            known=", ".join(sorted(DOCUMENT_EXTENSIONS)),
        )
    document = Document.objects.create(
        opportunity=opportunity,
        file=upload,
        name=name,
        kind=(kind or "")[:50],
        size=upload.size,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        uploaded_by=actor if actor and actor.is_authenticated else None,
    )
    record_event(
        actor=actor,
        subject=opportunity,
        event_type="document.added",
        new={"name": name, "size": upload.size},
    )
    return document


# --- quotes -----------------------------------------------------------------------------


@dataclass
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal("0")


def _check_lines(lines: list[LineInput]) -> None:
    if not lines:
        raise ValidationFailed(
            _("A quote needs at least one line."), code="lines_required"
        )
    for index, line in enumerate(lines, start=1):
        if not (line.description or "").strip():
            raise ValidationFailed(
                _("Line %(n)s needs a description."), code="invalid_line", n=index
            )
        if line.quantity is None or line.quantity <= 0:
            raise ValidationFailed(
                _("Line %(n)s: the quantity must be above 0."),
                code="invalid_line",
                n=index,
            )
        if line.unit_price is None:
            raise ValidationFailed(
                _("Line %(n)s needs a unit price."), code="invalid_line", n=index
            )
        if line.unit_price < 0:
            raise ValidationFailed(
                _("Line %(n)s: the price cannot be negative."),
                code="invalid_line",
                n=index,
            )
        if not Decimal(0) <= (line.discount or Decimal(0)) <= Decimal(1):
            raise ValidationFailed(
                _("Line %(n)s: the discount is between 0 and 1."),
                code="invalid_line",
                n=index,
            )


def _write_lines(quote: Quote, lines: list[LineInput]) -> None:
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=i,
            description=line.description.strip()[:500],
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount or Decimal("0"),
        )
        for i, line in enumerate(lines, start=1)
    )


def _check_rates(*, discount: Decimal | None, vat_rate: Decimal | None) -> None:
    if discount is not None and not Decimal(0) <= discount <= Decimal(1):
        raise ValidationFailed(
            _("The overall discount is between 0 and 1."), code="invalid_discount"
        )
    if vat_rate is not None and not Decimal(0) <= vat_rate < Decimal(1):
        raise ValidationFailed(
            _("The VAT rate is between 0 and 1 (0.21 for 21%)."),
            code="invalid_vat_rate",
        )


class GateNotPassed(Conflict):
    code = "gate_not_passed"


@transaction.atomic
def create_quote(
    opportunity: Opportunity,
    *,
    actor: User | None,
    lines: list[LineInput],
    discount: Decimal = Decimal("0"),
    vat_rate: Decimal | None = None,
    language: str = "",
    valid_until=None,
    notes: str = "",
    override_reason: str = "",
) -> Quote:
    """A new draft quote, allowed only when SCOTSMAN passes the gate. An administrator
    or sales director may override with a reason; it is counted as a process exception."""
    from leadflow.qualification.queries import (
        current_scorecard,
        gate_settings,
        passes_gate,
    )

    _check_lines(lines)
    _check_rates(discount=discount, vat_rate=vat_rate)
    locked = _locked_open(opportunity)
    card = current_scorecard(locked)
    gate = gate_settings()
    met = card.met if card else 0
    override = False
    if not passes_gate(card, gate):
        override_reason = (override_reason or "").strip()
        allowed = (
            gate.allow_override
            and actor is not None
            and has_capability(actor, "quote.override_gate")
        )
        if not (override_reason and allowed):
            raise GateNotPassed(
                _(
                    "No quote yet: SCOTSMAN has %(met)s of 8 criteria met, %(threshold)s are "
                    "needed%(extra)s."
                ),
                met=met,
                threshold=gate.scotsman_threshold,
                extra=_(" (and no showstopper)") if gate.block_on_showstopper else "",
            )
        override = True
    number = (Quote.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    quote = Quote.objects.create(
        opportunity=locked,
        number=number,
        revision=1,
        language=(language or locked.contact.language or "nl")[:2],
        vat_rate=Decimal("0.21") if vat_rate is None else vat_rate,
        discount=discount,
        valid_until=valid_until,
        notes=notes,
        gate_override=override,
        override_reason=override_reason if override else "",
        scotsman_met=met,
        created_by=actor if actor and actor.is_authenticated else None,
    )
    _write_lines(quote, lines)
    record_transition(
        QuoteTransition,
        quote=quote,
        actor=quote.created_by,
        from_state="",
        to_state=QuoteStatus.DRAFT,
        at=timezone.now(),
        reason=override_reason if override else "",
        data={"event": "quote.created", "gate_override": override, "scotsman_met": met},
    )
    record_event(
        actor=actor,
        subject=locked,
        event_type="quote.created",
        new={"quote": quote.reference, "gate_override": override},
        reason=override_reason if override else "",
    )
    return quote


def _quote_for_change(quote: Quote, *, to: str, version: int | None = None) -> Quote:
    locked = (
        Quote.objects.select_for_update().select_related("opportunity").get(pk=quote.pk)
    )
    if version is not None and locked.version != version:
        raise stale(locked.opportunity_id)
    if not quote_can_move(locked.status, to):
        raise Conflict(
            _("A %(status)s quote cannot become %(to)s."),
            code="quote_state",
            status=locked.get_status_display(),
            to=QuoteStatus(to).label,
        )
    return locked


def _move_quote(locked: Quote, *, actor, to: str, reason: str = "", **changes) -> Quote:
    now = timezone.now()
    old = locked.status
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.status = to
    locked.version += 1
    locked.save()
    record_transition(
        QuoteTransition,
        quote=locked,
        actor=actor if actor and actor.is_authenticated else None,
        from_state=old,
        to_state=to,
        at=now,
        reason=reason,
        data={"event": f"quote.{to}"},
    )
    record_event(
        actor=actor,
        subject=locked.opportunity,
        event_type=f"quote.{to}",
        new={"quote": locked.reference},
        reason=reason,
    )
    return locked


@transaction.atomic
def update_draft_quote(
    quote: Quote, *, actor, lines: list[LineInput], version: int | None = None, **values
) -> Quote:
    """Only a draft changes; a sent quote is revised instead."""
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    if version is not None and locked.version != version:
        raise stale(locked.opportunity_id)
    if locked.status != QuoteStatus.DRAFT:
        raise Conflict(
            _("A sent quote is never edited: make a new revision."),
            code="quote_not_draft",
        )
    _check_lines(lines)
    _check_rates(discount=values.get("discount"), vat_rate=values.get("vat_rate"))
    _locked_open(locked.opportunity)
    if "language" in values:
        values["language"] = (values["language"] or "nl")[:2]
    for key in ("discount", "vat_rate", "valid_until", "notes", "language"):
        if key in values:
            setattr(locked, key, values[key])
    locked.version += 1
    locked.save()
    _write_lines(locked, lines)
    record_event(
        actor=actor,
        subject=locked.opportunity,
        event_type="quote.updated",
        new={"quote": locked.reference, "lines": len(lines)},
    )
    return locked


@transaction.atomic
def send_quote(quote: Quote, *, actor) -> Quote:
    """Freeze the quote; the revision it replaces becomes superseded."""
    locked = _quote_for_change(quote, to=QuoteStatus.SENT)
    if locked.opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(_("The qualified lead is closed."), code="opportunity_closed")
    sent = _move_quote(locked, actor=actor, to=QuoteStatus.SENT, sent_at=timezone.now())
    if sent.supersedes_id:
        older = Quote.objects.select_for_update().get(pk=sent.supersedes_id)
        if older.status == QuoteStatus.SENT:
            _move_quote(
                older,
                actor=actor,
                to=QuoteStatus.SUPERSEDED,
                reason=f"revision {sent.revision}",
            )
    return sent


@transaction.atomic
def revise_quote(quote: Quote, *, actor) -> Quote:
    """A new draft revision with the same lines; the sent one stays as it was."""
    _locked_open(quote.opportunity)
    locked = (
        Quote.objects.select_for_update().select_related("opportunity").get(pk=quote.pk)
    )
    if locked.status != QuoteStatus.SENT:
        raise Conflict(
            _("Only a sent quote is revised; edit the draft instead."),
            code="quote_state",
        )
    if Quote.objects.filter(supersedes=locked).exists():
        raise Conflict(
            _("This quote already has a newer revision."), code="quote_revised"
        )
    _locked_open(locked.opportunity)
    revision = Quote.objects.create(
        opportunity=locked.opportunity,
        number=locked.number,
        revision=locked.revision + 1,
        supersedes=locked,
        language=locked.language,
        vat_rate=locked.vat_rate,
        discount=locked.discount,
        valid_until=locked.valid_until,
        notes=locked.notes,
        gate_override=locked.gate_override,
        override_reason=locked.override_reason,
        scotsman_met=locked.scotsman_met,
        created_by=actor if actor and actor.is_authenticated else None,
    )
    _write_lines(
        revision,
        [
            LineInput(line.description, line.quantity, line.unit_price, line.discount)
            for line in locked.lines.all()
        ],
    )
    record_transition(
        QuoteTransition,
        quote=revision,
        actor=revision.created_by,
        from_state="",
        to_state=QuoteStatus.DRAFT,
        at=timezone.now(),
        data={"event": "quote.revised", "supersedes": locked.reference},
    )
    record_event(
        actor=actor,
        subject=locked.opportunity,
        event_type="quote.revised",
        new={"quote": revision.reference, "supersedes": locked.reference},
    )
    return revision


@transaction.atomic
def decide_quote(
    quote: Quote, *, actor, accepted: bool, reason: str = "", close_as_won: bool = False
) -> Quote:
    """The customer accepted or declined; accepting can close the lead as won."""
    to = QuoteStatus.ACCEPTED if accepted else QuoteStatus.DECLINED
    _locked_open(quote.opportunity)
    locked = _quote_for_change(quote, to=to)
    decided = _move_quote(
        locked, actor=actor, to=to, reason=reason, decided_at=timezone.now()
    )
    if accepted and close_as_won:
        close_opportunity(
            decided.opportunity,
            actor=actor,
            result=OpportunityStatus.WON,
            reason=reason
            or str(_("Quote %(ref)s accepted") % {"ref": decided.reference}),
        )
    return decided


@transaction.atomic
def expire_quote(quote: Quote, *, actor=None) -> Quote:
    locked = _quote_for_change(quote, to=QuoteStatus.EXPIRED)
    return _move_quote(
        locked, actor=actor, to=QuoteStatus.EXPIRED, reason="valid_until passed"
    )


def expire_due_quotes(*, today=None) -> int:
    """Expire every sent quote whose 'valid until' date has passed (the worker runs this
    daily; ``manage.py expire_quotes`` does the same by hand)."""
    today = today or timezone.localdate()
    expired = 0
    for quote in Quote.objects.filter(
        status=QuoteStatus.SENT, valid_until__lt=today
    ).only("pk"):
        try:
            expire_quote(quote, actor=None)
        except DomainError:
            continue  # decided meanwhile by someone else
        expired += 1
    return expired


# --- forecast category ------------------------------------------------------------------

# What a salesperson may choose; "closed" (won) only comes from closing the lead.
OVERRIDE_CATEGORIES = (
    ForecastCategory.PIPELINE,
    ForecastCategory.BEST_CASE,
    ForecastCategory.COMMIT,
    ForecastCategory.OMITTED,
)


@transaction.atomic
def set_forecast_category(
    opportunity: Opportunity,
    *,
    actor: User | None,
    category: str | None,
    reason: str = "",
) -> Opportunity:
    """Put an open lead in a forecast category by hand (DOMAIN.md §6.4), or back to its
    stage's category with an empty value; who and when are kept on the lead."""
    category = (category or "").strip()
    if category and category not in OVERRIDE_CATEGORIES:
        raise ValidationFailed(
            _("Unknown forecast category %(value)r: use one of %(known)s."),
            code="invalid_category",
            value=category,
            known=", ".join(OVERRIDE_CATEGORIES),
        )
    locked = _locked_open(opportunity)
    if locked.forecast_category_override == category:
        return locked
    old = locked.forecast_category_override
    locked.forecast_category_override = category
    locked.forecast_category_set_by = (
        actor if actor is not None and actor.is_authenticated else None
    )
    locked.forecast_category_set_at = timezone.now()
    locked.version += 1
    locked.save(
        update_fields=[
            "forecast_category_override",
            "forecast_category_set_by",
            "forecast_category_set_at",
            "version",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        subject=locked,
        event_type="opportunity.forecast_category_changed",
        old={"forecast_category": old or None},
        new={
            "forecast_category": category or None,
            "stage_default": locked.stage.forecast_category,
        },
        reason=reason,
    )
    return locked
