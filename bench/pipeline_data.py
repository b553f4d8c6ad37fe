"""Qualified leads for the pipeline benchmark: bring the bench database to N open and
M closed qualified leads, and give them activities (some overdue).

Used by ``bench/run.py --pipeline``; needs Django set up. Like ``generate_data`` it
writes rows with one ``executemany`` per 10,000-row transaction and no transition
rows, audit events or notifications. Leads added here have no inquiry (a lead may be
created without one). If the database holds more open leads than asked for, the
surplus is closed (random ones, seeded) with a result reason ending in
``(bench --pipeline)``, so the rows stay recognisable.
"""

import random
import time
from datetime import UTC, timedelta
from decimal import Decimal

BATCH = 10_000
MARK = " (bench --pipeline)"


def _fmt(value):
    from leadflow.intake.management.commands.generate_data import _utc_text

    return _utc_text(value)


def ensure_pipeline(*, open_target: int, closed_target: int, seed: int) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from leadflow.accounts.models import Role, User
    from leadflow.intake import demo
    from leadflow.intake.management.commands.generate_data import (
        EXPECTED_VALUES,
        RESULT_REASONS,
        RESULT_WEIGHTS,
        RESULTS,
        SERVICE_TYPES,
        Table,
        _fast_sqlite,
        plain_timestamps,
    )
    from leadflow.opportunities.models import Activity, Opportunity, Stage
    from leadflow.opportunities.states import (
        ActivityKind,
        DecisionType,
        OpportunityStatus,
    )

    rng = random.Random(seed * 7919 + 17)
    now = timezone.now().replace(microsecond=0)
    started = time.perf_counter()
    done: dict[str, int] = {}

    def counts() -> tuple[int, int]:
        open_n = Opportunity.objects.filter(status=OpportunityStatus.OPEN).count()
        return open_n, Opportunity.objects.count() - open_n

    def close_values(created, status):
        age_days = max((now - created).total_seconds() / 86_400, 1.0)
        closed = min(
            created + timedelta(days=rng.uniform(min(7, age_days / 2), age_days)),
            now - timedelta(hours=1),
        )
        nurture = status == OpportunityStatus.NURTURE
        return closed, (closed.date() + timedelta(days=90)) if nurture else None

    open_n, closed_n = counts()
    print(f"  qualified leads before: {open_n:,} open, {closed_n:,} closed")
    with _fast_sqlite(), plain_timestamps(Opportunity, Activity):
        # 1. Too many open leads: close the surplus.
        if open_n > open_target:
            ids = list(
                Opportunity.objects.filter(status=OpportunityStatus.OPEN)
                .order_by("id")
                .values_list("id", "created_at")
            )
            surplus = rng.sample(ids, open_n - open_target)
            rows = []
            for pk, created in surplus:
                status = rng.choices(RESULTS, weights=RESULT_WEIGHTS)[0]
                closed, follow_up = close_values(created, status)
                rows.append(
                    (
                        str(status),
                        _fmt(closed),
                        RESULT_REASONS[status] + MARK,
                        follow_up.isoformat() if follow_up else None,
                        "marketing" if follow_up else "",
                        _fmt(closed),
                        pk,
                    )
                )
            for i in range(0, len(rows), BATCH):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE opportunities_opportunity SET status = %s, "
                        "closed_at = %s, result_reason = %s, follow_up_on = %s, "
                        "follow_up_by = %s, updated_at = %s, version = version + 1 "
                        "WHERE id = %s",
                        rows[i : i + BATCH],
                    )
            done["closed (surplus open leads)"] = len(rows)
            open_n, closed_n = counts()

        # 2. Too few: add leads (open ones from recent months, closed over 3 years).
        missing_open = max(0, open_target - open_n)
        missing_closed = max(0, closed_target - closed_n)
        if missing_open or missing_closed:
            with connection.cursor() as cursor:
                cursor.execute("SELECT id, company_id FROM contacts_contact")
                contacts = cursor.fetchall()
            sales = list(
                User.objects.filter(role=Role.SALES, is_active=True).values_list(
                    "id", flat=True
                )
            )
            stages = list(Stage.objects.filter(is_active=True).order_by("order", "id"))
            table = Table(Opportunity)

            def lead(is_open: bool) -> dict:
                contact_id, company_id = rng.choice(contacts)
                if is_open:
                    created = now - timedelta(days=min(rng.expovariate(1 / 45), 240))
                    status, closed, follow_up = OpportunityStatus.OPEN, None, None
                else:
                    created = now - timedelta(days=rng.uniform(31, 3 * 365))
                    status = rng.choices(RESULTS, weights=RESULT_WEIGHTS)[0]
                    closed, follow_up = close_values(created, status)
                return {
                    "title": demo.question(rng).splitlines()[0][:120],
                    "contact_id": contact_id,
                    "company_id": company_id,
                    "owner_id": rng.choice(sales),
                    "stage_id": stages[int(rng.random() ** 1.5 * len(stages))].pk,
                    "status": status,
                    "expected_value": Decimal(rng.choice(EXPECTED_VALUES)),
                    "decision_date": created.date()
                    + timedelta(days=rng.randrange(14, 180)),
                    "p_win": Decimal(rng.choice(["0.2", "0.4", "0.5", "0.6", "0.8"]))
                    if rng.random() < 0.8
                    else None,
                    "p_go": Decimal(rng.choice(["0.5", "0.7", "0.9", "1"]))
                    if rng.random() < 0.8
                    else None,
                    "decision_type": rng.choice(DecisionType.values),
                    "service_type": rng.choice(SERVICE_TYPES),
                    "closed_at": closed,
                    "result_reason": RESULT_REASONS.get(status, "") + MARK
                    if closed
                    else "",
                    "follow_up_on": follow_up,
                    "follow_up_by": "marketing" if follow_up else "",
                    "stage_entered_at": created,
                    "created_at": created,
                    "updated_at": closed or created,
                }

            for is_open, n in ((True, missing_open), (False, missing_closed)):
                for i in range(0, n, BATCH):
                    rows = [lead(is_open) for _ in range(min(BATCH, n - i))]
                    with transaction.atomic():
                        table.insert(rows)
                if n:
                    done["added " + ("open" if is_open else "closed")] = n
            open_n, closed_n = counts()

        # 3. Activities, once: open leads 0-4 (some done, the rest due, ~40% of those
        #    overdue, a few without a due date); a third of the closed leads 1-2 done.
        if not Activity.objects.exists():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, owner_id, created_at, status, closed_at "
                    "FROM opportunities_opportunity"
                )
                leads = cursor.fetchall()
            table = Table(Activity)
            kinds = ActivityKind.values
            subjects = {
                "call": ["Terugbellen over de offerte", "Budget bevestigen"],
                "appointment": ["Plaatsbezoek", "Demo bij de klant"],
                "task": ["Offerte voorbereiden", "Technische fiche sturen"],
            }
            rows = []
            n_open = n_overdue = 0

            def parse(value):
                """Raw SQLite datetimes (naive UTC, text or datetime) as aware ones."""
                dt = parse_datetime(value) if isinstance(value, str) else value
                return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt

            for pk, owner_id, created, status, closed in leads:
                created = parse(created)
                if status == OpportunityStatus.OPEN:
                    n = rng.choice([0, 1, 1, 2, 2, 3, 4])
                elif rng.random() < 0.33:
                    n = rng.randint(1, 2)
                else:
                    n = 0
                end = parse(closed) if closed else now
                for _ in range(n):
                    kind = rng.choice(kinds)
                    made = created + (end - created) * rng.random() * 0.8
                    if status != OpportunityStatus.OPEN or rng.random() < 0.35:
                        finished = made + (end - made) * rng.random()
                        due, done_at = finished, finished
                    else:
                        done_at = None
                        due = (
                            None
                            if kind == "task" and rng.random() < 0.1
                            else now + timedelta(days=rng.uniform(-21, 28))
                        )
                        n_open += 1
                        n_overdue += due is not None and due < now
                    rows.append(
                        {
                            "opportunity_id": pk,
                            "kind": kind,
                            "subject": rng.choice(subjects[kind]),
                            "due_at": due,
                            "assignee_id": owner_id,
                            "duration_minutes": rng.choice([15, 30, 60, 90])
                            if kind != "task"
                            else None,
                            "notes": "",
                            "done_at": done_at,
                            "created_at": made,
                            "created_by_id": owner_id,
                        }
                    )
                    if len(rows) >= BATCH:
                        with transaction.atomic():
                            table.insert(rows)
                        rows = []
            if rows:
                with transaction.atomic():
                    table.insert(rows)
            done["activities"] = Activity.objects.count()
            done["activities not done"] = n_open
            done["activities overdue"] = n_overdue
    elapsed = time.perf_counter() - started
    print(
        f"  qualified leads now: {open_n:,} open, {closed_n:,} closed"
        + (f"; {', '.join(f'{k} {v:,}' for k, v in done.items())}" if done else "")
        + f" ({elapsed:.1f} s)"
    )
    return {"open": open_n, "closed": closed_n, "changes": done, "seconds": elapsed}
