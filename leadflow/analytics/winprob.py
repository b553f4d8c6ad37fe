"""The learned win probability (issue 5): a logistic regression on closed history.

What the model sees of a lead (``Facts``) is only what was known at the time:

- for a **closed** lead, its state just before the closing step: the stage it was in
  (closing does not change the stage, so ``Opportunity.stage`` is the last stage before
  the result), its age at the close, the activities created before the close, the
  last SCOTSMAN scorecard scored before the close, the most advanced buying-clock
  phase among its stakeholders (stakeholders cannot change once a lead is closed),
  the inquiry's channel and value band, and the contact type when the inquiry came in;
- for an **open** lead, the same facts now.

Contact type is worked out from history, not from today's fields (a won lead turns its
company into a customer, which would leak the outcome): *customer* when the contact or
its company had a won lead closed before the inquiry was received (or, without an
inquiry, before the lead was created); *known* when the contact had an earlier inquiry
or lead; *unknown* otherwise.

Outcomes: won = 1; lost and not going ahead = 0. Nurture is left out: the deal is
parked, not decided (the same choice as the win rate, DOMAIN.md §8 KPI 5).

The model: categorical facts one-hot encoded, numbers (log of age and activity count,
SCOTSMAN met count) standardised, an L2-regularised logistic regression fitted by
Newton's method (deterministic). Two baselines are scored on the same test period:
naive Bayes over the same facts (Odoo's "predictive lead scoring" approach) and the
stage weights (P = the stage's configured forecast weight).

The backtest trains on the leads closed before a split moment (the last
``TEST_SHARE`` of closed leads by close date are the test period) and scores the rest.
The model is shown to users only when it beats the stage weights there (Brier score
lower by more than two standard errors of the paired difference) on enough history. The model that was tested is the one used for scoring.
"""

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

logger = logging.getLogger(__name__)

# Enough history to judge a model on: fewer closed leads, or fewer in the test period,
# and the model is stored but never shown.
MIN_CLOSED = 200
MIN_TEST = 50
TEST_SHARE = 0.2
L2 = 1.0  # penalty on the squared weights (the bias gets only a token one)
MAX_ITER = 50
CALIBRATION_BINS = 10
# Shown only when the model's Brier score is lower than the stage weights' by more
# than this many standard errors of the paired difference (one-sided, about 2.3 %):
# on a small test period a plain "lower" is often luck.
SIGNIFICANCE = 2.0
# Expected value bands in euros: [0, 10k), [10k, 50k), [50k, 250k), 250k and more.
VALUE_BANDS = (10_000, 50_000, 250_000)
CONTACT_TYPES = ("customer", "known", "unknown")
# The worker retrains on this local weekday (Sunday) and only rescores on the others.
TRAIN_WEEKDAY = 6
WRITE_BATCH = 500

CATEGORICAL = ("stage", "channel", "value_band", "contact_type", "phase")
NUMERIC = ("log_age", "log_activities", "scotsman_met", "not_scored")


@dataclass(frozen=True)
class Facts:
    """What was known about one lead at one moment (see the module docstring)."""

    stage: str
    stage_weight: float
    age_days: float
    channel: str  # "" without an inquiry
    value: float | None
    contact_type: str
    scotsman_met: int | None  # None: never scored
    phase: int | None  # most advanced stakeholder phase (position), None: none set
    activities: int


def value_band(value: float | None) -> str:
    if value is None:
        return "none"
    low = 0
    for high in VALUE_BANDS:
        if value < high:
            return f"{low}-{high}"
        low = high
    return f"{low}+"


def categories(f: Facts) -> dict[str, str]:
    return {
        "stage": f.stage,
        "channel": f.channel or "none",
        "value_band": value_band(f.value),
        "contact_type": f.contact_type,
        "phase": "none" if f.phase is None else str(f.phase),
    }


def numbers(f: Facts) -> list[float]:
    return [
        math.log1p(max(f.age_days, 0.0)),
        math.log1p(max(f.activities, 0)),
        float(f.scotsman_met or 0),
        1.0 if f.scotsman_met is None else 0.0,
    ]


# --- encoding ---------------------------------------------------------------------------


