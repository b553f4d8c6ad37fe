"""The learned win probability: facts known at the time, the encoding, the Brier score
and calibration by hand, naive Bayes by hand, the backtest (a learnable history is
shown, one the stage weights already explain is not), the worker's job, the command,
the page and the API field."""

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from leadflow.analytics import winprob
from leadflow.analytics.models import WinModel
from leadflow.analytics.winprob import Encoder, Facts, NaiveBayes
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import InquiryInput, close_inquiry, register_inquiry
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    move_stage,
    set_stakeholder,
)
from leadflow.opportunities.models import Activity, Opportunity
from leadflow.opportunities.tests.pipeline_factories import (
    make_lead,
    make_person,
    score_scotsman,
)
from leadflow.qualification.models import Scorecard
from leadflow.workflows import scheduler

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def set_times(o: Opportunity, *, created: datetime, closed: datetime | None = None):
    values = {"created_at": created}
    if closed is not None:
        values["closed_at"] = closed
    Opportunity.objects.filter(pk=o.pk).update(**values)


# --- facts known at the time ----------------------------------------------------------------


@pytest.fixture
def history(rep, inside):
    """Four decided or open leads, made through the real actions, dated by hand.

    lead  how                  closed             facts then
    P0    no inquiry           won  2025-01-10    qualification (0.25), created 2024-12-01
                                                  → age 40 d, contact unknown, nothing else
    A     inquiry via referral won  2025-03-12    proposal (0.5), created 2025-03-02 10:00,
          received 2025-03-01                     closed 22:00 → age 10.5 d; € 20,000;
          same company as P0                      customer (P0 won before the inquiry);
                                                  SCOTSMAN v1 4 met (05-03), v2 7 met
                                                  scored after the close → 4;
                                                  stakeholders in phases 3 and 5 → 5;
                                                  3 activities, one after the close → 2
    B     no inquiry           lost 2025-04-04    qualification, age 3 d, unknown, none
    N     no inquiry           nurture            left out (not decided)
    C     no inquiry, open                        created 2025-05-01; its contact sent an
                                                  inquiry 2024-06-01 → known; one
                                                  activity 05-02; scored at now 05-11
                                                  → age 10 d, 1 activity
    """
    p0 = make_lead(rep, owner=rep, company="Acme NV")
    close_opportunity(p0, actor=rep, result="won", reason="signed")
    set_times(p0, created=utc(2024, 12, 1), closed=utc(2025, 1, 10))

    buyer = make_contact(company="Acme NV")
    inquiry = register_inquiry(
        InquiryInput(
            summary="New line",
            channel="referral",
            contact_id=buyer.pk,
            received_at=utc(2025, 3, 1, 10),
        ),
        actor=inside,
    )
    inquiry = close_inquiry(
        inquiry,
        actor=inside,
        outcome="qualified",
        owner=rep,
        expected_value=Decimal("20000"),
    )
    a = inquiry.opportunity
    first = score_scotsman(a, rep, 4)
    second = score_scotsman(a, rep, 7)
    set_stakeholder(
        a, actor=rep, contact=make_person(), role="decision_maker", phase_number=3
    )
    set_stakeholder(
        a, actor=rep, contact=make_person(), role="influencer", phase_number=5
    )
    acts = [
        add_activity(a, actor=rep, kind="call", subject=f"call {i}", assignee=rep)
        for i in range(3)
    ]
    move_stage(a, actor=rep, stage="proposal", reason="quote asked")
    close_opportunity(a, actor=rep, result="won", reason="signed")
    set_times(a, created=utc(2025, 3, 2, 10), closed=utc(2025, 3, 12, 22))
    Scorecard.objects.filter(pk=first.pk).update(scored_at=utc(2025, 3, 5))
    Scorecard.objects.filter(pk=second.pk).update(scored_at=utc(2025, 3, 13))
    for act, when in zip(
        acts, [utc(2025, 3, 3), utc(2025, 3, 4), utc(2025, 3, 14)], strict=True
    ):
        Activity.objects.filter(pk=act.pk).update(created_at=when)

    b = make_lead(rep, owner=rep)
    close_opportunity(b, actor=rep, result="lost", reason="price")
    set_times(b, created=utc(2025, 4, 1), closed=utc(2025, 4, 4))

    n = make_lead(rep, owner=rep)
    close_opportunity(
        n,
        actor=rep,
        result="nurture",
        reason="later",
        follow_up_on=datetime(2026, 1, 1).date(),
        follow_up_by="marketing",
    )

    known = make_contact()
    register_inquiry(
        InquiryInput(
            summary="Earlier question",
            channel="phone",
            contact_id=known.pk,
            received_at=utc(2024, 6, 1),
        ),
        actor=inside,
    )
    c = make_lead(rep, owner=rep, contact=known)
    act = add_activity(c, actor=rep, kind="task", subject="visit", assignee=rep)
    Activity.objects.filter(pk=act.pk).update(created_at=utc(2025, 5, 2))
    set_times(c, created=utc(2025, 5, 1))
    return {"P0": p0, "A": a, "B": b, "N": n, "C": c}


