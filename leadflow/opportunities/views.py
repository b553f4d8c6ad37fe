"""Qualified-lead pages: the list and the record with everything a salesperson does.

Each POST handler: parse a form → get_opportunity_for_user(write=True) → one action →
back to the record (errors as a message at the section they belong to).
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from leadflow.accounts.permissions import has_capability
from leadflow.audit.queries import timeline_for
from leadflow.core import once
from leadflow.core.errors import DomainError
from leadflow.core.export import (
    Column,
    choice_label,
    export_response,
    filter_query,
    is_export,
)
from leadflow.core.pagination import IdPaginator
from leadflow.opportunities import actions
from leadflow.opportunities.forms import (
    ActivityForm,
    CloseForm,
    CompetitorForm,
    DecideForm,
    DetailsForm,
    DocumentForm,
    DraftLineFormSet,
    MoveForm,
    OwnerForm,
    QuoteForm,
    QuoteLineFormSet,
    ScorecardForm,
    StakeholderForm,
    TeamMemberForm,
)
from leadflow.opportunities.models import Activity, Document, Quote
from leadflow.opportunities.queries import (
    customer_context,
    get_opportunity_for_user,
    require_lead_lists,
    stakeholders_with_phases,
    visible_opportunities,
)
from leadflow.opportunities.quoting import totals
from leadflow.opportunities.states import OpportunityStatus, QuoteStatus
from leadflow.qualification.frameworks import Framework
from leadflow.qualification.queries import (
    current_scorecard,
    gate_settings,
    passes_gate,
    scorecard_history,
)

PAGE_SIZE = 25
HUNDRED = Decimal(100)


def _lead_rows(request) -> tuple:
    """The leads the list shows (and exports): visible to the user, filtered by
    status and "only mine", newest first. Returns (queryset, status, mine)."""
    status = request.GET.get("status") or OpportunityStatus.OPEN
    qs = visible_opportunities(request.user).order_by("-created_at", "-id")
    if status in OpportunityStatus.values:
        qs = qs.filter(status=status)
    mine = request.GET.get("mine") == "1"
    if mine:
        qs = qs.filter(owner=request.user)
    return qs, status, mine


LEAD_COLUMNS = [
    Column("pk", _l("ID")),
    Column("title", _l("Title")),
    Column("contact", _l("Contact")),
    Column("company", _l("Company")),
    Column("owner", _l("Owner")),
    Column("stage", _l("Stage")),
    Column(choice_label("status", OpportunityStatus.choices), _l("Status")),
    Column("expected_value", _l("Expected value")),
    Column("p_win", _l("P win")),
    Column("p_go", _l("P go")),
    Column("decision_date", _l("Decision date")),
    Column("start_date", _l("Project start")),
    Column("service_type", _l("Service type")),
    Column("created_at", _l("Created at")),
    Column("closed_at", _l("Closed at")),
    Column("contact_id", _l("Contact ID")),
    Column("company_id", _l("Company ID")),
]


@login_required
def opportunity_list(request):
    require_lead_lists(request.user)
    qs, status, mine = _lead_rows(request)
    if is_export(request):
        return export_response(
            request,
            rows=qs,
            columns=LEAD_COLUMNS,
            filename_stem="qualified-leads",
            format=request.GET["format"],
        )
    page = IdPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "opportunities/list.html",
        {
            "page": page,
            "status": status,
            "mine": mine,
            "statuses": OpportunityStatus.choices,
            "export_query": filter_query(request),
        },
    )


def _scorecard_initial(card):
    if card is None:
        return {}
    return {c.criterion: (c.status, c.evidence) for c in card.criteria.all()}


def _quote_rows(opportunity):
    rows = []
    for quote in opportunity.quotes.prefetch_related("lines").order_by(
        "-number", "-revision"
    ):
        lines = list(quote.lines.all())
        quote.totals = totals(
            [(line.quantity, line.unit_price, line.discount) for line in lines],
            discount=quote.discount,
            vat_rate=quote.vat_rate,
        )
        quote.line_rows = list(zip(lines, quote.totals.lines, strict=True))
        if quote.status == QuoteStatus.DRAFT:
            quote.edit_lines = DraftLineFormSet(
                prefix=f"q{quote.pk}",
                initial=[
                    {
                        "description": line.description,
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                        "discount": line.discount * HUNDRED,
                    }
                    for line in lines
                ],
            )
            quote.edit_form = QuoteForm(
                auto_id=f"q{quote.pk}_%s",
                initial={
                    "discount": quote.discount * HUNDRED,
                    "vat_rate": quote.vat_rate * HUNDRED,
                    "language": quote.language,
                    "valid_until": quote.valid_until,
                    "notes": quote.notes,
                },
            )
        rows.append(quote)
    return rows


@login_required
def opportunity_detail(request, opportunity_id: int):
    o = get_opportunity_for_user(request.user, opportunity_id)
    stakeholders, phases, clock = stakeholders_with_phases(o)
    scotsman = current_scorecard(o, Framework.SCOTSMAN)
    bant = current_scorecard(o, Framework.BANT)
    can_edit = o.status == OpportunityStatus.OPEN and (
        has_capability(request.user, "opportunity.own")
        or has_capability(request.user, "config.manage")
    )
    weight = (
        (o.p_win * o.p_go)
        if o.p_win is not None and o.p_go is not None
        else o.stage.weight
    )
    phase_strip = [
        {
            "number": i,
            "phase": p,
            "people": [s for s in stakeholders if s.phase_number == i],
        }
        for i, p in enumerate(phases, start=1)
    ]
    context = {
        "o": o,
        "weight": weight,
        "weighted": (o.expected_value * weight).quantize(Decimal("0.01"))
        if o.expected_value is not None
        else None,
        "can_edit": can_edit,
        "stakeholders": stakeholders,
        "phase_strip": phase_strip,
        "clock": clock,
        "deal_phase": phases[clock.deal_phase - 1] if clock.deal_phase else None,
        "scotsman": scotsman,
        "bant": bant,
        "gate": gate_settings(),
        "gate_ok": passes_gate(scotsman),
        "scorecards": scorecard_history(o)[:20],
        "activities": o.activities.select_related("assignee").order_by(
            F("done_at").asc(nulls_first=True), F("due_at").asc(nulls_last=True)
        ),
        "documents": o.documents.select_related("uploaded_by"),
        "team": o.team_members.select_related("user"),
        "competitors": o.competitors.all(),
        "quotes": _quote_rows(o),
        "context": customer_context(o),
        "timeline": timeline_for(o, o.transitions.all()),
        "now_ts": timezone.now(),
        "submission_token": once.token_for(request),
    }
    if can_edit:
        context.update(
            details_form=DetailsForm(
                auto_id="details_%s",
                initial={
                    "version": o.version,
                    "title": o.title,
                    "expected_value": o.expected_value,
                    "decision_date": o.decision_date,
                    "start_date": o.start_date,
                    "p_win": o.p_win * HUNDRED if o.p_win is not None else None,
                    "p_go": o.p_go * HUNDRED if o.p_go is not None else None,
                    "decision_type": o.decision_type,
                    "service_type": o.service_type,
                },
            ),
            owner_form=OwnerForm(auto_id="owner_%s"),
            move_form=MoveForm(initial={"stage": o.stage.code}, auto_id="move_%s"),
            close_form=CloseForm(auto_id="close_%s"),
            scotsman_form=ScorecardForm(
                auto_id="scotsman_%s",
                framework=Framework.SCOTSMAN,
                current=_scorecard_initial(scotsman),
            ),
            bant_form=ScorecardForm(
                framework=Framework.BANT,
                current=_scorecard_initial(bant),
                prefix="bant",
            ),
            stakeholder_form=StakeholderForm(
                auto_id="stakeholder_%s", opportunity=o, phases=phases
            ),
            team_form=TeamMemberForm(auto_id="team_%s"),
            competitor_form=CompetitorForm(auto_id="competitor_%s"),
            activity_form=ActivityForm(
                auto_id="activity_%s", initial={"assignee": request.user.pk}
            ),
            document_form=DocumentForm(auto_id="document_%s"),
            quote_form=QuoteForm(
                initial={"language": o.contact.language or "nl", "vat_rate": 21}
            ),
            line_formset=QuoteLineFormSet(prefix="lines"),
        )
    return render(request, "opportunities/detail.html", context)


def _back(opportunity_id: int, anchor: str = ""):
    url = f"/opportunities/{opportunity_id}/"
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _run(request, action, success: str, *, once_only: bool = False) -> bool:
    """Run one action; ``once_only`` (forms that create something): a second post of
    the same rendered form adds nothing (``core.once``)."""
    try:
        with transaction.atomic():
            if once_only and once.claim(request) is not None:
                messages.info(
                    request, _("This form was already sent: nothing was added.")
                )
                return False
            action()
    except DomainError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(
            request, f"{label}: {' '.join(errors)}" if label else " ".join(errors)
        )


def _write(request, opportunity_id):
    return get_opportunity_for_user(request.user, opportunity_id, write=True)


def _submit(
    request,
    opportunity_id: int,
    form_class,
    call,
    success: str,
    *,
    anchor="",
    once_only=False,
):
    """The shape of every form on the record: check access, validate, run one action,
    report errors or success as messages, go back to the right section."""
    o = _write(request, opportunity_id)
    form = form_class(request.POST)
    if form.is_valid():
        _run(request, lambda: call(o, form), success, once_only=once_only)
    else:
        _form_errors(request, form)
    return _back(o.pk, anchor)


@login_required
@require_POST
def opportunity_edit(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        DetailsForm,
        lambda o, f: actions.update_opportunity(
            o, actor=request.user, version=f.cleaned_data["version"], **f.values()
        ),
        _("Details saved."),
        anchor="details",
    )


@login_required
@require_POST
def opportunity_owner(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        OwnerForm,
        lambda o, f: actions.reassign_owner(
            o,
            actor=request.user,
            owner=f.cleaned_data["owner"],
            reason=f.cleaned_data["reason"],
        ),
        _("Owner changed; both people were told."),
    )


@login_required
@require_POST
def opportunity_move(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        MoveForm,
        lambda o, f: actions.move_stage(
            o,
            actor=request.user,
            stage=f.cleaned_data["stage"],
            reason=f.cleaned_data["reason"],
        ),
        _("Stage changed."),
        anchor="move",
    )


@login_required
@require_POST
def opportunity_close(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        CloseForm,
        lambda o, f: actions.close_opportunity(
            o,
            actor=request.user,
            result=f.cleaned_data["result"],
            reason=f.cleaned_data["reason"],
            follow_up_on=f.cleaned_data["follow_up_on"],
            follow_up_by=f.cleaned_data["follow_up_by"],
            follow_up_user=f.cleaned_data["follow_up_user"],
        ),
        _("Qualified lead closed."),
    )


@login_required
@require_POST
def opportunity_qualify(request, opportunity_id: int, framework: str):
    from leadflow.qualification.actions import score_qualification

    if framework not in Framework.values:
        raise Http404
    o = _write(request, opportunity_id)
    form = ScorecardForm(
        request.POST,
        framework=framework,
        prefix="bant" if framework == Framework.BANT else None,
    )
    if not form.is_valid():
        _form_errors(request, form)
    else:
        _run(
            request,
            lambda: score_qualification(
                o,
                actor=request.user,
                framework=framework,
                criteria=form.criteria(),
                evidence=form.evidence(),
                note=form.cleaned_data["note"],
            ),
            _("Scorecard saved."),
        )
    return _back(o.pk, "qualification")


@login_required
@require_POST
def opportunity_stakeholder(request, opportunity_id: int):
    from leadflow.qualification.queries import active_phases

    o = _write(request, opportunity_id)
    form = StakeholderForm(request.POST, opportunity=o, phases=active_phases())
    if not form.is_valid():
        _form_errors(request, form)
    else:
        d = form.cleaned_data
        _run(
            request,
            lambda: actions.set_stakeholder(
                o,
                actor=request.user,
                contact=d["contact"],
                role=d["role"],
                phase_number=d["phase"],
                note=d["note"],
            ),
            _("Stakeholder saved."),
        )
    return _back(o.pk, "clock")


@login_required
@require_POST
def opportunity_team(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        TeamMemberForm,
        lambda o, f: actions.add_team_member(
            o,
            actor=request.user,
            user=f.cleaned_data["user"],
            role=f.cleaned_data["role"],
        ),
        _("Team member saved."),
        anchor="people",
    )


@login_required
@require_POST
def opportunity_competitor(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        CompetitorForm,
        lambda o, f: actions.add_competitor(
            o,
            actor=request.user,
            name=f.cleaned_data["name"],
            note=f.cleaned_data["note"],
        ),
        _("Competitor saved."),
        anchor="people",
    )


@login_required
@require_POST
def opportunity_activity(request, opportunity_id: int):
    return _submit(
        request,
        opportunity_id,
        ActivityForm,
        lambda o, f: actions.add_activity(
            o,
            actor=request.user,
            kind=f.cleaned_data["kind"],
            subject=f.cleaned_data["subject"],
            assignee=f.cleaned_data["assignee"],
            due_at=f.cleaned_data["due_at"],
            duration_minutes=f.cleaned_data["duration_minutes"],
        ),
        _("Activity added."),
        anchor="activities",
        once_only=True,
    )


@login_required
@require_POST
def activity_done(request, activity_id: int):
    activity = get_object_or_404(Activity, pk=activity_id)
    _write(request, activity.opportunity_id)
    done = request.POST.get("done") == "1"
    _run(
        request,
        lambda: actions.set_activity_done(activity, actor=request.user, done=done),
        _("Activity updated."),
    )
    return _back(activity.opportunity_id, "activities")


@login_required
@require_POST
def opportunity_document(request, opportunity_id: int):
    o = get_opportunity_for_user(request.user, opportunity_id, write=True)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        _run(
            request,
            lambda: actions.add_document(
                o,
                actor=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
            ),
            _("Document uploaded."),
        )
    return _back(o.pk, "documents")


@login_required
def document_download(request, document_id: int):
    document = get_object_or_404(Document, pk=document_id)
    get_opportunity_for_user(request.user, document.opportunity_id)
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _lines_from(formset):
    lines = []
    for form in formset:
        d = form.cleaned_data
        if not d or not (d.get("description") or "").strip():
            continue
        lines.append(
            actions.LineInput(
                description=d["description"],
                quantity=d.get("quantity") or Decimal(0),
                unit_price=d.get("unit_price"),
                discount=(d.get("discount") or Decimal(0)) / HUNDRED,
            )
        )
    return lines


@login_required
@require_POST
def quote_create(request, opportunity_id: int):
    o = _write(request, opportunity_id)
    form = QuoteForm(request.POST)
    formset = QuoteLineFormSet(request.POST, prefix="lines")
    if not (form.is_valid() and formset.is_valid()):
        _form_errors(request, form)
        for f in formset:
            _form_errors(request, f)
        return _back(o.pk, "quotes")
    d = form.cleaned_data
    _run(
        request,
        lambda: actions.create_quote(
            o,
            actor=request.user,
            lines=_lines_from(formset),
            discount=(d["discount"] or Decimal(0)) / HUNDRED,
            vat_rate=d["vat_rate"] / HUNDRED,
            language=d["language"],
            valid_until=d["valid_until"],
            notes=d["notes"],
            override_reason=d["override_reason"],
        ),
        _("Draft quote made."),
        once_only=True,
    )
    return _back(o.pk, "quotes")


def _quote_write(request, quote_id):
    quote = get_object_or_404(Quote, pk=quote_id)
    _write(request, quote.opportunity_id)
    return quote


@login_required
@require_POST
def quote_edit(request, quote_id: int):
    """Change a draft's lines and terms (a sent quote is revised instead)."""
    quote = _quote_write(request, quote_id)
    form = QuoteForm(request.POST)
    formset = DraftLineFormSet(request.POST, prefix=f"q{quote.pk}")
    if not (form.is_valid() and formset.is_valid()):
        _form_errors(request, form)
        for f in formset:
            _form_errors(request, f)
        return _back(quote.opportunity_id, "quotes")
    d = form.cleaned_data
    _run(
        request,
        lambda: actions.update_draft_quote(
            quote,
            actor=request.user,
            lines=_lines_from(formset),
            discount=(d["discount"] or Decimal(0)) / HUNDRED,
            vat_rate=d["vat_rate"] / HUNDRED,
            language=d["language"],
            valid_until=d["valid_until"],
            notes=d["notes"],
        ),
        _("Draft quote saved."),
    )
    return _back(quote.opportunity_id, "quotes")


