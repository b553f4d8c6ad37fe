#!/usr/bin/env python
"""Analytics benchmark: every report page, its JSON and the dashboard at scale.

    .venv/bin/python bench/analytics.py [--source /tmp/bench.sqlite3]
        [--db /tmp/bench-analytics.sqlite3] [--repeat 7] [--report NAME ...]

Copies the bench database of ``bench/run.py --pipeline`` (1,000,000 inquiries,
310,000 qualified leads), migrates it, adds history (bench/analytics_data.py: stage
moves, quotes, inquiry transitions, 24 monthly forecast snapshots) and then measures,
in one process with ``time.perf_counter``:

- per report: ``compute()`` (the live figures) for a director (every record) and a
  salesperson (their team), with p50/p95 and the query count; and the page as
  rendered by the test client after its first view, i.e. served from the kept result
  (analytics.cache) as users get it within LEADFLOW_ANALYTICS_MAX_AGE;
- the dashboard (home page) for the same two users;
- per report, the same main aggregate as one hand-tuned SQL statement on the same
  connection: the ratio report ÷ SQL is our overhead.

It prints figures and asserts nothing (targets from issue 5: report p95 < 500 ms,
dashboard < 1 s on SQLite).
"""

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Each report's main aggregate, written by hand for the default period (the last twelve
# whole months and this month): %(start)s / %(end)s are UTC timestamps.
HAND_SQL: dict[str, str] = {
    "sources": (
        "SELECT i.channel_id, count(*), sum(i.outcome = 'qualified'), "
        "sum(o.status = 'won'), sum(CASE WHEN o.status = 'won' THEN "
        "o.expected_value END) FROM intake_inquiry i LEFT JOIN "
        "opportunities_opportunity o ON o.inquiry_id = i.id WHERE i.received_at >= "
        "'%(start)s' AND i.received_at < '%(end)s' GROUP BY i.channel_id"
    ),
    "win-rates": (
        "SELECT o.service_type, sum(o.status = 'won'), count(*), "
        "sum(CASE WHEN o.status = 'won' THEN o.expected_value END), "
        "sum(o.expected_value) FROM opportunities_opportunity o WHERE o.status IN "
        "('won', 'lost', 'not_going_ahead') AND o.closed_at >= '%(start)s' AND "
        "o.closed_at < '%(end)s' GROUP BY o.service_type"
    ),
    "performance": (
        "SELECT o.owner_id, sum(o.status = 'open'), sum(o.status = 'won'), "
        "sum(o.status = 'lost'), sum(CASE WHEN o.status = 'won' THEN "
        "o.expected_value END) FROM opportunities_opportunity o WHERE "
        "o.status = 'open' OR (o.closed_at >= '%(start)s' AND o.closed_at < "
        "'%(end)s') GROUP BY o.owner_id"
    ),
    "pipeline": (
        "SELECT o.stage_id, count(*), sum(o.expected_value) FROM "
        "opportunities_opportunity o WHERE o.status = 'open' GROUP BY o.stage_id"
    ),
    "forecast": (
        "SELECT o.decision_date, count(*), sum(o.expected_value), "
        "sum(o.expected_value * s.weight) FROM opportunities_opportunity o JOIN "
        "opportunities_stage s ON s.id = o.stage_id WHERE o.status = 'open' AND "
        "o.decision_date >= date('%(start)s') AND o.decision_date < date('%(end)s') "
        "GROUP BY o.decision_date"
    ),
    "cycle-times": (
        "SELECT o.status, avg(julianday(o.closed_at) - julianday(i.received_at)), "
        "count(*) FROM opportunities_opportunity o JOIN intake_inquiry i ON i.id = "
        "o.inquiry_id WHERE o.status IN ('won', 'lost') AND o.closed_at >= "
        "'%(start)s' AND o.closed_at < '%(end)s' GROUP BY o.status"
    ),
    "efficiency": (
        "SELECT o.status, sum(a.duration_minutes), count(*) FROM "
        "opportunities_activity a JOIN opportunities_opportunity o ON o.id = "
        "a.opportunity_id WHERE a.created_at >= '%(start)s' AND a.created_at < "
        "'%(end)s' GROUP BY o.status"
    ),
    "then-and-now": (
        "SELECT l.owner_id, sum(l.value * l.weight) FROM "
        "analytics_forecastsnapshotline l WHERE l.snapshot_id = (SELECT id FROM "
        "analytics_forecastsnapshot WHERE taken_at <= '%(start)s' ORDER BY taken_at "
        "DESC LIMIT 1) GROUP BY l.owner_id"
    ),
    "process": (
        "SELECT count(*) FROM opportunities_opportunity o WHERE o.status = 'open' "
        "AND NOT EXISTS (SELECT 1 FROM opportunities_activity a WHERE "
        "a.opportunity_id = o.id AND a.done_at IS NULL AND a.due_at IS NOT NULL)"
    ),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/tmp/bench.sqlite3")
    parser.add_argument("--db", default="/tmp/bench-analytics.sqlite3")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--report", action="append", default=[])
    parser.add_argument(
        "--database-url",
        default="",
        help="measure this database instead (e.g. a PostgreSQL copy made by "
        "bench/sqlite_to_postgres.py); the hand SQL is SQLite's and is skipped",
    )
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument(
        "--slow", type=int, default=0, help="print the N slowest queries per report"
    )
    return parser.parse_args()


def setup(db: Path, source: Path, database_url: str = "") -> None:
    if database_url:
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
        os.environ["DATABASE_URL"] = database_url
        os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
        os.environ["DEBUG"] = "false"
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
        return
    if not db.exists():
        if not source.exists():
            sys.exit(
                f"{source} is missing: build it first with "
                "`.venv/bin/python bench/run.py --pipeline` (about 15 minutes)."
            )
        print(f"Copying {source} → {db}")
        shutil.copyfile(source, db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.analytics_data import ensure_history

    for label, seconds in ensure_history().items():
        print(f"  history: {label}: {seconds:.1f} s")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


LAST_QUERIES: list[dict] = []


def timed(fn, repeat: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm caches (SQLite page cache, Python imports)
    samples = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - started)
        queries = len(ctx.captured_queries)
        LAST_QUERIES[:] = ctx.captured_queries
    return samples, queries


def fmt(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples) * 1000:7.0f} ms  "
        f"p95 {percentile(samples, 0.95) * 1000:7.0f} ms"
    )