def test_closed_leads_have_the_facts_known_before_the_close(history):
    facts, y, closed, ids = winprob.closed_history()
    by_id = dict(zip(ids, zip(facts, y, closed, strict=True), strict=True))
    assert set(by_id) == {history["P0"].pk, history["A"].pk, history["B"].pk}
    assert by_id[history["P0"].pk] == (
        Facts("qualification", 0.25, 40.0, "", None, "unknown", None, None, 0),
        1.0,
        utc(2025, 1, 10),
    )
    assert by_id[history["A"].pk] == (
        Facts("proposal", 0.5, 10.5, "referral", 20000.0, "customer", 4, 5, 2),
        1.0,
        utc(2025, 3, 12, 22),
    )
    assert by_id[history["B"].pk] == (
        Facts("qualification", 0.25, 3.0, "", None, "unknown", None, None, 0),
        0.0,
        utc(2025, 4, 4),
    )


def test_open_leads_have_the_facts_of_now(history):
    ids, facts = winprob.open_facts(now=utc(2025, 5, 11))
    assert ids == [history["C"].pk]
    assert facts == [
        Facts("qualification", 0.25, 10.0, "", None, "known", None, None, 1)
    ]


def test_a_lead_moved_forward_and_back_counts_the_stage_it_was_closed_in(rep):
    lead = make_lead(rep, owner=rep)
    move_stage(lead, actor=rep, stage="negotiation", reason="verbal yes")
    move_stage(lead, actor=rep, stage="qualification", reason="budget gone")
    close_opportunity(lead, actor=rep, result="lost", reason="no budget")
    facts, y, _closed, _ids = winprob.closed_history()
    assert [(f.stage, f.stage_weight) for f in facts] == [("qualification", 0.25)]
    assert list(y) == [0.0]


def test_the_encoding_is_one_hot_and_standardised_by_hand():
    """Two leads. One-hot columns in sorted order per fact; numbers: log1p(age),
    log1p(activities), SCOTSMAN met, not scored. With two rows each differing number
    standardises to ±1 (population spread); an equal one to 0."""
    one = Facts("proposal", 0.5, math.e - 1, "referral", 20000.0, "customer", 6, 5, 2)
    two = Facts(
        "qualification", 0.25, math.e**3 - 1, "", None, "unknown", None, None, 2
    )
    encoder = Encoder.fit([one, two])
    assert encoder.columns == [
        "stage=proposal",
        "stage=qualification",
        "channel=none",
        "channel=referral",
        "value_band=10000-50000",
        "value_band=none",
        "contact_type=customer",
        "contact_type=unknown",
        "phase=5",
        "phase=none",
        "log_age",
        "log_activities",
        "scotsman_met",
        "not_scored",
    ]
    X = encoder.transform([one, two])
    expected = [
        [1, 0, 0, 1, 1, 0, 1, 0, 1, 0, -1, 0, 1, -1],
        [0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, -1, 1],
    ]
    assert np.allclose(X, expected)
    # Values never seen in training have no column: all zeros for those facts. The
    # numbers use the training mean and spread: log age 2 → (2 − 2) / 1 = 0; met 8 →
    # (8 − 3) / 3 = 5/3; scored → (0 − 0.5) / 0.5 = −1.
    unseen = Facts("negotiation", 0.75, math.e**2 - 1, "event", 1e6, "known", 8, 2, 2)
    assert np.allclose(encoder.transform([unseen]), [[0] * 10 + [0, 0, 5 / 3, -1]])


def test_value_bands():
    assert [
        winprob.value_band(v) for v in (None, 0, 9999.99, 10000, 49999, 50000, 250000)
    ] == [
        "none",
        "0-10000",
        "0-10000",
        "10000-50000",
        "10000-50000",
        "50000-250000",
        "250000+",
    ]


# --- scores by hand ---------------------------------------------------------------------


