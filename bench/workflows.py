#!/usr/bin/env python
"""Workflow engine benchmark: the outbox worker, escalations and webhook queueing.

    .venv/bin/python bench/run.py --workflows [--events 100000] [--batch 500]
        [--db /tmp/bench-workflows.sqlite3] [--stream-seconds 30]
        [--stream-rates 5,25] [--escalations 10000] [--webhook-events 10000]
        [--profile 2000] [--seed 1] [--build-only]

(``bench/workflows.py`` takes the same options.) On a fresh SQLite file under /tmp,
or on PostgreSQL when ``DATABASE_URL`` points at an empty one
(``scripts/with-postgres.sh .venv/bin/python bench/run.py --workflows``):

1. builds the data: ``generate_data`` for people, companies and history (0.4 inquiry
   per event), staff e-mail addresses and team managers, 50 notification rules, and
   ``--events`` real transition rows (the outbox) written in bulk, not through the
   actions: new open inquiries (``inquiry.registered``), closes of generated
   inquiries, created / moved / won / lost qualified leads, quotes created / sent /
   accepted and buying-clock moves (some back);
2. drains the outbox three times over the same rows, reset in between: the claim
   alone (conditional UPDATE per row, the floor), ``process_outbox`` with no active
   rule (the engine's fixed cost) and with the 50 rules;
3. measures the delay from event (the row's ``at``) to notification ``created_at``
   while a producer thread writes events at a steady rate and a worker loop drains
   them (``process_outbox``; when it finds nothing it sleeps 1 s, the ``db_worker``
   poll interval of docs/operators.md);
4. times ``escalations.fire_due`` for ``--escalations`` due escalations and
   ``webhooks.queue_deliveries`` with 3 webhooks (on a closed port; nothing is posted:
   no task worker runs, so ``attempt`` is never called).

It prints figures and ratios against the baselines of the same process; it asserts
nothing. ``--profile N`` adds a cProfile of ``process_outbox`` over N more events.
"""

import argparse
import cProfile
import io
import math
import os
import platform
import pstats
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The event mix per 100,000 rows (the funnel of generate_data: 97% of inquiries are
# closed, 30% of those qualified; leads move, win and lose; a few quotes and
# stakeholder moves). "quote.created" and forward stakeholder moves are rows the
# worker claims but that are no rule event.
MIX = {
    "inquiry.registered": 40_000,
    "inquiry.closed": 36_000,
    "opportunity.created": 10_000,
    "opportunity.stage_changed": 7_500,
    "opportunity.won": 1_200,
    "opportunity.lost": 1_300,
    "quote.created": 1_500,
    "quote.sent": 1_500,
    "quote.accepted": 500,
    "stakeholder.moved_back": 200,
    "stakeholder.moved_forward": 300,
}
POLL_SECONDS = 1.0  # db_worker --interval 1 (docs/operators.md)
BURST_SECONDS = 0.2  # the producer writes one burst (one transaction) this often


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500, help="process_outbox(batch)")
    parser.add_argument(
        "--db",
        default="/tmp/bench-workflows.sqlite3",
        help="SQLite file, deleted and rebuilt; its name must contain 'workflows' "
        "(ignored with a PostgreSQL DATABASE_URL)",
    )
    parser.add_argument("--stream-seconds", type=float, default=30)
    parser.add_argument(
        "--stream-rates",
        default="",
        help="events/s, comma-separated; default: 5 and half the measured capacity",
    )
    parser.add_argument("--escalations", type=int, default=10_000)
    parser.add_argument("--webhook-events", type=int, default=10_000)
    parser.add_argument(
        "--profile", type=int, default=0, help="cProfile process_outbox over N events"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--build-only", action="store_true", help="build the data and stop"
    )
    return parser.parse_args(argv)


