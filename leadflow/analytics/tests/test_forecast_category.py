"""The forecast category of a lead: stage defaults (migration), the override action
(audited, who/when kept, closed leads refused), PATCH /api/opportunities/{id} and the
form on the record page."""

import pytest
from django.test import Client

from leadflow.audit.models import AuditEvent
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.opportunities.actions import close_opportunity, set_forecast_category
from leadflow.opportunities.models import Opportunity, Stage
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db


def test_the_default_stages_have_their_default_categories():
    assert dict(Stage.objects.values_list("code", "forecast_category")) == {
        "qualification": "pipeline",
        "proposal": "best_case",
        "negotiation": "commit",
    }


def test_an_override_is_stored_with_who_and_when_and_audited(rep):
    o = make_lead(rep, owner=rep)
    version = o.version
    changed = set_forecast_category(
        o, actor=rep, category="commit", reason="verbal yes from the CFO"
    )
    changed.refresh_from_db()
    assert changed.forecast_category_override == "commit"
    assert changed.forecast_category_set_by == rep
    assert changed.forecast_category_set_at is not None
    assert changed.version == version + 1
    event = AuditEvent.objects.get(event_type="opportunity.forecast_category_changed")
    assert (event.actor, event.subject_id, event.reason) == (
        rep,
        o.pk,
        "verbal yes from the CFO",
    )
    assert event.old == {"forecast_category": None}
    assert event.new == {"forecast_category": "commit", "stage_default": "pipeline"}


def test_an_empty_category_goes_back_to_the_stage(rep):
    o = make_lead(rep, owner=rep)
    set_forecast_category(o, actor=rep, category="omitted")
    set_forecast_category(o, actor=rep, category=None)
    o.refresh_from_db()
    assert o.forecast_category_override == ""
    events = AuditEvent.objects.filter(
        event_type="opportunity.forecast_category_changed"
    ).order_by("id")
    assert [e.new["forecast_category"] for e in events] == ["omitted", None]


def test_the_same_category_again_changes_nothing(rep):
    o = make_lead(rep, owner=rep)
    set_forecast_category(o, actor=rep, category="commit")
    again = set_forecast_category(o, actor=rep, category="commit")
    assert again.version == Opportunity.objects.get(pk=o.pk).version
    assert (
        AuditEvent.objects.filter(
            event_type="opportunity.forecast_category_changed"
        ).count()
        == 1
    )


@pytest.mark.parametrize("category", ["closed", "maybe", "COMMIT"])
def test_unknown_or_closed_categories_are_refused(rep, category):
    o = make_lead(rep, owner=rep)
    with pytest.raises(ValidationFailed) as exc:
        set_forecast_category(o, actor=rep, category=category)
    assert exc.value.code == "invalid_category"
    assert str(exc.value) == (
        f"Unknown forecast category {category!r}: use one of "
        "pipeline, best_case, commit, omitted."
    )


def test_a_closed_lead_keeps_its_category(rep):
    o = make_lead(rep, owner=rep)
    close_opportunity(o, actor=rep, result="lost", reason="price")
    with pytest.raises(Conflict) as exc:
        set_forecast_category(o, actor=rep, category="commit")
    assert exc.value.code == "opportunity_closed"
    assert not AuditEvent.objects.filter(
        event_type="opportunity.forecast_category_changed"
    ).exists()


# --- API ------------------------------------------------------------------------------------


def test_the_detail_shows_the_effective_category(api_as, rep):
    o = make_lead(rep, owner=rep)
    body = api_as("rep").get(f"/api/opportunities/{o.pk}").json()
    assert body["forecast_category"] == "pipeline"
    assert body["forecast_category_override"] is None
    assert body["forecast_category_set_by"] is None


