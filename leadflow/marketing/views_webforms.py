"""Public inquiry forms: the page visitors fill in, and marketing's page to manage them.

The public views need no login. Their POST is exempt from Django's CSRF check (a form
embedded on another site often gets no CSRF cookie) and is protected by the signed
form token instead (docs/adr/0011-public-web-form.md). The rules are in webforms.py.
"""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadflow.accounts.permissions import require
from leadflow.core.errors import DomainError
from leadflow.marketing import webforms
from leadflow.marketing.forms_webforms import (
    HIDDEN_FIELDS,
    PublicInquiryForm,
    WebFormForm,
)
from leadflow.marketing.webforms import RateLimited, Submission

FORM_FIELDS = (
    "title",
    "slug",
    "campaign",
    "department",
    "intro",
    "consent_text",
    "thank_you",
    "allowed_origins",
)


# --- the public pages ----------------------------------------------------------------------


def _is_embed(request) -> bool:
    return request.GET.get("embed") == "1"


def _allow_framing(response, web_form, embed: bool):
    """Only ``?embed=1`` may be framed, and only by the sites the form names."""
    origins = webforms.frame_ancestors(web_form) if embed else []
    if origins:
        response._csp_config = {**settings.SECURE_CSP, "frame-ancestors": origins}
        response.xframe_options_exempt = True
    return response


def _referring_page(request) -> str:
    """Where the visitor came from: ``?ref=`` or the Referer header (not our own pages)."""
    given = request.GET.get("ref") or request.META.get("HTTP_REFERER", "")
    value = webforms.clean_referrer(given)
    if value and urlsplit(value).netloc.lower() == request.get_host().lower():
        return ""
    return value


def _public_page(request, web_form, form, hidden: dict, *, status: int = 200):
    embed = _is_embed(request)
    response = render(
        request,
        "marketing/webform.html",
        {
            "web_form": web_form,
            "form": form,
            "hidden": hidden,
            "token": webforms.issue_token(web_form),
            "embed": embed,
            "action": request.get_full_path(),
        },
        status=status,
    )
    return _allow_framing(response, web_form, embed)


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def webform_public(request, slug: str):
    """The public inquiry form of one campaign (no login)."""
    web_form = webforms.get_public_webform(slug)
    if request.method == "GET":
        hidden = {name: request.GET.get(name, "")[:500] for name in HIDDEN_FIELDS}
        hidden["referrer"] = _referring_page(request)
        return _public_page(request, web_form, PublicInquiryForm(), hidden)

    form = PublicInquiryForm(request.POST)
    hidden = {name: request.POST.get(name, "")[:500] for name in HIDDEN_FIELDS}
    honeypot = request.POST.get("website", "")
    if form.is_valid() or honeypot.strip():
        d = form.cleaned_data if form.is_valid() else {}
        try:
            webforms.submit(
                web_form,
                Submission(
                    name=d.get("name", ""),
                    email=d.get("email", ""),
                    question=d.get("question", ""),
                    token=request.POST.get("token", ""),
                    phone=d.get("phone", ""),
                    company=d.get("company", ""),
                    consent=bool(d.get("consent")),
                    honeypot=honeypot,
                    referrer=hidden["referrer"],
                    utm={k: v for k, v in hidden.items() if k.startswith("utm_")},
                ),
                ip=webforms.client_ip(request),
            )
        except RateLimited as exc:
            response = render(
                request,
                "marketing/webform_limited.html",
                {
                    "web_form": web_form,
                    "message": str(exc),
                    "embed": _is_embed(request),
                },
                status=429,
            )
            response["Retry-After"] = str(int(webforms.RATE_WINDOW.total_seconds()))
            return _allow_framing(response, web_form, _is_embed(request))
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            url = reverse("webform_thanks", args=[web_form.slug])
            if _is_embed(request):
                url += "?" + urlencode({"embed": "1"})
            return redirect(url)
    return _public_page(request, web_form, form, hidden, status=400)


@never_cache
@require_GET
def webform_thanks(request, slug: str):
    web_form = webforms.get_public_webform(slug)
    embed = _is_embed(request)
    response = render(
        request,
        "marketing/webform_thanks.html",
        {"web_form": web_form, "embed": embed},
    )
    return _allow_framing(response, web_form, embed)


# --- marketing's management page --------------------------------------------------------


def _field_error(form, exc: DomainError) -> None:
    name = getattr(exc, "field", None)
    form.add_error(name if name in form.fields else None, str(exc))


@login_required
@require_GET
def webform_list(request):
    return render(
        request,
        "marketing/webform_list.html",
        {"web_forms": webforms.webforms_for_user(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def webform_new(request):
    require(request.user, webforms.CAPABILITY)
    form = WebFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            web_form = webforms.create_webform(
                actor=request.user, **{name: d[name] for name in FORM_FIELDS}
            )
        except DomainError as exc:
            _field_error(form, exc)
        else:
            messages.success(
                request,
                _("Web form “%(title)s” saved. Copy the snippet below onto your site.")
                % {"title": web_form.title},
            )
            return redirect("webform_edit", web_form.pk)
    return render(
        request, "marketing/webform_edit.html", {"form": form, "web_form": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def webform_edit(request, form_id: int):
    web_form = webforms.get_webform_for_user(request.user, form_id)
    if request.method == "POST":
        form = WebFormForm(request.POST, web_form=web_form)
        if form.is_valid():
            d = form.cleaned_data
            try:
                web_form = webforms.update_webform(
                    web_form,
                    actor=request.user,
                    version=d["version"] or 0,
                    **{name: d[name] for name in FORM_FIELDS},
                )
            except DomainError as exc:
                if exc.code == "stale_version":
                    form.add_error(
                        None,
                        _(
                            "Someone else saved a change while you were editing. "
                            "Reload the page to see it, then make your change again."
                        ),
                    )
                else:
                    _field_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Web form “%(title)s” saved.") % {"title": web_form.title},
                )
                return redirect("webform_edit", web_form.pk)
    else:
        form = WebFormForm(
            initial={
                "version": web_form.version,
                **{name: getattr(web_form, name) for name in FORM_FIELDS},
            },
            web_form=web_form,
        )
    url = webforms.embed_url(web_form)
    return render(
        request,
        "marketing/webform_edit.html",
        {
            "form": form,
            "web_form": web_form,
            "public_url": url,
            "embed_src": url + "?embed=1",
        },
    )


@login_required
@require_POST
def webform_active(request, form_id: int):
    """Switch a form off (its public page answers 404) or on again."""
    web_form = webforms.get_webform_for_user(request.user, form_id)
    active = request.POST.get("active") == "1"
    webforms.set_webform_active(web_form, actor=request.user, active=active)
    if active:
        messages.success(request, _("The form is online again."))
    else:
        messages.success(
            request, _("The form is switched off: its page now answers “not found”.")
        )
    return redirect("webform_list")
