"""Intake pages: register (with live lookup), triage inbox, assess and close, re-orders.

Each view parses input, checks access through queries.get_*_for_user, calls one
action, and renders; the rules themselves live in intake.actions.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from leadflow.accounts.permissions import has_capability, require
from leadflow.audit.queries import timeline_for
from leadflow.contacts.actions import ContactData
from leadflow.contacts.models import Company, Contact
from leadflow.core import once
from leadflow.core.errors import DomainError
from leadflow.core.export import (
    Column,
    bad_filters,
    choice_label,
    export_response,
    filter_query,
    is_export,
)
from leadflow.core.pagination import IdPaginator
from leadflow.core.worktime import current_calendar
from leadflow.intake import actions
from leadflow.intake.forms import (
    AssignForm,
    CloseInquiryForm,
    OrderForm,
    RegisterInquiryForm,
    TriageFilterForm,
)
from leadflow.intake.models import Channel, Order
from leadflow.intake.queries import (
    QueueFilters,
    age_in_working_hours,
    contact_history,
    get_inquiry_for_user,
    lookup,
    triage_queue,
)
from leadflow.intake.states import InquiryStatus, Outcome
from leadflow.opportunities.queries import get_opportunity_for_handover
from leadflow.workflows.queries import inquiry_escalations

PAGE_SIZE = 25


def _hx_redirect(request, url: str):
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
def inquiry_new(request):
    """Step 1: type who is asking, see matches and history, then pick one of three paths."""
    require(request.user, "inquiry.register")
    form = RegisterInquiryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                earlier = once.claim(request)
                if earlier is not None:
                    messages.info(
                        request, _("This form was already sent: nothing was added.")
                    )
                    return redirect(earlier or "inquiry_new")
                inquiry = _register_from_form(request, d)
                once.done(request, reverse("inquiry_detail", args=[inquiry.pk]))
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Inquiry #%(id)s registered.") % {"id": inquiry.pk}
            )
            return redirect("inquiry_detail", inquiry.pk)
    matches = None
    if request.method == "POST":
        matches = _lookup_for(request, request.POST)
    return render(
        request,
        "intake/new.html",
        {
            "form": form,
            "result": matches,
            "selected": request.POST.get("contact_id"),
            "submission_token": once.token_for(request),
        },
    )


def _register_from_form(request, d: dict):
    return actions.register_inquiry(
        actions.InquiryInput(
            summary=d["summary"],
            channel=d["channel"],
            contact_id=d["contact_id"] or None,
            contact=None
            if d["contact_id"]
            else ContactData(
                name=d["name"],
                email=d["email"],
                phone=d["phone"],
                company_name=d["company"],
                company_size=d["company_size"],
            ),
            campaign=d["campaign"],
            referrer=d["referrer"],
            prompted=d["prompted"],
            received_by=d["received_by"],
            department=d["department"],
            received_at=d["received_at"],
        ),
        actor=request.user,
    )


def _lookup_for(request, data):
    fields = {
        k: (data.get(k) or "").strip()[:200]
        for k in ("name", "email", "phone", "company")
    }
    if not any(len(v) >= 2 for v in fields.values()):
        return None
    return lookup(request.user, **fields)


@login_required
@require_GET
def intake_lookup(request):
    """HTMX: the matches panel, refreshed while the requester's details are typed."""
    require(request.user, "inquiry.register")
    return render(
        request,
        "intake/new.html#matches",
        {
            "result": _lookup_for(request, request.GET),
            "selected": request.GET.get("contact_id"),
        },
    )