@dataclass
class Encoder:
    """One-hot columns per category seen in training (an unseen value: all zeros),
    then the numbers standardised with the training mean and spread."""

    vocab: dict[str, list[str]]
    means: list[float]
    stds: list[float]

    @classmethod
    def fit(cls, facts: list[Facts]) -> "Encoder":
        seen: dict[str, set[str]] = {name: set() for name in CATEGORICAL}
        for f in facts:
            for name, value in categories(f).items():
                seen[name].add(value)
        raw = np.array([numbers(f) for f in facts], dtype=float).reshape(
            -1, len(NUMERIC)
        )
        means = raw.mean(axis=0) if len(facts) else np.zeros(len(NUMERIC))
        stds = raw.std(axis=0) if len(facts) else np.ones(len(NUMERIC))
        stds = np.where(stds > 1e-12, stds, 1.0)
        return cls(
            vocab={name: sorted(values) for name, values in seen.items()},
            means=[float(m) for m in means],
            stds=[float(s) for s in stds],
        )

    @property
    def columns(self) -> list[str]:
        names = [
            f"{name}={value}" for name in CATEGORICAL for value in self.vocab[name]
        ]
        return names + list(NUMERIC)

    def transform(self, facts: list[Facts]) -> np.ndarray:
        offsets: dict[str, dict[str, int]] = {}
        start = 0
        for name in CATEGORICAL:
            offsets[name] = {v: start + i for i, v in enumerate(self.vocab[name])}
            start += len(self.vocab[name])
        X = np.zeros((len(facts), start + len(NUMERIC)))
        for row, f in enumerate(facts):
            for name, value in categories(f).items():
                col = offsets[name].get(value)
                if col is not None:
                    X[row, col] = 1.0
            X[row, start:] = numbers(f)
        X[:, start:] = (X[:, start:] - np.array(self.means)) / np.array(self.stds)
        return X


# --- the models -------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow


def fit_logistic(
    X: np.ndarray, y: np.ndarray, *, l2: float = L2, max_iter: int = MAX_ITER
) -> np.ndarray:
    """Weights (bias first) minimising log-loss + l2/2 · |w|², by Newton's method."""
    n, d = X.shape
    Xb = np.hstack([np.ones((n, 1)), X])
    penalty = np.full(d + 1, l2)
    penalty[0] = 1e-6  # keeps the bias finite when every lead has the same outcome
    w = np.zeros(d + 1)
    # einsum, not @: numpy's own loops, one thread. The threaded BLAS behind @ spins
    # for cores a busy worker does not have (100× slower on a loaded two-core box).
    for _ in range(max_iter):
        p = sigmoid(np.einsum("nj,j->n", Xb, w))
        gradient = np.einsum("nj,n->j", Xb, p - y) + penalty * w
        curvature = np.einsum("ni,nj->ij", Xb * (p * (1 - p))[:, None], Xb)
        step = np.linalg.solve(curvature + np.diag(penalty), gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


@dataclass
class LogisticModel:
    encoder: Encoder
    weights: list[float]

    @classmethod
    def fit(cls, facts: list[Facts], y: np.ndarray) -> "LogisticModel":
        encoder = Encoder.fit(facts)
        weights = fit_logistic(encoder.transform(facts), y)
        return cls(encoder=encoder, weights=[float(w) for w in weights])

    def predict(self, facts: list[Facts]) -> np.ndarray:
        if not facts:
            return np.zeros(0)
        w = np.array(self.weights)
        return sigmoid(
            w[0] + np.einsum("nj,j->n", self.encoder.transform(facts), w[1:])
        )

    def params(self) -> dict:
        return {
            "kind": "logistic",
            "l2": L2,
            "vocab": self.encoder.vocab,
            "means": self.encoder.means,
            "stds": self.encoder.stds,
            "columns": ["bias", *self.encoder.columns],
            "weights": self.weights,
        }

    @classmethod
    def from_params(cls, params: dict) -> "LogisticModel":
        encoder = Encoder(
            vocab=params["vocab"], means=params["means"], stds=params["stds"]
        )
        return cls(encoder=encoder, weights=params["weights"])


def _bucket(value: float, edges: tuple[float, ...]) -> str:
    for edge in edges:
        if value < edge:
            return f"<{edge:g}"
    return f">={edges[-1]:g}"


def nb_values(f: Facts) -> dict[str, str]:
    """The facts as categories for naive Bayes (numbers in coarse buckets)."""
    return {
        **categories(f),
        "age": _bucket(f.age_days, (8, 31, 91, 181)),
        "activities": _bucket(f.activities, (1, 3, 6)),
        "scotsman": "none" if f.scotsman_met is None else str(f.scotsman_met),
    }


@dataclass
class NaiveBayes:
    """P(won | facts) ∝ P(won) · Π P(fact | won), frequencies with Laplace smoothing
    (Odoo's predictive lead scoring)."""

    prior: tuple[int, int] = (0, 0)  # lost, won counts
    counts: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @classmethod
    def fit(cls, facts: list[Facts], y: np.ndarray) -> "NaiveBayes":
        model = cls(prior=(int((y == 0).sum()), int((y == 1).sum())))
        for f, outcome in zip(facts, y, strict=True):
            for name, value in nb_values(f).items():
                model.counts.setdefault(name, {}).setdefault(value, [0, 0])[
                    int(outcome)
                ] += 1
        return model

    def predict(self, facts: list[Facts]) -> np.ndarray:
        lost, won = self.prior
        base = math.log((won + 1) / (lost + 1))
        out = np.zeros(len(facts))
        for row, f in enumerate(facts):
            log_odds = base
            for name, value in nb_values(f).items():
                table = self.counts.get(name, {})
                k = len(table) + 1  # the values seen, and one for unseen ones
                c_lost, c_won = table.get(value, (0, 0))
                log_odds += math.log((c_won + 1) / (won + k)) - math.log(
                    (c_lost + 1) / (lost + k)
                )
            out[row] = log_odds
        return sigmoid(out)


# --- scoring a backtest -----------------------------------------------------------------


def brier(p: np.ndarray, y: np.ndarray) -> float | None:
    """Mean squared difference between the predicted chance and the outcome (0/1)."""
    if len(y) == 0:
        return None
    return float(np.mean((np.asarray(p, dtype=float) - y) ** 2))


def calibration(p: np.ndarray, y: np.ndarray, bins: int = CALIBRATION_BINS) -> list:
    """Per tenth of predicted chance: count, mean predicted and observed win share."""
    index = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        rows.append(
            {
                "low": round(b / bins, 4),
                "high": round((b + 1) / bins, 4),
                "count": n,
                "predicted": float(p[mask].mean()) if n else None,
                "observed": float(y[mask].mean()) if n else None,
            }
        )
    return rows


@dataclass
class Backtest:
    split_at: object | None  # the first test lead's close moment
    train_count: int
    test_count: int
    brier: float | None
    brier_stage: float | None
    brier_naive_bayes: float | None
    calibration: list
    model: LogisticModel | None
    seconds: float
    # Brier(stage weights) − Brier(model), and the standard error of that paired
    # difference over the test leads.
    gain: float | None = None
    gain_se: float | None = None

    @property
    def enough_data(self) -> bool:
        return (
            self.train_count + self.test_count >= MIN_CLOSED
            and self.test_count >= MIN_TEST
        )

    @property
    def is_shown(self) -> bool:
        return (
            self.enough_data
            and self.gain is not None
            and self.gain_se is not None
            and self.gain > SIGNIFICANCE * self.gain_se
        )


def backtest(
    facts: list[Facts], y: np.ndarray, closed_at: list, *, test_share=TEST_SHARE
) -> Backtest:
    """Train on the leads closed before the split, score the ones closed from it on."""
    started = time.perf_counter()
    y = np.asarray(y, dtype=float)
    n = len(facts)
    if n < 2:
        return Backtest(None, n, 0, None, None, None, [], None, 0.0)
    order = sorted(range(n), key=lambda i: closed_at[i])
    cut = n - max(1, math.ceil(n * test_share))
    split_at = closed_at[order[cut]]
    train = [i for i in order if closed_at[i] < split_at]
    test = [i for i in order if closed_at[i] >= split_at]
    if not train:
        return Backtest(split_at, 0, len(test), None, None, None, [], None, 0.0)
    train_facts = [facts[i] for i in train]
    test_facts = [facts[i] for i in test]
    y_train, y_test = y[train], y[test]
    model = LogisticModel.fit(train_facts, y_train)
    p_model = model.predict(test_facts)
    p_nb = NaiveBayes.fit(train_facts, y_train).predict(test_facts)
    p_stage = np.array([f.stage_weight for f in test_facts], dtype=float)
    improvement = (p_stage - y_test) ** 2 - (p_model - y_test) ** 2
    gain_se = (
        float(np.std(improvement, ddof=1) / math.sqrt(len(test)))
        if len(test) > 1
        else None
    )
    return Backtest(
        split_at=split_at,
        train_count=len(train),
        test_count=len(test),
        brier=brier(p_model, y_test),
        brier_stage=brier(p_stage, y_test),
        brier_naive_bayes=brier(p_nb, y_test),
        calibration=calibration(p_model, y_test),
        model=model,
        seconds=time.perf_counter() - started,
        gain=float(improvement.mean()),
        gain_se=gain_se,
    )


# --- facts from the database ------------------------------------------------------------


def _facts_queryset(qs: QuerySet, moment) -> QuerySet:
    """``qs`` (qualified leads) with what was known at ``moment`` (an expression:
    the close for closed leads, now for open ones)."""
    from leadflow.intake.models import Inquiry
    from leadflow.opportunities.models import Activity, Opportunity, Stakeholder
    from leadflow.opportunities.states import OpportunityStatus
    from leadflow.qualification.frameworks import Framework
    from leadflow.qualification.models import Scorecard

    qs = qs.order_by().annotate(
        moment=moment,
        start=Coalesce("inquiry__received_at", "created_at"),
    )
    won_before = Opportunity.objects.filter(
        status=OpportunityStatus.WON, closed_at__lt=OuterRef("start")
    )
    activities = (
        Activity.objects.filter(
            opportunity=OuterRef("pk"), created_at__lt=OuterRef("moment")
        )
        .order_by()
        .values("opportunity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    scotsman = (
        Scorecard.objects.filter(
            opportunity=OuterRef("pk"),
            framework=Framework.SCOTSMAN,
            scored_at__lte=OuterRef("moment"),
        )
        .order_by("-scored_at", "-id")
        .values("met")[:1]
    )
    phase = (
        Stakeholder.objects.filter(opportunity=OuterRef("pk"), phase__isnull=False)
        .order_by("-phase__position")
        .values("phase__position")[:1]
    )
    return qs.annotate(
        n_activities=Coalesce(Subquery(activities, output_field=IntegerField()), 0),
        scotsman_met=Subquery(scotsman, output_field=IntegerField()),
        top_phase=Subquery(phase, output_field=IntegerField()),
        was_customer=Exists(won_before.filter(contact_id=OuterRef("contact_id")))
        | Exists(won_before.filter(company_id=OuterRef("company_id"))),
        was_known=Exists(
            Inquiry.objects.filter(
                contact_id=OuterRef("contact_id"), received_at__lt=OuterRef("start")
            )
        )
        | Exists(
            Opportunity.objects.filter(
                contact_id=OuterRef("contact_id"), created_at__lt=OuterRef("start")
            )
        ),
    )


FIELDS = (
    "pk",
    "status",
    "moment",
    "created_at",
    "stage__code",
    "stage__weight",
    "inquiry__channel__code",
    "expected_value",
    "was_customer",
    "was_known",
    "scotsman_met",
    "top_phase",
    "n_activities",
)


def _facts(row: tuple) -> Facts:
    (_pk, _status, moment, created, stage, weight, channel, value) = row[:8]
    customer, known, scotsman, phase, activities = row[8:]
    return Facts(
        stage=stage,
        stage_weight=float(weight),
        age_days=max((moment - created).total_seconds() / 86400, 0.0),
        channel=channel or "",
        value=float(value) if value is not None else None,
        contact_type="customer" if customer else "known" if known else "unknown",
        scotsman_met=scotsman,
        phase=phase,
        activities=activities or 0,
    )


def closed_history(qs: QuerySet | None = None):
    """(facts, outcomes, close moments, ids) of the decided leads in ``qs`` (default:
    all qualified leads; the worker's model learns from the whole company)."""
    from leadflow.opportunities.models import Opportunity
    from leadflow.opportunities.states import OpportunityStatus

    qs = Opportunity.objects.all() if qs is None else qs
    decided = qs.filter(
        status__in=[
            OpportunityStatus.WON,
            OpportunityStatus.LOST,
            OpportunityStatus.NOT_GOING_AHEAD,
        ],
        closed_at__isnull=False,
    )
    facts, outcomes, closed, ids = [], [], [], []
    rows = _facts_queryset(decided, F("closed_at")).values_list(*FIELDS)
    for row in rows.iterator(chunk_size=5000):
        facts.append(_facts(row))
        outcomes.append(1.0 if row[1] == OpportunityStatus.WON else 0.0)
        closed.append(row[2])
        ids.append(row[0])
    return facts, np.array(outcomes), closed, ids


def open_facts(qs: QuerySet | None = None, *, now: datetime | None = None):
    """(ids, facts) of the open leads in ``qs``, as they stand at ``now``."""
    from django.db.models import DateTimeField

    from leadflow.opportunities.models import Opportunity
    from leadflow.opportunities.states import OpportunityStatus

    qs = Opportunity.objects.all() if qs is None else qs
    now = now or timezone.now()
    open_leads = qs.filter(status=OpportunityStatus.OPEN)
    rows = _facts_queryset(
        open_leads, Value(now, output_field=DateTimeField())
    ).values_list(*FIELDS)
    ids, facts = [], []
    for row in rows.iterator(chunk_size=5000):
        ids.append(row[0])
        facts.append(_facts(row))
    return ids, facts


# --- the stored model and the leads' predicted_win ----------------------------------------


def latest_model():
    from leadflow.analytics.models import WinModel

    return WinModel.objects.order_by("-trained_at", "-id").first()


def shown_model() -> LogisticModel | None:
    """The latest model if it is shown to users, else None."""
    row = latest_model()
    if row is None or not row.is_shown or row.params.get("kind") != "logistic":
        return None
    return LogisticModel.from_params(row.params)


def _write(ids: list[int], probabilities: np.ndarray) -> int:
    """predicted_win for these leads: one UPDATE per rounded value and batch of ids."""
    from leadflow.opportunities.models import Opportunity

    groups: dict[Decimal, list[int]] = {}
    for pk, p in zip(ids, probabilities, strict=True):
        value = Decimal(f"{min(max(float(p), 0.0), 1.0):.3f}")
        groups.setdefault(value, []).append(pk)
    for value, pks in groups.items():
        for i in range(0, len(pks), WRITE_BATCH):
            Opportunity.objects.filter(pk__in=pks[i : i + WRITE_BATCH]).update(
                predicted_win=value
            )
    return len(ids)


@transaction.atomic
def score_open_leads(*, now: datetime | None = None) -> int:
    """Write predicted_win for the open leads with the shown model; without one, clear
    every predicted_win (so a value on a lead always means a shown model made it)."""
    from leadflow.opportunities.models import Opportunity

    model = shown_model()
    if model is None:
        Opportunity.objects.filter(predicted_win__isnull=False).update(
            predicted_win=None
        )
        return 0
    ids, facts = open_facts(now=now)
    return _write(ids, model.predict(facts))


def train_win_model(*, now: datetime | None = None):
    """Backtest on all decided history, store the run (``WinModel``) and rescore the
    open leads (or clear their values if the model is not good enough to show)."""
    from leadflow.analytics.models import WinModel

    now = now or timezone.now()
    facts, y, closed, _ids = closed_history()
    result = backtest(facts, y, closed)
    params = result.model.params() if result.model else {}
    params.update(
        min_closed=MIN_CLOSED,
        min_test=MIN_TEST,
        test_share=TEST_SHARE,
        enough_data=result.enough_data,
        significance=SIGNIFICANCE,
        gain=result.gain,
        gain_se=result.gain_se,
        seconds=round(result.seconds, 3),
        won=int(y.sum()),
        decided=len(y),
    )
    row = WinModel.objects.create(
        trained_at=now,
        split_at=result.split_at or now,
        train_count=result.train_count,
        test_count=result.test_count,
        params=params,
        brier=result.brier,
        brier_stage=result.brier_stage,
        brier_naive_bayes=result.brier_naive_bayes,
        calibration=result.calibration,
        is_shown=result.is_shown,
    )
    score_open_leads(now=now)
    return row


def describe(row) -> str:
    def fmt(x):
        return "—" if x is None else f"{x:.4f}"

    return (
        f"win model {row.pk}: {row.train_count} trained, {row.test_count} tested; "
        f"Brier {fmt(row.brier)} (stage weights {fmt(row.brier_stage)}, "
        f"naive Bayes {fmt(row.brier_naive_bayes)}); "
        f"{'shown' if row.is_shown else 'not shown'}"
    )


def run_scheduled(*, now: datetime | None = None) -> str:
    """The worker's daily 04:00 job: retrain on Sundays (company time), otherwise only
    rescore the open leads with the latest shown model (stages and ages change)."""
    from leadflow.core.worktime import current_calendar

    now = now or timezone.now()
    if timezone.localtime(now, current_calendar().tz).weekday() == TRAIN_WEEKDAY:
        # Training reads every closed lead (about 90 s at 300,000): a task of its
        # own, so the scheduler's every-minute jobs do not wait for it.
        from leadflow.analytics.tasks import train_win_model_task

        train_win_model_task.enqueue(now.isoformat())
        return "training queued"
    return f"rescored {score_open_leads(now=now)} open leads"