def test_the_brier_score_by_hand():
    """p 0.8, 0.3, 0.5 for outcomes won, lost, won:
    (0.2² + 0.3² + 0.5²) / 3 = (0.04 + 0.09 + 0.25) / 3 = 0.38 / 3 = 0.12667."""
    p, y = np.array([0.8, 0.3, 0.5]), np.array([1.0, 0.0, 1.0])
    assert winprob.brier(p, y) == pytest.approx(0.38 / 3)
    assert winprob.brier(np.array([]), np.array([])) is None


def test_calibration_bins_by_hand():
    """0.05 and 0.08 (lost, won) in 0.0–0.1; 0.35 (won) in 0.3–0.4; 1.0 in the last."""
    p = np.array([0.05, 0.08, 0.35, 1.0])
    y = np.array([0.0, 1.0, 1.0, 1.0])
    bins = winprob.calibration(p, y)
    assert len(bins) == 10
    assert bins[0] == {
        "low": 0.0,
        "high": 0.1,
        "count": 2,
        "predicted": pytest.approx(0.065),
        "observed": 0.5,
    }
    assert bins[3]["count"] == 1 and bins[3]["observed"] == 1.0
    assert bins[9] == {
        "low": 0.9,
        "high": 1.0,
        "count": 1,
        "predicted": 1.0,
        "observed": 1.0,
    }
    assert [b["count"] for b in bins] == [2, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert bins[1]["predicted"] is None and bins[1]["observed"] is None


def test_naive_bayes_by_hand():
    """Three leads alike but for the stage: a won, a lost, b lost. For a new lead in a:
    prior odds (1+1)/(2+1) = 2/3; stage a: [(1+1)/(1+3)] / [(1+1)/(2+3)] = 5/4 (three
    values: a, b and unseen); each of the 7 other facts (one value seen):
    [(1+1)/(1+2)] / [(2+1)/(2+2)] = 8/9. Odds = 2/3 · 5/4 · (8/9)^7."""
    base = dict(
        stage_weight=0.25,
        age_days=5,
        channel="phone",
        value=None,
        contact_type="unknown",
        scotsman_met=None,
        phase=None,
        activities=0,
    )
    a, b = Facts(stage="a", **base), Facts(stage="b", **base)
    model = NaiveBayes.fit([a, a, b], np.array([1.0, 0.0, 0.0]))
    odds = Decimal(2) / 3 * Decimal(5) / 4 * (Decimal(8) / 9) ** 7
    assert model.predict([a])[0] == pytest.approx(float(odds / (1 + odds)))
    assert float(odds / (1 + odds)) == pytest.approx(0.267606, abs=1e-6)


# --- the backtest -----------------------------------------------------------------------


def synthetic(n: int, *, seed: int, learnable: bool):
    """Leads over 400 days. Learnable: the chance follows the SCOTSMAN score and the
    channel (stage weights 0.25/0.5/0.75 know neither). Not learnable: each outcome is
    drawn with the stage weight as its chance, so nothing beats the stage weights."""
    rng = random.Random(seed)
    stages = [("qualification", 0.25), ("proposal", 0.5), ("negotiation", 0.75)]
    facts, y, closed = [], [], []
    for i in range(n):
        stage, weight = rng.choice(stages)
        met = rng.randint(0, 8)
        channel = rng.choice(["referral", "web_form", "phone"])
        f = Facts(
            stage,
            weight,
            rng.uniform(1, 200),
            channel,
            None,
            "unknown",
            met,
            None,
            rng.randint(0, 6),
        )
        if learnable:
            logit = 0.9 * (met - 4) + {"referral": 1.0, "web_form": -1.0}.get(
                channel, 0
            )
            p = 1 / (1 + math.exp(-logit))
        else:
            p = weight
        facts.append(f)
        y.append(1.0 if rng.random() < p else 0.0)
        closed.append(utc(2024, 1, 1) + timedelta(days=400 * i / n))
    return facts, np.array(y), closed


def test_a_learnable_history_beats_the_stage_weights_and_is_shown():
    facts, y, closed = synthetic(2000, seed=3, learnable=True)
    result = winprob.backtest(facts, y, closed)
    assert (result.train_count, result.test_count) == (1600, 400)
    assert result.split_at == closed[1600]
    assert result.brier < result.brier_stage - 0.05
    assert result.brier_naive_bayes < result.brier_stage
    assert result.enough_data and result.is_shown
    assert sum(b["count"] for b in result.calibration) == 400


def test_a_history_the_stage_weights_explain_is_not_shown():
    facts, y, closed = synthetic(2000, seed=3, learnable=False)
    result = winprob.backtest(facts, y, closed)
    assert result.enough_data
    assert result.gain < 2 * result.gain_se
    assert not result.is_shown


def test_too_little_history_is_never_shown():
    facts, y, closed = synthetic(winprob.MIN_CLOSED - 1, seed=3, learnable=True)
    result = winprob.backtest(facts, y, closed)
    assert not result.enough_data and not result.is_shown


def test_no_history_at_all():
    result = winprob.backtest([], np.array([]), [])
    assert (result.train_count, result.test_count, result.brier) == (0, 0, None)
    assert not result.is_shown
    row = winprob.train_win_model()
    assert (row.train_count, row.test_count, row.brier, row.is_shown) == (
        0,
        0,
        None,
        False,
    )


def test_one_outcome_only_gives_finite_predictions():
    facts, _y, closed = synthetic(300, seed=1, learnable=True)
    result = winprob.backtest(facts, np.ones(300), closed)
    assert result.brier is not None and result.brier < 0.01


# --- training on the database, the leads' values, the page and the API -------------------


def decided_leads(rep, n: int, *, won, scored: bool = True) -> list[Opportunity]:
    """``n`` leads in the first stage, closed one a day from 1 Jan 2025 (created ten
    days before, scored five days before): SCOTSMAN 6 met and won when ``won(i)``,
    else 2 met and lost (not scored at all without ``scored``)."""
    leads = []
    for i in range(n):
        o = make_lead(rep, owner=rep)
        if scored:
            score_scotsman(o, rep, 6 if won(i) else 2)
        close_opportunity(
            o, actor=rep, result="won" if won(i) else "lost", reason="test data"
        )
        closed = utc(2025, 1, 1, 12) + timedelta(days=i)
        set_times(o, created=closed - timedelta(days=10), closed=closed)
        Scorecard.objects.filter(opportunity=o).update(
            scored_at=closed - timedelta(days=5)
        )
        leads.append(o)
    return leads


@pytest.fixture
def small_minimum(monkeypatch):
    """A 40-lead history counts as enough (the real minimum is MIN_CLOSED)."""
    monkeypatch.setattr(winprob, "MIN_CLOSED", 40)
    monkeypatch.setattr(winprob, "MIN_TEST", 8)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_learnable_history_is_stored_shown_and_written_on_open_leads(
    rep, outsider, api_as, small_minimum
):
    """40 decided leads: SCOTSMAN 6 met → won, 2 met → lost (even / odd). Split: the
    last 20 % = 8 leads (i = 32…39, four won), trained on 32. Stage weight 0.25 for
    all: Brier(stage) = (4 × 0.75² + 4 × 0.25²) / 8 = (2.25 + 0.25) / 8 = 0.3125."""
    leads = decided_leads(rep, 40, won=lambda i: i % 2 == 0)
    strong, weak = make_lead(rep, owner=rep), make_lead(rep, owner=rep)
    score_scotsman(strong, rep, 6)
    score_scotsman(weak, rep, 2)
    row = winprob.train_win_model()
    assert (row.train_count, row.test_count) == (32, 8)
    assert row.split_at == utc(2025, 2, 2, 12)  # lead 32's close
    assert row.brier_stage == pytest.approx(0.3125)
    assert row.brier < 0.05 and row.brier_naive_bayes < 0.3125
    assert row.is_shown
    assert row.params["decided"] == 40 and row.params["won"] == 20
    assert row.params["kind"] == "logistic"
    assert len(row.calibration) == 10
    strong.refresh_from_db()
    weak.refresh_from_db()
    assert strong.predicted_win > Decimal("0.8")
    assert weak.predicted_win < Decimal("0.2")
    # Closed leads are not rescored.
    assert not Opportunity.objects.filter(
        pk__in=[o.pk for o in leads], predicted_win__isnull=False
    ).exists()

    page = logged_in(rep).get(f"/opportunities/{strong.pk}/")
    assert page.status_code == 200
    percent = round(float(strong.predicted_win) * 100)
    assert f"(Learned: {percent} %)" in page.content.decode()

    body = api_as("rep").get(f"/api/opportunities/{strong.pk}").json()
    assert body["predicted_win"] == float(strong.predicted_win)
    listed = api_as("rep").get("/api/opportunities", {"status": "open"}).json()
    by_id = {item["id"]: item for item in listed["items"]}
    assert by_id[weak.pk]["predicted_win"] == float(weak.predicted_win)
    # The field does not widen anyone's reach: another team's salesperson gets 404.
    assert api_as("outsider").get(f"/api/opportunities/{strong.pk}").status_code == 404


def test_a_history_the_stage_weights_explain_shows_nothing(rep, api_as, small_minimum):
    """One in four won (i divisible by 4), nothing else differs: the model learns 0.25,
    the stage weight. Test leads 32…39: two won. Brier(stage) = (2 × 0.75² + 6 ×
    0.25²) / 8 = (1.125 + 0.375) / 8 = 0.1875; the model ties: not shown. A value left
    from an earlier model is cleared, so neither the page nor the API shows one."""
    decided_leads(rep, 40, won=lambda i: i % 4 == 0, scored=False)
    lead = make_lead(rep, owner=rep)
    Opportunity.objects.filter(pk=lead.pk).update(predicted_win=Decimal("0.9"))
    row = winprob.train_win_model()
    assert row.brier_stage == pytest.approx(0.1875)
    assert row.brier == pytest.approx(0.1875, abs=1e-4)
    assert not row.is_shown
    lead.refresh_from_db()
    assert lead.predicted_win is None
    page = logged_in(rep).get(f"/opportunities/{lead.pk}/").content.decode()
    assert "Learned" not in page
    assert (
        api_as("rep").get(f"/api/opportunities/{lead.pk}").json()["predicted_win"]
        is None
    )


def test_the_api_field_is_null_without_a_model(rep, api_as):
    lead = make_lead(rep, owner=rep)
    body = api_as("rep").get(f"/api/opportunities/{lead.pk}").json()
    assert "predicted_win" in body and body["predicted_win"] is None
    assert (
        "Learned"
        not in logged_in(rep).get(f"/opportunities/{lead.pk}/").content.decode()
    )


def test_a_closed_lead_shows_no_learned_value(rep):
    lead = make_lead(rep, owner=rep)
    close_opportunity(lead, actor=rep, result="lost", reason="price")
    Opportunity.objects.filter(pk=lead.pk).update(predicted_win=Decimal("0.4"))
    assert (
        "Learned"
        not in logged_in(rep).get(f"/opportunities/{lead.pk}/").content.decode()
    )


def test_rescoring_uses_the_latest_shown_model_and_is_a_few_queries(
    rep, small_minimum, django_assert_max_num_queries
):
    decided_leads(rep, 40, won=lambda i: i % 2 == 0)
    winprob.train_win_model()
    fresh = [make_lead(rep, owner=rep) for _ in range(5)]
    for o in fresh:
        score_scotsman(o, rep, 6)
    # the latest model, the facts of every open lead (one SELECT), one UPDATE per
    # distinct value (here one), and the savepoint around them
    with django_assert_max_num_queries(5):
        assert winprob.score_open_leads() == 5
    assert (
        Opportunity.objects.filter(
            pk__in=[o.pk for o in fresh], predicted_win__gt=Decimal("0.8")
        ).count()
        == 5
    )


# --- the worker and the command -------------------------------------------------------------


def test_the_job_is_scheduled_daily_at_four():
    job = scheduler.job_named("train_win_model")
    assert (job.every, job.daily_at.isoformat()) == (None, "04:00:00")
    assert job.func == "leadflow.analytics.winprob.run_scheduled"


def test_the_job_retrains_on_sunday_in_the_company_time_zone(rep, settings):
    """Saturday 28 March 2026 23:30 UTC is Sunday 00:30 in Brussels: a new model.
    Sunday 29 March 22:30 UTC is Monday 00:30 (CEST): only a rescore."""
    settings.TIME_ZONE = "Europe/Brussels"
    results = scheduler.run_due_jobs(
        now=utc(2026, 3, 28, 23, 30), only="train_win_model", force=True
    )
    # Training runs as a task of its own (the test backend runs it at once).
    assert results["train_win_model"] == "training queued"
    assert WinModel.objects.count() == 1
    assert WinModel.objects.get().is_shown is False
    results = scheduler.run_due_jobs(
        now=utc(2026, 3, 29, 22, 30), only="train_win_model", force=True
    )
    assert results == {"train_win_model": "rescored 0 open leads"}
    assert WinModel.objects.count() == 1


def test_the_command_trains_and_says_how_it_went(rep):
    make_lead(rep, owner=rep)
    out = StringIO()
    call_command("train_win_model", stdout=out)
    text = out.getvalue()
    assert text.startswith("win model ")
    assert "0 trained, 0 tested" in text
    assert "Not shown to users" in text
    assert WinModel.objects.get().is_shown is False
