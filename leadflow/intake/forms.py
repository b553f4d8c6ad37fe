"""Forms parse and validate what people type; the rules live in intake.actions."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department, User
from leadflow.accounts.permissions import CAPABILITIES
from leadflow.intake.models import Campaign, Channel
from leadflow.intake.states import Outcome
from leadflow.marketing.queries import active_lists


class RegisterInquiryForm(forms.Form):
    contact_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    company_size = forms.IntegerField(
        label=_("Employees"), required=False, min_value=0, max_value=10_000_000
    )
    summary = forms.CharField(
        label=_("The question"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.filter(is_active=True)
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.filter(is_active=True),
        required=False,
    )
    referrer = forms.CharField(label=_("Referred by"), max_length=200, required=False)
    prompted = forms.TypedChoiceField(
        label=_("Prompted by us?"),
        choices=[
            ("", _("Decide from channel/campaign")),
            ("yes", _("Yes, prompted")),
            ("no", _("No, spontaneous")),
        ],
        required=False,
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
    )
    received_by = forms.ModelChoiceField(
        label=_("Received by"),
        queryset=User.objects.filter(is_active=True),
        required=False,
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and not self.is_bound:
            self.initial.setdefault("received_by", user.pk)
            self.initial.setdefault("department", user.department_id)
            self.initial.setdefault(
                "received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M")
            )

    def clean(self):
        data = super().clean()
        if not data.get("contact_id") and not (data.get("name") or "").strip():
            self.add_error("name", _("Give the requester's name, or pick a match."))
        return data


class CloseInquiryForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    owner = forms.ModelChoiceField(
        label=_("Owner of the qualified lead"),
        queryset=User.objects.none(),
        required=False,
    )
    expected_value = forms.DecimalField(
        label=_("Expected value (€)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    marketing_lists = forms.ModelMultipleChoiceField(
        label=_("Marketing lists"),
        queryset=active_lists(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_lists = forms.CharField(
        label=_("New lists (comma-separated)"), max_length=500, required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=CAPABILITIES["opportunity.own"]
        )
        self.fields["marketing_lists"].queryset = active_lists()

    def list_names(self) -> list[str]:
        names = [m.name for m in self.cleaned_data.get("marketing_lists") or []]
        names += [
            n.strip() for n in (self.cleaned_data.get("new_lists") or "").split(",")
        ]
        return [n for n in names if n]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assessed by"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, role__in=CAPABILITIES["inquiry.triage"]
        )


class OrderForm(forms.Form):
    contact_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    company_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(
        label=_("What was ordered"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    amount = forms.DecimalField(
        label=_("Amount (€)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.filter(is_active=True),
        required=False,
    )


class TriageFilterForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.all(), required=False
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.all(), required=False
    )
    assignee = forms.ChoiceField(label=_("Assessed by"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("open", _("Open")), ("closed", _("Closed"))],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(
            is_active=True, role__in=CAPABILITIES["inquiry.triage"]
        )
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("none", _("Nobody yet")),
        ] + [(str(u.pk), str(u)) for u in users]
