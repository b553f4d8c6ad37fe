"""Stage-weight calibration (DOMAIN.md §6.2): observed P(win | stage) from closed
history, the few-data guard, adopting (admin only, audited, optimistic), the page and
the API.

The dataset (stages in order: qualification 0.25, proposal 0.50, negotiation 0.75):

group  leads  path                                        result      furthest
W-neg  2      qualification → proposal → negotiation      won         (all)
W-pro  2      qualification → proposal                    won         (all)
W-q    2      qualification                               won         (all)
L-q    8      qualification                               lost (3), not going ahead (3),
                                                          nurture (2)  qualification
L-pro  4      qualification → proposal (one: → back to    lost        proposal
              qualification before closing)
L-neg  2      one qualification → proposal → negotiation, lost        negotiation
              one qualification → negotiation (skip)
open   2      qualification → negotiation                 open        not counted

Won = 6; every won lead passed every stage (Won lies beyond the last stage).
passed(qualification) = 6 + 8 + 4 + 2 = 20
passed(proposal)      = 6 + 4 + 2     = 12
passed(negotiation)   = 6 + 2         =  8
advance: qualification → proposal 12/20 = 0.6; proposal → negotiation 8/12 = 0.6667;
negotiation → Won 6/8 = 0.75.
P(win | qualification) = 0.6 × 0.6667 × 0.75 = 0.30 (20 leads: shown)
P(win | proposal)      = 0.6667 × 0.75     = 0.50 (12 leads: below 20, hidden)
P(win | negotiation)   = 0.75                     ( 8 leads: hidden)
"""

from datetime import date
from decimal import Decimal

import pytest

from leadflow.analytics import calibration
from leadflow.analytics.calibration import (
    MIN_CLOSED_LEADS,
    adopt_stage_weight,
    calibrate,
)
from leadflow.audit.models import AuditEvent
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.opportunities.actions import close_opportunity, move_stage
from leadflow.opportunities.models import Opportunity, Stage
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db


def _lead(owner, path: list[str], result: str | None):
    lead = make_lead(owner, owner=owner)
    for stage in path:
        move_stage(lead, actor=owner, stage=stage, reason="test")
    if result == "nurture":
        close_opportunity(
            lead,
            actor=owner,
            result=result,
            reason="later",
            follow_up_on=date(2027, 1, 1),
            follow_up_by="marketing",
        )
    elif result:
        close_opportunity(lead, actor=owner, result=result, reason="test")
    return lead


@pytest.fixture
def history(personas):
    rep, outsider = personas["rep"], personas["outsider"]
    for _i in range(2):
        _lead(rep, ["proposal", "negotiation"], "won")
        _lead(outsider, ["proposal"], "won")
        _lead(rep, [], "won")
    for result in ["lost"] * 3 + ["not_going_ahead"] * 3 + ["nurture"] * 2:
        _lead(rep, [], result)
    for _i in range(3):
        _lead(outsider, ["proposal"], "lost")
    _lead(outsider, ["proposal", "qualification"], "lost")
    _lead(rep, ["proposal", "negotiation"], "lost")
    _lead(rep, ["negotiation"], "lost")
    for _i in range(2):
        _lead(rep, ["negotiation"], None)


def _rows(leads=None):
    return {
        c.stage.code: c
        for c in calibrate(leads if leads is not None else Opportunity.objects.all())
    }


def test_the_guard_is_twenty_closed_leads():
    assert MIN_CLOSED_LEADS == 20


def test_observed_win_probability_per_stage(history):
    rows = _rows()
    assert list(rows) == ["qualification", "proposal", "negotiation"]
    q, p, n = rows["qualification"], rows["proposal"], rows["negotiation"]
    assert (q.passed, p.passed, n.passed) == (20, 12, 8)
    assert q.won == 6
    assert q.advance == pytest.approx(0.6)
    assert p.advance == pytest.approx(8 / 12)
    assert n.advance == pytest.approx(0.75)
    assert q.observed == pytest.approx(0.30)
    assert q.suggested == Decimal("0.300")
    assert q.configured == Decimal("0.250")
    assert q.difference == pytest.approx(0.05)
    # Fewer than 20 closed leads passed proposal and negotiation: no figure.
    assert p.observed is None and p.suggested is None and not p.enough
    assert n.observed is None and n.suggested is None


def test_below_the_guard_the_product_of_the_advance_rates(history, monkeypatch):
    monkeypatch.setattr(calibration, "MIN_CLOSED_LEADS", 8)
    rows = _rows()
    assert rows["proposal"].observed == pytest.approx(0.5)
    assert rows["negotiation"].observed == pytest.approx(0.75)
    assert rows["qualification"].observed == pytest.approx(0.3)


def test_no_history_gives_no_figures(personas):
    _lead(personas["rep"], ["proposal"], None)  # open: never counted
    rows = _rows()
    assert [r.passed for r in rows.values()] == [0, 0, 0]
    assert all(r.observed is None and r.advance is None for r in rows.values())


def test_an_inactive_stage_is_not_listed_but_still_passed(history):
    Stage.objects.filter(code="proposal").update(is_active=False)
    rows = _rows()
    assert list(rows) == ["qualification", "negotiation"]
    # qualification → negotiation now: 8 of 20 went on.
    assert rows["qualification"].advance == pytest.approx(0.4)
    assert rows["qualification"].observed == pytest.approx(0.3)


def test_adopt_sets_the_weight_and_audits(history, admin):
    stage = adopt_stage_weight(
        "qualification", actor=admin, expected_weight=Decimal("0.25")
    )
    assert stage.weight == Decimal("0.300")
    assert Stage.objects.get(code="qualification").weight == Decimal("0.300")
    event = AuditEvent.objects.get(event_type="stage.updated")
    assert event.old == {"weight": "0.250"}
    assert event.new == {"weight": "0.300"}
    assert event.actor == admin
    assert "20 closed" in event.reason