def main() -> None:
    args = parse_args()
    setup(Path(args.db), Path(args.source), args.database_url)
    from django.db import connection
    from django.test import Client

    from leadflow.accounts.models import Role, User
    from leadflow.analytics.reports import REPORTS, ordered_reports
    from leadflow.analytics.scope import Scope, parse_filters

    director = User.objects.filter(role=Role.SALES_DIRECTOR, is_active=True).first()
    rep = (
        User.objects.filter(role=Role.SALES, is_active=True, team__isnull=False)
        .order_by("pk")
        .first()
    )
    filters = parse_filters({})
    scope_start, scope_end = Scope(director, filters).period_range()
    from datetime import UTC

    params = {
        "start": scope_start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "end": scope_end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    with connection.cursor() as cur:
        counts = {
            table: cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "intake_inquiry",
                "opportunities_opportunity",
                "opportunities_opportunitytransition",
                "opportunities_quote",
                "opportunities_activity",
                "analytics_forecastsnapshotline",
            )
        }
    print(
        "Database:", ", ".join(f"{t.split('_', 1)[1]} {n:,}" for t, n in counts.items())
    )
    print(f"Period: {filters.date_from} – {filters.date_to}; repeat {args.repeat}")
    print(
        f"Director {director.username}; salesperson {rep.username} (team {rep.team})\n"
    )

    names = args.report or [r.name for r in ordered_reports()]
    print(
        f"{'report':14} {'who':10} {'live compute':30} {'queries':>7}   "
        f"{'page (kept result)':28} {'hand SQL':>10} {'ratio':>6}"
    )
    for name in names:
        report = REPORTS[name]
        hand = None
        if name in HAND_SQL and connection.vendor == "sqlite":
            sql = HAND_SQL[name] % params

            def run_sql(sql=sql):
                with connection.cursor() as cur:
                    cur.execute(sql)
                    cur.fetchall()

            hand, _q = timed(run_sql, args.repeat)
        for who, user in (("director", director), ("rep", rep)):
            scope = Scope(user, filters)
            compute, queries = timed(
                lambda report=report, scope=scope: report.compute(scope), args.repeat
            )
            slowest = sorted(LAST_QUERIES, key=lambda q: -float(q["time"]))
            for q in slowest[: args.slow] if who == "director" else []:
                print(f"      {float(q['time']) * 1000:7.0f} ms  {q['sql'][:400]}")
            page_text = ""
            if not args.no_pages:
                client = Client()
                client.force_login(user)
                page, _q = timed(
                    lambda client=client, name=name: client.get(f"/analytics/{name}/"),
                    max(3, args.repeat // 2),
                )
                page_text = fmt(page)
            ratio = (
                f"{statistics.median(compute) / statistics.median(hand):5.1f}×"
                if hand and who == "director"
                else ""
            )
            hand_text = (
                f"{statistics.median(hand) * 1000:7.0f} ms"
                if hand and who == "director"
                else ""
            )
            print(
                f"{name:14} {who:10} {fmt(compute):30} {queries:7}   "
                f"{page_text:28} {hand_text:>10} {ratio:>6}",
                flush=True,
            )
    if not args.no_pages:
        for who, user in (("director", director), ("rep", rep)):
            client = Client()
            client.force_login(user)
            samples, queries = timed(
                lambda client=client: client.get("/"), max(3, args.repeat // 2)
            )
            print(f"{'dashboard':14} {who:10} {fmt(samples):30} {queries:7}")


if __name__ == "__main__":
    main()
