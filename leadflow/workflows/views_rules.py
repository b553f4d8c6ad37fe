"""Settings pages for notification rules and webhooks (administrators only).

Each view: require ``config.manage`` (403 for everyone else) → parse a form → one
action from workflows.configuration → redirect, or the form again with the action's
error at the field it belongs to.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from leadflow.accounts.models import Role
from leadflow.accounts.permissions import require
from leadflow.contacts.models import Company
from leadflow.contacts.queries import find_companies
from leadflow.core.errors import DomainError
from leadflow.core.export import (
    Column,
    bad_request,
    choice_label,
    export_response,
    filter_query,
    is_export,
)
from leadflow.core.pagination import IdPaginator
from leadflow.workflows import configuration as config
from leadflow.workflows.forms_rules import NewWebhookForm, RuleForm, WebhookForm
from leadflow.workflows.models import DeliveryStatus, NotificationRule, RuleEvent
from leadflow.workflows.webhooks import MAX_ATTEMPTS

COMPANY_RESULTS = 20
DELIVERIES_PER_PAGE = 25
EVENT_LABELS = dict(RuleEvent.choices)
SECRET_KEY = "webhook-secret-{}"


def _field_error(form, exc: DomainError) -> None:
    name = getattr(exc, "field", None)
    form.add_error(name if name in form.fields else None, str(exc))


def _stale_message() -> str:
    return _(
        "Someone else saved a change while you were editing. Reload the page to see "
        "it, then make your change again."
    )


# --- notification rules ------------------------------------------------------------------


def _names(objs, limit: int = 3) -> str:
    names = [str(o) for o in objs]
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += " " + _("(+%(n)d more)") % {"n": len(names) - limit}
    return shown


def filters_summary(rule: NotificationRule) -> list[str]:
    """What a rule filters on, in words (prefetched relations only)."""
    parts = []
    if rule.outcome:
        parts.append(_("outcome: %(v)s") % {"v": rule.get_outcome_display()})
    if companies := list(rule.companies.all()):
        parts.append(_("companies: %(v)s") % {"v": _names(companies)})
    if rule.min_company_size is not None:
        parts.append(_("at least %(n)d employees") % {"n": rule.min_company_size})
    for name, label in (
        ("channels", _("channels: %(v)s")),
        ("campaigns", _("campaigns: %(v)s")),
        ("departments", _("departments: %(v)s")),
        ("teams", _("owner's team: %(v)s")),
    ):
        if objs := list(getattr(rule, name).all()):
            parts.append(label % {"v": _names(objs)})
    if rule.min_value is not None:
        parts.append(_("value above € %(v)s") % {"v": rule.min_value})
    if rule.service_type:
        parts.append(_("service type: %(v)s") % {"v": rule.service_type})
    return parts


def recipients_summary(rule: NotificationRule) -> list[str]:
    roles = dict(Role.choices)
    parts = [str(u) for u in rule.recipient_users.all()]
    parts += [
        _("everyone with role %(role)s") % {"role": roles.get(r, r)}
        for r in rule.recipient_roles or []
    ]
    if rule.notify_owner:
        parts.append(_("the owner"))
    if rule.notify_owner_manager:
        parts.append(_("the owner's manager"))
    return parts


@login_required
@require_GET
def rule_settings(request):
    rules = list(config.rules_for_admin(request.user))
    for rule in rules:
        rule.filter_parts = filters_summary(rule)
        rule.recipient_parts = recipients_summary(rule)
    return render(request, "workflows/settings/rule_list.html", {"rules": rules})


def _chosen_companies(form: RuleForm) -> list[Company]:
    ids = form.chosen_company_ids()
    found = Company.objects.in_bulk(ids)
    return [found[i] for i in ids if i in found]


def _company_results(query: str, chosen_ids: set[int]) -> tuple[list[Company], bool]:
    query = (query or "").strip()[:200]
    if len(query) < 2:
        return [], False
    # One more than shown, to know whether there are more.
    found = find_companies(query, limit=COMPANY_RESULTS + 1 + len(chosen_ids))
    results = [c for c in found if c.pk not in chosen_ids]
    return results[:COMPANY_RESULTS], len(results) > COMPANY_RESULTS


def _searching(request) -> bool:
    """The company search without JavaScript: its button, or Enter (the form's default
    button) while a company name is typed in the search box. Nothing is saved."""
    return "search_companies" in request.POST or bool(
        "enter" in request.POST and request.POST.get("company_q", "").strip()
    )


def _rule_form_page(request, form: RuleForm, rule: NotificationRule | None):
    chosen = _chosen_companies(form)
    query = request.POST.get("company_q", "") if request.method == "POST" else ""
    results, more = _company_results(query, {c.pk for c in chosen})
    return render(
        request,
        "workflows/settings/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "chosen_companies": chosen,
            "company_results": results,
            "more_companies": more,
            "company_q": query,
            "searched": len(query.strip()) >= 2,
        },
    )


@login_required
def rule_new(request):
    require(request.user, config.CAPABILITY)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and not _searching(request) and form.is_valid():
        try:
            rule = config.create_rule(form.rule_data(), actor=request.user)
        except DomainError as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("rule_settings")
    return _rule_form_page(request, form, None)


@login_required
def rule_edit(request, rule_id: int):
    rule = config.get_rule_for_admin(request.user, rule_id)
    if request.method == "POST":
        form = RuleForm(request.POST)
        if not _searching(request) and form.is_valid():
            try:
                config.update_rule(
                    rule,
                    actor=request.user,
                    version=form.cleaned_data["version"] or None,
                    **form.rule_data().__dict__,
                )
            except DomainError as exc:
                if exc.code == "stale_version":
                    form.add_error(None, _stale_message())
                else:
                    _field_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Rule “%(name)s” saved.") % {"name": form.cleaned_data["name"]},
                )
                return redirect("rule_settings")
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule, config.rule_version(rule)))
    return _rule_form_page(request, form, rule)


@login_required
@require_GET
def rule_company_search(request):
    """HTMX: the company picker with the ticked companies and up to 20 matches."""
    require(request.user, config.CAPABILITY)
    ids = [
        int(v) for v in request.GET.getlist("companies") if v.isdigit() and len(v) < 19
    ][: config.MAX_CHOSEN]
    found = Company.objects.in_bulk(ids)
    chosen = [found[i] for i in dict.fromkeys(ids) if i in found]
    query = request.GET.get("company_q", "")
    results, more = _company_results(query, {c.pk for c in chosen})
    return render(
        request,
        "workflows/settings/rule_form.html#company_picker",
        {
            "chosen_companies": chosen,
            "company_results": results,
            "more_companies": more,
            "company_q": query,
            "searched": len(query.strip()) >= 2,
        },
    )


@login_required
@require_POST
def rule_active(request, rule_id: int):
    """Switch a rule on (active=1) or off (active=0)."""
    rule = config.get_rule_for_admin(request.user, rule_id)
    active = request.POST.get("active") == "1"
    try:
        config.set_rule_active(rule, actor=request.user, active=active)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        if active:
            message = _("Rule “%(name)s” is on.")
        else:
            message = _("Rule “%(name)s” is off.")
        messages.success(request, message % {"name": rule.name})
    return redirect("rule_settings")


@login_required
def rule_delete(request, rule_id: int):
    rule = config.get_rule_for_admin(request.user, rule_id)
    if request.method == "POST":
        try:
            config.delete_rule(rule, actor=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Rule “%(name)s” deleted.") % {"name": rule.name}
            )
        return redirect("rule_settings")
    return render(
        request, "workflows/settings/rule_confirm_delete.html", {"rule": rule}
    )


# --- webhooks ----------------------------------------------------------------------------


@login_required
@require_GET
def webhook_settings(request):
    hooks = list(config.webhooks_for_admin(request.user))
    for hook in hooks:
        hook.event_labels = [EVENT_LABELS.get(e, e) for e in hook.events or []]
    return render(request, "workflows/settings/webhook_list.html", {"hooks": hooks})


def _show_secret_once(request, hook) -> None:
    request.session[SECRET_KEY.format(hook.pk)] = hook.secret


@login_required
def webhook_new(request):
    require(request.user, config.CAPABILITY)
    form = NewWebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            hook = config.create_webhook(
                actor=request.user,
                name=d["name"],
                url=d["url"],
                events=d["events"],
                is_active=d["is_active"],
                secret=d["secret"],
            )
        except DomainError as exc:
            _field_error(form, exc)
        else:
            _show_secret_once(request, hook)
            messages.success(
                request, _("Webhook “%(name)s” saved.") % {"name": hook.name}
            )
            return redirect("webhook_edit", hook.pk)
    return render(
        request, "workflows/settings/webhook_form.html", {"form": form, "hook": None}
    )


@login_required
def webhook_edit(request, webhook_id: int):
    hook = config.get_webhook_for_admin(request.user, webhook_id)
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                config.update_webhook(
                    hook,
                    actor=request.user,
                    version=d["version"] or None,
                    name=d["name"],
                    url=d["url"],
                    events=d["events"],
                    is_active=d["is_active"],
                )
            except DomainError as exc:
                if exc.code == "stale_version":
                    form.add_error(None, _stale_message())
                else:
                    _field_error(form, exc)
            else:
                messages.success(
                    request, _("Webhook “%(name)s” saved.") % {"name": d["name"]}
                )
                return redirect("webhook_settings")
    else:
        form = WebhookForm(
            initial={
                "version": config.webhook_version(hook),
                "name": hook.name,
                "url": hook.url,
                "events": hook.events,
                "is_active": hook.is_active,
            }
        )
    secret = request.session.pop(SECRET_KEY.format(hook.pk), None)
    return render(
        request,
        "workflows/settings/webhook_form.html",
        {"form": form, "hook": hook, "secret": secret},
    )


@login_required
@require_POST
def webhook_rotate_secret(request, webhook_id: int):
    hook = config.get_webhook_for_admin(request.user, webhook_id)
    try:
        hook = config.rotate_webhook_secret(hook, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("webhook_settings")
    _show_secret_once(request, hook)
    messages.success(
        request,
        _("A new signing secret was made: give it to the receiver now."),
    )
    return redirect("webhook_edit", hook.pk)


@login_required
def webhook_delete(request, webhook_id: int):
    hook = config.get_webhook_for_admin(request.user, webhook_id)
    if request.method == "POST":
        try:
            config.delete_webhook(hook, actor=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Webhook “%(name)s” deleted.") % {"name": hook.name}
            )
        return redirect("webhook_settings")
    return render(
        request, "workflows/settings/webhook_confirm_delete.html", {"hook": hook}
    )


DELIVERY_COLUMNS = [
    Column("pk", _l("ID")),
    Column("created_at", _l("Created at")),
    Column(lambda d: EVENT_LABELS.get(d.event_type, d.event_type), _l("Event")),
    Column(choice_label("status", DeliveryStatus.choices), _l("Status")),
    Column("attempts", _l("Attempts")),
    Column("last_status_code", _l("Last HTTP status")),
    Column("last_error", _l("Last error")),
    Column("delivered_at", _l("Delivered at")),
    Column("next_attempt_at", _l("Next attempt")),
    Column(
        lambda d: json.dumps(
            d.payload, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder
        ),
        _l("Payload"),
    ),
]


@login_required
@require_GET
def webhook_deliveries(request, webhook_id: int):
    hook = config.get_webhook_for_admin(request.user, webhook_id)
    status = request.GET.get("status", "")
    exporting = is_export(request)
    if status not in DeliveryStatus.values:
        if exporting and status:
            return bad_request(
                _("Unknown status %(value)s; known: %(known)s.")
                % {"value": status, "known": ", ".join(DeliveryStatus.values)}
            )
        status = ""
    deliveries = config.deliveries_of(hook, status=status)
    if exporting:
        return export_response(
            request,
            rows=deliveries,
            columns=DELIVERY_COLUMNS,
            filename_stem=f"webhook-{hook.pk}-deliveries",
            format=request.GET["format"],
            audit_subject=hook,
        )
    page = IdPaginator(deliveries, DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for delivery in page:
        delivery.payload_text = json.dumps(
            delivery.payload, indent=2, sort_keys=True, cls=DjangoJSONEncoder
        )
        delivery.event_label = EVENT_LABELS.get(
            delivery.event_type, delivery.event_type
        )
    return render(
        request,
        "workflows/settings/webhook_deliveries.html",
        {
            "hook": hook,
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "max_attempts": MAX_ATTEMPTS,
            "export_query": filter_query(request),
        },
    )


@login_required
@require_POST
def webhook_redeliver(request, delivery_id: int):
    """'Send again': a fresh series of attempts for one logged delivery."""
    delivery = config.get_delivery_for_admin(request.user, delivery_id)
    try:
        config.redeliver_delivery(delivery, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        delivery.refresh_from_db()
        messages.success(
            request,
            _("Delivery #%(id)s is being sent again (now: %(status)s).")
            % {"id": delivery.pk, "status": delivery.get_status_display()},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("webhook_deliveries", args=[delivery.webhook_id])
    return redirect(back)
