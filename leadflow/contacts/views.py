"""Contact and company pages: who they are, their flags, history and timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from leadflow.accounts.permissions import has_capability, require
from leadflow.audit.queries import timeline_for
from leadflow.contacts.models import Consent, Lifecycle
from leadflow.contacts.queries import (
    consent_history,
    get_company_for_user,
    get_contact_for_user,
    list_contacts,
)
from leadflow.core.errors import DomainError
from leadflow.core.export import (
    Column,
    choice_label,
    export_response,
    filter_query,
    is_export,
)
from leadflow.core.pagination import IdPaginator
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.queries import contact_history
from leadflow.marketing.actions import record_consent

PAGE_SIZE = 50


def _lifecycle_label(contact) -> str:
    return str(dict(Lifecycle.choices).get(contact.effective_lifecycle, ""))


CONTACT_COLUMNS = [
    Column("pk", _l("ID")),
    Column("name", _l("Name")),
    Column("company", _l("Company")),
    Column("email", _l("E-mail")),
    Column("phone", _l("Phone")),
    Column("job_title", _l("Job title")),
    Column(_lifecycle_label, _l("Lifecycle")),
    Column("in_marketing_database", _l("In the marketing database")),
    Column(choice_label("marketing_consent", Consent.choices), _l("Marketing consent")),
    Column("language", _l("Language")),
    Column("created_at", _l("Created at")),
    Column("company_id", _l("Company ID")),
]


@login_required
def contact_list(request):
    search = (request.GET.get("q") or "").strip()[:200]
    contacts = list_contacts(request.user, search=search)
    if is_export(request):
        return export_response(
            request,
            rows=contacts,
            columns=CONTACT_COLUMNS,
            filename_stem="contacts",
            format=request.GET["format"],
        )
    page = IdPaginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/list.html",
        {"page": page, "q": search, "export_query": filter_query(request)},
    )


@login_required
def contact_detail(request, contact_id: int):
    contact = get_contact_for_user(request.user, contact_id)
    return render(
        request,
        "contacts/detail.html",
        {
            "contact": contact,
            "history": contact_history(contact, viewer=request.user, limit=20),
            "timeline": timeline_for(contact),
            "consent_history": consent_history(contact),
            "consent_choices": Consent.choices,
            "can_edit": has_capability(request.user, "contact.edit"),
        },
    )


@login_required
@require_POST
def contact_consent(request, contact_id: int):
    require(request.user, "contact.edit")
    contact = get_contact_for_user(request.user, contact_id)
    try:
        record_consent(
            contact,
            actor=request.user,
            consent=request.POST.get("consent", ""),
            reason=(request.POST.get("reason") or "")[:500],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Marketing consent saved."))
    return redirect("contact_detail", contact.pk)


@login_required
def company_detail(request, company_id: int):
    company = get_company_for_user(request.user, company_id)
    return render(
        request,
        "contacts/company.html",
        {
            "company": company,
            "contacts": company.contacts.order_by("name_key")[:100],
            "inquiries": Inquiry.objects.filter(company=company)
            .select_related("contact", "channel")
            .order_by("-received_at")[:20],
            "orders": Order.objects.filter(company=company).order_by("-ordered_at")[
                :20
            ],
            "timeline": timeline_for(company),
        },
    )
