"""History for the analytics benchmark: stage moves, quotes, inquiry transitions and
forecast snapshots for a bench database that already holds inquiries and qualified
leads (``bench/run.py`` and ``--pipeline``: 1,000,000 inquiries, 310,000 leads).

Used by ``bench/analytics.py``; needs Django set up on the bench database. Rows are
written with plain SQL in 10,000-row transactions (no audit rows, no outbox: the
worker never sees them because ``processed_at`` is set). Idempotent: a database that
already has opportunity transitions is left as it is.

Per qualified lead: the creation row ("" → open), a move qualification → proposal for
60 %, proposal → negotiation for 40 % of those, one move back for 8 % of the
negotiation ones, and the closing row (open → result) for closed leads. Leads that
reached proposal get a quote (sent; accepted when won, declined when lost), 3 % of
them through a gate override. Every inquiry gets its registration row and, when
closed, its closing row. Snapshots: one on the first day of each of the last 24
months, each holding the leads open at that moment, as the worker takes them.
"""

import random
import time
from datetime import UTC, datetime, timedelta

BATCH = 10_000
MARK = "bench-analytics"


def _text(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _parse(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def ensure_history(*, seed: int = 1) -> dict[str, float]:
    from django.db import connection, transaction
    from django.utils import timezone

    from leadflow.opportunities.models import OpportunityTransition, Stage

    if OpportunityTransition.objects.exists():
        return {}
    rng = random.Random(seed * 104_729 + 3)
    stages = {s.code: s.pk for s in Stage.objects.all()}
    weights = {s.code: s.weight for s in Stage.objects.all()}
    categories = {s.code: s.forecast_category for s in Stage.objects.all()}
    now = timezone.now().replace(microsecond=0)
    timings: dict[str, float] = {}

    with connection.cursor() as cur:
        cur.execute("PRAGMA synchronous=OFF")
        # --- qualified leads: stage path, transitions, quotes ------------------------
        started = time.perf_counter()
        cur.execute(
            "SELECT id, created_at, closed_at, status, owner_id FROM "
            "opportunities_opportunity ORDER BY id"
        )
        leads = cur.fetchall()
        transitions: list[tuple] = []
        quotes: list[tuple] = []
        stage_updates: list[tuple] = []
        number = 900_000

        def flush() -> None:
            with transaction.atomic():
                cur.executemany(
                    "INSERT INTO opportunities_opportunitytransition (opportunity_id, "
                    "actor_id, from_state, to_state, at, reason, data, processed_at) "
                    "VALUES (?, ?, ?, ?, ?, '', '{}', ?)",
                    transitions,
                )
                cur.executemany(
                    "INSERT INTO opportunities_quote (opportunity_id, number, revision, "
                    "status, language, vat_rate, discount, valid_until, gate_override, "
                    "override_reason, scotsman_met, created_at, created_by_id, sent_at, "
                    "decided_at, version, notes) VALUES (?, ?, 1, ?, 'nl', 0.21, 0, NULL, "
                    "?, ?, ?, ?, ?, ?, ?, 1, '')",
                    quotes,
                )
                cur.executemany(
                    "UPDATE opportunities_opportunity SET stage_id = ?, "
                    "stage_entered_at = ? WHERE id = ?",
                    stage_updates,
                )
            transitions.clear()
            quotes.clear()
            stage_updates.clear()

        for pk, created_text, closed_text, status, owner in leads:
            created = _parse(created_text)
            closed = _parse(closed_text) if closed_text else None
            end = closed or now
            span = max((end - created).total_seconds(), 3600.0)
            stamp = _text(created)
            transitions.append((pk, owner, "", "open", stamp, stamp))
            path = ["qualification"]
            if rng.random() < 0.6:
                path.append("proposal")
                if rng.random() < 0.4:
                    path.append("negotiation")
                    if rng.random() < 0.08:
                        path.append("proposal")
            moments = sorted(rng.uniform(0.05, 0.9) for _ in path[1:])
            entered = created
            for previous, nxt, share in zip(path, path[1:], moments, strict=False):
                entered = created + timedelta(seconds=span * share)
                at = _text(entered)
                transitions.append((pk, owner, previous, nxt, at, at))
            if "proposal" in path:
                number += 1
                made = created + timedelta(seconds=span * moments[0])
                state = {"won": "accepted", "lost": "declined"}.get(status, "sent")
                override = rng.random() < 0.03
                quotes.append(
                    (
                        pk,
                        number,
                        state,
                        override,
                        "bench: director approved" if override else "",
                        rng.randint(3, 5) if override else rng.randint(5, 8),
                        _text(made),
                        owner,
                        _text(made + timedelta(hours=2)),
                        _text(closed) if closed and state != "sent" else None,
                    )
                )
            if closed:
                at = _text(closed)
                transitions.append((pk, owner, "open", status, at, at))
            stage_updates.append((stages[path[-1]], _text(entered), pk))
            if len(stage_updates) >= BATCH:
                flush()
        flush()
        timings["leads: transitions and quotes"] = time.perf_counter() - started

        # --- inquiries: registration and closing rows -----------------------------
        started = time.perf_counter()
        with transaction.atomic():
            cur.execute(
                "INSERT INTO intake_inquirytransition (inquiry_id, actor_id, "
                "from_state, to_state, at, reason, data, processed_at) "
                "SELECT id, created_by_id, '', 'open', received_at, '', '{}', "
                "received_at FROM intake_inquiry WHERE id NOT IN "
                "(SELECT inquiry_id FROM intake_inquirytransition)"
            )
            cur.execute(
                "INSERT INTO intake_inquirytransition (inquiry_id, actor_id, "
                "from_state, to_state, at, reason, data, processed_at) "
                "SELECT i.id, i.closed_by_id, 'open', 'closed', i.closed_at, '', "
                "'{}', i.closed_at FROM intake_inquiry i WHERE i.closed_at IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM intake_inquirytransition t WHERE "
                "t.inquiry_id = i.id AND t.to_state = 'closed')"
            )
        timings["inquiries: transitions"] = time.perf_counter() - started

        # --- forecast snapshots: the first of each of the last 24 months -----------
        started = time.perf_counter()
        month = now.replace(day=1, hour=6, minute=0, second=0)
        moments = []
        for _ in range(24):
            moments.append(month)
            month = (month - timedelta(days=1)).replace(day=1)
        for moment in sorted(moments):
            at = _text(moment)
            with transaction.atomic():
                cur.execute(
                    "INSERT INTO analytics_forecastsnapshot (taken_at, taken_on, kind, "
                    "taken_by_id, line_count, unweighted, weighted) VALUES "
                    "(?, ?, 'auto', NULL, 0, 0, 0)",
                    [at, moment.date().isoformat()],
                )
                snapshot = cur.lastrowid
                weight_case = " ".join(
                    f"WHEN {stages[c]} THEN {weights[c]}" for c in stages
                )
                category_case = " ".join(
                    f"WHEN {stages[c]} THEN '{categories[c]}'" for c in stages
                )
                cur.execute(
                    "INSERT INTO analytics_forecastsnapshotline (snapshot_id, "
                    "opportunity_id, owner_id, team_id, stage_id, value, p_win, p_go, "
                    "weight, category, decision_date, service_type) "
                    f"SELECT ?, o.id, o.owner_id, u.team_id, o.stage_id, "
                    f"o.expected_value, o.p_win, o.p_go, "
                    f"CASE o.stage_id {weight_case} END, "
                    f"CASE o.stage_id {category_case} END, o.decision_date, "
                    f"o.service_type FROM opportunities_opportunity o "
                    f"JOIN accounts_user u ON u.id = o.owner_id "
                    f"WHERE o.created_at <= ? AND (o.closed_at IS NULL OR "
                    f"o.closed_at > ?)",
                    [snapshot, at, at],
                )
                cur.execute(
                    "UPDATE analytics_forecastsnapshot SET line_count = (SELECT "
                    "count(*) FROM analytics_forecastsnapshotline WHERE snapshot_id = "
                    "?), unweighted = (SELECT coalesce(sum(value), 0) FROM "
                    "analytics_forecastsnapshotline WHERE snapshot_id = ?), weighted = "
                    "(SELECT coalesce(sum(value * weight), 0) FROM "
                    "analytics_forecastsnapshotline WHERE snapshot_id = ?) WHERE id = ?",
                    [snapshot, snapshot, snapshot, snapshot],
                )
        timings["forecast snapshots (24)"] = time.perf_counter() - started
        cur.execute("PRAGMA synchronous=NORMAL")
    return timings