@login_required
@require_POST
def quote_send(request, quote_id: int):
    quote = _quote_write(request, quote_id)
    _run(
        request,
        lambda: actions.send_quote(quote, actor=request.user),
        _("Quote marked as sent; it can no longer be edited."),
    )
    return _back(quote.opportunity_id, "quotes")


@login_required
@require_POST
def quote_revise(request, quote_id: int):
    quote = _quote_write(request, quote_id)
    _run(
        request,
        lambda: actions.revise_quote(quote, actor=request.user),
        _("New draft revision made."),
    )
    return _back(quote.opportunity_id, "quotes")


@login_required
@require_POST
def quote_decide(request, quote_id: int):
    quote = _quote_write(request, quote_id)
    form = DecideForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        _run(
            request,
            lambda: actions.decide_quote(
                quote,
                actor=request.user,
                accepted=d["decision"] == "accept",
                reason=d["reason"],
                close_as_won=d["close_as_won"],
            ),
            _("Quote decision saved."),
        )
    return _back(quote.opportunity_id, "quotes")


__all__ = ["QuoteStatus"]


@login_required
@require_POST
def opportunity_forecast_category(request, opportunity_id: int):
    """Put the lead in a forecast category by hand, or back to its stage's (empty)."""
    o = _write(request, opportunity_id)
    _run(
        request,
        lambda: actions.set_forecast_category(
            o,
            actor=request.user,
            category=request.POST.get("category", "")[:20],
            reason=request.POST.get("reason", "")[:5000],
        ),
        _("Forecast category saved."),
    )
    return _back(o.pk, "forecast-category")
