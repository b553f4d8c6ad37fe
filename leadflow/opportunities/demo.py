"""Work the demo's qualified leads like a sales team would: ``load_demo`` calls this last.

Every change goes through the real actions (update, stakeholders, SCOTSMAN/BANT,
activities, stage moves, quotes, closing) under a frozen clock, so audit rows,
transitions, ``stage_entered_at``, scorecard and quote dates all carry the historic
moment. The steps of all leads are planned first and then run in time order, so quote
numbers follow the calendar. The oldest leads get a result (won, lost, not going ahead,
nurture); the newest ~40% (and a few long-running ones) stay open in every state the
qualified-lead screens show: not scored yet, below the gate, ready for a quote, draft,
sent, revised, expired, overridden, moved back, stale.

Customer context (invoices, complaints, yearly sales) has no action: it is imported
from the ERP in real life, so it is written here as an import would, derived from the
demo's orders and won quotes. Companies get a street and postcode through
``update_company``.
"""

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db.models import Count
from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.contacts.actions import update_company
from leadflow.contacts.models import (
    Company,
    Complaint,
    Contact,
    Invoice,
    Lifecycle,
    SalesRecord,
)
from leadflow.intake import demo
from leadflow.intake.models import Order
from leadflow.opportunities.actions import (
    LineInput,
    add_activity,
    add_competitor,
    add_team_member,
    close_opportunity,
    create_quote,
    decide_quote,
    expire_quote,
    move_stage,
    revise_quote,
    send_quote,
    set_activity_done,
    set_stakeholder,
    update_draft_quote,
    update_opportunity,
)
from leadflow.opportunities.models import (
    Activity,
    Opportunity,
    Quote,
    Stakeholder,
    StakeholderPhaseChange,
)
from leadflow.opportunities.quoting import totals
from leadflow.opportunities.states import (
    ActivityKind,
    DecisionType,
    FollowUpBy,
    OpportunityStatus,
    QuoteStatus,
    StakeholderRole,
)
from leadflow.qualification.actions import score_qualification
from leadflow.qualification.frameworks import Framework, criterion_names
from leadflow.qualification.models import Scorecard

SEED = 2024
OPEN_SHARE = 0.38  # the newest leads stay open
LONG_RUNNING = 5  # older leads that are still open (big projects, tenders)
STALE_DAYS = 14

SCOTSMAN = criterion_names(Framework.SCOTSMAN)
# The order in which criteria usually get met during qualification.
MET_FIRST = [
    "need",
    "solution",
    "timescales",
    "size",
    "authority",
    "originality",
    "money",
    "competition",
]
EVIDENCE = {
    "need": [
        "Huidige installatie is 18 jaar oud; drie stilstanden dit jaar.",
        "Energiefactuur perslucht op twee jaar met 40% gestegen.",
        "Nieuwe productielijn vraagt meer capaciteit.",
    ],
    "solution": [
        "Onze oplossing past in de bestaande technische ruimte.",
        "Opmeting gedaan; standaardoplossing volstaat.",
    ],
    "timescales": [
        "Installatie gepland tijdens het bouwverlof.",
        "Beslissing in de directieraad van volgende maand.",
    ],
    "size": ["Past in onze capaciteit: één ploeg, drie weken werk."],
    "authority": [
        "Zaakvoerder zelf gesproken; beslist samen met de financieel directeur.",
        "Plant manager beslist, aankoop volgt de technische keuze.",
    ],
    "originality": [
        "Energiemonitoring inbegrepen: biedt geen enkele concurrent aan.",
        "Eigen servicedienst binnen 4 uur ter plaatse.",
    ],
    "money": [
        "Budget opgenomen in het investeringsplan.",
        "Budget bevestigd door de financieel directeur.",
    ],
    "competition": [
        "Twee andere offertes gevraagd; wij zijn de enige met een eigen servicedienst.",
    ],
}
GAP_EVIDENCE = {
    "money": "Budget nog niet goedgekeurd.",
    "authority": "Beslisser nog niet ontmoet.",
    "competition": "Weten niet wie er nog meedingt.",
    "timescales": "Nog geen datum voor de beslissing.",
}

ROLE_BY_TITLE = {
    "Zaakvoerder": StakeholderRole.DECISION_MAKER,
    "CEO": StakeholderRole.DECISION_MAKER,
    "Directeur": StakeholderRole.DECISION_MAKER,
    "Plant manager": StakeholderRole.DECISION_MAKER,
    "Financieel directeur": StakeholderRole.BUDGET_HOLDER,
    "Aankoper": StakeholderRole.PURCHASER,
    "Inkoper": StakeholderRole.PURCHASER,
    "Technisch directeur": StakeholderRole.TECHNICAL_EVALUATOR,
    "Hoofd technische dienst": StakeholderRole.TECHNICAL_EVALUATOR,
    "Hoofd onderhoud": StakeholderRole.TECHNICAL_EVALUATOR,
    "Onderhoudsverantwoordelijke": StakeholderRole.TECHNICAL_EVALUATOR,
    "Energiecoördinator": StakeholderRole.TECHNICAL_EVALUATOR,
    "Preventieadviseur": StakeholderRole.INFLUENCER,
}
REGRESSION_NOTES = [
    "Nieuwe financieel directeur wil de business case opnieuw bekijken.",
    "Budget bevroren tot de jaarcijfers er zijn.",
    "Productie twijfelt nu aan de nood: eerst de bestaande lijn optimaliseren.",
]
COMPETITORS = [
    ("Kompressa BV", "Vaste leverancier van de klant, scherp in aankoopprijs."),
    ("AirTech Solutions NV", "Sterk in onderhoudscontracten."),
    ("Thermo-Vlaanderen NV", "Lokale installateur, snel ter plaatse."),
    ("Indutec Group", "Groot, maar trage servicedienst."),
    ("Van Loon Machines B.V.", "Nederlandse speler met lage prijzen."),
    ("Energo Service BV", "Biedt leasing aan."),
]
MACHINES = {
    "transportband",
    "elektrische heftruck",
    "hoogwerker",
    "palletwikkelaar",
    "hydraulische pers",
    "robotlascel",
    "vacuümpomp",
}
VALUE_RANGE = {
    "Installatie": (15_000, 250_000),
    "Machines": (8_000, 150_000),
    "Onderhoudscontract": (5_000, 40_000),
    "Software": (5_000, 60_000),
}

