"""Forms for the qualified-lead record; the rules live in opportunities.actions."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.accounts.permissions import CAPABILITIES
from leadflow.contacts.models import Contact
from leadflow.opportunities.models import Stage
from leadflow.opportunities.states import (
    ActivityKind,
    DecisionType,
    FollowUpBy,
    StakeholderRole,
)
from leadflow.qualification.frameworks import CRITERIA, CriterionStatus, Framework

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)
PERCENT = {"min": 0, "max": 100, "step": "0.1"}


def owners():
    return User.objects.filter(is_active=True, role__in=CAPABILITIES["opportunity.own"])


class DetailsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    expected_value = forms.DecimalField(
        label=_("Expected value (€)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    decision_date = forms.DateField(
        label=_("Decision date"), required=False, widget=DATE
    )
    start_date = forms.DateField(label=_("Project start"), required=False, widget=DATE)
    p_win = forms.DecimalField(
        label=_("P win (%)"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs=PERCENT),
    )
    p_go = forms.DecimalField(
        label=_("P go (%)"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs=PERCENT),
        help_text=_("The chance the customer's project goes ahead at all."),
    )
    decision_type = forms.ChoiceField(
        label=_("Purchase decision"),
        choices=[("", "—"), *DecisionType.choices],
        required=False,
    )
    service_type = forms.CharField(
        label=_("Service/product type"), max_length=100, required=False
    )

    def values(self) -> dict:
        d = dict(self.cleaned_data)
        d.pop("version")
        for name in ("p_win", "p_go"):
            if d[name] is not None:
                d[name] = (d[name] / Decimal(100)).quantize(Decimal("0.001"))
        return d


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners()


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        label=_("Stage"),
        queryset=Stage.objects.filter(is_active=True),
        to_field_name="code",
    )
    reason = forms.CharField(label=_("Why"), max_length=1000)


class CloseForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[
            ("won", _("Won")),
            ("lost", _("Lost")),
            ("not_going_ahead", _("Not going ahead")),
            ("nurture", _("Nurture")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    follow_up_on = forms.DateField(label=_("Follow up on"), required=False, widget=DATE)
    follow_up_by = forms.ChoiceField(
        label=_("Followed up by"),
        choices=[("", "—"), *FollowUpBy.choices],
        required=False,
    )
    follow_up_user = forms.ModelChoiceField(
        label=_("Follow-up person"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        empty_label=_("— (the team)"),
        help_text=_(
            "Optional. On the follow-up date the lead comes back to this person; "
            "without one, to the team that follows up."
        ),
    )


class ScorecardForm(forms.Form):
    """One status and evidence note per criterion of the framework."""

    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def __init__(
        self, *args, framework: str = Framework.SCOTSMAN, current=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.framework = framework
        current = current or {}
        for name, label in CRITERIA[framework]:
            status, evidence = current.get(name, (CriterionStatus.UNKNOWN, ""))
            self.fields[f"c_{name}"] = forms.ChoiceField(
                label=label, choices=CriterionStatus.choices, initial=status
            )
            self.fields[f"e_{name}"] = forms.CharField(
                label=_("Evidence"), max_length=2000, required=False, initial=evidence
            )

    def rows(self):
        for name, _label in CRITERIA[self.framework]:
            yield self[f"c_{name}"], self[f"e_{name}"]

    def criteria(self) -> dict[str, str]:
        return {n: self.cleaned_data[f"c_{n}"] for n, _l in CRITERIA[self.framework]}

    def evidence(self) -> dict[str, str]:
        return {n: self.cleaned_data[f"e_{n}"] for n, _l in CRITERIA[self.framework]}


class StakeholderForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Person"), queryset=Contact.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=StakeholderRole.choices)
    phase = forms.TypedChoiceField(
        label=_("Buying-clock phase"), coerce=int, required=False, empty_value=None
    )
    note = forms.CharField(
        label=_("Note (required when moving back)"), max_length=1000, required=False
    )

    def __init__(self, *args, opportunity=None, phases=(), **kwargs):
        super().__init__(*args, **kwargs)
        if opportunity is not None:
            qs = Contact.objects.filter(pk=opportunity.contact_id)
            if opportunity.company_id:
                qs = Contact.objects.filter(company_id=opportunity.company_id) | qs
            self.fields["contact"].queryset = qs.order_by("name_key")
        self.fields["phase"].choices = [("", "—")] + [
            (i, f"{i}. {p}") for i, p in enumerate(phases, start=1)
        ]


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("Colleague"), queryset=User.objects.filter(is_active=True)
    )
    role = forms.CharField(label=_("Role in the deal"), max_length=100)


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("Competitor"), max_length=150)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    assignee = forms.ModelChoiceField(
        label=_("Who"), queryset=User.objects.filter(is_active=True)
    )
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DATETIME)
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), required=False, min_value=0, max_value=100_000
    )


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    kind = forms.CharField(
        label=_("Kind (e.g. meeting notes)"), max_length=50, required=False
    )


class QuoteLineForm(forms.Form):
    description = forms.CharField(
        label=_("Description"), max_length=500, required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
    )
    unit_price = forms.DecimalField(
        label=_("Unit price (€)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    discount = forms.DecimalField(
        label=_("Discount (%)"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs=PERCENT),
    )


QuoteLineFormSet = forms.formset_factory(QuoteLineForm, extra=5, max_num=100)
DraftLineFormSet = forms.formset_factory(QuoteLineForm, extra=2, max_num=100)


class QuoteForm(forms.Form):
    discount = forms.DecimalField(
        label=_("Overall discount (%)"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs=PERCENT),
    )
    vat_rate = forms.DecimalField(
        label=_("VAT (%)"),
        initial=21,
        min_value=0,
        max_value=99,
        widget=forms.NumberInput(attrs=PERCENT),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("nl", "Nederlands"), ("en", "English")]
    )
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)
    notes = forms.CharField(
        label=_("Notes on the quote"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )
    override_reason = forms.CharField(
        label=_("Gate override reason (directors and administrators)"),
        max_length=1000,
        required=False,
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("decline", "decline")])
    reason = forms.CharField(max_length=1000, required=False)
    close_as_won = forms.BooleanField(required=False)
