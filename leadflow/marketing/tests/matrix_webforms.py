"""Permission-matrix rows (merged by core/tests/test_permission_matrix.py): the public
web form per campaign and marketing's page to manage the forms.

Managing forms is marketing.manage (marketing, admin). The form and its thank-you
page are public: every visitor, logged in or not, gets the same page.
"""

from leadflow.intake.models import Campaign
from leadflow.marketing.webforms import create_webform

ROW_MANAGE = "ok    403   403   403   403   ok    403   login"
ROW_PUBLIC = "ok    ok    ok    ok    ok    ok    ok    ok"

PAGES = {
    "webform_list": ("GET", "/marketing/forms/"),
    "webform_new": ("GET", "/marketing/forms/new/"),
    "webform_edit": ("GET", "/marketing/forms/{webform}/"),
    "webform_active": ("POST", "/marketing/forms/{webform}/active/"),
    "webform_public": ("GET", "/forms/{webform_slug}/"),
    "webform_thanks": ("GET", "/forms/{webform_slug}/thanks/"),
}

PAGE_MATRIX = {
    "webform_list": ROW_MANAGE,
    "webform_new": ROW_MANAGE,
    "webform_edit": ROW_MANAGE,
    "webform_active": ROW_MANAGE,
    "webform_public": ROW_PUBLIC,
    "webform_thanks": ROW_PUBLIC,
}


def build(users) -> dict:
    """One active form (embeddable by one site) for a campaign of its own."""
    campaign = Campaign.objects.create(name="Matrix web form campaign")
    web_form = create_webform(
        actor=users["marketer"],
        campaign=campaign,
        slug="matrix-form",
        title="Matrix form",
        allowed_origins="https://www.example.be",
    )
    return {"webform": web_form.pk, "webform_slug": web_form.slug}
