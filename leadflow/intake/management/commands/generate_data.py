"""Bulk benchmark data: manage.py generate_data --inquiries N --contacts M [--companies K].

Unlike ``load_demo`` this does not call the actions one record at a time: it writes
rows with ``bulk_create`` in batches, one transaction per batch, so a million
inquiries take minutes. It fills every derived column the actions would (match keys,
name tokens, in_marketing_database, closed_at...) and respects the database
constraints, but writes no transition rows, audit events or notifications.
"""

import bisect
import json
import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from leadflow.accounts.models import Department, Role, Team, User
from leadflow.contacts.models import (
    Company,
    CompanyToken,
    Consent,
    Contact,
    ContactToken,
    Lifecycle,
    Visit,
    VisitKind,
)
from leadflow.core.phone import normalise_phone
from leadflow.core.text import company_key, name_key, normalise_email, tokens
from leadflow.core.worktime import WORKDAY_END, WORKDAY_START
from leadflow.intake import demo
from leadflow.intake.models import Campaign, Channel, Inquiry, Order
from leadflow.intake.states import InquiryStatus, Outcome
from leadflow.marketing.actions import get_or_create_lists
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.models import Opportunity, Stage
from leadflow.opportunities.states import DecisionType, OpportunityStatus

DEPARTMENTS = ["Sales", "After-sales service", "Projects"]
TEAMS = ["Team Noord", "Team Zuid"]
CHANNEL_WEIGHTS = {
    "phone": 25,
    "email": 24,
    "web_form": 20,
    "telemarketing": 5,
    "prospecting_visit": 5,
    "event": 3,
    "referral": 7,
    "existing_customer": 8,
    "other": 3,
}
OUTCOME_WEIGHTS = {Outcome.QUALIFIED: 30, Outcome.NURTURE: 45, Outcome.ARCHIVED: 25}
CAMPAIGN_THEMES = [
    ("Mailing energiebesparing perslucht", "email"),
    ("Telemarketing onderhoudscontracten", "telemarketing"),
    ("Beurs Maintenance", "event"),
    ("Webinar warmtepompen", "web_form"),
]
SERVICE_TYPES = ["Perslucht", "Koeltechniek", "Onderhoud", "HVAC", "Intern transport"]
EXPECTED_VALUES = [2_500, 4_000, 7_500, 12_000, 18_000, 25_000, 40_000, 65_000, 120_000]
RESULTS = [
    OpportunityStatus.WON,
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
    OpportunityStatus.NURTURE,
]
RESULT_WEIGHTS = [35, 40, 15, 10]
RESULT_REASONS = {
    OpportunityStatus.WON: "Offerte aanvaard.",
    OpportunityStatus.LOST: "Prijs te hoog; de klant koos een concurrent.",
    OpportunityStatus.NOT_GOING_AHEAD: "Project uitgesteld door de klant.",
    OpportunityStatus.NURTURE: "Nog niet klaar om te kopen; marketing volgt op.",
}


@dataclass
class Staff:
    inside: list[int]
    sales: dict[str, list[int]]
    director: int
    colleagues: dict[int, list[int]]  # department id -> users
    departments: dict[str, int]


