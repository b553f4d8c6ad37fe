"""Forms of the notification-rule and webhook settings pages: they parse what the
administrator chose; the rules themselves live in workflows.configuration."""

from django import forms
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department, Role, Team, User
from leadflow.contacts.models import Company
from leadflow.intake.models import Campaign, Channel
from leadflow.workflows.configuration import MAX_CHOSEN, OUTCOMES, RuleData
from leadflow.workflows.models import NotificationRule, RuleEvent

OUTCOME_LABELS = dict(NotificationRule._meta.get_field("outcome").choices)


class RuleForm(forms.Form):
    version = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=150)
    event = forms.ChoiceField(label=_("When"), choices=RuleEvent.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    outcome = forms.ChoiceField(
        label=_("Only this outcome"),
        required=False,
        choices=[("", _("Any outcome"))] + [(o, OUTCOME_LABELS[o]) for o in OUTCOMES],
        help_text=_("Only for “Inquiry closed”."),
    )
    # Rendered by hand (the search picker): the widget never lists every company.
    companies = forms.ModelMultipleChoiceField(
        label=_("Only these companies"),
        queryset=Company.objects.all(),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    min_company_size = forms.IntegerField(
        label=_("Only companies with at least this many employees"),
        required=False,
        min_value=0,
        max_value=10_000_000,
    )
    channels = forms.ModelMultipleChoiceField(
        label=_("Only these channels"),
        queryset=Channel.objects.all(),
        required=False,
    )
    campaigns = forms.ModelMultipleChoiceField(
        label=_("Only these campaigns"),
        queryset=Campaign.objects.all(),
        required=False,
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Only these departments"),
        queryset=Department.objects.all(),
        required=False,
    )
    min_value = forms.DecimalField(
        label=_("Only an expected value above (€)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    service_type = forms.CharField(
        label=_("Only this service type"), max_length=100, required=False
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Only owners in these teams"),
        queryset=Team.objects.all(),
        required=False,
    )
    recipient_users = forms.ModelMultipleChoiceField(
        label=_("Tell these people"),
        queryset=User.objects.filter(is_active=True),
        required=False,
    )
    recipient_roles = forms.MultipleChoiceField(
        label=_("Tell everyone with these roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notify_owner = forms.BooleanField(label=_("Tell the owner"), required=False)
    notify_owner_manager = forms.BooleanField(
        label=_("Tell the owner's manager"), required=False
    )

    MULTI = ("channels", "campaigns", "departments", "teams", "recipient_users")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.MULTI:
            self.fields[name].widget.attrs["size"] = 6

    @classmethod
    def initial_for(cls, rule: NotificationRule, version: str) -> dict:
        data = RuleData.of(rule)
        initial = {
            name: getattr(data, name)
            for name in cls.base_fields
            if name not in ("version", "companies", *cls.MULTI)
        }
        for name in ("companies", *cls.MULTI):
            initial[name] = [obj.pk for obj in getattr(data, name)]
        initial["version"] = version
        return initial

    def clean_companies(self):
        chosen = self.cleaned_data["companies"]
        if len(chosen) > MAX_CHOSEN:
            raise forms.ValidationError(
                _("Choose at most %(max)d companies."), params={"max": MAX_CHOSEN}
            )
        return chosen

    def chosen_company_ids(self) -> list[int]:
        """The companies ticked in the picker (as typed, or as stored)."""
        if self.is_bound:
            values = self.data.getlist("companies")
        else:
            values = self.initial.get("companies") or []
        ids = [int(v) for v in values if str(v).isdigit() and len(str(v)) < 19]
        return list(dict.fromkeys(ids))[:MAX_CHOSEN]

    def rule_data(self) -> RuleData:
        d = self.cleaned_data
        return RuleData(
            name=d["name"],
            event=d["event"],
            is_active=d["is_active"],
            outcome=d["outcome"],
            companies=list(d["companies"]),
            min_company_size=d["min_company_size"],
            channels=list(d["channels"]),
            campaigns=list(d["campaigns"]),
            departments=list(d["departments"]),
            min_value=d["min_value"],
            service_type=d["service_type"],
            teams=list(d["teams"]),
            recipient_users=list(d["recipient_users"]),
            recipient_roles=list(d["recipient_roles"]),
            notify_owner=d["notify_owner"],
            notify_owner_manager=d["notify_owner_manager"],
        )


class WebhookForm(forms.Form):
    version = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=150)
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("The receiver's address, http:// or https://."),
        # A text box (styled like the others); the action checks the address.
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=RuleEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class NewWebhookForm(WebhookForm):
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=128,
        help_text=_("Leave empty and Leadflow makes a strong random one."),
        widget=forms.PasswordInput(render_value=True),
    )
