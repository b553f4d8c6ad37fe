"""Load a demo company: manage.py load_demo [--if-empty].

The demo is "Technivent", an industrial equipment and installation firm in Flanders
that also sells in the south of the Netherlands. A year of history is written with
the real actions (register, close, book order, subscribe, visits...) under a frozen
clock, so every inquiry has its transition rows and audit events at realistic times.
The random generator is seeded: the same command gives the same data (relative to
the day it runs).
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from leadflow.accounts.models import Department, Role, Team, User
from leadflow.audit.actions import record_event
from leadflow.contacts.actions import (
    ContactData,
    create_contact,
    find_or_create_company,
    record_visit,
)
from leadflow.contacts.models import Company, Consent, Contact, Lifecycle, VisitKind
from leadflow.intake import demo
from leadflow.intake.actions import (
    InquiryInput,
    assign_inquiry,
    book_order,
    close_inquiry,
    hand_over_question,
    register_inquiry,
)
from leadflow.intake.models import Campaign, Channel, Inquiry, Order
from leadflow.marketing.actions import (
    get_or_create_lists,
    record_consent,
    subscribe_contact,
)
from leadflow.opportunities.demo import load_demo_pipeline
from leadflow.opportunities.models import Opportunity
from leadflow.workflows.actions import mark_read
from leadflow.workflows.demo import load_demo_workflows
from leadflow.workflows.models import Notification

DEMO_PASSWORD = "demo-leadflow"
SEED = 42
CLOSED_INQUIRIES = 288
OPEN_INQUIRIES = 12


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    team: str | None
    department: str


DEMO_USERS = [
    DemoUser("admin", "Katrien", "Maes", Role.ADMIN, None, "Sales"),
    DemoUser("an", "An", "Peeters", Role.INSIDE_SALES, "Team Noord", "Sales"),
    DemoUser("sofie", "Sofie", "Janssens", Role.INSIDE_SALES, "Team Zuid", "Sales"),
    DemoUser("tom", "Tom", "Willems", Role.SALES, "Team Noord", "Sales"),
    DemoUser("pieter", "Pieter", "De Smet", Role.SALES, "Team Noord", "Sales"),
    DemoUser("lotte", "Lotte", "van Dam", Role.SALES, "Team Zuid", "Sales"),
    DemoUser("marc", "Marc", "Claes", Role.SALES_DIRECTOR, None, "Sales"),
    DemoUser("eva", "Eva", "Wouters", Role.MARKETING, None, "Sales"),
    DemoUser("koen", "Koen", "Mertens", Role.COLLEAGUE, None, "After-sales service"),
    DemoUser("joris", "Joris", "Hermans", Role.COLLEAGUE, None, "Projects"),
]
DEPARTMENTS = ["Sales", "After-sales service", "Projects"]
TEAMS = {"Team Noord": "tom", "Team Zuid": "lotte"}
INSIDE_SALES_OF = {"Team Noord": "an", "Team Zuid": "sofie"}
SALES_OF = {"Team Noord": ["tom", "pieter"], "Team Zuid": ["lotte"]}

# name, city, industry, employees, kind (customer / ex_customer / key_prospect / prospect)
DEMO_COMPANIES = [
    ("Brouwerij Van Damme NV", "Oudenaarde", "Voeding & dranken", 85, "customer"),
    ("Metaalbouw Verstraete BV", "Roeselare", "Metaalverwerking", 42, "customer"),
    ("Janssens Logistics NV", "Antwerpen", "Transport & logistiek", 210, "customer"),
    ("Bakkerij De Graankorrel BV", "Lokeren", "Voeding & dranken", 28, "prospect"),
    ("Plastiflex Kunststoffen NV", "Beveren", "Kunststofverwerking", 130, "customer"),
    ("Houtbewerking Claeys BV", "Tielt", "Hout & meubelen", 19, "prospect"),
    ("Vandeputte Zuivel NV", "Diksmuide", "Voeding & dranken", 160, "key_prospect"),
    ("Technics Mertens BV", "Mechelen", "Machinebouw", 55, "customer"),
    ("Woonzorgcentrum De Linde vzw", "Brugge", "Zorg", 90, "prospect"),
    ("Coatings Dewulf NV", "Waregem", "Chemie & coatings", 75, "ex_customer"),
    ("Fruitbedrijf Boone BV", "Sint-Truiden", "Land- & tuinbouw", 35, "prospect"),
    ("Drukkerij Vermeersch BV", "Kortrijk", "Grafische sector", 48, "customer"),
    ("Staalbouw Lemmens NV", "Genk", "Metaalverwerking", 95, "customer"),
    ("Verpakkingen Cools BV", "Turnhout", "Verpakking", 60, "prospect"),
    ("Bouwbedrijf De Wilde NV", "Aalst", "Bouw", 140, "prospect"),
    ("Ververij Van Acker NV", "Zele", "Textiel", 110, "ex_customer"),
    ("Koeltechniek Aerts BV", "Geel", "Installatietechniek", 24, "prospect"),
    ("Vleeswaren Callens NV", "Izegem", "Voeding & dranken", 190, "customer"),
    ("Recycling Thys BV", "Lommel", "Afval & recycling", 45, "prospect"),
    ("Glas Verbeke NV", "Harelbeke", "Glas & bouwmaterialen", 70, "customer"),
    ("Betoncentrale Smets NV", "Boom", "Glas & bouwmaterialen", 38, "prospect"),
    ("Autobedrijf Wuyts BV", "Lier", "Automotive", 26, "prospect"),
    ("Farma Solutions Ceulemans NV", "Puurs", "Farma", 320, "key_prospect"),
    ("Hotelgroep Ter Duinen NV", "Oostende", "Horeca", 65, "prospect"),
    ("Schrijnwerkerij Geerts BV", "Herentals", "Hout & meubelen", 12, "prospect"),
    ("Tuinbouwbedrijf De Kas BV", "Lochristi", "Land- & tuinbouw", 22, "customer"),
    ("Scholengroep Meetjesland vzw", "Eeklo", "Onderwijs", 400, "prospect"),
    ("Elektro Hermans BV", "Hasselt", "Installatietechniek", 33, "ex_customer"),
    (
        "Transport Vercammen NV",
        "Heist-op-den-Berg",
        "Transport & logistiek",
        88,
        "customer",
    ),
    ("Chocolaterie Moens BV", "Wetteren", "Voeding & dranken", 52, "customer"),
    ("Aannemingen Van Hecke NV", "Deinze", "Bouw", 76, "prospect"),
    ("Machinefabriek Baert NV", "Menen", "Machinebouw", 150, "customer"),
    ("Dakwerken Roels BV", "Zottegem", "Bouw", 14, "prospect"),
    ("Hydrauliek Lenaerts BV", "Maasmechelen", "Machinebouw", 29, "prospect"),
    (
        "Logistiek Centrum Vilvoorde NV",
        "Vilvoorde",
        "Transport & logistiek",
        240,
        "key_prospect",
    ),
    ("Van der Meer Machinebouw B.V.", "Eindhoven", "Machinebouw", 120, "customer"),
    ("Bakker Voedingsmiddelen B.V.", "Breda", "Voeding & dranken", 180, "key_prospect"),
    (
        "De Groot Installatietechniek B.V.",
        "Tilburg",
        "Installatietechniek",
        64,
        "customer",
    ),
    ("Dijkstra Kunststoffen B.V.", "Zwolle", "Kunststofverwerking", 95, "prospect"),
    ("Hoekstra Transport B.V.", "Venlo", "Transport & logistiek", 310, "customer"),
    ("Brouwer Metaal B.V.", "Helmond", "Metaalverwerking", 58, "ex_customer"),
    ("Vink Verpakkingen B.V.", "Oss", "Verpakking", 44, "prospect"),
    ("Kuipers Agro B.V.", "Roosendaal", "Land- & tuinbouw", 36, "prospect"),
    (
        "Zuivelfabriek De Kempen B.V.",
        "'s-Hertogenbosch",
        "Voeding & dranken",
        210,
        "key_prospect",
    ),
    ("Jonker Bouw B.V.", "Dordrecht", "Bouw", 130, "prospect"),
    ("Maas Coatings B.V.", "Terneuzen", "Chemie & coatings", 72, "customer"),
    ("Timmermans Techniek V.O.F.", "Weert", "Installatietechniek", 11, "prospect"),
    (
        "Van Rijn Logistics B.V.",
        "Rotterdam",
        "Transport & logistiek",
        420,
        "ex_customer",
    ),
    ("Schouten Houtindustrie B.V.", "Goes", "Hout & meubelen", 27, "prospect"),
    ("Prins Recycling B.V.", "Nijmegen", "Afval & recycling", 53, "customer"),
]

# name, channel code, starts (days ago), length in days
CAMPAIGNS = [
    ("Beurs Maintenance Antwerpen", "event", 300, 3),
    ("Mailing energiebesparing perslucht", "email", 240, 40),
    ("Telemarketing onderhoudscontracten", "telemarketing", 170, 60),
    ("Webinar warmtepompen voor KMO's", "web_form", 95, 14),
    ("Najaarsactie heftrucks", "email", 55, 45),
]

CHANNEL_WEIGHTS = {
    "phone": 25,
    "email": 22,
    "web_form": 22,
    "telemarketing": 5,
    "prospecting_visit": 6,
    "event": 3,
    "referral": 8,
    "other": 2,
}


@dataclass
class Person:
    """A contact as the demo plans them; ``contact`` is set once they exist."""

    first: str
    last: str
    email: str
    phone: str
    job_title: str
    company: Company | None
    country: str
    team: str
    known: bool = False
    contact: Contact | None = None
    created_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Stats:
    handovers: int = 0
    orders: int = 0
    visits: int = 0
    consents: int = 0
    opt_outs: int = 0
    lines: list[str] = field(default_factory=list)


class DemoLoader:
    def __init__(self, *, now: datetime, seed: int = SEED):
        self.rng = random.Random(seed)
        self.now = now
        self.start = now - timedelta(days=365)
        self.imported_at = now - timedelta(days=400)
        self.users: dict[str, User] = {}
        self.companies: list[tuple[Company, str, demo.City]] = []
        self.people: list[Person] = []
        self.campaigns: list[Campaign] = []
        self.opportunities: dict[int, list[Opportunity]] = {}
        self.stats = Stats()

    # --- set-up ---------------------------------------------------------------

    def run(self) -> Stats:
        with demo.frozen_time(self.imported_at):
            self._organisation()
            self._companies()
            self._people()
        self._history()
        self._visits()
        self._consent_and_cards()
        self._read_old_notifications()
        return self.stats

    def _organisation(self) -> None:
        departments = {
            name: Department.objects.get_or_create(name=name)[0] for name in DEPARTMENTS
        }
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        password = make_password(DEMO_PASSWORD)  # hashed once: the same for everyone
        for spec in DEMO_USERS:
            user = User(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@technivent.example",
                role=spec.role,
                team=teams.get(spec.team) if spec.team else None,
                department=departments[spec.department],
                language="nl",
                is_staff=spec.role == Role.ADMIN,
                is_superuser=spec.role == Role.ADMIN,
                password=password,
            )
            user.save()
            self.users[spec.username] = user
        for name, manager in TEAMS.items():
            Team.objects.filter(pk=teams[name].pk).update(manager=self.users[manager])
        channels = {c.code: c for c in Channel.objects.all()}
        for name, code, days_ago, length in CAMPAIGNS:
            starts = (self.now - timedelta(days=days_ago)).date()
            ends = starts + timedelta(days=length)
            self.campaigns.append(
                Campaign.objects.create(
                    name=name,
                    channel=channels.get(code),
                    starts_on=starts,
                    ends_on=ends,
                    is_active=ends >= self.now.date() - timedelta(days=30),
                )
            )
        get_or_create_lists(demo.MARKETING_LISTS, actor=self.users["eva"])

    def _companies(self) -> None:
        admin = self.users["admin"]
        for name, city_name, industry, size, kind in DEMO_COMPANIES:
            city = demo.CITY_BY_NAME[city_name]
            company = find_or_create_company(
                name, actor=admin, size=size, country=city.country
            )
            details = {
                "industry": industry,
                "city": city.name,
                "website": "www." + demo.company_domain(name, city.country),
                "vat_number": demo.vat_number(self.rng, city.country),
                "is_key_prospect": kind == "key_prospect",
            }
            Company.objects.filter(pk=company.pk).update(**details)
            record_event(
                actor=admin,
                subject=company,
                event_type="company.updated",
                new=details,
                reason="demo: imported from the accounting system",
            )
            company.refresh_from_db()
            if kind in ("customer", "ex_customer"):
                self._old_orders(company, ex_customer=kind == "ex_customer")
            self.companies.append((company, kind, city))

    def _old_orders(self, company: Company, *, ex_customer: bool) -> None:
        """Orders before the demo year make a customer; ex-customers stopped ordering."""
        years_back = (3, 5) if ex_customer else (1, 3)
        for _ in range(self.rng.randint(1, 3)):
            ordered_at = self.now - timedelta(days=365 * self.rng.uniform(*years_back))
            self._book(company, None, ordered_at, actor=self.users["admin"])
        if ex_customer:
            Company.objects.filter(pk=company.pk).update(
                lifecycle=Lifecycle.EX_CUSTOMER
            )
            company.lifecycle = Lifecycle.EX_CUSTOMER
            record_event(
                actor=self.users["admin"],
                subject=company,
                event_type="lifecycle.changed",
                old={"lifecycle": Lifecycle.CUSTOMER},
                new={"lifecycle": Lifecycle.EX_CUSTOMER},
                reason="Geen bestelling meer in meer dan twee jaar.",
            )

    def _book(self, company, contact, ordered_at, *, actor) -> Order:
        year = timezone.localtime(ordered_at).year
        order = book_order(
            actor=actor,
            description=self.rng.choice(demo.ORDER_ITEMS).format(year=year),
            contact=contact,
            company=company,
            amount=Decimal(self.rng.randrange(400, 45_000, 50)),
            reference=f"PO-{year}-{self.rng.randrange(1000, 9999)}",
            ordered_at=ordered_at,
            channel=self.rng.choice(["existing_customer", "email", "phone"]),
        )
        self.stats.orders += 1
        return order

    def _people(self) -> None:
        """Plan ~200 people; customers' contacts are known before the demo year."""
        seen_emails: set[str] = set()
        for company, kind, city in self.companies:
            count = max(2, min(7, 2 + company.size // 80 + self.rng.randint(0, 2)))
            domain = demo.company_domain(company.name, city.country)
            for i in range(count):
                first, last = demo.person_name(self.rng, city.country)
                email = demo.email_address(first, last, domain, style=i % 2)
                if email in seen_emails:
                    email = demo.email_address(first, last, domain, style=2 + i % 2)
                seen_emails.add(email)
                self.people.append(
                    self._person(first, last, email, company, city, kind)
                )
        for _ in range(
            14
        ):  # people without a company: sole traders and private persons
            city = demo.pick_city(self.rng)
            first, last = demo.person_name(self.rng, city.country)
            email = demo.email_address(
                first,
                last,
                self.rng.choice(demo.FREE_MAIL[city.country]),
                style=self.rng.randint(0, 3),
            )
            self.people.append(self._person(first, last, email, None, city, "loose"))
        for person in self.people:
            if person.known:
                self._create(person, at=self.imported_at)

    def _person(self, first, last, email, company, city, kind) -> Person:
        roll = self.rng.random()
        phone = (
            demo.phone_number(self.rng, city, mobile=roll < 0.5) if roll < 0.9 else ""
        )
        known = kind in ("customer", "ex_customer") or (
            kind == "key_prospect" and self.rng.random() < 0.5
        )
        return Person(
            first=first,
            last=last,
            email=email,
            phone=phone,
            job_title=self.rng.choice(demo.JOB_TITLES),
            company=company,
            country=city.country,
            team=city.team,
            known=known,
        )

    def _contact_data(self, person: Person) -> ContactData:
        return ContactData(
            name=person.name,
            email=person.email,
            phone=person.phone,
            company_name=person.company.name if person.company else "",
            job_title=person.job_title,
            country=person.country,
        )

    def _create(self, person: Person, *, at: datetime) -> None:
        with demo.frozen_time(at):
            person.contact = create_contact(
                self._contact_data(person),
                actor=self.users["admin"],
                company=person.company,
            )
        person.created_at = at

    # --- one year of history ------------------------------------------------------

    def _history(self) -> None:
        events: list[tuple[datetime, int, str, object]] = []
        for i, (at, person) in enumerate(self._closed_plan()):
            events.append((at, i, "inquiry", person))
        for i, (at, person) in enumerate(self._open_plan()):
            events.append((at, 10_000 + i, "open", person))
        customers = [c for c, kind, _city in self.companies if kind == "customer"]
        for i in range(45):
            day = self._working_day(
                self.start.date(), self.now.date() - timedelta(days=1)
            )
            at = demo.office_time(self.rng, day)
            events.append((at, 20_000 + i, "order", self.rng.choice(customers)))
        events.sort(key=lambda e: (e[0], e[1]))
        for at, _i, kind, payload in events:
            if kind == "order":
                self._reorder(payload, at)
            else:
                self._inquiry(payload, at, stays_open=kind == "open")

    def _working_day(self, first: date, last: date) -> date:
        while True:
            day = first + timedelta(days=self.rng.randrange((last - first).days + 1))
            if day.weekday() < 5 or self.rng.random() < 0.05:
                return day

    def _closed_plan(self) -> list[tuple[datetime, Person]]:
        """Everyone not known yet asks at least once; customers ask more often."""
        newcomers = [p for p in self.people if not p.known]
        weights = [2.0 if p.known else 1.0 for p in self.people]
        chosen = newcomers + self.rng.choices(
            self.people, weights=weights, k=CLOSED_INQUIRIES - len(newcomers)
        )
        last_day = self.now.date() - timedelta(days=4)
        plan = []
        for person in chosen:
            day = self._working_day(self.start.date(), last_day)
            plan.append((demo.office_time(self.rng, day, web=True), person))
        return plan

    def _open_plan(self) -> list[tuple[datetime, Person]]:
        """A dozen open inquiries: some from today, some older than a working day."""
        ages = [0.3, 1.5, 3.0, 5.5, 9.0, 11.0, 14.0, 20.0, 26.0, 35.0, 52.0, 70.0]
        plan = []
        for hours in ages:
            at = demo.subtract_working_hours(self.now, hours + self.rng.uniform(0, 0.4))
            at = min(at, self.now - timedelta(minutes=5))
            plan.append((at, self.rng.choice(self.people)))
        return plan

    def _campaign_at(self, at: datetime) -> Campaign | None:
        day = timezone.localtime(at).date()
        running = [c for c in self.campaigns if c.starts_on <= day <= c.ends_on]
        return running[0] if running and self.rng.random() < 0.6 else None

    def _channel_for(self, person: Person, at: datetime):
        campaign = self._campaign_at(at)
        if campaign is not None:
            return campaign.channel.code, campaign
        weights = dict(CHANNEL_WEIGHTS)
        if person.company is not None and person.company.lifecycle == "customer":
            weights["existing_customer"] = 40
        codes = list(weights)
        return self.rng.choices(codes, weights=[weights[c] for c in codes])[0], None

    def _receiver(self, person: Person, channel: str) -> User:
        if channel in ("prospecting_visit", "event"):
            return self.users[self.rng.choice(SALES_OF[person.team])]
        roll = self.rng.random()
        if roll < 0.12:
            return self.users["koen"]  # after-sales technician hears of a need
        if roll < 0.2:
            return self.users["joris"]  # a project lead
        return self.users[INSIDE_SALES_OF[person.team]]

    def _inquiry(self, person: Person, at: datetime, *, stays_open: bool) -> None:
        if (
            not stays_open
            and person.contact is not None
            and self._hand_over(person, at)
        ):
            return
        channel, campaign = self._channel_for(person, at)
        local = timezone.localtime(at)
        if channel not in ("web_form", "email") and not 7 <= local.hour < 19:
            at = demo.office_time(self.rng, local.date())  # nobody phones at night
        receiver = self._receiver(person, channel)
        data = InquiryInput(
            summary=demo.question(self.rng),
            channel=channel,
            campaign=campaign,
            referrer=self.rng.choice(demo.REFERRERS) if channel == "referral" else "",
            received_by=receiver,
            received_at=at,
        )
        if person.contact is None:
            data.contact = self._contact_data(person)
        else:
            data.contact_id = person.contact.pk
        with demo.frozen_time(at):
            inquiry = register_inquiry(data, actor=receiver)
        if person.contact is None:
            person.contact = inquiry.contact
            person.created_at = at
        closer = self.users[INSIDE_SALES_OF[person.team]]
        if self.rng.random() < 0.1:
            closer = self.users["marc"]
        if stays_open:
            if self.rng.random() < 0.5:
                with demo.frozen_time(at + timedelta(minutes=self.rng.randint(2, 40))):
                    assign_inquiry(inquiry, actor=closer, assignee=closer)
            return
        closed_at = demo.add_working_hours(at, self._triage_hours())
        closed_at = min(closed_at, self.now - timedelta(minutes=5))
        if self.rng.random() < 0.4:
            with demo.frozen_time(at + (closed_at - at) / 4):
                assign_inquiry(inquiry, actor=closer, assignee=closer)
        with demo.frozen_time(closed_at):
            self._close(inquiry, person, closer, closed_at)

    def _triage_hours(self) -> float:
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.uniform(0.2, 7.5)  # the same working day
        if roll < 0.93:
            return self.rng.uniform(8, 16)
        return self.rng.uniform(16, 30)

    def _close(self, inquiry: Inquiry, person: Person, closer: User, at) -> None:
        kind = person.company.lifecycle if person.company else "loose"
        key = bool(person.company and person.company.is_key_prospect)
        qualified = {"customer": 0.5, "ex_customer": 0.35, "loose": 0.05}.get(
            kind, 0.55 if key else 0.3
        )
        archived = 0.6 if kind == "loose" else 0.32
        roll = self.rng.random()
        if roll < qualified:
            value = Decimal(
                self.rng.choice(
                    [
                        3_500,
                        6_000,
                        8_500,
                        12_000,
                        18_000,
                        25_000,
                        40_000,
                        65_000,
                        120_000,
                    ]
                )
            )
            owner = (
                closer
                if value < 10_000 and closer.role == Role.INSIDE_SALES
                else (self.users[self.rng.choice(SALES_OF[person.team])])
            )
            if key and self.rng.random() < 0.3:
                owner = self.users["marc"]
            close_inquiry(
                inquiry,
                actor=closer,
                outcome="qualified",
                owner=owner,
                expected_value=value,
                reason=self.rng.choice(
                    [
                        "",
                        "Concreet project met budget.",
                        "Beslisser gesproken, timing dit kwartaal.",
                    ]
                ),
            )
            opportunity = Opportunity.objects.get(inquiry=inquiry)
            self.opportunities.setdefault(person.contact.pk, []).append(opportunity)
        elif roll < qualified + (1 - qualified) * (1 - archived):
            lists = ["Nieuwsbrief"]
            if self.rng.random() < 0.35:
                lists.append("Workshop uitnodiging")
            if kind == "customer":
                lists.append("Nieuwjaarskaart")
            close_inquiry(
                inquiry,
                actor=closer,
                outcome="nurture",
                marketing_lists=lists,
                reason=self.rng.choice(demo.NURTURE_REASONS),
            )
        else:
            reason = (
                "Particulier, geen B2B-klant."
                if kind == "loose"
                else self.rng.choice(demo.ARCHIVE_REASONS)
            )
            close_inquiry(inquiry, actor=closer, outcome="archived", reason=reason)

    def _hand_over(self, person: Person, at: datetime) -> bool:
        """Now and then a requester comes back on a running deal: hand it over."""
        running = [
            o
            for o in self.opportunities.get(person.contact.pk, [])
            if o.created_at < at
        ]
        if not running or self.stats.handovers >= 5 or self.rng.random() > 0.3:
            return False
        with demo.frozen_time(at):
            hand_over_question(
                running[-1],
                actor=self.users[INSIDE_SALES_OF[person.team]],
                question="Vraagt naar de levertermijn en of de offerte nog geldig is.",
                channel="phone",
            )
        self.stats.handovers += 1
        return True

    def _reorder(self, company: Company, at: datetime) -> None:
        staff = [p for p in self.people if p.company == company and p.contact]
        contact = self.rng.choice(staff).contact if staff else None
        team = demo.CITY_BY_NAME[company.city].team
        with demo.frozen_time(at):
            self._book(company, contact, at, actor=self.users[INSIDE_SALES_OF[team]])

    # --- visits, consent, cards -----------------------------------------------

    def _visits(self) -> None:
        known = [p for p in self.people if p.contact is not None]
        for _ in range(150):
            person = self.rng.choice(known)
            at = self._moment_after(person.created_at)
            record_visit(
                actor=None,
                kind=VisitKind.WEBSITE,
                at=at,
                contact=person.contact,
                url="https://www.technivent.example" + self.rng.choice(demo.WEB_PAGES),
                source="website analytics",
            )
            self.stats.visits += 1
        visited = [
            (c, city)
            for c, kind, city in self.companies
            if kind in ("customer", "key_prospect")
        ]
        for _ in range(40):
            company, city = self.rng.choice(visited)
            day = self._working_day(
                self.start.date(), self.now.date() - timedelta(days=1)
            )
            at = demo.office_time(self.rng, day).replace(minute=0, second=0)
            staff = [
                p
                for p in self.people
                if p.company == company and p.created_at and p.created_at < at
            ]
            with demo.frozen_time(at):
                record_visit(
                    actor=self.users[self.rng.choice(SALES_OF[city.team])],
                    kind=VisitKind.SALES,
                    at=at,
                    company=company,
                    contact=self.rng.choice(staff).contact if staff else None,
                    note=self.rng.choice(
                        [
                            "Jaarlijkse opvolging, installatie bekeken.",
                            "Rondleiding in de productiehal, nieuwe lijn gepland.",
                            "Kennismaking met de nieuwe aankoper.",
                            "Energieverbruik perslucht besproken.",
                        ]
                    ),
                )
            self.stats.visits += 1

    def _moment_after(self, start: datetime) -> datetime:
        span = (self.now - start).total_seconds()
        return start + timedelta(seconds=self.rng.uniform(0.05, 0.99) * span)

    def _consent_and_cards(self) -> None:
        eva = self.users["eva"]
        people = [p for p in self.people if p.contact is not None]
        for person in people:
            roll = self.rng.random()
            if roll > 0.6:
                continue
            at = self._moment_after(person.created_at)
            opted_out = roll < 0.025
            with demo.frozen_time(at):
                record_consent(
                    Contact.objects.get(pk=person.contact.pk),
                    actor=eva,
                    consent=Consent.OPTED_OUT if opted_out else Consent.GRANTED,
                    reason=(
                        "Uitgeschreven via de link in de nieuwsbrief."
                        if opted_out
                        else "Toestemming gegeven via het webformulier."
                    ),
                )
            self.stats.opt_outs += opted_out
            self.stats.consents += not opted_out
        card_day = date(self.now.year - 1, 12, 1)
        if date(self.now.year, 12, 1) <= self.now.date():
            card_day = date(self.now.year, 12, 1)
        card_at = demo.office_time(self.rng, card_day)
        [card_list] = get_or_create_lists(["Nieuwjaarskaart"], actor=eva)
        for person in people:
            company = person.company
            if company is None or person.created_at > card_at:
                continue
            company.refresh_from_db(fields=["lifecycle"])
            if company.lifecycle != Lifecycle.CUSTOMER:
                continue
            with demo.frozen_time(card_at):
                subscribe_contact(
                    Contact.objects.get(pk=person.contact.pk),
                    actor=eva,
                    lists=[card_list],
                    source="klantenbestand",
                    reason="Alle klanten krijgen de nieuwjaarskaart.",
                )

    def _read_old_notifications(self) -> None:
        cutoff = self.now - timedelta(days=7)
        for user in self.users.values():
            ids = list(
                Notification.objects.filter(
                    recipient=user, created_at__lt=cutoff
                ).values_list("pk", flat=True)
            )
            if ids:
                with demo.frozen_time(cutoff):
                    mark_read(user, notification_ids=ids)


def login_rows() -> list[tuple[str, str, str, str]]:
    """(username, name, role, team) of the demo users that exist."""
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[s.username for s in DEMO_USERS]
        ).select_related("team")
    }
    return [
        (
            spec.username,
            str(users[spec.username]),
            users[spec.username].get_role_display(),
            users[spec.username].team.name if users[spec.username].team_id else "",
        )
        for spec in DEMO_USERS
        if spec.username in users
    ]