def test_patch_sets_and_clears_the_category(api_as, rep):
    o = make_lead(rep, owner=rep)
    api = api_as("rep")
    response = api.patch(
        f"/api/opportunities/{o.pk}",
        {"forecast_category": "commit", "reason": "signed LOI"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["forecast_category"], body["forecast_category_override"]) == (
        "commit",
        "commit",
    )
    assert body["forecast_category_set_by"] == "rep"
    assert body["forecast_category_set_at"] is not None
    assert AuditEvent.objects.get(
        event_type="opportunity.forecast_category_changed"
    ).reason == ("signed LOI")
    cleared = api.patch(f"/api/opportunities/{o.pk}", {"forecast_category": None})
    assert cleared.json()["forecast_category"] == "pipeline"
    assert cleared.json()["forecast_category_override"] is None


def test_patch_moves_the_stage_and_keeps_the_override(api_as, rep):
    o = make_lead(rep, owner=rep)
    api = api_as("rep")
    body = api.patch(
        f"/api/opportunities/{o.pk}",
        {"stage": "proposal", "reason": "quote asked", "forecast_category": "omitted"},
    ).json()
    assert (body["stage"], body["forecast_category"]) == ("proposal", "omitted")
    body = api.patch(f"/api/opportunities/{o.pk}", {"forecast_category": ""}).json()
    assert body["forecast_category"] == "best_case"  # the proposal stage's


def test_patch_refuses_a_bad_category_and_changes_nothing(api_as, rep):
    o = make_lead(rep, owner=rep)
    response = api_as("rep").patch(
        f"/api/opportunities/{o.pk}",
        {"forecast_category": "closed", "title": "Renamed"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_category"
    o.refresh_from_db()
    assert o.title != "Renamed" and o.forecast_category_override == ""


def test_patch_on_a_closed_lead_is_409(api_as, rep):
    o = make_lead(rep, owner=rep)
    close_opportunity(o, actor=rep, result="won", reason="signed")
    api = api_as("rep")
    response = api.patch(f"/api/opportunities/{o.pk}", {"forecast_category": "commit"})
    assert response.status_code == 409
    assert response.json()["code"] == "opportunity_closed"
    assert api.get(f"/api/opportunities/{o.pk}").json()["forecast_category"] == (
        "closed"
    )


def test_the_outsider_cannot_set_the_category(api_as, rep):
    o = make_lead(rep, owner=rep)
    response = api_as("outsider").patch(
        f"/api/opportunities/{o.pk}", {"forecast_category": "commit"}
    )
    assert response.status_code == 404


# --- the record page --------------------------------------------------------------------


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_record_page_shows_the_category_and_its_form(rep):
    o = make_lead(rep, owner=rep)
    page = logged_in(rep).get(f"/opportunities/{o.pk}/").content.decode()
    assert 'data-testid="forecast-category"><strong>Pipeline</strong>' in page
    assert "(from the stage)" in page
    assert 'data-testid="forecast-category-form"' in page
    assert "The stage's (Pipeline)" in page
    for label in ("Best case", "Commit", "Omitted"):
        assert f">{label}</option>" in page
    assert ">Closed</option>" not in page


def test_the_form_sets_the_category(rep):
    o = make_lead(rep, owner=rep)
    client = logged_in(rep)
    response = client.post(
        f"/opportunities/{o.pk}/forecast-category/",
        {"category": "commit", "reason": "board approved"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/opportunities/{o.pk}/#forecast-category"
    o.refresh_from_db()
    assert o.forecast_category_override == "commit"
    page = client.get(f"/opportunities/{o.pk}/").content.decode()
    assert "Forecast category saved." in page
    assert "<strong>Commit</strong>" in page
    assert "set by Rep Persona on" in page and "the stage's is Pipeline" in page
    assert '<option value="commit" selected>' in page


def test_the_form_reports_a_refusal(rep):
    o = make_lead(rep, owner=rep)
    client = logged_in(rep)
    client.post(f"/opportunities/{o.pk}/forecast-category/", {"category": "closed"})
    page = client.get(f"/opportunities/{o.pk}/").content.decode()
    assert "Unknown forecast category" in page
    assert Opportunity.objects.get(pk=o.pk).forecast_category_override == ""


def test_a_closed_lead_shows_its_category_without_a_form(rep):
    o = make_lead(rep, owner=rep)
    close_opportunity(o, actor=rep, result="won", reason="signed")
    page = logged_in(rep).get(f"/opportunities/{o.pk}/").content.decode()
    assert 'data-testid="forecast-category"><strong>Closed</strong>' in page
    assert 'data-testid="forecast-category-form"' not in page


def test_the_outsider_cannot_post_the_form(rep, outsider):
    o = make_lead(rep, owner=rep)
    response = logged_in(outsider).post(
        f"/opportunities/{o.pk}/forecast-category/", {"category": "commit"}
    )
    assert response.status_code == 404
    assert Opportunity.objects.get(pk=o.pk).forecast_category_override == ""


def test_the_form_needs_post(rep):
    o = make_lead(rep, owner=rep)
    response = logged_in(rep).get(f"/opportunities/{o.pk}/forecast-category/")
    assert response.status_code == 405
