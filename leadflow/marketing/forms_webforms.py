"""Forms of the public web form and of its management page; the rules are in webforms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department
from leadflow.intake.models import Campaign
from leadflow.marketing.webforms import UTM_FIELDS


class WebFormForm(forms.Form):
    """Marketing's settings of one public form."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=60,
        help_text=_("The form's public address is /forms/<address>/."),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.filter(is_active=True)
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        help_text=_("The department the inquiries from this form go to."),
    )
    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_text = forms.CharField(
        label=_("Consent text"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Shown beside the consent box, e.g. “Keep me informed about news and "
            "events.” Empty: a standard text."
        ),
    )
    thank_you = forms.CharField(
        label=_("Thank-you message"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    allowed_origins = forms.CharField(
        label=_("Sites that may embed the form"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. https://www.example.be"),
    )

    def __init__(self, *args, web_form=None, **kwargs):
        super().__init__(*args, **kwargs)
        if web_form is not None:
            # A form keeps its campaign even when the campaign was switched off.
            self.fields["campaign"].queryset = Campaign.objects.filter(
                pk=web_form.campaign_id
            ) | Campaign.objects.filter(is_active=True)


class PublicInquiryForm(forms.Form):
    """What a visitor fills in on ``/forms/<slug>/``."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    question = forms.CharField(
        label=_("Your question"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    consent = forms.BooleanField(required=False)
    # The honeypot: hidden by CSS, left empty by people, filled in by bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    token = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
    referrer = forms.CharField(
        required=False, max_length=2000, widget=forms.HiddenInput
    )
    utm_source = forms.CharField(
        required=False, max_length=500, widget=forms.HiddenInput
    )
    utm_medium = forms.CharField(
        required=False, max_length=500, widget=forms.HiddenInput
    )
    utm_campaign = forms.CharField(
        required=False, max_length=500, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        self.fields["company"].widget.attrs["autocomplete"] = "organization"

    def hidden_values(self) -> dict[str, str]:
        return {
            name: (self.cleaned_data.get(name) or "")
            for name in ("referrer", *UTM_FIELDS)
        }


HIDDEN_FIELDS = ("referrer", *UTM_FIELDS)