POSTCODES = {
    **dict.fromkeys(["Antwerpen"], "2030"),
    "Gent": "9000",
    "Brussel": "1000",
    "Leuven": "3001",
    "Brugge": "8000",
    "Kortrijk": "8500",
    "Hasselt": "3500",
    "Mechelen": "2800",
    "Aalst": "9300",
    "Sint-Niklaas": "9100",
    "Roeselare": "8800",
    "Genk": "3600",
    "Oostende": "8400",
    "Turnhout": "2300",
    "Lokeren": "9160",
    "Waregem": "8790",
    "Geel": "2440",
    "Herentals": "2200",
    "Lier": "2500",
    "Dendermonde": "9200",
    "Oudenaarde": "9700",
    "Ieper": "8900",
    "Tienen": "3300",
    "Vilvoorde": "1800",
    "Beveren": "9120",
    "Tielt": "8700",
    "Izegem": "8870",
    "Eeklo": "9900",
    "Deinze": "9800",
    "Wetteren": "9230",
    "Menen": "8930",
    "Harelbeke": "8530",
    "Zele": "9240",
    "Ninove": "9400",
    "Sint-Truiden": "3800",
    "Lommel": "3920",
    "Maasmechelen": "3630",
    "Mol": "2400",
    "Heist-op-den-Berg": "2220",
    "Boom": "2850",
    "Puurs": "2870",
    "Zottegem": "9620",
    "Diksmuide": "8600",
    "Lochristi": "9080",
    "Eindhoven": "5651",
    "Breda": "4817",
    "Tilburg": "5047",
    "'s-Hertogenbosch": "5222",
    "Rotterdam": "3089",
    "Utrecht": "3542",
    "Nijmegen": "6541",
    "Maastricht": "6222",
    "Venlo": "5928",
    "Roosendaal": "4705",
    "Bergen op Zoom": "4614",
    "Goes": "4462",
    "Helmond": "5705",
    "Oss": "5342",
    "Zwolle": "8013",
    "Dordrecht": "3316",
    "Terneuzen": "4538",
    "Weert": "6031",
}
STREETS = {
    "BE": [
        "Industrieweg",
        "Nijverheidsstraat",
        "Ambachtenlaan",
        "Industrielaan",
        "Kanaalstraat",
        "Stationsstraat",
        "Bedrijvenlaan",
        "Europalaan",
        "Spoorwegstraat",
        "Hoogstraat",
    ],
    "NL": [
        "Industrieweg",
        "Nijverheidsweg",
        "Ambachtsweg",
        "Havenweg",
        "Edisonstraat",
        "Marconistraat",
        "Energieweg",
        "Transportweg",
        "Handelsweg",
        "Celsiusstraat",
    ],
}
NL_LETTERS = "ABCEGHJKLMNPRTVWXZ"
COMPLAINTS = [
    "Compressor valt regelmatig uit sinds het laatste onderhoud",
    "Levering koelcel twee weken later dan beloofd",
    "Factuur voor het onderhoud dubbel aangerekend",
    "Technieker niet op het afgesproken uur",
    "Lekkage aan het persluchtnet na de installatie",
    "Verkeerd reserveonderdeel geleverd",
    "Geluidsoverlast van de nieuwe luchtbehandelingskast",
]


@dataclass
class Lead:
    """One qualified lead's plan and, while it runs, what its steps made."""

    opportunity: Opportunity
    owner: User
    fate: str
    service: str
    product: str
    value: Decimal
    vat_rate: Decimal
    people: list[tuple[Contact, str]]
    when: dict[str, datetime] = field(default_factory=dict)
    quote: Quote | None = None
    phases: dict[int, int] = field(default_factory=dict)

    @property
    def pk(self) -> int:
        return self.opportunity.pk


