"""State changes of qualified leads. Issue 'qualified leads' extends this module."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.accounts.permissions import has_capability
from leadflow.audit.actions import record_event
from leadflow.contacts.models import Contact
from leadflow.core.errors import ValidationFailed
from leadflow.opportunities.models import Opportunity, OpportunityTransition, Stage
from leadflow.opportunities.states import OpportunityStatus
from leadflow.workflows.actions import notify


def first_stage() -> Stage:
    stage = Stage.objects.filter(is_active=True).order_by("order", "id").first()
    if stage is None:
        raise ValidationFailed(
            _("No active stage is configured; an administrator must add one."),
            code="no_stage",
        )
    return stage


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
) -> Opportunity:
    """Create a qualified lead with one owner in the first stage; call in a transaction."""
    owner = check_owner(owner)
    stage = first_stage()
    opportunity = Opportunity.objects.create(
        title=title[:200],
        inquiry=inquiry,
        contact=contact,
        company=contact.company,
        owner=owner,
        stage=stage,
        status=OpportunityStatus.OPEN,
        expected_value=expected_value,
    )
    OpportunityTransition.objects.create(
        opportunity=opportunity,
        actor=actor,
        from_state="",
        to_state=OpportunityStatus.OPEN,
        at=opportunity.created_at,
        reason=reason,
        data={
            "event": "opportunity.created",
            "stage": stage.code,
            "owner": owner.username,
            "inquiry_id": inquiry.pk if inquiry else None,
        },
    )
    if owner != actor:
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
