"""Backtest the learned win probability on a synthetic history.

    .venv/bin/python bench/winprob.py [--leads 20000] [--years 3] [--seed 1]
                                      [--outcomes learnable|stage|random]
    .venv/bin/python bench/winprob.py --db /tmp/copy-of-a-bench.sqlite3

Generates closed qualified leads in memory (no database: the rows go straight into
``leadflow.analytics.winprob.Facts``, the same type the database query produces, and
through the same encoding, training and scoring code), runs the backtest (train on
the first 80 % by close date, test on the last 20 %) and prints the Brier scores of
the model, naive Bayes and the stage weights, the calibration table and the timings.

``--db`` instead times the database path on an existing, migrated bench database
(e.g. a copy of the one ``bench/run.py --pipeline`` fills): reading the facts of every
decided and open lead, the backtest, and the worker's whole run, which stores a
``WinModel`` row and writes ``predicted_win``, so use a throwaway copy.

The true chance of winning is a logistic function of the stage reached, source,
value band, SCOTSMAN score, contact type, buying-clock phase, activities and age,
plus per-lead noise; the configured stage weights (0.25 / 0.50 / 0.75) are the
defaults, not the truth. ``--outcomes stage`` draws each outcome with the stage
weight as its chance (the facts tell nothing more, so the model must not be shown);
``--outcomes random`` with 30 % whatever the facts (the model learns the base rate,
which the miscalibrated stage weights do not: it is better than them, and shown).
"""

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = {  # code: (share of leads, configured weight, effect on the log-odds)
    "qualification": (0.45, 0.25, -1.3),
    "proposal": (0.35, 0.50, -0.2),
    "negotiation": (0.20, 0.75, 1.0),
}
CHANNELS = {  # code: (share, effect)
    "referral": (0.10, 0.9),
    "existing_customer": (0.12, 0.6),
    "phone": (0.15, 0.2),
    "email": (0.15, 0.0),
    "web_form": (0.25, -0.4),
    "event": (0.08, -0.6),
    "telemarketing": (0.07, -0.5),
    "prospecting_visit": (0.05, 0.1),
    "other": (0.03, -0.2),
}
CONTACT = {"customer": (0.25, 0.7), "known": (0.25, 0.2), "unknown": (0.50, 0.0)}


def pick(rng: random.Random, table: dict) -> str:
    r, total = rng.random(), 0.0
    for key, (share, *_rest) in table.items():
        total += share
        if r < total:
            return key
    return key


def generate(n: int, years: float, seed: int, *, outcomes: str = "learnable"):
    from leadflow.analytics.winprob import Facts

    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span = years * 365 * 86400
    facts, won, closed = [], [], []
    for _ in range(n):
        stage = pick(rng, STAGES)
        _share, weight, stage_effect = STAGES[stage]
        channel = pick(rng, CHANNELS)
        contact = pick(rng, CONTACT)
        value = None if rng.random() < 0.1 else math.exp(rng.gauss(10.3, 1.2))
        scotsman = (
            None if rng.random() < 0.2 else min(8, max(0, round(rng.gauss(5, 2))))
        )
        base_phase = {"qualification": 3, "proposal": 5, "negotiation": 6}[stage]
        phase = (
            None
            if rng.random() < 0.4
            else min(8, max(1, base_phase + round(rng.gauss(0, 1))))
        )
        activities = max(0, round(rng.expovariate(1 / 6)))
        age = rng.expovariate(1 / 60)
        logit = (
            -0.6
            + stage_effect
            + CHANNELS[channel][1]
            + CONTACT[contact][1]
            + (0.0 if value is None else -0.35 * (math.log10(value) - 4.5))
            + (-0.3 if scotsman is None else 0.3 * (scotsman - 4))
            + (0.0 if phase is None else 0.15 * (phase - base_phase))
            + 0.25 * math.log1p(activities)
            - 0.35 * (math.log1p(age) - 3.5)
            + rng.gauss(0, 0.5)
        )
        p = {"random": 0.3, "stage": weight}.get(outcomes) or 1 / (1 + math.exp(-logit))
        facts.append(
            Facts(
                stage=stage,
                stage_weight=weight,
                age_days=age,
                channel=channel,
                value=value,
                contact_type=contact,
                scotsman_met=scotsman,
                phase=phase,
                activities=activities,
            )
        )
        won.append(1.0 if rng.random() < p else 0.0)
        closed.append(start + timedelta(seconds=rng.random() * span))
    return facts, won, closed


def measure_database() -> None:
    from leadflow.analytics import winprob

    t0 = time.perf_counter()
    facts, y, closed, _ids = winprob.closed_history()
    print(f"facts of {len(facts)} decided leads: {time.perf_counter() - t0:.1f} s")
    result = winprob.backtest(facts, y, closed)
    print(
        f"backtest {result.seconds:.1f} s: Brier model {result.brier:.4f}, naive "
        f"Bayes {result.brier_naive_bayes:.4f}, stage weights {result.brier_stage:.4f};"
        f" shown {result.is_shown}"
    )
    t0 = time.perf_counter()
    ids, _facts = winprob.open_facts()
    print(f"facts of {len(ids)} open leads: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    row = winprob.train_win_model()
    print(
        f"the worker's run: {time.perf_counter() - t0:.1f} s; {winprob.describe(row)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--outcomes", choices=["learnable", "stage", "random"], default="learnable"
    )
    parser.add_argument("--db", help="a throwaway copy of a bench SQLite database")
    args = parser.parse_args()
    if args.db:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
        import django

        django.setup()
        measure_database()
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    import numpy as np

    from leadflow.analytics import winprob

    t0 = time.perf_counter()
    facts, won, closed = generate(
        args.leads, args.years, args.seed, outcomes=args.outcomes
    )
    generated = time.perf_counter() - t0
    y = np.array(won)
    result = winprob.backtest(facts, y, closed)
    print(
        f"{args.leads} closed leads over {args.years:g} years "
        f"(outcomes: {args.outcomes}), "
        f"won {int(y.sum())} ({y.mean():.1%}); generated in {generated:.2f} s"
    )
    print(
        f"split at {result.split_at:%Y-%m-%d}: train {result.train_count}, "
        f"test {result.test_count}; backtest (fit + score, all three) "
        f"{result.seconds:.2f} s"
    )
    print(f"Brier  model        {result.brier:.4f}")
    print(f"Brier  naive Bayes  {result.brier_naive_bayes:.4f}")
    print(f"Brier  stage weights {result.brier_stage:.4f}")
    y_test = y[[i for i, c in enumerate(closed) if c >= result.split_at]]
    print(f"Brier  base rate    {float(np.mean((y_test.mean() - y_test) ** 2)):.4f}")
    print(
        f"gain over stage weights {result.gain:.4f} ± {result.gain_se:.4f} (s.e.); "
        f"shown: {result.is_shown}"
    )
    print("calibration (test period):")
    print("  bin        count  predicted  observed")
    for row in result.calibration:
        pred = "—" if row["predicted"] is None else f"{row['predicted']:.3f}"
        obs = "—" if row["observed"] is None else f"{row['observed']:.3f}"
        print(
            f"  {row['low']:.1f}–{row['high']:.1f}  {row['count']:>6}  "
            f"{pred:>9}  {obs:>8}"
        )
    t0 = time.perf_counter()
    model = winprob.LogisticModel.fit(facts, y)
    fit_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict(facts)
    scored = time.perf_counter() - t0
    print(
        f"logistic fit on all {len(facts)}: {fit_all:.2f} s; "
        f"scoring {len(facts)}: {scored:.2f} s"
    )


if __name__ == "__main__":
    main()