@contextmanager
def plain_timestamps(*models) -> Iterator[None]:
    """Let bulk rows keep the historic created_at/updated_at they are given."""
    fields = [
        f
        for m in models
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _utc_text(value: datetime | None) -> str | None:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


class Table:
    """Insert rows given as ``{attname: value}``; returns the new primary keys.

    On SQLite the rows go in with one ``executemany`` per batch: Django's
    ``bulk_create`` spends about 0.5 ms of Python per 20-column row, which alone
    would take most of ten minutes at a million inquiries. Values are converted as
    Django's SQLite backend would (datetimes as naive UTC text, decimals and JSON as
    text) and omitted fields get their model default. Elsewhere ``bulk_create`` is
    used. Rows get consecutive ids: one writer, an AUTOINCREMENT key.
    """

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        converters = []
        for f in self.fields:
            kind = f.get_internal_type()
            if kind == "DateTimeField":
                converters.append(_utc_text)
            elif kind == "DateField":
                converters.append(lambda v: v.isoformat() if v is not None else None)
            elif kind == "DecimalField":
                converters.append(lambda v: str(v) if v is not None else None)
            elif kind == "JSONField":
                converters.append(json.dumps)
            else:
                converters.append(None)
        self.converters = converters
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join("?" for _ in self.fields),
        )

    def insert(self, rows: list[dict]) -> list[int]:
        if not rows:
            return []
        unknown = set(rows[0]) - set(self.defaults)
        if unknown:
            raise CommandError(f"{self.model.__name__} has no field {sorted(unknown)}")
        if connection.vendor != "sqlite":
            objs = self.model.objects.bulk_create(
                [self.model(**{**self.defaults, **row}) for row in rows]
            )
            return [o.pk for o in objs]
        pairs = list(zip(self.fields, self.converters, strict=True))
        defaults = self.defaults
        values = [
            tuple(
                (
                    convert(row.get(f.attname, defaults[f.attname]))
                    if convert
                    else row.get(f.attname, defaults[f.attname])
                )
                for f, convert in pairs
            )
            for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(self.sql.replace("?", "%s"), values)
            cursor.execute(
                f"SELECT max(id) FROM {connection.ops.quote_name(self.model._meta.db_table)}"
            )
            last = cursor.fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))