@login_required
@require_POST
def handover(request, opportunity_id: int):
    """Path 2: the requester is in a running sales process; hand the question over."""
    opportunity = get_opportunity_for_handover(request.user, opportunity_id)
    question = request.POST.get("question") or request.POST.get("summary") or ""
    try:
        actions.hand_over_question(
            opportunity,
            actor=request.user,
            question=question,
            channel=Channel.objects.filter(
                pk=request.POST.get("channel")
                if str(request.POST.get("channel")).isdigit()
                else None
            ).first(),
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("inquiry_new")
    messages.success(
        request,
        _("The question was logged on “%(title)s” and %(owner)s was notified.")
        % {"title": opportunity.title, "owner": opportunity.owner},
    )
    return redirect("home")


@login_required
def order_new(request):
    """Path 1: book a re-order or repeat purchase for a known contact or company."""
    require(request.user, "order.book")
    contact_id = request.POST.get("order_contact") or request.GET.get("contact")
    prefill = request.method == "POST" and "order_contact" in request.POST
    if prefill:
        form = OrderForm(
            initial={
                "contact_id": contact_id,
                "description": request.POST.get("summary", ""),
            }
        )
    else:
        form = OrderForm(request.POST or None, initial={"contact_id": contact_id})
    contact = (
        Contact.objects.select_related("company").filter(pk=contact_id).first()
        if str(contact_id or "").isdigit()
        else None
    )
    if request.method == "POST" and not prefill and form.is_valid():
        d = form.cleaned_data
        contact = (
            Contact.objects.select_related("company").filter(pk=d["contact_id"]).first()
        )
        company = (
            Company.objects.filter(pk=d["company_id"]).first()
            if d["company_id"]
            else None
        )
        try:
            order = actions.book_order(
                actor=request.user,
                contact=contact,
                company=company,
                description=d["description"],
                amount=d["amount"],
                reference=d["reference"],
                channel=d["channel"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Re-order #%(id)s booked.") % {"id": order.pk})
            return redirect("order_list")
    history = contact_history(contact, viewer=request.user) if contact else None
    return render(
        request,
        "intake/order_new.html",
        {"form": form, "contact": contact, "history": history},
    )


def _order_rows():
    """The re-orders the page lists and the export writes, newest first."""
    return Order.objects.select_related(
        "contact", "company", "booked_by", "channel"
    ).order_by("-ordered_at", "-id")


ORDER_COLUMNS = [
    Column("pk", _l("ID")),
    Column("ordered_at", _l("Ordered at")),
    Column("contact", _l("Contact")),
    Column("company", _l("Company")),
    Column("contact.email", _l("E-mail")),
    Column("description", _l("What")),
    Column("amount", _l("Amount")),
    Column("reference", _l("Reference")),
    Column("channel", _l("Channel")),
    Column("booked_by", _l("Booked by")),
    Column("contact_id", _l("Contact ID")),
    Column("company_id", _l("Company ID")),
]


@login_required
def order_list(request):
    require(request.user, "order.book")
    qs = _order_rows()
    if is_export(request):
        return export_response(
            request,
            rows=qs,
            columns=ORDER_COLUMNS,
            filename_stem="orders",
            format=request.GET["format"],
        )
    page = IdPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/order_list.html",
        {"page": page, "export_query": filter_query(request)},
    )


def _triage_filters(request) -> tuple[TriageFilterForm, QueueFilters]:
    """The inbox's filters from the query string (the page and its export)."""
    form = TriageFilterForm(request.GET or None)
    filters = QueueFilters()
    if form.is_valid():
        d = form.cleaned_data
        filters.channel = d["channel"].pk if d["channel"] else None
        filters.department = d["department"].pk if d["department"] else None
        filters.status = d["status"] or "open"
        if d["assignee"] == "none":
            filters.unassigned = True
        elif d["assignee"]:
            filters.assignee = int(d["assignee"])
    return form, filters


SUMMARY_CHARS = 200

INQUIRY_COLUMNS = [
    Column("pk", _l("ID")),
    Column("received_at", _l("Received at")),
    Column("contact", _l("Contact")),
    Column("company", _l("Company")),
    Column("contact.email", _l("E-mail")),
    Column("contact.phone", _l("Phone")),
    Column("channel", _l("Channel")),
    Column("campaign", _l("Campaign")),
    Column("department", _l("Department")),
    Column(choice_label("status", InquiryStatus.choices), _l("Status")),
    Column(choice_label("outcome", Outcome.choices), _l("Outcome")),
    Column("assignee", _l("Assessed by")),
    Column("received_by", _l("Received by")),
    Column("closed_at", _l("Closed at")),
    Column(lambda i: i.summary[:SUMMARY_CHARS], _l("Summary")),
    Column("contact_id", _l("Contact ID")),
    Column("company_id", _l("Company ID")),
]


@login_required
def triage(request):
    """Step 2: the inbox of open inquiries, oldest first, with filters."""
    if not (
        has_capability(request.user, "inquiry.triage")
        or has_capability(request.user, "inquiry.view_all")
    ):
        require(request.user, "inquiry.triage")
    form, filters = _triage_filters(request)
    queue = triage_queue(request.user, filters)
    if is_export(request):
        if form.is_bound and not form.is_valid():
            return bad_filters(form)
        return export_response(
            request,
            rows=queue,
            columns=INQUIRY_COLUMNS,
            filename_stem="inquiries",
            format=request.GET["format"],
        )
    page = IdPaginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    target = settings.LEADFLOW_TRIAGE_TARGET_HOURS
    for inquiry in page:
        inquiry.age = age_in_working_hours(inquiry)
        inquiry.overdue = inquiry.is_open and inquiry.age > target
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "intake/triage.html",
        {
            "form": form,
            "page": page,
            "target": target,
            "query": query.urlencode(),
            "export_query": filter_query(request),
            "status": filters.status,
        },
    )


def _detail_context(request, inquiry, close_form=None, assign_form=None, error=None):
    can_triage = has_capability(request.user, "inquiry.triage")
    return {
        "inquiry": inquiry,
        "age": age_in_working_hours(inquiry),
        "target": settings.LEADFLOW_TRIAGE_TARGET_HOURS,
        "history": contact_history(inquiry.contact, viewer=request.user),
        "timeline": timeline_for(inquiry, inquiry.transitions.all()),
        "can_triage": can_triage,
        "close_form": close_form
        or CloseInquiryForm(
            initial={"owner": request.user.pk}
            if has_capability(request.user, "opportunity.own")
            else None
        ),
        "assign_form": assign_form
        or AssignForm(initial={"assignee": inquiry.assignee_id}),
        "close_error": error,
        "opportunity": getattr(inquiry, "opportunity", None)
        if inquiry.outcome == "qualified"
        else None,
    }


@login_required
def inquiry_detail(request, inquiry_id: int):
    inquiry = get_inquiry_for_user(request.user, inquiry_id)
    context = _detail_context(request, inquiry)
    context.update(
        escalations=inquiry_escalations(inquiry),
        # Deadlines are working hours on the company calendar: shown in its time zone.
        calendar_tz=current_calendar().tz,
    )
    return render(request, "intake/detail.html", context)


@login_required
@require_POST
def inquiry_close(request, inquiry_id: int):
    """Close into exactly one outcome; errors come back inline in the same form."""
    inquiry = get_inquiry_for_user(request.user, inquiry_id, write=True)
    form = CloseInquiryForm(request.POST)
    error = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.close_inquiry(
                inquiry,
                actor=request.user,
                outcome=d["outcome"],
                reason=d["reason"],
                owner=d["owner"],
                marketing_lists=form.list_names(),
                expected_value=d["expected_value"],
            )
        except DomainError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("Inquiry #%(id)s closed as %(outcome)s.")
                % {"id": inquiry.pk, "outcome": inquiry.get_outcome_display()},
            )
            return _hx_redirect(
                request, request.POST.get("next") or f"/inquiries/{inquiry.pk}/"
            )
    inquiry = get_inquiry_for_user(request.user, inquiry_id)
    context = _detail_context(request, inquiry, close_form=form, error=error)
    template = "intake/detail.html#close" if request.htmx else "intake/detail.html"
    return render(
        request, template, context, status=409 if inquiry.status == "closed" else 422
    )


@login_required
@require_POST
def inquiry_assign(request, inquiry_id: int):
    inquiry = get_inquiry_for_user(request.user, inquiry_id, write=True)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            actions.assign_inquiry(
                inquiry, actor=request.user, assignee=form.cleaned_data["assignee"]
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Assignment saved."))
    return redirect("inquiry_detail", inquiry.pk)


@login_required
def contact_card(request, contact_id: int):
    """HTMX: the requester's context (flags, history), shown inline in the inbox."""
    require(request.user, "contact.view")
    contact = get_object_or_404(
        Contact.objects.select_related("company"), pk=contact_id
    )
    return render(
        request,
        "intake/_contact_card.html",
        {"history": contact_history(contact, viewer=request.user)},
    )
