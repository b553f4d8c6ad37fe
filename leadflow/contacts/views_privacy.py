"""Contact page actions for GDPR requests: download all data, erase (admins only)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadflow.accounts.permissions import has_capability
from leadflow.contacts.privacy import erase_contact, export_contact
from leadflow.contacts.queries import get_contact_for_user
from leadflow.core.errors import DomainError

CAPABILITY = "config.manage"


def _require_admin(user) -> None:
    if not has_capability(user, CAPABILITY):
        raise PermissionDenied(CAPABILITY)


@login_required
@require_GET
def contact_export(request, contact_id: int):
    _require_admin(request.user)
    contact = get_contact_for_user(request.user, contact_id)
    body = json.dumps(export_contact(contact), cls=DjangoJSONEncoder, indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="contact-{contact.pk}.json"'
    )
    return response


@login_required
@require_POST
def contact_erase(request, contact_id: int):
    _require_admin(request.user)
    contact = get_contact_for_user(request.user, contact_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm the erasure."))
        return redirect("contact_detail", contact.pk)
    try:
        erase_contact(
            contact,
            actor=request.user,
            reason=(request.POST.get("reason") or "")[:500],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The contact's personal data has been erased."))
    return redirect("contact_detail", contact.pk)