class Generator:
    def __init__(self, *, seed: int, batch: int, years: float, open_share: float, out):
        self.rng = random.Random(seed)
        self.batch = batch
        self.out = out
        self.now = timezone.now().replace(microsecond=0)
        self.span_start = self.now - timedelta(days=365 * years)
        self.open_share = open_share
        self.tz = timezone.get_current_timezone()
        self.counts: dict[str, int] = {}
        self.tables: dict[type, Table] = {}

    # --- plumbing ------------------------------------------------------------------

    def _progress(self, label: str, done: int, total: int, started: float) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        self.out.write(f"  {label}: {done:,}/{total:,} ({rate:,.0f} rows/s)")

    def _insert(self, model, rows: list[dict]) -> list[int]:
        """Write one batch in its own transaction; returns the new ids."""
        table = self.tables.get(model) or self.tables.setdefault(model, Table(model))
        with transaction.atomic():
            ids = table.insert(rows)
        self.counts[model.__name__] = self.counts.get(model.__name__, 0) + len(rows)
        return ids

    def _moment(self, start: datetime, end: datetime) -> datetime:
        seconds = (end - start).total_seconds()
        return start + timedelta(seconds=self.rng.random() * max(seconds, 0))

    # --- reference data -----------------------------------------------------------

    def reference_data(self) -> None:
        departments = {
            name: Department.objects.get_or_create(name=name)[0].pk
            for name in DEPARTMENTS
        }
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}

        def user(username, role, *, team=None, department="Sales") -> User:
            found, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "team": teams.get(team),
                    "first_name": username,
                    "department_id": departments[department],
                    "password": "!",  # unusable: bench users get API tokens instead
                },
            )
            return found

        inside = [user(f"bench-inside-{i}", Role.INSIDE_SALES) for i in range(1, 5)]
        sales = {
            team: [
                user(f"bench-sales-{team[-4:].lower()}-{i}", Role.SALES, team=team)
                for i in range(1, 7)
            ]
            for team in TEAMS
        }
        director = user("bench-director", Role.SALES_DIRECTOR)
        user("bench-marketing", Role.MARKETING)
        colleagues = {
            departments[d]: [
                user(
                    f"bench-colleague-{d.split()[0].lower()}-{i}",
                    Role.COLLEAGUE,
                    department=d,
                )
                for i in range(1, 4)
            ]
            for d in DEPARTMENTS[1:]
        }
        self.staff = Staff(
            inside=[u.pk for u in inside],
            sales={t: [u.pk for u in users] for t, users in sales.items()},
            director=director.pk,
            colleagues={d: [u.pk for u in users] for d, users in colleagues.items()},
            departments=departments,
        )
        self.channels = {c.code: c for c in Channel.objects.all()}
        missing = set(CHANNEL_WEIGHTS) - set(self.channels)
        if missing:
            raise CommandError(
                f"Missing channels {sorted(missing)}: run migrate first."
            )
        self.stages = list(Stage.objects.filter(is_active=True).order_by("order", "id"))
        if not self.stages:
            raise CommandError("No active stage: run migrate first.")
        self.lists = [
            m.pk for m in get_or_create_lists(demo.MARKETING_LISTS, actor=None)
        ]
        self._campaigns()

    def _campaigns(self) -> None:
        """Two campaigns a quarter over the whole span, each a few weeks long."""
        self.campaigns: list[tuple[date, date, int, str]] = []
        day = self.span_start.date()
        number = 0
        while day < self.now.date():
            for theme, code in self.rng.sample(CAMPAIGN_THEMES, 2):
                starts = day + timedelta(days=self.rng.randrange(0, 70))
                ends = starts + timedelta(days=self.rng.randrange(3, 35))
                number += 1
                campaign, _ = Campaign.objects.get_or_create(
                    name=f"{theme} {starts:%Y-%m} #{number}",
                    defaults={
                        "channel": self.channels[code],
                        "starts_on": starts,
                        "ends_on": ends,
                        "is_active": ends >= self.now.date(),
                    },
                )
                self.campaigns.append((starts, ends, campaign.pk, code))
            day += timedelta(days=91)

    # --- companies and contacts --------------------------------------------------

    def people(self, n_companies: int, n_contacts: int) -> None:
        """Plan contacts first (their creation times), then write companies, contacts."""
        rng = self.rng
        imported = int(n_contacts * 0.2)  # known before the generated period
        span = (self.now - self.span_start).total_seconds()
        times = sorted(
            (
                self.span_start - timedelta(days=rng.uniform(1, 700))
                if i < imported
                else self.span_start + timedelta(seconds=rng.random() * span)
            )
            for i in range(n_contacts)
        )
        self.contact_created = times
        companies = self._plan_companies(n_companies)
        weights = [math.sqrt(c["size"]) for c in companies]
        cum = list(_accumulate(weights))
        owners = rng.choices(range(n_companies), cum_weights=cum, k=n_contacts)
        first_seen: dict[int, datetime] = {}
        for i, company in enumerate(owners):
            if rng.random() < 0.08:
                owners[i] = -1  # no company: a sole trader or a private person
            elif company not in first_seen:
                first_seen[company] = times[i]
        self._write_companies(companies, first_seen)
        self._write_contacts(owners, companies)

    def _plan_companies(self, n: int) -> list[dict]:
        rng = self.rng
        seen: set[str] = set()
        planned = []
        for _ in range(n):
            country = "NL" if rng.random() < 0.25 else "BE"
            city = demo.pick_city(rng, country)
            industry = rng.choice(demo.INDUSTRIES)
            name = demo.company_name(rng, industry, country, city)
            for _retry in range(3):
                if name not in seen:
                    break
                name = demo.company_name(rng, industry, country, city)
            if name in seen:
                base, legal = name.rsplit(" ", 1)
                name = f"{base} {city.name} {legal}"
            seen.add(name)
            roll = rng.random()
            lifecycle = (
                Lifecycle.CUSTOMER
                if roll < 0.2
                else Lifecycle.EX_CUSTOMER
                if roll < 0.25
                else Lifecycle.PROSPECT
            )
            planned.append(
                {
                    "name": name,
                    "country": country,
                    "city": city,
                    "industry": industry,
                    "size": demo.company_size(rng),
                    "lifecycle": lifecycle,
                    "key": lifecycle == Lifecycle.PROSPECT and rng.random() < 0.04,
                }
            )
        return planned

    def _write_companies(self, planned: list[dict], first_seen: dict) -> None:
        rng = self.rng
        started = time.perf_counter()
        self.company_ids: list[int] = []
        self.sales_visits: list[tuple[int, datetime]] = []
        for offset, part in enumerate(chunks(planned, self.batch)):
            rows = []
            for j, p in enumerate(part):
                created = first_seen.get(offset * self.batch + j, self.span_start)
                visits = []
                if p["lifecycle"] == Lifecycle.CUSTOMER or p["key"]:
                    visits = sorted(
                        self._moment(created, self.now)
                        for _ in range(rng.randint(0, 4))
                    )
                rows.append(
                    dict(
                        name=p["name"],
                        name_key=company_key(p["name"]) or name_key(p["name"]),
                        size=p["size"],
                        industry=p["industry"],
                        country=p["country"],
                        city=p["city"].name,
                        vat_number=demo.vat_number(rng, p["country"]),
                        website="www." + demo.company_domain(p["name"], p["country"]),
                        lifecycle=p["lifecycle"],
                        is_key_prospect=p["key"],
                        last_sales_visit_at=visits[-1] if visits else None,
                        created_at=created,
                        updated_at=created,
                    )
                )
                self.sales_visits.append(visits)  # type: ignore[arg-type]
            ids = self._insert(Company, rows)
            self.company_ids += ids
            self._insert(
                CompanyToken,
                [
                    {"company_id": pk, "token": t[:60]}
                    for pk, row in zip(ids, rows, strict=True)
                    for t in sorted(tokens(row["name"]))
                ],
            )
            self._progress("companies", len(self.company_ids), len(planned), started)
        self.companies = planned

    def _write_contacts(self, owners: list[int], companies: list[dict]) -> None:
        rng = self.rng
        started = time.perf_counter()
        emails: set[str] = set()
        self.contact_ids: list[int] = []
        self.contact_company: list[int] = []  # company index or -1
        self.opted_out = bytearray(len(owners))
        self.staff_of: dict[int, list[int]] = {}
        total = len(owners)
        for start in range(0, total, self.batch):
            rows = []
            for i in range(start, min(start + self.batch, total)):
                company = companies[owners[i]] if owners[i] >= 0 else None
                city = company["city"] if company else demo.pick_city(rng, "BE")
                first, last = demo.person_name(rng, city.country)
                domain = (
                    demo.company_domain(company["name"], company["country"])
                    if company
                    else rng.choice(demo.FREE_MAIL["BE"])
                )
                email = demo.email_address(first, last, domain, style=rng.randint(0, 3))
                if email in emails:
                    local, at_domain = email.split("@")
                    email = f"{local}{rng.randint(2, 999)}@{at_domain}"
                emails.add(email)
                phone = ""
                if rng.random() < 0.85:
                    phone = demo.phone_number(rng, city, mobile=rng.random() < 0.55)
                roll = rng.random()
                consent = (
                    Consent.OPTED_OUT
                    if roll < 0.03
                    else Consent.GRANTED
                    if roll < 0.43
                    else Consent.UNKNOWN
                )
                self.opted_out[i] = consent == Consent.OPTED_OUT
                created = self.contact_created[i]
                name = f"{first} {last}"
                rows.append(
                    dict(
                        name=name,
                        name_key=name_key(name),
                        email=email,
                        email_key=normalise_email(email),
                        phone=phone,
                        phone_key=normalise_phone(
                            phone, company["country"] if company else ""
                        ),
                        company_id=self.company_ids[owners[i]] if company else None,
                        job_title=rng.choice(demo.JOB_TITLES),
                        language="nl",
                        marketing_consent=consent,
                        consent_changed_at=(
                            None
                            if consent == Consent.UNKNOWN
                            else self._moment(created, self.now)
                        ),
                        created_at=created,
                        updated_at=created,
                    )
                )
                self.contact_company.append(owners[i])
            ids = self._insert(Contact, rows)
            for pk, row in zip(ids, rows, strict=True):
                self.contact_ids.append(pk)
                if row["company_id"]:
                    self.staff_of.setdefault(row["company_id"], []).append(pk)
            self._insert(
                ContactToken,
                [
                    {"contact_id": pk, "token": t[:60]}
                    for pk, row in zip(ids, rows, strict=True)
                    for t in sorted(tokens(row["name"]))
                ],
            )
            self._progress("contacts", len(self.contact_ids), total, started)

    # --- inquiries and qualified leads ----------------------------------------------

    def _received_times(self, n: int) -> list[datetime]:
        """Sorted arrival times: working days, office hours (web forms at any hour)."""
        rng = self.rng
        days, weights = [], []
        day = self.span_start.date()
        while day <= self.now.date():
            days.append(day)
            weights.append(1.0 if day.weekday() < 5 else 0.06)
            day += timedelta(days=1)
        starts = {
            d: datetime.combine(d, datetime.min.time(), tzinfo=self.tz).timestamp()
            for d in days
        }
        picked = rng.choices(days, cum_weights=list(_accumulate(weights)), k=n)
        stamps = []
        now_ts = self.now.timestamp()
        for d in picked:
            if rng.random() < 0.12:
                seconds = rng.random() * 86_400
            else:
                seconds = rng.triangular(8 * 3600, 17.75 * 3600, 10.5 * 3600)
            stamps.append(min(starts[d] + seconds, now_ts - rng.random() * 3600))
        stamps.sort()
        return [datetime.fromtimestamp(s, tz=UTC) for s in stamps]

    def _close_after(self, received: datetime) -> datetime:
        """A few working hours later: most the same day, some the next days."""
        roll = self.rng.random()
        hours = (
            self.rng.uniform(0.1, 6)
            if roll < 0.72
            else self.rng.uniform(6, 16)
            if roll < 0.94
            else self.rng.uniform(16, 60)
        )
        local = received.astimezone(self.tz)
        closing = datetime.combine(local.date(), WORKDAY_END, tzinfo=self.tz)
        opening = datetime.combine(local.date(), WORKDAY_START, tzinfo=self.tz)
        if (
            local.weekday() < 5
            and opening <= local
            and local + timedelta(hours=hours) <= closing
        ):
            closed = local + timedelta(hours=hours)
        else:
            closed = demo.add_working_hours(received, hours)
        return min(closed, self.now - timedelta(minutes=1))

    def inquiries(self, n: int) -> None:
        rng = self.rng
        started = time.perf_counter()
        received = self._received_times(n)
        tau = max(self.open_share * (self.now - self.span_start).days, 0.5)
        codes = list(CHANNEL_WEIGHTS)
        cum_channel = list(_accumulate(CHANNEL_WEIGHTS[c] for c in codes))
        customer_weights = {**CHANNEL_WEIGHTS, "existing_customer": 40}
        cum_customer = list(_accumulate(customer_weights[c] for c in codes))
        outcomes = list(OUTCOME_WEIGHTS)
        cum_outcome = list(_accumulate(OUTCOME_WEIGHTS.values()))
        sales_dept = self.staff.departments["Sales"]
        other_depts = [d for d in self.staff.colleagues]
        self.touched = bytearray(
            len(self.contact_ids)
        )  # contacts with a closed inquiry
        self.nurtured: dict[int, set[int]] = {}
        done = 0
        for part in chunks(received, self.batch):
            rows, meta = [], []
            for at in part:
                k = bisect.bisect_right(self.contact_created, at) or 1
                if rng.random() < 0.15:
                    idx = 20 * rng.randrange((k + 19) // 20)  # people who ask often
                else:
                    idx = rng.randrange(k)
                company_idx = self.contact_company[idx]
                company = self.companies[company_idx] if company_idx >= 0 else None
                team = company["city"].team if company else "Team Zuid"
                customer = bool(company) and company["lifecycle"] == Lifecycle.CUSTOMER
                code = rng.choices(
                    codes, cum_weights=cum_customer if customer else cum_channel
                )[0]
                campaign_id = None
                if rng.random() < 0.25:
                    running = self._running_campaigns(at)
                    if running:
                        _s, _e, campaign_id, code = rng.choice(running)
                channel = self.channels[code]
                roll = rng.random()
                if roll < 0.8:
                    department = sales_dept
                    if code in ("prospecting_visit", "event"):
                        received_by = rng.choice(self.staff.sales[team])
                    else:
                        received_by = rng.choice(self.staff.inside)
                else:
                    department = rng.choice(other_depts)
                    received_by = rng.choice(self.staff.colleagues[department])
                age_days = (self.now - at).total_seconds() / 86_400
                is_open = age_days < 4 * tau and rng.random() < math.exp(
                    -age_days / tau
                )
                closer = (
                    self.staff.director
                    if rng.random() < 0.05
                    else rng.choice(self.staff.inside)
                )
                values = {
                    "contact_id": self.contact_ids[idx],
                    "company_id": self.company_ids[company_idx] if company else None,
                    "summary": demo.question(rng),
                    "channel_id": channel.pk,
                    "campaign_id": campaign_id,
                    "referrer": rng.choice(demo.REFERRERS)
                    if code == "referral"
                    else "",
                    "prompted": bool(campaign_id) or channel.prompted_by_default,
                    "received_by_id": received_by,
                    "department_id": department,
                    "received_at": at,
                    "created_by_id": received_by,
                    "created_at": at,
                }
                if is_open:
                    assignee = (
                        rng.choice(self.staff.inside) if rng.random() < 0.4 else None
                    )
                    values.update(
                        status=InquiryStatus.OPEN,
                        assignee_id=assignee,
                        version=1 + bool(assignee),
                        updated_at=at,
                    )
                    outcome = None
                else:
                    outcome = rng.choices(outcomes, cum_weights=cum_outcome)[0]
                    closed_at = self._close_after(at)
                    assignee = closer if rng.random() < 0.7 else None
                    reason = ""
                    if outcome == Outcome.ARCHIVED:
                        reason = rng.choice(demo.ARCHIVE_REASONS)
                    elif outcome == Outcome.NURTURE:
                        reason = rng.choice(demo.NURTURE_REASONS)
                    values.update(
                        status=InquiryStatus.CLOSED,
                        outcome=outcome,
                        close_reason=reason,
                        closed_at=closed_at,
                        closed_by_id=closer,
                        assignee_id=assignee,
                        version=2 + bool(assignee),
                        updated_at=closed_at,
                    )
                    self.touched[idx] = 1
                    if outcome == Outcome.NURTURE and not self.opted_out[idx]:
                        lists = self.nurtured.setdefault(idx, set())
                        lists.add(
                            self.lists[0]
                            if rng.random() < 0.7
                            else rng.choice(self.lists[:2])
                        )
                        if customer:
                            lists.add(self.lists[2])
                rows.append(values)
                meta.append((outcome, team, company))
            ids = self._insert(Inquiry, rows)
            self._opportunities(ids, rows, meta)
            done += len(rows)
            self._progress("inquiries", done, n, started)

    def _running_campaigns(self, at: datetime) -> list:
        day = at.astimezone(self.tz).date()
        return [c for c in self.campaigns if c[0] <= day <= c[1]]

    def _opportunities(self, ids: list[int], rows: list[dict], meta: list) -> None:
        """A qualified lead per qualified inquiry; older ones are mostly decided."""
        rng = self.rng
        leads = []
        for pk, inquiry, (outcome, team, _company) in zip(ids, rows, meta, strict=True):
            if outcome != Outcome.QUALIFIED:
                continue
            value = Decimal(rng.choice(EXPECTED_VALUES))
            if value < 10_000 and rng.random() < 0.6:
                owner = inquiry["closed_by_id"]  # small deals stay with inside sales
            else:
                owner = rng.choice(self.staff.sales[team])
            qualified_at = inquiry["closed_at"]
            age = (self.now - qualified_at).days
            status, closed_at = OpportunityStatus.OPEN, None
            if age > 30 and rng.random() < min(0.95, age / 150):
                status = rng.choices(RESULTS, weights=RESULT_WEIGHTS)[0]
                closed_at = qualified_at + timedelta(days=rng.uniform(7, min(age, 180)))
            stage = self.stages[int(rng.random() ** 1.5 * len(self.stages))]
            leads.append(
                {
                    "title": inquiry["summary"].splitlines()[0][:120],
                    "inquiry_id": pk,
                    "contact_id": inquiry["contact_id"],
                    "company_id": inquiry["company_id"],
                    "owner_id": owner,
                    "stage_id": stage.pk,
                    "status": status,
                    "expected_value": value,
                    "decision_date": qualified_at.date()
                    + timedelta(days=rng.randrange(14, 180)),
                    "p_win": Decimal(rng.choice(["0.2", "0.4", "0.5", "0.6", "0.8"])),
                    "p_go": Decimal(rng.choice(["0.5", "0.7", "0.9", "1"])),
                    "decision_type": rng.choice(DecisionType.values),
                    "service_type": rng.choice(SERVICE_TYPES),
                    "closed_at": closed_at,
                    "result_reason": RESULT_REASONS.get(status, ""),
                    "follow_up_on": (
                        closed_at.date() + timedelta(days=90)
                        if status == OpportunityStatus.NURTURE
                        else None
                    ),
                    "follow_up_by": (
                        "marketing" if status == OpportunityStatus.NURTURE else ""
                    ),
                    "stage_entered_at": qualified_at,
                    "created_at": qualified_at,
                    "updated_at": closed_at or qualified_at,
                }
            )
        self._insert(Opportunity, leads)

    # --- what follows from the inquiries ----------------------------------------

    def marketing(self) -> None:
        """Every closed inquiry's requester is in the marketing database (unless opted
        out); nurtured ones are on lists."""
        started = time.perf_counter()
        ids = [
            self.contact_ids[i]
            for i, hit in enumerate(self.touched)
            if hit and not self.opted_out[i]
        ]
        for part in chunks(ids, 5000):
            with transaction.atomic():
                Contact.objects.filter(pk__in=part).update(in_marketing_database=True)
        members = [
            dict(
                marketing_list_id=list_id,
                contact_id=self.contact_ids[i],
                source="generate_data",
                added_at=self.now,
            )
            for i, lists in sorted(self.nurtured.items())
            for list_id in sorted(lists)
        ]
        for part in chunks(members, self.batch):
            self._insert(ListMembership, part)
        self.out.write(
            f"  marketing: {len(ids):,} contacts in the marketing database, "
            f"{len(members):,} list memberships "
            f"({time.perf_counter() - started:.1f} s)"
        )

    def orders(self, n: int) -> None:
        rng = self.rng
        started = time.perf_counter()
        buyers = [
            i
            for i, c in enumerate(self.companies)
            if c["lifecycle"] in (Lifecycle.CUSTOMER, Lifecycle.EX_CUSTOMER)
        ]
        if not buyers:
            return
        two_years_ago = self.now - timedelta(days=730)
        rows = []
        for _ in range(n):
            company_idx = rng.choice(buyers)
            company_id = self.company_ids[company_idx]
            staff = self.staff_of.get(company_id, [])
            ex = self.companies[company_idx]["lifecycle"] == Lifecycle.EX_CUSTOMER
            start = self.span_start - timedelta(days=365) if ex else self.span_start
            at = self._moment(start, two_years_ago if ex else self.now)
            rows.append(
                dict(
                    contact_id=rng.choice(staff)
                    if staff and rng.random() < 0.8
                    else None,
                    company_id=company_id,
                    description=rng.choice(demo.ORDER_ITEMS).format(year=at.year),
                    amount=Decimal(rng.randrange(400, 45_000, 50)),
                    reference=f"PO-{at.year}-{rng.randrange(1000, 99999)}",
                    ordered_at=at,
                    channel_id=self.channels[
                        rng.choice(["existing_customer", "email", "phone"])
                    ].pk,
                    booked_by_id=rng.choice(self.staff.inside),
                    created_at=at,
                    updated_at=at,
                )
            )
            if len(rows) >= self.batch:
                self._insert(Order, rows)
                rows = []
        if rows:
            self._insert(Order, rows)
        self._progress("orders", n, n, started)

    def visits(self, n_web: int) -> None:
        rng = self.rng
        started = time.perf_counter()
        rows = []
        total = 0
        for company_idx, visits in enumerate(self.sales_visits):
            company = self.companies[company_idx]
            for at in visits:
                rows.append(
                    dict(
                        kind=VisitKind.SALES,
                        company_id=self.company_ids[company_idx],
                        at=at,
                        note="Opvolgbezoek",
                        source="",
                        recorded_by_id=rng.choice(
                            self.staff.sales[company["city"].team]
                        ),
                    )
                )
        for _ in range(n_web):
            idx = rng.randrange(len(self.contact_ids))
            company_idx = self.contact_company[idx]
            rows.append(
                dict(
                    kind=VisitKind.WEBSITE,
                    contact_id=self.contact_ids[idx],
                    company_id=self.company_ids[company_idx]
                    if company_idx >= 0
                    else None,
                    at=self._moment(
                        max(self.contact_created[idx], self.span_start), self.now
                    ),
                    url="https://www.technivent.example" + rng.choice(demo.WEB_PAGES),
                    source="website analytics",
                )
            )
        for part in chunks(rows, self.batch):
            self._insert(Visit, part)
            total += len(part)
        self._progress("visits", total, len(rows), started)


def _accumulate(values) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


class Command(BaseCommand):
    help = (
        "Generate bulk benchmark data (seeded, bulk_create in batches, one transaction "
        "per batch): companies, contacts with their match keys and name tokens, "
        "inquiries over --years (about 97% closed: qualified 30%, nurture 45%, "
        "archived 25%; the open ones from recent weeks), a qualified lead per "
        "qualified inquiry, re-orders, visits and marketing-list memberships. For "
        "speed it writes no transition rows, audit events or notifications: generated "
        "records have an empty timeline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--inquiries", type=int, default=10_000)
        parser.add_argument("--contacts", type=int, default=3_000)
        parser.add_argument(
            "--companies", type=int, default=None, help="default: contacts / 6"
        )
        parser.add_argument(
            "--orders",
            type=int,
            default=None,
            help="re-orders; default: inquiries / 25",
        )
        parser.add_argument(
            "--visits",
            type=int,
            default=None,
            help="website visits; default: as many as contacts",
        )
        parser.add_argument(
            "--years",
            type=float,
            default=3.0,
            help="inquiries arrive over this many years up to now",
        )
        parser.add_argument(
            "--open-share",
            type=float,
            default=0.03,
            help="share of inquiries still open (recent ones)",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--batch", type=int, default=10_000, help="rows per transaction"
        )

    def handle(self, *args, **o):
        if o["inquiries"] < 0 or o["contacts"] < 1 or o["batch"] < 1:
            raise CommandError("Give at least one contact and a positive batch size.")
        companies = (
            o["companies"] if o["companies"] is not None else max(1, o["contacts"] // 6)
        )
        orders = o["orders"] if o["orders"] is not None else o["inquiries"] // 25
        visits = o["visits"] if o["visits"] is not None else o["contacts"]
        started = time.perf_counter()
        generator = Generator(
            seed=o["seed"],
            batch=o["batch"],
            years=o["years"],
            open_share=o["open_share"],
            out=self.stdout,
        )
        with (
            _fast_sqlite(),
            plain_timestamps(Company, Contact, Inquiry, Order, Opportunity),
        ):
            generator.reference_data()
            generator.people(companies, o["contacts"])
            generator.inquiries(o["inquiries"])
            generator.marketing()
            generator.orders(orders)
            generator.visits(visits)
        elapsed = time.perf_counter() - started
        rows = sum(generator.counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {rows:,} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s): "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(generator.counts.items()))
            )
        )


@contextmanager
def _fast_sqlite() -> Iterator[None]:
    """On SQLite, skip fsyncs and use a big page cache while bulk loading."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # the safety level cannot change inside a transaction (tests)
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-512000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-64000")