class Command(BaseCommand):
    help = (
        "Load a realistic Belgian/Dutch demo company (users in every role, ~50 companies, "
        "~200 contacts, ~300 inquiries over 12 months) into an empty database. Every demo "
        f"user's password is {DEMO_PASSWORD!r}."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the logins) when any user exists already",
        )

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Users exist already: the demo was not loaded.")
            self._print_logins()
            return
        if (
            User.objects.filter(username__in=[u.username for u in DEMO_USERS]).exists()
            or Inquiry.objects.exists()
        ):
            raise CommandError(
                "This database already has inquiries or demo users; load the demo into "
                "an empty database (or pass --if-empty to skip quietly)."
            )
        with transaction.atomic():
            stats = DemoLoader(now=timezone.now()).run()
            pipeline = load_demo_pipeline(now=timezone.now())
            workflows = load_demo_workflows(now=timezone.now())
        self._print_summary(stats)
        self.stdout.write(f"  {pipeline}")
        self.stdout.write(f"  {workflows}")
        self._print_logins()

    def _print_summary(self, stats: Stats) -> None:
        by_outcome = dict(
            Inquiry.objects.values("outcome")
            .annotate(n=Count("id"))
            .values_list("outcome", "n")
        )
        open_count = Inquiry.objects.open().count()
        self.stdout.write(self.style.SUCCESS("Demo loaded."))
        self.stdout.write(
            f"  {Company.objects.count()} companies, {Contact.objects.count()} contacts, "
            f"{Inquiry.objects.count()} inquiries ({open_count} open, "
            f"{by_outcome.get('qualified', 0)} qualified, "
            f"{by_outcome.get('nurture', 0)} nurture, "
            f"{by_outcome.get('archived', 0)} archived), "
            f"{Opportunity.objects.count()} qualified leads, {stats.orders} orders, "
            f"{stats.handovers} hand-overs, {stats.visits} visits, "
            f"{stats.consents} consents, {stats.opt_outs} opt-outs."
        )

    def _print_logins(self) -> None:
        rows = login_rows()
        if not rows:
            self.stdout.write("No demo users in this database.")
            return
        header = ("username", "name", "role", "team", "password")
        table = [header] + [(*row, DEMO_PASSWORD) for row in rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        self.stdout.write("")
        for i, row in enumerate(table):
            self.stdout.write(
                "  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
            )
            if i == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        self.stdout.write("")
        self.stdout.write(
            "Log in at /login/ or get an API token: POST /api/auth/token."
        )