def setup_django(db: Path) -> str:
    """Settings of a developer machine; SQLite at ``db`` unless DATABASE_URL is
    PostgreSQL. Returns the database description."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        if db.exists() and "workflows" not in db.name:
            raise SystemExit(
                f"{db} exists and is rebuilt from scratch: give a --db whose name "
                "contains 'workflows' (e.g. /tmp/bench-workflows.sqlite3)."
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
        os.environ["DATABASE_URL"] = url
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({db})"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version} ({url.rsplit('@', 1)[-1]})"


# --- small helpers -------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000.0


def spread(samples: list[float]) -> str:
    """p50 / p95 / max of samples in seconds, as milliseconds."""
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return (
        f"p50 {ms(p50):,.0f} ms, p95 {ms(p95):,.0f} ms, max {ms(ordered[-1]):,.0f} ms "
        f"(n={len(ordered):,})"
    )


def outbox_models():
    from leadflow.intake.models import InquiryTransition
    from leadflow.opportunities.models import (
        OpportunityTransition,
        QuoteTransition,
        StakeholderPhaseChange,
    )

    return [
        InquiryTransition,
        OpportunityTransition,
        QuoteTransition,
        StakeholderPhaseChange,
    ]


def pending() -> int:
    return sum(
        m.objects.filter(processed_at__isnull=True).count() for m in outbox_models()
    )


def scaled(events: int) -> dict[str, int]:
    """MIX scaled to ``events`` rows (the largest kind takes the rounding)."""
    counts = {k: round(v * events / 100_000) for k, v in MIX.items()}
    counts["inquiry.registered"] += events - sum(counts.values())
    return counts


# --- building the data ---------------------------------------------------------------


class Data:
    """What the measurements need from the build."""

    def __init__(self):
        self.templates: dict[type, list[dict]] = {}  # outbox rows to clone in a stream
        self.registered_pool: list[dict] = []  # attributes for fresh open inquiries
        self.rule_lines: list[str] = []
        self.counts: dict[str, int] = {}
        self.flat: list[tuple[type, dict]] = []
        self.fresh: list[int] = []  # open inquiries for the stream's registrations


def build(args: argparse.Namespace) -> Data:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from leadflow.intake.management.commands.generate_data import (
        Table,
        _fast_sqlite,
        plain_timestamps,
    )
    from leadflow.intake.models import Inquiry
    from leadflow.opportunities.models import (
        Opportunity,
        Quote,
        Stakeholder,
        StakeholderPhaseChange,
    )

    call_command("migrate", verbosity=0)
    if Inquiry.objects.exists():
        raise SystemExit(
            "The database holds inquiries already: use an empty one "
            "(scripts/with-postgres.sh gives a throwaway PostgreSQL)."
        )
    rng = random.Random(args.seed)
    data = Data()
    counts = scaled(args.events)
    base = max(2_000, math.ceil(args.events * 0.4))
    started = time.perf_counter()
    out = io.StringIO()
    call_command(
        "generate_data",
        inquiries=base,
        contacts=max(600, base * 3 // 10),
        seed=args.seed,
        stdout=out,
    )
    print(f"  generate_data: {out.getvalue().strip().splitlines()[-1]}")
    staff = prepare_staff(rng)
    now = timezone.now()
    with _fast_sqlite(), plain_timestamps(Inquiry, Quote, StakeholderPhaseChange):
        data.registered_pool = registration_pool(now)
        rules = make_rules(rng, staff, data)
        rows = plan_events(rng, staff, counts, now, data)
        tables = {}
        for model, model_rows in rows.items():
            table = tables.setdefault(model, Table(model))
            for i in range(0, len(model_rows), 10_000):
                with transaction.atomic():
                    table.insert(model_rows[i : i + 10_000])
            data.templates[model] = model_rows
    data.counts = counts
    elapsed = time.perf_counter() - started
    print(
        f"  {len(rules)} rules; {sum(len(r) for r in rows.values()):,} outbox rows "
        f"({', '.join(f'{m.__name__} {len(r):,}' for m, r in rows.items())}); "
        f"{Inquiry.objects.count():,} inquiries, {Opportunity.objects.count():,} "
        f"qualified leads, {Quote.objects.count():,} quotes, "
        f"{Stakeholder.objects.count():,} stakeholders; built in {elapsed:.0f} s"
    )
    return data


def prepare_staff(rng: random.Random) -> dict:
    """Everyone gets an e-mail address (a fifth take the daily digest); each team
    gets a manager, as the 'tell the owner's manager' rules need one."""
    from leadflow.accounts.models import Department, Role, Team, User

    users = list(User.objects.all())
    for u in users:
        u.email = f"{u.username}@technivent.example"
        u.email_digest = rng.random() < 0.2
    User.objects.bulk_update(users, ["email", "email_digest"])
    sales_dept = Department.objects.get(name="Sales")
    managers = {}
    for team in Team.objects.order_by("name"):
        short = team.name.split()[-1].lower()
        manager = User.objects.create(
            username=f"bench-manager-{short}",
            first_name=f"Manager {team.name}",
            email=f"bench-manager-{short}@technivent.example",
            role=Role.SALES,
            team=team,
            department=sales_dept,
            password="!",
        )
        team.manager = manager
        team.save(update_fields=["manager"])
        managers[team.name] = manager
    by_name = {u.username: u for u in User.objects.all()}
    return {
        "users": by_name,
        "managers": managers,
        "teams": {t.name: t for t in Team.objects.all()},
        "director": by_name["bench-director"],
        "inside": [u for n, u in sorted(by_name.items()) if "inside" in n],
        "sales": [u for n, u in sorted(by_name.items()) if "bench-sales-" in n],
        "after_sales": [u for n, u in sorted(by_name.items()) if "after-sales" in n],
        "projects": [u for n, u in sorted(by_name.items()) if "projects" in n],
        "departments": {d.name: d for d in Department.objects.all()},
    }


def registration_pool(now) -> list[dict]:
    """New inquiries look like the generated ones of the last 180 days (channels,
    campaigns, departments, companies and who received them), resampled."""
    from leadflow.intake.models import Inquiry

    fields = [
        "contact_id",
        "company_id",
        "summary",
        "channel_id",
        "campaign_id",
        "referrer",
        "prompted",
        "received_by_id",
        "department_id",
    ]
    pool = list(
        Inquiry.objects.filter(received_at__gte=now - timedelta(days=180)).values(
            *fields
        )
    )
    if len(pool) < 500:
        pool = list(Inquiry.objects.order_by("-received_at").values(*fields)[:5000])
    return pool


def new_inquiries(rng: random.Random, pool: list[dict], n: int, now) -> list[int]:
    """Write n open inquiries (as registered now); returns their ids."""
    from django.db import transaction

    from leadflow.accounts.models import Role, User
    from leadflow.intake.management.commands.generate_data import Table
    from leadflow.intake.models import Inquiry

    inside = list(
        User.objects.filter(role=Role.INSIDE_SALES).values_list("pk", flat=True)
    )
    table = Table(Inquiry)
    ids: list[int] = []
    for start in range(0, n, 10_000):
        rows = []
        for _ in range(start, min(n, start + 10_000)):
            row = dict(rng.choice(pool))
            assignee = rng.choice(inside) if rng.random() < 0.4 else None
            row.update(
                received_at=now,
                created_by_id=row["received_by_id"],
                status="open",
                assignee_id=assignee,
                version=1,
                created_at=now,
                updated_at=now,
            )
            rows.append(row)
        with transaction.atomic():
            ids += table.insert(rows)
    return ids