class PipelineDemo:
    def __init__(self, *, now: datetime, seed: int = SEED):
        self.rng = random.Random(seed)
        self.now = now
        self.today = timezone.localdate(now)
        self.limit = now - timedelta(minutes=2)
        self.users = {u.username: u for u in User.objects.all()}
        self.director = next(
            (u for u in self.users.values() if u.role == Role.SALES_DIRECTOR), None
        )
        self.events: list[tuple[datetime, int, partial]] = []
        self._seq = 0

    # --- the whole run -------------------------------------------------------------

    def run(self) -> None:
        self._addresses()
        leads = list(
            Opportunity.objects.filter(status=OpportunityStatus.OPEN)
            .select_related("owner", "contact", "company")
            .order_by("created_at", "pk")
        )
        for lead, fate in self._fates(leads):
            self._plan(lead, fate)
        self.events.sort(key=lambda e: (e[0], e[1]))
        for at, _seq, step in self.events:
            with demo.frozen_time(at):
                step()
        self._customer_context()

    def _fates(self, leads: list[Opportunity]) -> list[tuple[Lead, str]]:
        """Oldest leads closed, newest open; guaranteed examples of every state."""
        rng = self.rng
        n_open = round(len(leads) * OPEN_SHARE)
        recent = leads[len(leads) - n_open :]
        older = leads[: len(leads) - n_open]
        pool = older[len(older) // 3 :]
        long_running = set(
            o.pk for o in rng.sample(pool, k=min(LONG_RUNNING, len(pool)))
        )
        closed = [o for o in older if o.pk not in long_running]

        m = len(closed)
        won, lost, nga = round(m * 0.34), round(m * 0.28), round(m * 0.15)
        deck = (
            ["won_revision"] * max(1, won // 5)
            + ["won"] * (won - max(1, won // 5))
            + ["lost_quote"] * (lost - lost // 3)
            + ["lost_early"] * (lost // 3)
            + ["not_going_ahead"] * nga
        )
        deck += ["nurture"] * (m - len(deck))
        rng.shuffle(deck)
        plans = [(o, deck[i]) for i, o in enumerate(closed)]

        older_open = [o for o in older if o.pk in long_running]
        plans += zip(
            older_open,
            ["expired", "qualify_below", "proposal_sent", "negotiation", "moved_back"],
            strict=False,
        )
        young, settled = [], []
        for o in recent:
            age = (self.now - o.created_at).days
            (young if age < 12 else settled).append(o)
        guaranteed = [
            "override",
            "negotiation_revision",
            "negotiation_revision",
            "proposal_sent",
            "proposal_sent",
            "moved_back",
            "regression",
            "qualify_rescore",
        ]
        weights = {
            "qualify_below": 3,
            "qualify_pass": 1,
            "proposal_draft": 2,
            "proposal_sent": 3,
            "negotiation": 2,
            "negotiation_revision": 1,
        }
        deck = guaranteed[: len(settled)]
        deck += rng.choices(
            list(weights), weights=list(weights.values()), k=len(settled) - len(deck)
        )
        rng.shuffle(deck)
        plans += zip(settled, deck, strict=True)
        for o in young:
            age_days = (self.now - o.created_at).total_seconds() / 86400
            if age_days < 7 and (rng.random() < 0.6 or o is young[-1]):
                fate = "fresh"  # not scored yet
            else:
                fate = rng.choice(
                    ["qualify_below", "qualify_pass", "qualify_below", "proposal_draft"]
                )
            plans.append((o, fate))
        plans.sort(key=lambda p: (p[0].created_at, p[0].pk))
        return [(self._lead(o, fate), fate) for o, fate in plans]

    def _lead(self, o: Opportunity, fate: str) -> Lead:
        rng = self.rng
        title = o.title.lower()
        product = next(
            (p for p in demo.PRODUCTS if p.lower() in title), "installatie op maat"
        )
        if "onderhoud" in title:
            service = "Onderhoudscontract"
        elif product in MACHINES or "huur of leasing" in title:
            service = "Machines"
        elif "energie-audit" in title or rng.random() < 0.1:
            service = "Software"
        else:
            service = "Installatie"
        low, high = VALUE_RANGE[service]
        if o.owner.role == Role.INSIDE_SALES:
            low, high = 5_000, 12_000  # inside sales keeps the small deals
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        value = Decimal(int(round(value / 500) * 500))
        country = o.company.country if o.company else "BE"
        vat = Decimal("0") if country == "NL" else Decimal("0.21")  # NL: reverse charge
        return Lead(
            opportunity=o,
            owner=o.owner,
            fate=fate,
            service=service,
            product=product,
            value=value,
            vat_rate=vat,
            people=self._buying_group(o),
        )

    def _buying_group(self, o: Opportunity) -> list[tuple[Contact, str]]:
        rng = self.rng
        people = [o.contact]
        if o.company_id:
            colleagues = list(
                Contact.objects.filter(
                    company_id=o.company_id, created_at__lte=o.created_at
                )
                .exclude(pk=o.contact_id)
                .order_by("pk")
            )
            people += rng.sample(colleagues, k=min(len(colleagues), rng.randint(1, 3)))
        roles = [
            ROLE_BY_TITLE.get(
                p.job_title,
                rng.choice([StakeholderRole.USER, StakeholderRole.TECHNICAL_EVALUATOR]),
            )
            for p in people
        ]
        if len(people) > 1 and StakeholderRole.DECISION_MAKER not in roles:
            roles[1] = StakeholderRole.DECISION_MAKER
        deciders = [
            i for i, r in enumerate(roles) if r == StakeholderRole.DECISION_MAKER
        ]
        for i in deciders[1:]:  # one decision-maker; other bosses influence
            roles[i] = StakeholderRole.INFLUENCER
        if len(people) > 2 and StakeholderRole.BUDGET_HOLDER not in roles:
            roles[2] = StakeholderRole.BUDGET_HOLDER
        return list(zip(people, roles, strict=True))

    # --- planning one lead -------------------------------------------------------------

    def _plan(self, lead: Lead, fate: str) -> None:
        rng = self.rng
        o = lead.opportunity
        start = o.created_at + timedelta(minutes=rng.randint(5, 90))
        closes = fate.startswith(("won", "lost", "not_going", "nurture"))
        stale = False
        if closes:
            end = min(
                o.created_at + timedelta(days=rng.uniform(25, 110)),
                self.now - timedelta(days=rng.uniform(3, 20)),
            )
        else:
            room = (self.now - start).days
            stale = room > 30 and (
                fate == "expired" or (fate != "fresh" and rng.random() < 0.35)
            )
            back = rng.uniform(15, min(45, room - 10)) if stale else rng.uniform(0, 4)
            end = self.now - timedelta(days=back, minutes=rng.randint(5, 240))
        end = max(min(end, self.limit), start + timedelta(minutes=30))
        steps = self._steps(lead, fate, closes)
        moments = self._timeline(start, end, len(steps))
        split = next((i for i, st in enumerate(steps) if st[0] == "group2"), None)
        if not closes and not stale and split and (end - start).days > 14:
            # Qualified early, then the quote work of the last weeks: not stale.
            mid = max(
                start + (end - start) * 0.4,
                end - timedelta(days=rng.uniform(4, 13)),
            )
            moments = self._timeline(
                start, start + (mid - start) * 0.5, split
            ) + self._timeline(mid, end, len(steps) - split)
        prev = o.created_at
        for (label, fn, kwargs), at in zip(steps, moments, strict=True):
            lead.when.setdefault(label, at)
            self._seq += 1
            self.events.append((at, self._seq, partial(fn, lead, at, prev, **kwargs)))
            prev = at
        if fate == "expired":
            # The nightly job expires the quote the day after its validity ends.
            day = timezone.localtime(lead.when["send"]).date() + timedelta(days=15)
            at = timezone.make_aware(datetime.combine(day, datetime.min.time()))
            at += timedelta(hours=2)
            if at < self.limit:
                self._seq += 1
                self.events.append(
                    (at, self._seq, partial(self._expire, lead, at, prev))
                )

    def _timeline(self, start: datetime, end: datetime, n: int) -> list[datetime]:
        """``n`` increasing office-hour moments in [start, end]; the last one is ``end``."""
        span = (end - start).total_seconds()
        fractions = sorted(self.rng.random() for _ in range(n - 1)) + [1.0]
        moments, prev = [], start
        for f in fractions:
            raw = start + timedelta(seconds=span * f)
            at = raw if f == 1.0 else self._office(raw)
            if not prev < at <= end:
                at = raw
            at = max(at, prev + timedelta(seconds=30))
            moments.append(at)
            prev = at
        return moments

    def _office(self, raw: datetime) -> datetime:
        day = timezone.localtime(raw).date()
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return demo.office_time(self.rng, day)

    def _steps(self, lead: Lead, fate: str, closes: bool) -> list[tuple]:
        """The list of (label, step, kwargs) of the lead's story, in order."""
        rng = self.rng
        s: list[tuple] = []

        def add(label, fn, **kwargs):
            s.append((label, fn, kwargs))

        add("details", self._details)
        add("group", self._stakeholders, phases=(2, 3))
        if fate == "fresh":
            add(
                "next",
                self._activity_open,
                kind=ActivityKind.CALL,
                subject="Kennismakingsgesprek: behoefte en timing",
                days=(0.5, 3),
            )
            return s
        add(
            "call",
            self._activity_done,
            kind=ActivityKind.CALL,
            subject="Kennismakingsgesprek: behoefte en timing",
            minutes=20,
        )
        if rng.random() < 0.7:
            add(
                "visit",
                self._activity_done,
                kind=ActivityKind.APPOINTMENT,
                subject="Bezoek ter plaatse: opmeting en situatie bekijken",
                minutes=90,
            )

        below = fate in (
            "qualify_below",
            "qualify_rescore",
            "override",
            "lost_early",
            "nurture",
        ) or (fate == "not_going_ahead" and rng.random() < 0.5)
        rescore = fate in ("qualify_rescore", "won_revision") or (
            not below and rng.random() < 0.15
        )
        if rescore and not below:
            add("score", self._score, met=rng.randint(3, 4))
            add(
                "rescore",
                self._rescore,
                met=rng.randint(5, 7),
                note="Na het bezoek: budget en beslisser bevestigd.",
            )
        elif below:
            add(
                "score",
                self._score,
                met=rng.randint(3, 4) if fate != "qualify_rescore" else 3,
                showstopper=rng.random() < 0.1,
            )
            if fate == "qualify_rescore":
                add(
                    "rescore",
                    self._rescore,
                    met=4,
                    note="Beslisser gesproken; budget blijft onzeker.",
                )
        else:
            add("score", self._score, met=rng.randint(5, 7))
        if rng.random() < 0.3:
            add("bant", self._bant)

        if fate in ("qualify_below", "qualify_rescore", "qualify_pass"):
            subject = (
                "Offerte opmaken"
                if fate == "qualify_pass"
                else rng.choice(
                    [
                        "Budget bevestigen met de financieel directeur",
                        "Afspraak met de zaakvoerder vastleggen",
                        "Lastenboek opvragen",
                    ]
                )
            )
            kind = ActivityKind.TASK if fate == "qualify_pass" else ActivityKind.CALL
            add("next", self._activity_open, kind=kind, subject=subject)
            return s
        if fate in ("lost_early", "nurture") or (fate == "not_going_ahead" and below):
            if fate == "lost_early":
                add("competitor", self._competitor)
            add("group2", self._advance, phases=(3, 4))
            add("close", self._close, result=fate)
            return s

        # Past the gate (or overridden): a quote.
        add("group2", self._advance, phases=(4, 5), decider=5)
        if fate == "override":
            add("quote", self._quote, override=True)
        else:
            add(
                "proposal",
                self._move,
                stage="proposal",
                reason=rng.choice(
                    [
                        "Gekwalificeerd (SCOTSMAN {met}/8): offerte in opmaak.",
                        "Behoefte en budget bevestigd; klant vraagt een offerte.",
                    ]
                ),
            )
        if rng.random() < 0.45:
            add("team", self._team)
        if rng.random() < 0.4 or fate.startswith("lost"):
            add("competitor", self._competitor)
        if rng.random() < 0.5:
            add("chances", self._chances)
        if fate != "override":
            add(
                "prepare",
                self._activity_done,
                kind=ActivityKind.TASK,
                subject="Offerte opmaken",
                minutes=120,
            )
            add("quote", self._quote)
        if fate == "proposal_draft" or (
            fate == "not_going_ahead" and rng.random() < 0.5
        ):
            if fate == "proposal_draft":
                add(
                    "next",
                    self._activity_open,
                    kind=ActivityKind.TASK,
                    subject="Offerte afwerken en versturen",
                    days=(0, 6),
                )
            else:
                add("close", self._close, result=fate)
            return s
        add("send", self._send)
        if fate == "override":
            add(
                "proposal",
                self._move,
                stage="proposal",
                reason="Offerte verstuurd na akkoord van de directeur.",
            )
        if fate == "expired":
            add(
                "next",
                self._activity_open,
                kind=ActivityKind.CALL,
                subject="Nagaan of het project nog loopt",
            )
            return s
        negotiates = fate.startswith(("negotiation", "won")) or (
            fate == "lost_quote" and rng.random() < 0.4
        )
        if negotiates:
            add(
                "meeting",
                self._activity_done,
                kind=ActivityKind.APPOINTMENT,
                subject="Offertebespreking bij de klant",
                minutes=60,
            )
            add("group3", self._advance, phases=(5, 6), decider=6)
            add(
                "negotiation",
                self._move,
                stage="negotiation",
                reason=rng.choice(
                    [
                        "Offerte besproken; klant onderhandelt over prijs en levertermijn.",
                        "Positieve reactie, nog discussie over de betalingsvoorwaarden.",
                    ]
                ),
            )
            if fate in ("negotiation_revision", "won_revision") or (
                fate == "won" and rng.random() < 0.2
            ):
                add("revise", self._revise)
                add("send2", self._send)
        if fate in ("moved_back", "regression"):
            add("regress", self._regress)
            if fate == "moved_back":
                add(
                    "back",
                    self._move,
                    stage="qualification",
                    reason=rng.choice(
                        [
                            "Beslisser twijfelt opnieuw; behoefte en budget opnieuw af te toetsen.",
                            "Klant wijzigt de scope: nieuw lastenboek op komst.",
                        ]
                    ),
                )
                add(
                    "rescore",
                    self._rescore,
                    met=4,
                    note="Na de terugval: beslisser en budget opnieuw onzeker.",
                )
        if fate == "negotiation" and rng.random() < 0.3:
            add(
                "back",
                self._move,
                stage="proposal",
                reason="Klant wijzigt de specificaties; offerte moet herzien worden.",
            )
        if closes:
            if fate.startswith("won"):
                add("group4", self._advance, phases=(7, 7), decider=7)
                later = rng.random() < 0.25  # accepted first, closed on the order
                add("close", self._accept, later=later)
                if later:
                    add("close2", self._close, result="won")
            else:
                add("close", self._close, result=fate)
            return s
        add(
            "next",
            self._activity_open,
            kind=ActivityKind.CALL,
            subject=rng.choice(
                [
                    "Offerte telefonisch opvolgen",
                    "Referentieklant voorstellen",
                    "Nabellen na de offertebespreking",
                ]
            ),
        )
        if fate.startswith("negotiation") and rng.random() < 0.6:
            add(
                "next2",
                self._activity_open,
                kind=ActivityKind.APPOINTMENT,
                subject="Demo in onze showroom met de technische dienst",
                days=(3, 20),
                minutes=60,
            )
        return s

    # --- steps (each runs with the clock frozen at ``at``) -----------------------------

    def _details(self, lead: Lead, at, prev) -> None:
        rng = self.rng
        o = lead.opportunity
        if lead.fate.startswith(("won", "lost", "not_going", "nurture")):
            decision = timezone.localtime(
                lead.when.get("close") or at
            ).date() + timedelta(days=rng.randint(-10, 20))
        else:
            decision = self.today + timedelta(days=rng.randint(-21, 120))
        values = {
            "expected_value": lead.value,
            "service_type": lead.service,
            "decision_date": decision,
        }
        if lead.fate != "fresh":
            values["start_date"] = decision + timedelta(weeks=rng.randint(3, 12))
            customer = o.company and o.company.lifecycle == Lifecycle.CUSTOMER
            if lead.value > 120_000 and rng.random() < 0.5:
                values["decision_type"] = DecisionType.TENDER
            elif customer and rng.random() < 0.5:
                values["decision_type"] = DecisionType.NO_COMPETITION
            else:
                values["decision_type"] = rng.choices(
                    [DecisionType.COMPETITION, DecisionType.OTHER], weights=[12, 1]
                )[0]
        update_opportunity(o, actor=lead.owner, **values)

    def _stakeholders(self, lead: Lead, at, prev, *, phases) -> None:
        for i, (contact, role) in enumerate(lead.people):
            lead.phases[i] = self.rng.randint(*phases)
            set_stakeholder(
                lead.opportunity,
                actor=lead.owner,
                contact=contact,
                role=role,
                phase_number=lead.phases[i],
            )

    def _advance(self, lead: Lead, at, prev, *, phases, decider=None) -> None:
        for i, (contact, role) in enumerate(lead.people):
            target = self.rng.randint(*phases)
            if decider and role == StakeholderRole.DECISION_MAKER:
                target = decider
            if target <= lead.phases.get(i, 0):
                continue
            lead.phases[i] = target
            set_stakeholder(
                lead.opportunity,
                actor=lead.owner,
                contact=contact,
                role=role,
                phase_number=target,
            )

    def _regress(self, lead: Lead, at, prev) -> None:
        essential = (StakeholderRole.DECISION_MAKER, StakeholderRole.BUDGET_HOLDER)
        index = next((i for i, (_c, r) in enumerate(lead.people) if r in essential), 0)
        contact, role = lead.people[index]
        target = max(1, lead.phases.get(index, 4) - self.rng.randint(2, 3))
        lead.phases[index] = target
        set_stakeholder(
            lead.opportunity,
            actor=lead.owner,
            contact=contact,
            role=role,
            phase_number=target,
            note=self.rng.choice(REGRESSION_NOTES),
        )

    def _activity_done(self, lead: Lead, at, prev, *, kind, subject, minutes) -> None:
        planned = max(
            prev + timedelta(seconds=10), at - timedelta(days=self.rng.uniform(1, 5))
        )
        with demo.frozen_time(planned):
            activity = add_activity(
                lead.opportunity,
                actor=lead.owner,
                kind=kind,
                subject=subject,
                assignee=lead.owner,
                due_at=at,
                duration_minutes=minutes if kind == ActivityKind.APPOINTMENT else None,
            )
        set_activity_done(activity, actor=lead.owner, done=True)

    def _activity_open(
        self, lead: Lead, at, prev, *, kind, subject, days=None, minutes=None
    ) -> None:
        if days is None:
            days = (2, 8) if at < self.now - timedelta(days=STALE_DAYS) else (-1, 12)
        due = self._office(at + timedelta(days=self.rng.uniform(*days)))
        add_activity(
            lead.opportunity,
            actor=lead.owner,
            kind=kind,
            subject=subject,
            assignee=lead.owner,
            due_at=max(due, at + timedelta(hours=2)),
            duration_minutes=minutes,
        )

    def _statuses(self, met: int, showstopper: bool = False) -> dict[str, str]:
        rng = self.rng
        order = sorted(MET_FIRST, key=lambda n: MET_FIRST.index(n) + rng.uniform(0, 3))
        statuses = {}
        for i, name in enumerate(order):
            if i < met:
                statuses[name] = "met"
            else:
                statuses[name] = rng.choices(["unknown", "not_met"], weights=[3, 2])[0]
        if showstopper:
            gaps = [n for n in order[met:]]
            statuses["money" if "money" in gaps else gaps[0]] = "showstopper"
        return statuses

    def _score(self, lead: Lead, at, prev, *, met, showstopper=False) -> None:
        criteria = self._statuses(met, showstopper)
        evidence = {
            n: self.rng.choice(EVIDENCE[n])
            for n, v in criteria.items()
            if v == "met" and self.rng.random() < 0.6
        }
        evidence |= {
            n: GAP_EVIDENCE[n]
            for n, v in criteria.items()
            if v != "met" and n in GAP_EVIDENCE
        }
        score_qualification(
            lead.opportunity,
            actor=lead.owner,
            framework=Framework.SCOTSMAN,
            criteria=criteria,
            evidence=evidence,
        )

    def _rescore(self, lead: Lead, at, prev, *, met: int, note: str) -> None:
        """A partial re-score: only the criteria that change are sent (a new version)."""
        card = self._card(lead)
        current = {c.criterion: c.status for c in card.criteria.all()}
        count = sum(1 for v in current.values() if v == "met")
        criteria, evidence = {}, {}
        if met > count:
            for name in MET_FIRST:
                if count >= met:
                    break
                if current[name] != "met":
                    criteria[name] = "met"
                    evidence[name] = self.rng.choice(EVIDENCE[name])
                    count += 1
        else:
            for name in ["authority", "money", *reversed(MET_FIRST)]:
                if count <= met:
                    break
                if current[name] == "met" and name not in criteria:
                    criteria[name] = "unknown"
                    evidence[name] = GAP_EVIDENCE.get(name, "")
                    count -= 1
        score_qualification(
            lead.opportunity,
            actor=lead.owner,
            framework=Framework.SCOTSMAN,
            criteria=criteria,
            evidence=evidence,
            note=note,
        )

    def _card(self, lead: Lead) -> Scorecard | None:
        return (
            Scorecard.objects.filter(
                opportunity=lead.opportunity, framework=Framework.SCOTSMAN
            )
            .order_by("-version")
            .first()
        )

    def _bant(self, lead: Lead, at, prev) -> None:
        card = self._card(lead)
        scot = {c.criterion: c.status for c in card.criteria.all()} if card else {}
        pairs = {
            "budget": "money",
            "authority": "authority",
            "need": "need",
            "timeline": "timescales",
        }
        score_qualification(
            lead.opportunity,
            actor=lead.owner,
            framework=Framework.BANT,
            criteria={
                b: "met" if scot.get(s) == "met" else "unknown"
                for b, s in pairs.items()
            },
        )

    def _move(self, lead: Lead, at, prev, *, stage, reason) -> None:
        card = self._card(lead)
        move_stage(
            lead.opportunity,
            actor=lead.owner,
            stage=stage,
            reason=reason.format(met=card.met if card else "?"),
        )

    def _team(self, lead: Lead, at, prev) -> None:
        candidates = {
            "Installatie": ("joris", "Projectleider"),
            "Onderhoudscontract": ("koen", "Servicetechnieker"),
            "Machines": ("koen", "Technische ondersteuning"),
            "Software": ("joris", "Implementatie"),
        }
        username, role = candidates[lead.service]
        user = self.users.get(username)
        if user is not None and user != lead.owner:
            add_team_member(lead.opportunity, actor=lead.owner, user=user, role=role)

    def _competitor(self, lead: Lead, at, prev) -> None:
        for name, note in self.rng.sample(COMPETITORS, k=self.rng.randint(1, 2)):
            add_competitor(lead.opportunity, actor=lead.owner, name=name, note=note)

    def _chances(self, lead: Lead, at, prev) -> None:
        steps = [Decimal(x) / 20 for x in range(6, 19)]  # 0.30 … 0.90
        update_opportunity(
            lead.opportunity,
            actor=lead.owner,
            p_win=self.rng.choice(steps[:9]),
            p_go=self.rng.choice(steps[4:]),
        )

    def _lines(self, lead: Lead) -> list[LineInput]:
        v = float(lead.value)
        product = lead.product[0].upper() + lead.product[1:]

        def part(share: float, qty: int = 1) -> tuple[Decimal, Decimal]:
            return Decimal(qty), Decimal(str(round(v * share / qty, 0)))

        if lead.service == "Onderhoudscontract":
            return [
                LineInput(
                    f"Preventief onderhoud {lead.product}, 2 beurten per jaar",
                    *part(0.6, 3),
                ),
                LineInput(
                    "Wisselstukken, filters en olie (forfait per jaar)", *part(0.3, 3)
                ),
                LineInput("Storingsdienst 24/7, tussenkomst binnen 24 uur", *part(0.1)),
            ]
        if lead.service == "Machines":
            units = self.rng.choice([1, 1, 2, 3])
            return [
                LineInput(product, *part(0.85, units)),
                LineInput("Levering, plaatsing en inbedrijfstelling", *part(0.1)),
                LineInput("Opleiding operators (halve dag)", *part(0.05)),
            ]
        if lead.service == "Software":
            hours = max(4, round(v * 0.25 / 95))
            return [
                LineInput(
                    "Licentie energiemonitoring (per jaar, 3 jaar)", *part(0.35, 3)
                ),
                LineInput("Sensoren, gateway en bekabeling", *part(0.4)),
                LineInput(
                    "Implementatie en opleiding (uren)",
                    Decimal(hours),
                    Decimal("95.00"),
                ),
            ]
        hours = max(8, round(v * 0.22 / 78))
        return [
            LineInput(f"Levering {lead.product}", *part(0.58)),
            LineInput(
                "Montage, aansluiting en inbedrijfstelling (uren)",
                Decimal(hours),
                Decimal("78.00"),
            ),
            LineInput(
                "Leidingwerk, bekabeling en klein materiaal (forfait)", *part(0.14)
            ),
            LineInput("Transport en hijswerk", *part(0.06)),
        ]

    def _quote(self, lead: Lead, at, prev, *, override: bool = False) -> None:
        actor = lead.owner
        reason = ""
        if override:
            actor = self.director or self.users.get("admin")
            reason = (
                "Vaste klant, de prijsafspraak loopt af: offerte nu nodig om het "
                "raamcontract te verlengen. SCOTSMAN wordt intussen aangevuld."
            )
        valid = timezone.localtime(at).date() + timedelta(days=30)
        if lead.fate == "expired":
            valid = timezone.localtime(lead.when["send"]).date() + timedelta(days=14)
        lead.quote = create_quote(
            lead.opportunity,
            actor=actor,
            lines=self._lines(lead),
            vat_rate=lead.vat_rate,
            valid_until=valid,
            notes=(
                "BTW verlegd: intracommunautaire levering."
                if lead.vat_rate == 0
                else "Prijzen exclusief btw. Betaling 30% bij bestelling, saldo na oplevering."
            ),
            override_reason=reason,
        )

    def _send(self, lead: Lead, at, prev) -> None:
        lead.quote = send_quote(lead.quote, actor=lead.owner)

    def _revise(self, lead: Lead, at, prev) -> None:
        draft = revise_quote(lead.quote, actor=lead.owner)
        lines = [
            LineInput(
                line.description,
                line.quantity,
                line.unit_price,
                Decimal("0.05") if line.position == 1 else line.discount,
            )
            for line in draft.lines.all()
        ]
        lead.quote = update_draft_quote(
            draft,
            actor=lead.owner,
            lines=lines,
            valid_until=timezone.localtime(at).date() + timedelta(days=30),
            notes="Herziene offerte: 5% korting op de hoofdpost, levertermijn 6 weken.",
        )

    def _expire(self, lead: Lead, at, prev) -> None:
        lead.quote = expire_quote(lead.quote, actor=None)

    def _accept(self, lead: Lead, at, prev, *, later: bool) -> None:
        decide_quote(
            lead.quote,
            actor=lead.owner,
            accepted=True,
            close_as_won=not later,
            reason=self.rng.choice(
                [
                    "Bestelbon ontvangen.",
                    f"Offerte {lead.quote.reference} getekend terug.",
                    "Mondeling akkoord van de zaakvoerder, bevestiging per mail.",
                ]
            ),
        )

    def _close(self, lead: Lead, at, prev, *, result: str) -> None:
        rng = self.rng
        follow_up_on, follow_up_by = None, ""
        if result == "won":
            reason = "Bestelbon ontvangen; levering ingepland."
        elif result.startswith("lost"):
            rival = lead.opportunity.competitors.order_by("pk").first()
            name = rival.name if rival else rng.choice(COMPETITORS)[0]
            reason = rng.choice(
                [
                    f"Prijs: {name} was 12% goedkoper.",
                    "Te duur voor het budget; gekozen voor een goedkopere oplossing.",
                    f"Gekozen voor {name}: bestaande leverancier met raamcontract.",
                    f"{name} kon twee maanden sneller leveren.",
                ]
            )
            result = OpportunityStatus.LOST
        elif result == "not_going_ahead":
            reason = rng.choice(
                [
                    "Investering uitgesteld tot na de jaarcijfers.",
                    "Project geschrapt na een overname.",
                    "Klant herstelt de bestaande installatie zelf.",
                ]
            )
        else:
            reason = rng.choice(
                [
                    "Project verschoven naar volgend jaar; budgetronde in september.",
                    "Wil de huidige installatie nog twee jaar laten draaien.",
                    "Interesse bevestigd, maar eerst de verbouwing afwerken.",
                ]
            )
            follow_up_on = timezone.localtime(at).date() + timedelta(
                days=rng.randint(60, 240)
            )
            follow_up_by = rng.choice(FollowUpBy.values)
        close_opportunity(
            lead.opportunity,
            actor=lead.owner,
            result=result,
            reason=reason,
            follow_up_on=follow_up_on,
            follow_up_by=follow_up_by,
        )

    # --- companies: address and customer context --------------------------------------

    def _addresses(self) -> None:
        admin = self.users.get("admin")
        for company in Company.objects.order_by("pk"):
            if company.street and company.postcode:
                continue
            country = company.country if company.country in STREETS else "BE"
            street = f"{self.rng.choice(STREETS[country])} {self.rng.randint(1, 180)}"
            postcode = POSTCODES.get(company.city, "")
            if country == "NL" and postcode:
                postcode += " " + "".join(self.rng.choices(NL_LETTERS, k=2))
            with demo.frozen_time(company.created_at + timedelta(minutes=1)):
                update_company(company, actor=admin, street=street, postcode=postcode)

    def _customer_context(self) -> None:
        """Invoices, complaints and sales per year, as the ERP import would bring them."""
        rng = self.rng
        companies = list(
            Company.objects.filter(
                lifecycle__in=[Lifecycle.CUSTOMER, Lifecycle.EX_CUSTOMER]
            ).order_by("pk")
        )
        sales: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for company_id, at, amount in Order.objects.filter(
            company__in=companies, amount__isnull=False
        ).values_list("company_id", "ordered_at", "amount"):
            sales[company_id].append((timezone.localtime(at).date(), amount))
        for quote in (
            Quote.objects.filter(
                status=QuoteStatus.ACCEPTED, opportunity__company__in=companies
            )
            .select_related("opportunity")
            .prefetch_related("lines")
        ):
            net = totals(
                [(x.quantity, x.unit_price, x.discount) for x in quote.lines.all()],
                discount=quote.discount,
                vat_rate=quote.vat_rate,
            ).net
            day = timezone.localtime(quote.decided_at).date()
            sales[quote.opportunity.company_id].append((day, net))
        with_open_leads = set(
            Opportunity.objects.filter(status=OpportunityStatus.OPEN)
            .exclude(company=None)
            .values_list("company_id", flat=True)
        )
        invoices: list[Invoice] = []
        records: list[SalesRecord] = []
        customers = [c for c in companies if c.lifecycle == Lifecycle.CUSTOMER]
        for company in companies:
            rows = sorted(sales[company.pk])
            vat = Decimal("0") if company.country == "NL" else Decimal("0.21")
            service = (company.size or 20) * rng.uniform(150, 400)
            years = (
                range(self.today.year - 2, self.today.year + 1)
                if company.lifecycle == Lifecycle.CUSTOMER
                else range(self.today.year - 5, self.today.year - 2)
            )
            for year in years:
                share = (
                    self.today.timetuple().tm_yday / 365
                    if year == self.today.year
                    else 1.0
                )
                revenue = sum((a for d, a in rows if d.year == year), Decimal("0"))
                revenue += Decimal(round(service * share * rng.uniform(0.8, 1.25)))
                records.append(SalesRecord(company=company, year=year, revenue=revenue))
            if company.lifecycle != Lifecycle.CUSTOMER:
                continue
            for day, amount in rows:
                if day < self.today - timedelta(days=420):
                    continue
                issued = min(day + timedelta(days=rng.randint(2, 12)), self.today)
                due = issued + timedelta(days=30)
                paid = None
                if due < self.today or rng.random() < 0.3:
                    paid = due + timedelta(days=rng.randint(-12, 15))
                    paid = max(issued, min(paid, self.today - timedelta(days=1)))
                    if paid < issued:
                        paid = None
                invoices.append(
                    Invoice(
                        company=company,
                        number="",
                        issued_on=issued,
                        due_on=due,
                        amount=(amount * (1 + vat)).quantize(Decimal("0.01")),
                        paid_on=paid,
                    )
                )
        # Late payers: a third of the customers (those with open leads first) owe money.
        past_due = {
            i.company_id for i in invoices if i.due_on < self.today and i.paid_on
        }
        late = [c for c in customers if c.pk in past_due]
        rng.shuffle(late)
        late.sort(key=lambda c: c.pk not in with_open_leads)
        late_ids = {c.pk for c in late[: max(3, len(late) // 3)]}
        for company_id in late_ids:
            mine = [
                i
                for i in invoices
                if i.company_id == company_id and i.due_on < self.today
            ]
            for invoice in sorted(mine, key=lambda i: i.due_on)[-rng.randint(1, 2) :]:
                invoice.paid_on = None
        invoices.sort(key=lambda i: (i.issued_on, i.company_id))
        counters: dict[int, int] = defaultdict(int)
        for invoice in invoices:
            counters[invoice.issued_on.year] += 1
            invoice.number = (
                f"VF{invoice.issued_on.year}/{counters[invoice.issued_on.year]:05d}"
            )
        Invoice.objects.bulk_create(invoices)
        SalesRecord.objects.bulk_create(records)

        rng.shuffle(customers)
        customers.sort(key=lambda c: c.pk not in with_open_leads)
        complaints = []
        for i, company in enumerate(customers[:6]):
            opened = self.today - timedelta(
                days=rng.randint(5, 40) if i < 2 else rng.randint(30, 300)
            )
            complaints.append(
                Complaint(
                    company=company,
                    opened_on=opened,
                    subject=COMPLAINTS[i % len(COMPLAINTS)],
                    resolved_on=None
                    if i < 2
                    else opened + timedelta(days=rng.randint(3, 25)),
                )
            )
        Complaint.objects.bulk_create(complaints)


# --- the summary -------------------------------------------------------------------------


def pipeline_summary(now: datetime | None = None) -> str:
    """One line: what the demo's qualified leads and customer context hold."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    status = dict(
        Opportunity.objects.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    open_leads = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    quotes = dict(
        Quote.objects.order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    latest = {}
    for opp_id, version, passes in Scorecard.objects.filter(
        framework=Framework.SCOTSMAN
    ).values_list("opportunity_id", "version", "passes_gate"):
        if version >= latest.get(opp_id, (0, None))[0]:
            latest[opp_id] = (version, passes)
    overdue_activities = Activity.objects.filter(
        done_at__isnull=True,
        due_at__lt=now,
        opportunity__status=OpportunityStatus.OPEN,
    ).count()
    return (
        f"Pipeline: {status.get('open', 0)} open qualified leads "
        f"({open_leads.filter(stage_entered_at__lt=now - timedelta(days=STALE_DAYS)).count()} stale), "
        f"{status.get('won', 0)} won, {status.get('lost', 0)} lost, "
        f"{status.get('not_going_ahead', 0)} not going ahead, "
        f"{status.get('nurture', 0)} nurture; "
        f"{Scorecard.objects.count()} scorecards "
        f"({sum(1 for v, p in latest.values() if not p)} leads below the gate, "
        f"{sum(1 for v, p in latest.values() if p)} above); "
        f"{Stakeholder.objects.count()} stakeholders "
        f"({StakeholderPhaseChange.objects.filter(regression=True).count()} moved back); "
        f"{Activity.objects.count()} activities ({overdue_activities} overdue); "
        f"{sum(quotes.values())} quotes ({quotes.get('draft', 0)} draft, "
        f"{quotes.get('sent', 0)} sent, {quotes.get('accepted', 0)} accepted, "
        f"{quotes.get('superseded', 0)} superseded, "
        f"{quotes.get('declined', 0)} declined, {quotes.get('expired', 0)} expired, "
        f"{Quote.objects.filter(gate_override=True).count()} gate override); "
        f"{Invoice.objects.count()} invoices "
        f"({Invoice.objects.filter(paid_on__isnull=True, due_on__lt=today).count()} overdue), "
        f"{Complaint.objects.filter(resolved_on__isnull=True).count()} open complaints, "
        f"{SalesRecord.objects.count()} sales-history rows."
    )


def load_demo_pipeline(*, now: datetime | None = None, seed: int = SEED) -> str:
    """Enrich the demo's qualified leads and customers; returns a one-line summary."""
    now = now or timezone.now()
    PipelineDemo(now=now, seed=seed).run()
    return pipeline_summary(now)