def test_adopt_refuses_a_stale_weight(history, admin):
    Stage.objects.filter(code="qualification").update(weight=Decimal("0.4"))
    with pytest.raises(Conflict) as exc:
        adopt_stage_weight("qualification", actor=admin, expected_weight="0.25")
    assert exc.value.code == "stale_weight"
    assert Stage.objects.get(code="qualification").weight == Decimal("0.400")
    assert not AuditEvent.objects.filter(event_type="stage.updated").exists()


def test_adopt_refuses_when_the_observed_value_moved(history, admin):
    with pytest.raises(Conflict) as exc:
        adopt_stage_weight(
            "qualification", actor=admin, expected_weight="0.25", weight="0.31"
        )
    assert exc.value.code == "calibration_changed"


def test_adopt_refuses_without_enough_history(history, admin):
    with pytest.raises(ValidationFailed) as exc:
        adopt_stage_weight("proposal", actor=admin, expected_weight="0.5")
    assert exc.value.code == "not_enough_history"
    assert Stage.objects.get(code="proposal").weight == Decimal("0.500")


def test_adopt_refuses_a_weight_outside_zero_to_one(history, admin):
    with pytest.raises(ValidationFailed) as exc:
        adopt_stage_weight("qualification", actor=admin, expected_weight="1.5")
    assert exc.value.code == "invalid_weight"


# --- the API ---------------------------------------------------------------------------

URL = "/api/analytics/calibration/stages"


def test_api_lists_the_stages(history, api_as):
    response = api_as("director").get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["min_closed_leads"] == 20
    first, second, _third = body["stages"]
    assert first["code"] == "qualification"
    assert first["configured"] == 0.25
    assert first["observed"] == pytest.approx(0.3)
    assert first["suggested"] == 0.3
    assert first["closed_leads"] == 20
    assert first["won"] == 6
    assert first["enough_history"] is True
    assert second["observed"] is None and second["enough_history"] is False
    assert second["closed_leads"] == 12


@pytest.mark.parametrize("who", ["rep", "outsider", "inside", "marketer", "colleague"])
def test_api_list_is_for_directors_and_admins(personas, api_as, who):
    assert api_as(who).get(URL).status_code == 403


def test_api_adopt(history, api_as):
    response = api_as("admin").post(
        f"{URL}/qualification/adopt", {"expected_weight": "0.25", "weight": "0.3"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"code": "qualification", "weight": 0.3}
    # The same request again: the weight it expected is gone.
    again = api_as("admin").post(
        f"{URL}/qualification/adopt", {"expected_weight": "0.25"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "stale_weight"


def test_api_adopt_errors(history, api_as):
    client = api_as("admin")
    not_enough = client.post(f"{URL}/proposal/adopt", {"expected_weight": "0.5"})
    assert not_enough.status_code == 422
    assert not_enough.json()["code"] == "not_enough_history"
    assert (
        client.post(f"{URL}/nope/adopt", {"expected_weight": "0.5"}).status_code == 404
    )
    assert client.post(f"{URL}/qualification/adopt", {}).status_code == 422


@pytest.mark.parametrize("who", ["director", "rep", "inside", "colleague"])
def test_api_adopt_is_for_admins_only(history, api_as, who):
    response = api_as(who).post(
        f"{URL}/qualification/adopt", {"expected_weight": "0.25"}
    )
    assert response.status_code == 403
    assert Stage.objects.get(code="qualification").weight == Decimal("0.250")


# --- the page ---------------------------------------------------------------------------

PAGE = "/analytics/calibration/"


def test_page_for_a_director_shows_the_figures_without_adopting(
    history, client, director
):
    client.force_login(director)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="calibration-table"' in html
    assert "30.0 %" in html  # observed for qualification
    assert "25.0 %" in html  # configured
    assert "not enough history" in html
    assert 'data-testid="adopt-qualification"' not in html
    assert client.post(PAGE, {"code": "qualification"}).status_code == 403


def test_page_admin_adopts(history, client, admin):
    client.force_login(admin)
    html = client.get(PAGE).content.decode()
    assert 'data-testid="adopt-qualification"' in html
    assert 'data-testid="adopt-proposal"' not in html  # not enough history
    response = client.post(
        PAGE,
        {"code": "qualification", "expected_weight": "0.250", "weight": "0.300"},
    )
    assert response.status_code == 302
    assert Stage.objects.get(code="qualification").weight == Decimal("0.300")
    stale = client.post(
        PAGE,
        {"code": "qualification", "expected_weight": "0.250", "weight": "0.300"},
    )
    assert stale.status_code == 409
    assert 'data-testid="calibration-error"' in stale.content.decode()


@pytest.mark.parametrize("who", ["rep", "inside", "marketer", "colleague"])
def test_page_is_for_directors_and_admins(personas, client, who):
    client.force_login(personas[who])
    assert client.get(PAGE).status_code == 403


def test_the_cached_counts_follow_a_newly_closed_lead(history, director):
    from leadflow.analytics.calibration import calibration_for

    before = {r.stage.code: r.passed for r in calibration_for(director)}
    assert before == {"qualification": 20, "proposal": 12, "negotiation": 8}
    _lead(personas_rep := director, [], None)  # an open lead changes nothing
    assert {r.stage.code: r.passed for r in calibration_for(director)} == before
    _lead(personas_rep, ["proposal"], "lost")
    after = {r.stage.code: r.passed for r in calibration_for(director)}
    assert after == {"qualification": 21, "proposal": 13, "negotiation": 8}