def make_rules(rng: random.Random, staff: dict, data: Data) -> list:
    """50 rules as a sales organisation of ~30 people would set them up: a few broad
    ones (web forms to inside sales, nurture to marketing, every win to the
    directors), most narrow (key accounts, one campaign, a department, big values)."""
    from django.db.models import Count
    from django.utils import timezone

    from leadflow.contacts.models import Company, Lifecycle
    from leadflow.intake.models import Campaign, Channel, Inquiry
    from leadflow.workflows.models import NotificationRule

    channels = {c.code: c for c in Channel.objects.all()}
    pool_campaigns = Counter(
        r["campaign_id"] for r in data.registered_pool if r["campaign_id"]
    )
    campaigns = [
        Campaign.objects.get(pk=pk) for pk, _n in pool_campaigns.most_common(4)
    ] or list(Campaign.objects.order_by("-starts_on")[:4])
    while len(campaigns) < 4:
        campaigns.append(campaigns[-1])
    # Key accounts: the customers who ask most; account lists: other customers.
    busiest = list(
        Inquiry.objects.filter(company__lifecycle=Lifecycle.CUSTOMER)
        .values("company_id")
        .annotate(n=Count("id"))
        .order_by("-n", "company_id")
        .values_list("company_id", flat=True)[:300]
    )
    key_accounts = busiest[:20]
    others = busiest[20:] + list(
        Company.objects.filter(lifecycle=Lifecycle.CUSTOMER)
        .exclude(pk__in=busiest)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rng.shuffle(others)
    # Never an empty list: an empty company filter matches every company.
    others = others or key_accounts or [Company.objects.order_by("pk").first().pk]
    account_lists = [others[i * 15 : (i + 1) * 15] or others[:15] for i in range(4)]
    d = staff["departments"]
    sales = staff["sales"]
    managers = list(staff["managers"].values())
    teams = staff["teams"]
    director = staff["director"]
    inside_lead = staff["inside"][0]
    specialist = staff["projects"][0] if staff["projects"] else director
    marketing = "marketing"

    def rule(name, event, *, users=(), roles=(), owner=False, manager=False, **f):
        return (name, event, f, list(users), list(roles), owner, manager)

    specs = [
        # inquiry.registered (15)
        rule("Web forms to inside sales", "inquiry.registered",
             channels=[channels["web_form"]], roles=["inside_sales"]),
        rule("Large companies (200+) to the director", "inquiry.registered",
             min_company_size=200, users=[director]),
        rule("Key accounts to the director", "inquiry.registered",
             companies=key_accounts, users=[director]),
        *[
            rule(f"Accounts of {sales[i].username}", "inquiry.registered",
                 companies=account_lists[i], users=[sales[i]])
            for i in range(4)
        ],
        rule("After-sales questions to after-sales", "inquiry.registered",
             departments=[d["After-sales service"]], users=staff["after_sales"]),
        rule("Project questions to projects", "inquiry.registered",
             departments=[d["Projects"]], users=staff["projects"]),
        rule("Referrals to the director", "inquiry.registered",
             channels=[channels["referral"]], users=[director]),
        rule(f"Campaign {campaigns[0].name}", "inquiry.registered",
             campaigns=[campaigns[0]], roles=[marketing]),
        rule(f"Campaign {campaigns[1].name}", "inquiry.registered",
             campaigns=[campaigns[1]], roles=[marketing]),
        rule("Two more campaigns", "inquiry.registered",
             campaigns=campaigns[2:4], roles=[marketing]),
        rule("Events and telemarketing to marketing", "inquiry.registered",
             channels=[channels["event"], channels["telemarketing"]],
             roles=[marketing]),
        rule("Very large (1000+) by phone to directors", "inquiry.registered",
             channels=[channels["phone"]], min_company_size=1000,
             roles=["sales_director"]),
        # inquiry.closed (9)
        rule("Qualified to the director", "inquiry.closed", outcome="qualified",
             users=[director]),
        rule("Nurture to marketing", "inquiry.closed", outcome="nurture",
             roles=[marketing]),
        rule("Archived key accounts to the director", "inquiry.closed",
             outcome="archived", companies=key_accounts, users=[director]),
        rule("Archived campaign inquiries to marketing", "inquiry.closed",
             outcome="archived", campaigns=campaigns[:2], roles=[marketing]),
        rule("Qualified project questions to projects", "inquiry.closed",
             outcome="qualified", departments=[d["Projects"]],
             users=staff["projects"]),
        rule("Qualified large (500+) to team managers", "inquiry.closed",
             outcome="qualified", min_company_size=500, users=managers),
        rule("Archived web forms to the inside-sales lead", "inquiry.closed",
             outcome="archived", channels=[channels["web_form"]],
             users=[inside_lead]),
        rule(f"Closed, accounts of {sales[0].username}", "inquiry.closed",
             companies=account_lists[0], users=[sales[0]]),
        rule("After-sales nurture to after-sales", "inquiry.closed",
             outcome="nurture", departments=[d["After-sales service"]],
             users=staff["after_sales"]),
        # opportunity.created (7)
        rule("Big leads (over 50,000) to the director", "opportunity.created",
             min_value=Decimal("50000"), users=[director]),
        rule("Team Noord leads to its manager", "opportunity.created",
             teams=[teams["Team Noord"]], manager=True),
        rule("Team Zuid leads to its manager", "opportunity.created",
             teams=[teams["Team Zuid"]], manager=True),
        rule("Koeltechniek leads to the specialist", "opportunity.created",
             service_type="Koeltechniek", users=[specialist]),
        rule("HVAC over 25,000 to the director", "opportunity.created",
             service_type="HVAC", min_value=Decimal("25000"), users=[director]),
        rule("Leads at very large companies (1000+)", "opportunity.created",
             min_company_size=1000, users=[director]),
        rule("Campaign leads to marketing", "opportunity.created",
             campaigns=campaigns, roles=[marketing]),
        # opportunity.stage_changed (6)
        rule("Big lead moved (over 40,000): owner's manager",
             "opportunity.stage_changed", min_value=Decimal("40000"), manager=True),
        rule("Any move: the owner", "opportunity.stage_changed", owner=True),
        rule("Noord over 100,000 moved: director", "opportunity.stage_changed",
             teams=[teams["Team Noord"]], min_value=Decimal("100000"),
             users=[director]),
        rule("Key account moved: director", "opportunity.stage_changed",
             companies=key_accounts, users=[director]),
        rule("Maintenance leads moved: after-sales", "opportunity.stage_changed",
             service_type="Onderhoud", users=staff["after_sales"]),
        rule("Zuid over 20,000 moved: manager", "opportunity.stage_changed",
             teams=[teams["Team Zuid"]], min_value=Decimal("20000"), manager=True),
        # opportunity.won (4)
        rule("Won: directors and the owner's manager", "opportunity.won",
             roles=["sales_director"], manager=True),
        rule("Won over 60,000: all of sales", "opportunity.won",
             min_value=Decimal("60000"), roles=["sales"]),
        rule("Won from a campaign: marketing", "opportunity.won",
             campaigns=campaigns, roles=[marketing]),
        rule(f"Won, accounts of {sales[1].username}", "opportunity.won",
             companies=account_lists[1], users=[sales[1]]),
        # opportunity.lost (4)
        rule("Lost over 25,000: owner's manager", "opportunity.lost",
             min_value=Decimal("25000"), manager=True),
        rule("Lost key account: director", "opportunity.lost",
             companies=key_accounts, users=[director]),
        rule("Lost at a large company (500+): director", "opportunity.lost",
             min_company_size=500, users=[director]),
        rule("Lost HVAC: specialist", "opportunity.lost", service_type="HVAC",
             users=[specialist]),
        # quotes (4)
        rule("Quote over 40,000 sent: director", "quote.sent",
             min_value=Decimal("40000"), users=[director]),
        rule("Quote sent in Zuid: manager", "quote.sent",
             teams=[teams["Team Zuid"]], manager=True),
        rule("Quote accepted: owner and manager", "quote.accepted", owner=True,
             manager=True),
        rule("Quote accepted: inside sales plans delivery", "quote.accepted",
             roles=["inside_sales"]),
        # stakeholder.moved_back (1)
        rule("Stakeholder moved back: owner and manager", "stakeholder.moved_back",
             owner=True, manager=True),
    ]  # fmt: skip
    assert len(specs) == 50, len(specs)
    made = []
    for name, event, filters, users, roles, owner, manager in specs:
        m2m = {
            k: filters.pop(k)
            for k in ("companies", "channels", "campaigns", "departments", "teams")
            if k in filters
        }
        r = NotificationRule.objects.create(
            name=name[:150],
            event=event,
            recipient_roles=roles,
            notify_owner=owner,
            notify_owner_manager=manager,
            **filters,
        )
        for key, values in m2m.items():
            getattr(r, key).set(values)
        if users:
            r.recipient_users.set(users)
        made.append(r)
    # Rules from a month ago: events older than a rule never match.
    NotificationRule.objects.update(created_at=timezone.now() - timedelta(days=30))
    return made


def plan_events(rng, staff, counts, now, data: Data) -> dict[type, list[dict]]:
    """The outbox rows, per model, with the subjects they need (new open inquiries,
    quotes, stakeholders). Times: the last ten minutes, in id order per table."""
    from django.db import transaction

    from leadflow.intake.management.commands.generate_data import Table
    from leadflow.intake.models import Channel, Inquiry, InquiryTransition
    from leadflow.opportunities.models import (
        Opportunity,
        OpportunityTransition,
        Quote,
        QuoteTransition,
        Stage,
        Stakeholder,
        StakeholderPhaseChange,
    )
    from leadflow.qualification.models import BuyingPhase

    registered = new_inquiries(
        rng, data.registered_pool, counts["inquiry.registered"], now
    )
    inquiries = []
    channel_codes = dict(Channel.objects.values_list("pk", "code"))
    reg_rows = {
        pk: (actor, channel_id)
        for pk, actor, channel_id in Inquiry.objects.filter(
            pk__gte=min(registered, default=0), pk__lte=max(registered, default=0)
        ).values_list("pk", "created_by_id", "channel_id")
    }
    for pk in registered:
        actor, channel_id = reg_rows[pk]
        inquiries.append(
            {
                "inquiry_id": pk,
                "actor_id": actor,
                "from_state": "",
                "to_state": "open",
                "data": {
                    "event": "inquiry.registered",
                    "channel": channel_codes[channel_id],
                },
            }
        )
    closed = list(
        Inquiry.objects.filter(status="closed")
        .order_by("-closed_at")
        .values_list("pk", "closed_by_id", "outcome", "close_reason")[
            : counts["inquiry.closed"]
        ]
    )
    for pk, closer, outcome, reason in closed:
        inquiries.append(
            {
                "inquiry_id": pk,
                "actor_id": closer,
                "from_state": "open",
                "to_state": "closed",
                "reason": reason,
                "data": {
                    "event": "inquiry.closed",
                    "outcome": outcome,
                    "owner": None,
                    "marketing_lists": [],
                },
            }
        )
    rng.shuffle(inquiries)  # registrations and closes interleave

    leads = list(
        Opportunity.objects.values_list(
            "pk", "owner_id", "status", "stage__code", "inquiry__closed_by_id"
        )
    )
    stages = [s.code for s in Stage.objects.order_by("order", "id")]
    director = staff["director"].pk

    def by_owner(owner):
        return owner if rng.random() < 0.9 else director

    opps = []
    for pk, _owner, _s, stage, qualifier in rng.sample(
        leads, min(len(leads), counts["opportunity.created"])
    ):
        opps.append(
            {
                "opportunity_id": pk,
                "actor_id": qualifier,
                "from_state": "",
                "to_state": "open",
                "data": {"event": "opportunity.created", "stage": stage},
            }
        )
    for _ in range(counts["opportunity.stage_changed"]):
        pk, owner, _s, stage, _q = rng.choice(leads)
        target = rng.choice([s for s in stages if s != stage] or stages)
        opps.append(
            {
                "opportunity_id": pk,
                "actor_id": by_owner(owner),
                "from_state": stage,
                "to_state": target,
                "data": {"event": "opportunity.stage_changed"},
            }
        )
    for result in ("won", "lost"):
        decided = [lead for lead in leads if lead[2] == result] or leads
        for _ in range(counts[f"opportunity.{result}"]):
            pk, owner, _s, stage, _q = rng.choice(decided)
            opps.append(
                {
                    "opportunity_id": pk,
                    "actor_id": by_owner(owner),
                    "from_state": "open",
                    "to_state": result,
                    "data": {"event": f"opportunity.{result}", "stage": stage},
                }
            )
    rng.shuffle(opps)

    # Quotes: created (no rule event), sent, some accepted.
    n_quotes = max(counts["quote.created"], counts["quote.sent"], 1)
    quote_leads = rng.sample(leads, min(len(leads), n_quotes))
    rows = []
    for number, (pk, owner, _s, _stage, _q) in enumerate(quote_leads, start=1):
        rows.append(
            {
                "opportunity_id": pk,
                "number": number,
                "status": "sent",
                "language": "nl",
                "vat_rate": Decimal("0.21"),
                "discount": Decimal("0"),
                "created_at": now,
                "created_by_id": owner,
                "sent_at": now,
            }
        )
    with transaction.atomic():
        quote_ids = Table(Quote).insert(rows)
    owners = {q: r["created_by_id"] for q, r in zip(quote_ids, rows, strict=True)}
    quotes = []
    for kind, frm, to in (
        ("quote.created", "", "draft"),
        ("quote.sent", "draft", "sent"),
        ("quote.accepted", "sent", "accepted"),
    ):
        for q in quote_ids[: counts[kind]]:
            quotes.append(
                {
                    "quote_id": q,
                    "actor_id": owners[q],
                    "from_state": frm,
                    "to_state": to,
                    "data": {"event": kind},
                }
            )

    # Buying-clock moves: two per stakeholder, some back (the rule event).
    phases = list(BuyingPhase.objects.order_by("position").values_list("pk", flat=True))
    moves = counts["stakeholder.moved_back"] + counts["stakeholder.moved_forward"]
    people = rng.sample(
        [(pk, owner) for pk, owner, *_rest in leads],
        min(len(leads), max(1, moves // 2)),
    )
    contacts = dict(
        Opportunity.objects.filter(pk__in=[p for p, _o in people]).values_list(
            "pk", "contact_id"
        )
    )
    with transaction.atomic():
        holder_ids = Table(Stakeholder).insert(
            [
                {
                    "opportunity_id": pk,
                    "contact_id": contacts[pk],
                    "role": "decision_maker",
                    "phase_id": phases[len(phases) // 2] if phases else None,
                    "phase_since": now,
                }
                for pk, _owner in people
            ]
        )
    holders = list(zip(holder_ids, [o for _p, o in people], strict=True))
    changes = []
    kinds = ["back"] * counts["stakeholder.moved_back"] + ["forward"] * counts[
        "stakeholder.moved_forward"
    ]
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds):
        holder, owner = holders[i % len(holders)]
        a, b = sorted(rng.sample(phases, 2)) if len(phases) > 1 else (None, phases[0])
        frm, to = (b, a) if kind == "back" else (a, b)
        changes.append(
            {
                "stakeholder_id": holder,
                "from_phase_id": frm,
                "to_phase_id": to,
                "regression": kind == "back",
                "note": "Budget weer ter discussie." if kind == "back" else "",
                "actor_id": owner,
            }
        )

    plan = {
        InquiryTransition: inquiries,
        OpportunityTransition: opps,
        QuoteTransition: quotes,
        StakeholderPhaseChange: changes,
    }
    start = now - timedelta(minutes=10)
    for model_rows in plan.values():
        step = timedelta(minutes=10) / max(1, len(model_rows))
        for i, row in enumerate(model_rows):
            row["at"] = start + step * i
    return plan


# --- resetting between runs ----------------------------------------------------------


def reset_outbox(max_ids: dict) -> None:
    """Mark the benchmark's rows unprocessed again and forget what a run armed and
    enqueued (escalations, task rows), so every run starts from the same state."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from leadflow.workflows.models import Escalation

    with transaction.atomic():
        for model in outbox_models():
            model.objects.filter(pk__lte=max_ids[model]).update(processed_at=None)
        Escalation.objects.all().delete()
        DBTaskResult.objects.all().delete()


def max_ids() -> dict:
    from django.db.models import Max

    return {m: m.objects.aggregate(top=Max("id"))["top"] or 0 for m in outbox_models()}


# --- the measurements ----------------------------------------------------------------


def claim_only(batch: int) -> dict:
    """The floor: each pending row claimed by a conditional UPDATE in its own
    transaction, as ``_handle_row`` does, and nothing else."""
    from django.db import transaction
    from django.utils import timezone

    claimed = 0
    cpu = time.process_time()
    started = time.perf_counter()
    for model in outbox_models():
        while True:
            ids = list(
                model.objects.filter(processed_at__isnull=True)
                .order_by("id")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            for pk in ids:
                with transaction.atomic():
                    claimed += model.objects.filter(
                        pk=pk, processed_at__isnull=True
                    ).update(processed_at=timezone.now())
    return {
        "rows": claimed,
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "calls": [],
        "left": pending(),
    }


def drain(batch: int) -> dict:
    """process_outbox until it finds nothing; per-call timings."""
    from leadflow.workflows.outbox import process_outbox

    calls = []
    cpu = time.process_time()
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        n = process_outbox(batch=batch)
        calls.append((time.perf_counter() - t0, n))
        if n == 0:
            break
    elapsed = time.perf_counter() - started
    return {
        "rows": sum(n for _t, n in calls),
        "seconds": elapsed,
        "cpu": time.process_time() - cpu,
        "calls": calls,
        "left": pending(),
    }


def describe_run(label: str, run: dict, timer, floor_rate: float | None = None) -> None:
    rows, seconds = run["rows"], run["seconds"]
    rate = rows / seconds
    per_call = [t for t, n in run["calls"] if n]
    print(
        f"  {label}: {rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s, "
        f"{ms(seconds) / max(rows, 1):.2f} ms/row (CPU of this process "
        f"{ms(run['cpu']) / max(rows, 1):.2f} ms/row)"
        + (
            f"; {len(per_call)} calls of process_outbox, a call {spread(per_call)}"
            if per_call
            else ""
        )
        + (f"; left pending {run['left']:,}" if run["left"] else "")
    )
    print(f"    {timer.describe(max(rows, 1), seconds).replace('operation', 'row')}")
    if floor_rate:
        print(f"    = {floor_rate / rate:.2f}x the time of the claim alone")


def notification_stats(since_id: int) -> dict:
    from django.db.models import Count

    from leadflow.workflows.models import Notification

    qs = Notification.objects.filter(pk__gt=since_id)
    per_rule = dict(
        qs.values("rule_id").annotate(n=Count("id")).values_list("rule_id", "n")
    )
    return {"total": qs.count(), "per_rule": per_rule}


def rule_mix(events: list, rules: list) -> tuple[float, list[str]]:
    """Pure matching (rules.matches) over sample events: evaluations per second and
    the share of its event type that each rule matches."""
    from leadflow.workflows.rules import matches

    started = time.perf_counter()
    hits = Counter()
    for event in events:
        for spec, _rule in rules:
            if matches(spec, event):
                hits[spec.id] += 1
    elapsed = time.perf_counter() - started
    by_type = Counter(e.type for e in events)
    lines = []
    bands = Counter()
    for spec, rule in rules:
        n = by_type.get(spec.event, 0)
        share = hits[spec.id] / n if n else 0.0
        band = (
            "often (>= 10%)"
            if share >= 0.10
            else "sometimes (2-10%)"
            if share >= 0.02
            else "rarely (< 2%)"
            if share > 0
            else "never in the sample"
        )
        bands[band] += 1
        lines.append(f"{share:7.2%}  {spec.event:<26} {rule.name}")
    rate = len(events) * len(rules) / elapsed
    print(
        f"  pure rules.matches: {len(events):,} events x {len(rules)} rules in "
        f"{ms(elapsed):,.0f} ms = {rate:,.0f} evaluations/s "
        f"({elapsed / len(events) * 1e6:.1f} us per event for all rules)"
    )
    print(
        "  rules by share of their event type matched: "
        + ", ".join(f"{band} {n}" for band, n in bands.most_common())
    )
    for line in sorted(lines, reverse=True):
        print(f"    {line}")
    return rate, lines


def sample_events(n: int, rng: random.Random) -> list:
    """Events built the worker's way (select_related + to_event) from a sample of the
    benchmark's rows, in the proportions of the mix."""
    from leadflow.workflows.outbox import OUTBOXES

    total = sum(m.objects.count() for m, _r, _f in OUTBOXES)
    events = []
    for model, related, to_event in OUTBOXES:
        ids = list(model.objects.values_list("pk", flat=True))
        take = min(len(ids), round(n * len(ids) / max(total, 1)))
        chosen = sorted(rng.sample(ids, take))
        for i in range(0, len(chosen), 500):
            for row in model.objects.select_related(*related).filter(
                pk__in=chosen[i : i + 500]
            ):
                event = to_event(row)
                if event is not None:
                    events.append(event)
    return events


def clone_rows(rng, data: Data, n: int, now) -> dict[type, list[dict]]:
    """n new outbox rows in the mix's proportions: registrations of fresh open
    inquiries, the rest copies of the backlog's rows (same subjects), at ``now``."""
    from leadflow.intake.models import InquiryTransition

    if not data.flat:
        data.flat = [(m, row) for m, rows in data.templates.items() for row in rows]
    out: dict[type, list[dict]] = {m: [] for m in data.templates}
    for _ in range(n):
        model, template = rng.choice(data.flat)
        row = {**template, "at": now}
        row.pop("processed_at", None)
        if model is InquiryTransition and row["data"]["event"] == "inquiry.registered":
            row["inquiry_id"] = data.fresh.pop() if data.fresh else row["inquiry_id"]
        out[model].append(row)
    return out


def stream(rate: float, seconds: float, batch: int, data: Data, rng) -> dict:
    """A producer thread writes ``rate`` events/s in bursts every BURST_SECONDS; the
    worker loop (this thread) runs process_outbox and sleeps POLL_SECONDS when idle.
    Returns the delays from each row's ``at`` to its claim and to its notifications."""
    from django.db import connection, transaction
    from django.utils import timezone

    from leadflow.intake.management.commands.generate_data import Table
    from leadflow.workflows.models import Notification
    from leadflow.workflows.outbox import process_outbox

    data.fresh = new_inquiries(
        rng, data.registered_pool, int(rate * seconds * 0.45) + 10, timezone.now()
    )
    before = max_ids()
    notif_before = Notification.objects.order_by("-id").values_list("id", flat=True)
    notif_before = notif_before.first() or 0
    done = threading.Event()
    produced = [0]
    errors: list[BaseException] = []

    def producer():
        try:
            tables = {m: Table(m) for m in data.templates}
            t_end = time.perf_counter() + seconds
            next_at = time.perf_counter()
            owed = 0.0
            while time.perf_counter() < t_end:
                owed += rate * BURST_SECONDS
                k, owed = int(owed), owed - int(owed)
                if k:
                    rows = clone_rows(rng, data, k, timezone.now())
                    with transaction.atomic():
                        for model, model_rows in rows.items():
                            if model_rows:
                                tables[model].insert(model_rows)
                    produced[0] += k
                next_at += BURST_SECONDS
                time.sleep(max(0.0, next_at - time.perf_counter()))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=producer, name="producer")
    started = time.perf_counter()
    thread.start()
    calls = []
    busy = 0.0
    while True:
        finished = done.is_set()
        t0 = time.perf_counter()
        n = process_outbox(batch=batch)
        took = time.perf_counter() - t0
        calls.append((took, n))
        if n:
            busy += took
            continue
        if finished:
            break
        time.sleep(POLL_SECONDS)
    thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]

    claim, deliver = [], []
    labels = {}
    for model in outbox_models():
        label = model._meta.label_lower
        for pk, at, processed in model.objects.filter(pk__gt=before[model]).values_list(
            "pk", "at", "processed_at"
        ):
            labels[f"{label}:{pk}"] = at
            if processed is not None:
                claim.append((processed - at).total_seconds())
    for source, created in Notification.objects.filter(pk__gt=notif_before).values_list(
        "source", "created_at"
    ):
        at = labels.get(source)
        if at is not None:
            deliver.append((created - at).total_seconds())
    return {
        "produced": produced[0],
        "seconds": elapsed,
        "busy": busy,
        "claim": claim,
        "deliver": deliver,
        "calls": calls,
    }


def measure_fire_due(n: int, data: Data, rng) -> dict:
    """n pending open-inquiry escalations made due, then the sweep until none is.
    The outbox runs armed one per registration; any shortfall is made up with new
    open inquiries and their escalations written in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from leadflow.intake.management.commands.generate_data import Table
    from leadflow.workflows.escalations import fire_due
    from leadflow.workflows.models import Escalation, Notification

    armed = Escalation.objects.filter(status="pending", kind="inquiry_open").count()
    if armed < n:
        now = timezone.now()
        extra = new_inquiries(rng, data.registered_pool, n - armed, now)
        rows = [
            {
                "kind": "inquiry_open",
                "status": "pending",
                "inquiry_id": pk,
                "target": f"inquiry:{pk}",
                "key": "v1",
                "due_at": now,
                "created_at": now,
                "recipients": [],
            }
            for pk in extra
        ]
        for i in range(0, len(rows), 10_000):
            with transaction.atomic():
                Table(Escalation).insert(rows[i : i + 10_000])
        print(f"  {armed:,} armed by the outbox runs, {len(rows):,} added in bulk")
    ids = list(
        Escalation.objects.filter(status="pending", kind="inquiry_open")
        .order_by("id")
        .values_list("pk", flat=True)[:n]
    )
    now = timezone.now()
    for i in range(0, len(ids), 900):
        Escalation.objects.filter(pk__in=ids[i : i + 900]).update(
            due_at=now - timedelta(minutes=1)
        )
    notif_before = Notification.objects.count()
    armed_before = Escalation.objects.filter(kind="inquiry_manager").count()
    calls = []
    cpu = time.process_time()
    started = time.perf_counter()
    fired = 0
    while True:
        t0 = time.perf_counter()
        done = fire_due(now=now, limit=1000)
        calls.append(time.perf_counter() - t0)
        fired += done
        if done == 0:
            break
    elapsed = time.perf_counter() - started
    return {
        "due": len(ids),
        "fired": fired,
        "seconds": elapsed,
        "cpu": time.process_time() - cpu,
        "notifications": Notification.objects.count() - notif_before,
        "armed": Escalation.objects.filter(kind="inquiry_manager").count()
        - armed_before,
        "calls": calls,
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


def measure_webhooks(events: list) -> dict:
    """queue_deliveries for each event in its own transaction, 3 webhooks."""
    from django.db import transaction

    from leadflow.workflows.models import Webhook, WebhookDelivery
    from leadflow.workflows.webhooks import new_secret, queue_deliveries

    port = closed_port()
    hooks = [
        ("CRM sync (every event)", []),
        (
            "Chat bridge",
            ["inquiry.registered", "opportunity.won", "opportunity.lost"],
        ),
        ("ERP (accepted quotes, wins)", ["quote.accepted", "opportunity.won"]),
    ]
    for name, wanted in hooks:
        Webhook.objects.create(
            name=name,
            url=f"http://127.0.0.1:{port}/hook",
            secret=new_secret(),
            events=wanted,
        )
    before = WebhookDelivery.objects.count()
    samples = []
    cpu = time.process_time()
    started = time.perf_counter()
    for event in events:
        t0 = time.perf_counter()
        with transaction.atomic():
            queue_deliveries(event)
        samples.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    Webhook.objects.update(is_active=False)  # later runs must not queue any
    return {
        "events": len(events),
        "seconds": elapsed,
        "cpu": time.process_time() - cpu,
        "samples": samples,
        "deliveries": WebhookDelivery.objects.count() - before,
        "port": port,
    }


def profile(n: int, batch: int, data: Data, rng) -> None:
    from django.db import transaction
    from django.utils import timezone

    from leadflow.intake.management.commands.generate_data import Table
    from leadflow.workflows.outbox import process_outbox

    data.fresh = new_inquiries(rng, data.registered_pool, n, timezone.now())
    rows = clone_rows(rng, data, n, timezone.now())
    with transaction.atomic():
        for model, model_rows in rows.items():
            if model_rows:
                Table(model).insert(model_rows)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    handled = 0
    while True:
        got = process_outbox(batch=batch)
        handled += got
        if not got:
            break
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"  {handled:,} rows in {elapsed:.1f} s under cProfile")
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats(order).print_stats(30)
        print(f"\n  -- top 30 by {order}")
        body = text.getvalue().split("ncalls", 1)[-1]
        print("  ncalls" + body.rstrip())


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from run import SqlTimer  # bench/run.py: SQL time by statement kind

    load_before = os.getloadavg()
    database = setup_django(Path(args.db).resolve())
    import django
    from django.db import connection

    from leadflow.workflows.models import Notification
    from leadflow.workflows.outbox import load_rules

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"== Machine (commit {commit or 'unknown'})")
    print(
        f"  {os.cpu_count()} CPUs, Python {platform.python_version()}, Django "
        f"{django.get_version()}, {database}, load average before "
        f"{load_before[0]:.2f}"
    )
    print(f"\n== Building: {args.events:,} events")
    data = build(args)
    if args.build_only:
        return
    rng = random.Random(args.seed + 1)
    top = max_ids()
    n_rows = sum(top.values())  # every row of each table is the benchmark's
    rules = load_rules()
    event_rows = (
        n_rows - data.counts["quote.created"] - data.counts["stakeholder.moved_forward"]
    )

    print("\n== Rule mix (pure matching over a sample of the events)")
    sample = sample_events(min(20_000, args.events), random.Random(args.seed + 2))
    pure_rate, _lines = rule_mix(sample, rules)

    print(f"\n== (a) Claim only: the floor ({n_rows:,} rows, batch {args.batch})")
    with SqlTimer().active() as timer:
        floor = claim_only(args.batch)
    describe_run("claim only", floor, timer)
    floor_rate = floor["rows"] / floor["seconds"]
    reset_outbox(top)

    print("\n== (b) process_outbox, no active rule: the engine's fixed cost")
    from leadflow.workflows.models import NotificationRule

    NotificationRule.objects.update(is_active=False)
    with SqlTimer().active() as timer:
        baseline = drain(args.batch)
    describe_run("no rules", baseline, timer, floor_rate)
    NotificationRule.objects.update(is_active=True)
    reset_outbox(top)
    baseline_rate = baseline["rows"] / baseline["seconds"]

    print(f"\n== (c) process_outbox with {len(rules)} rules")
    notif_before = Notification.objects.order_by("-id").values_list("id", flat=True)
    notif_before = notif_before.first() or 0
    with SqlTimer().active() as timer:
        with_rules = drain(args.batch)
    describe_run("50 rules", with_rules, timer, floor_rate)
    notes = notification_stats(notif_before)
    rate = with_rules["rows"] / with_rules["seconds"]
    print(
        f"    = {baseline_rate / rate:.2f}x the time of the same rows with no rule "
        f"({with_rules['cpu'] / baseline['cpu']:.2f}x its CPU); "
        f"rule matching and delivery add "
        f"{ms(with_rules['seconds'] - baseline['seconds']) / with_rules['rows']:.2f} "
        f"ms per row"
    )
    print(
        f"  {notes['total']:,} notifications written ({notes['total'] / n_rows:.2f} "
        f"per row, {notes['total'] / with_rules['seconds']:,.0f}/s); "
        f"{event_rows * len(rules):,} rule evaluations "
        f"({event_rows:,} rule events x {len(rules)} rules) = "
        f"{event_rows * len(rules) / with_rules['seconds']:,.0f} rules evaluated/s "
        f"end to end (pure matching alone: {pure_rate:,.0f}/s)"
    )
    busiest = sorted(notes["per_rule"].items(), key=lambda kv: -kv[1])[:6]
    names = {spec.id: rule.name for spec, rule in rules}
    print(
        "  most notifications: "
        + "; ".join(f"{names.get(k, k)} {v:,}" for k, v in busiest)
    )

    capacity = rate
    rates = (
        [float(r) for r in args.stream_rates.split(",") if r.strip()]
        if args.stream_rates
        else sorted({5.0, max(5.0, 5 * round(capacity / 10))})
    )
    streams = []
    for stream_rate in rates:
        print(
            f"\n== (d) Steady arrivals: {stream_rate:,.0f} events/s for "
            f"{args.stream_seconds:.0f} s (bursts every {BURST_SECONDS} s; worker "
            f"polls every {POLL_SECONDS:.0f} s when idle)"
        )
        result = stream(stream_rate, args.stream_seconds, args.batch, data, rng)
        streams.append((stream_rate, result))
        print(
            f"  {result['produced']:,} events in {result['seconds']:.1f} s; worker "
            f"busy {result['busy']:.1f} s ({result['busy'] / result['seconds']:.0%})"
        )
        print(f"  event -> claimed:      {spread(result['claim'])}")
        print(f"  event -> notification: {spread(result['deliver'])}")
        busy_calls = [t for t, n in result["calls"] if n]
        print(f"  process_outbox calls with work: {spread(busy_calls)}")

    print(f"\n== (e) escalations.fire_due: {args.escalations:,} due escalations")
    fired = measure_fire_due(args.escalations, data, rng)
    print(
        f"  {fired['fired']:,} of {fired['due']:,} fired in {fired['seconds']:.1f} s = "
        f"{fired['fired'] / fired['seconds']:,.0f}/s, "
        f"{ms(fired['seconds']) / max(fired['fired'], 1):.2f} ms each (CPU "
        f"{ms(fired['cpu']) / max(fired['fired'], 1):.2f} ms); "
        f"{fired['notifications']:,} notifications, {fired['armed']:,} manager steps "
        f"armed; fire_due(limit=1000) calls {spread(fired['calls'])}"
    )

    print(
        f"\n== (f) webhooks.queue_deliveries, 3 webhooks, "
        f"{min(args.webhook_events, len(sample)):,} events"
    )
    hooks = measure_webhooks(sample[: args.webhook_events])
    print(
        f"  {hooks['deliveries']:,} deliveries queued for {hooks['events']:,} events "
        f"in {hooks['seconds']:.1f} s = {hooks['events'] / hooks['seconds']:,.0f} "
        f"events/s (CPU {ms(hooks['cpu']) / max(hooks['events'], 1):.2f} ms each); "
        f"a call with its transaction {spread(hooks['samples'])} "
        f"(closed port {hooks['port']}; nothing posted)"
    )

    if args.profile:
        print(f"\n== cProfile of process_outbox over {args.profile:,} events")
        profile(args.profile, args.batch, data, rng)

    load_after = os.getloadavg()
    print("\n== Summary")
    print(
        f"  {n_rows:,} rows: claim only {floor_rate:,.0f}/s; no rules "
        f"{baseline_rate:,.0f}/s; 50 rules {rate:,.0f} events/s "
        f"({baseline_rate / rate:.2f}x the no-rule time, {floor_rate / rate:.1f}x the "
        f"claim); CPU ms/row {ms(floor['cpu']) / floor['rows']:.2f} / "
        f"{ms(baseline['cpu']) / baseline['rows']:.2f} / "
        f"{ms(with_rules['cpu']) / with_rules['rows']:.2f}; "
        f"{notes['total']:,} notifications"
    )
    for stream_rate, result in streams:
        print(
            f"  at {stream_rate:,.0f} events/s: event -> notification "
            f"{spread(result['deliver'])}"
        )
    print(
        f"  fire_due {fired['fired'] / fired['seconds']:,.0f} escalations/s; "
        f"queue_deliveries {hooks['events'] / hooks['seconds']:,.0f} events/s"
    )
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    connection.close()


if __name__ == "__main__":
    main()
