"""6. Efficiency: how fast inquiries get a first action, where sales time goes (and is
lost), quotes per order, whether better-documented leads are won more often, whether
inquiries from customers, known or unknown people do better, and who follows up on
time (SPEC step 5; DOMAIN.md §8 KPIs 2, 7 and 18).
"""

from collections import defaultdict

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.models import User
from leadflow.analytics.reports.base import (
    Chart,
    Column,
    Dataset,
    Kind,
    Report,
    ReportResult,
    Table,
    median,
    ratio,
    register,
)
from leadflow.analytics.reports.cycle_times import DaysBetween
from leadflow.analytics.scope import Scope
from leadflow.contacts.models import Lifecycle
from leadflow.intake.models import InquiryTransition, Order
from leadflow.intake.states import Outcome
from leadflow.opportunities.models import Opportunity, Stakeholder
from leadflow.opportunities.states import ActivityKind, OpportunityStatus
from leadflow.qualification.frameworks import Framework
from leadflow.qualification.models import Scorecard

WON = OpportunityStatus.WON
DECIDED = (WON, OpportunityStatus.LOST, OpportunityStatus.NOT_GOING_AHEAD)
OUTCOMES = (
    WON,
    OpportunityStatus.LOST,
    OpportunityStatus.NOT_GOING_AHEAD,
    OpportunityStatus.NURTURE,
    OpportunityStatus.OPEN,
)
# Documentation completeness: how many of the five items a closed lead has.
COMPLETENESS_BUCKETS = (("low", 0, 2), ("medium", 3, 4), ("high", 5, 5))
CONTACT_TYPES = ("customer", "known", "unknown")


def _names(ids) -> dict:
    return {u.pk: str(u) for u in User.objects.filter(pk__in=[i for i in ids if i])}


def _person(names: dict, pk) -> str:
    return names.get(pk, "?") if pk else _("Nobody")


def _ones(condition) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0))


# --- speed to first action -------------------------------------------------------------


def first_action_rows(scope: Scope):
    """(person, hours to the first triage action or None) for every inquiry received
    in the period: the person who assesses it, else who closed it."""
    first_move = Subquery(
        InquiryTransition.objects.filter(inquiry=OuterRef("pk"))
        .exclude(from_state="")
        .order_by("at", "pk")
        .values("at")[:1],
        output_field=DateTimeField(),
    )
    return (
        scope.inquiries("received_at")
        .annotate(
            _person=Coalesce("assignee_id", "closed_by_id"),
            _days=DaysBetween("received_at", Coalesce(first_move, "closed_at")),
        )
        .values_list("_person", "_days")
    )


def speed_to_first_action(scope: Scope) -> list[dict]:
    """Per person: inquiries, acted, median hours and the counts within 1 h / 24 h,
    from one pass over the cohort (the median needs every wait anyway)."""
    per: dict = defaultdict(lambda: {"inquiries": 0, "hour": 0, "day": 0, "waits": []})
    for person, days in first_action_rows(scope).iterator(chunk_size=5000):
        bucket = per[person]
        bucket["inquiries"] += 1
        if days is None:
            continue
        hours = days * 24
        bucket["waits"].append(hours)
        bucket["hour"] += hours <= 1
        bucket["day"] += hours <= 24
    names = _names(per)
    rows = [
        {
            "name": _person(names, pk),
            "inquiries": c["inquiries"],
            "acted": len(c["waits"]),
            "median_hours": median(c["waits"]),
            "within_hour": ratio(c["hour"], c["inquiries"]),
            "within_day": ratio(c["day"], c["inquiries"]),
            "_counts": {"within_hour": c["hour"], "within_day": c["day"]},
            "_waits": c["waits"],
        }
        for pk, c in per.items()
    ]
    rows.sort(key=lambda r: (-r["inquiries"], r["name"]))
    return rows


def _speed_totals(rows: list[dict]) -> dict:
    inquiries = sum(r["inquiries"] for r in rows)
    return {
        "inquiries": inquiries,
        "acted": sum(r["acted"] for r in rows),
        "median_hours": median([w for r in rows for w in r["_waits"]]),
        "within_hour": ratio(sum(r["_counts"]["within_hour"] for r in rows), inquiries),
        "within_day": ratio(sum(r["_counts"]["within_day"] for r in rows), inquiries),
    }


# --- where sales time goes ---------------------------------------------------------------


def time_per_outcome(scope: Scope) -> list[dict]:
    """Activities done in the period: count per kind and hours, per (owner-side)
    assignee and per result of their qualified lead."""
    return list(
        scope.activities("done_at")
        .values("assignee", "opportunity__status")
        .annotate(
            activities=Count("pk"),
            appointments=Count("pk", filter=Q(kind=ActivityKind.APPOINTMENT)),
            calls=Count("pk", filter=Q(kind=ActivityKind.CALL)),
            tasks=Count("pk", filter=Q(kind=ActivityKind.TASK)),
            minutes=Coalesce(Sum("duration_minutes"), 0),
        )
    )


# --- documentation and contact type ----------------------------------------------------


def completeness_expression():
    """0–5: expected value, decision date, service type, a SCOTSMAN scorecard, at
    least one stakeholder."""
    scorecard = Exists(
        Scorecard.objects.filter(
            opportunity=OuterRef("pk"), framework=Framework.SCOTSMAN
        )
    )
    stakeholder = Exists(Stakeholder.objects.filter(opportunity=OuterRef("pk")))
    return ExpressionWrapper(
        _ones(Q(expected_value__isnull=False))
        + _ones(Q(decision_date__isnull=False))
        + _ones(~Q(service_type=""))
        + _ones(Q(scorecard))
        + _ones(Q(stakeholder)),
        output_field=IntegerField(),
    )


def contact_type_expression() -> Case:
    """What the requester was when the inquiry came in (see the definitions). Each
    look-up is on one indexed column (requester or company), never on both at once:
    an OR of the two makes the database scan instead of seek."""

    def either(model, **conditions):
        return Q(
            Exists(
                model.objects.filter(contact_id=OuterRef("contact_id"), **conditions)
            )
        ) | Q(
            Exists(
                model.objects.filter(company_id=OuterRef("company_id"), **conditions)
            )
        )

    won_before = either(Opportunity, status=WON, closed_at__lt=OuterRef("received_at"))
    won_since = either(Opportunity, status=WON, closed_at__gte=OuterRef("received_at"))
    ordered_before = either(Order, ordered_at__lt=OuterRef("received_at"))
    customer_now = Q(
        contact__lifecycle__in=(Lifecycle.CUSTOMER, Lifecycle.EX_CUSTOMER)
    ) | Q(company__lifecycle__in=(Lifecycle.CUSTOMER, Lifecycle.EX_CUSTOMER))
    return Case(
        When(won_before | ordered_before, then=Value("customer")),
        When(customer_now & ~won_since, then=Value("customer")),
        When(contact__created_at__lt=F("received_at"), then=Value("known")),
        default=Value("unknown"),
        output_field=CharField(),
    )


@register
class EfficiencyReport(Report):
    name = "efficiency"
    number = 6
    title = gettext_lazy("Efficiency")
    summary = gettext_lazy(
        "How fast inquiries get a first action, where sales time goes and is lost, "
        "quotes per order, whether well-documented leads and inquiries from "
        "customers are won more often, and who follows up on time."
    )
    definitions = (
        gettext_lazy(
            "Speed to first action (cohort: inquiries received in the period): from "
            "reception to the first change after registration (today: its closing "
            "as qualified, nurture or archived), in calendar hours, not working "
            "hours. Median over the inquiries that had one; “within 1 h / 24 h” "
            "over all inquiries received, so inquiries still waiting count as "
            "late. Person: who assesses the inquiry, else who closed it."
        ),
        gettext_lazy(
            "Sales time (event: activities marked done in the period): the sum of "
            "their durations, by the current result of their qualified lead (won, "
            "lost, not going ahead, nurture, open) and by the person they were "
            "assigned to. Activities without a duration count but add no hours."
        ),
        gettext_lazy(
            "Quotes per order (event): quotes sent in the period (each revision "
            "sent counts) ÷ qualified leads won in the period, per owner; hit rate "
            "= won ÷ quotes sent (the inverse)."
        ),
        gettext_lazy(
            "Documentation completeness (qualified leads closed as won, lost or "
            "not going ahead in the period, as they are today): one point each for "
            "an expected value, a decision date, a service type, a SCOTSMAN "
            "scorecard and at least one stakeholder. Low = 0–2, medium = 3–4, "
            "high = 5. Win rate = won ÷ (won + lost + not going ahead)."
        ),
        gettext_lazy(
            "Contact type at the time of the inquiry (cohort: inquiries received "
            "in the period): customer = the requester or their company had a won "
            "qualified lead or a booked order before the inquiry, or is a customer "
            "(or ex-customer) today without a lead won since; known = otherwise a "
            "contact that existed before the inquiry was received; unknown = a "
            "contact created with (after the reception of) the inquiry. Win rate "
            "= won ÷ (won + lost + not going ahead) of the leads these inquiries "
            "became."
        ),
        gettext_lazy(
            "On time (activities due in the period, up to now): done at or before "
            "the due moment; late: done after it; open: not done yet and overdue. "
            "Share on time = on time ÷ due."
        ),
    )

    def compute(self, scope: Scope) -> ReportResult:
        speed = speed_to_first_action(scope)
        speed_totals = _speed_totals(speed)
        outcome_rows, person_time_rows, hours_lost = self._sales_time(scope)
        quote_rows, quote_totals = self._quotes_per_order(scope)
        doc_rows = self._completeness(scope)
        contact_rows = self._contact_types(scope)
        follow_rows, follow_totals = self._follow_up(scope)
        outcome_labels = [r["name"] for r in outcome_rows]
        return ReportResult(
            figures=[
                (
                    _("Median hours to first action"),
                    speed_totals["median_hours"],
                    Kind.HOURS,
                ),
                (_("First action within 1 h"), speed_totals["within_hour"], Kind.RATIO),
                (_("Hours spent on lost leads"), hours_lost, Kind.HOURS),
                (
                    _("Quotes per order"),
                    quote_totals["quotes_per_order"],
                    Kind.NUMBER,
                ),
                (
                    _("Activities done on time"),
                    follow_totals["on_time_share"],
                    Kind.RATIO,
                ),
            ],
            charts=[
                Chart(
                    key="hours-per-outcome",
                    title=_("Sales hours by result of the lead"),
                    type="doughnut",
                    labels=outcome_labels,
                    datasets=[
                        Dataset(
                            _("Hours"),
                            [r["hours"] for r in outcome_rows],
                            Kind.HOURS,
                        )
                    ],
                ),
                Chart(
                    key="win-rate-by-completeness",
                    title=_("Win rate by documentation completeness"),
                    type="bar",
                    labels=[r["name"] for r in doc_rows],
                    datasets=[
                        Dataset(
                            _("Win rate"),
                            [r["win_rate"] for r in doc_rows],
                            Kind.RATIO,
                        )
                    ],
                ),
                Chart(
                    key="win-rate-by-contact-type",
                    title=_("Win rate by contact type"),
                    type="bar",
                    labels=[r["name"] for r in contact_rows],
                    datasets=[
                        Dataset(
                            _("Win rate"),
                            [r["win_rate"] for r in contact_rows],
                            Kind.RATIO,
                        )
                    ],
                ),
            ],
            tables=[
                Table(
                    "speed",
                    _("Speed to first action per person"),
                    [
                        Column("name", _("Person")),
                        Column("inquiries", _("Inquiries"), Kind.INT),
                        Column("acted", _("With a first action"), Kind.INT),
                        Column("median_hours", _("Median hours"), Kind.HOURS),
                        Column("within_hour", _("Within 1 h"), Kind.RATIO),
                        Column("within_day", _("Within 24 h"), Kind.RATIO),
                    ],
                    [
                        {k: v for k, v in r.items() if not k.startswith("_")}
                        for r in speed
                    ],
                    speed_totals,
                ),
                Table(
                    "time-by-outcome",
                    _("Where sales time goes: by result of the lead"),
                    [
                        Column("name", _("Result")),
                        Column("activities", _("Activities"), Kind.INT),
                        Column("appointments", _("Appointments"), Kind.INT),
                        Column("calls", _("Calls"), Kind.INT),
                        Column("tasks", _("Tasks"), Kind.INT),
                        Column("hours", _("Hours"), Kind.HOURS),
                        Column("share", _("Share of hours"), Kind.RATIO),
                    ],
                    outcome_rows,
                    {
                        key: sum(r[key] for r in outcome_rows)
                        for key in ("activities", "appointments", "calls", "tasks")
                    }
                    | {
                        "hours": sum(r["hours"] for r in outcome_rows),
                        "share": 1.0 if any(r["hours"] for r in outcome_rows) else None,
                    },
                ),
                Table(
                    "time-by-person",
                    _("Where sales time goes: by person"),
                    [
                        Column("name", _("Person")),
                        Column("activities", _("Activities"), Kind.INT),
                        Column("won", _("Hours on won"), Kind.HOURS),
                        Column("lost", _("Hours on lost"), Kind.HOURS),
                        Column(
                            "not_going_ahead",
                            _("Hours on not going ahead"),
                            Kind.HOURS,
                        ),
                        Column("nurture", _("Hours on nurture"), Kind.HOURS),
                        Column("open", _("Hours on open"), Kind.HOURS),
                        Column("hours", _("Hours"), Kind.HOURS),
                        Column("lost_share", _("Share on lost"), Kind.RATIO),
                    ],
                    person_time_rows,
                ),
                Table(
                    "quotes-per-order",
                    _("Quotes per order per owner"),
                    [
                        Column("name", _("Owner")),
                        Column("quotes_sent", _("Quotes sent"), Kind.INT),
                        Column("won", _("Won"), Kind.INT),
                        Column("quotes_per_order", _("Quotes per order"), Kind.NUMBER),
                        Column("hit_rate", _("Hit rate"), Kind.RATIO),
                    ],
                    quote_rows,
                    quote_totals,
                ),
                Table(
                    "completeness",
                    _("Documentation completeness and win rate"),
                    [
                        Column("name", _("Completeness")),
                        Column("closed", _("Closed"), Kind.INT),
                        Column("won", _("Won"), Kind.INT),
                        Column("win_rate", _("Win rate"), Kind.RATIO),
                    ],
                    doc_rows,
                ),
                Table(
                    "contact-type",
                    _("Contact type at the time of the inquiry"),
                    [
                        Column("name", _("Contact type")),
                        Column("inquiries", _("Inquiries"), Kind.INT),
                        Column("qualified", _("Qualified"), Kind.INT),
                        Column("closed", _("Decided"), Kind.INT),
                        Column("won", _("Won"), Kind.INT),
                        Column("win_rate", _("Win rate"), Kind.RATIO),
                        Column("conversion", _("Inquiry → won"), Kind.RATIO),
                    ],
                    contact_rows,
                ),
                Table(
                    "follow-up",
                    _("Who follows up on time"),
                    [
                        Column("name", _("Person")),
                        Column("due", _("Due"), Kind.INT),
                        Column("on_time", _("On time"), Kind.INT),
                        Column("late", _("Late"), Kind.INT),
                        Column("open", _("Open, overdue"), Kind.INT),
                        Column("on_time_share", _("Share on time"), Kind.RATIO),
                    ],
                    follow_rows,
                    follow_totals,
                ),
            ],
        )

    # --- sales time ------------------------------------------------------------------

    def _sales_time(self, scope: Scope):
        groups = time_per_outcome(scope)
        labels = dict(OpportunityStatus.choices)
        per_outcome = {
            s: {"activities": 0, "appointments": 0, "calls": 0, "tasks": 0, "min": 0}
            for s in OUTCOMES
        }
        per_person: dict = defaultdict(lambda: defaultdict(int))
        for g in groups:
            target = per_outcome[g["opportunity__status"]]
            for key in ("activities", "appointments", "calls", "tasks"):
                target[key] += g[key]
            target["min"] += g["minutes"]
            person = per_person[g["assignee"]]
            person["activities"] += g["activities"]
            person[g["opportunity__status"]] += g["minutes"]
        total_minutes = sum(v["min"] for v in per_outcome.values())
        outcome_rows = [
            {
                "name": str(labels[s]),
                **{k: v for k, v in per_outcome[s].items() if k != "min"},
                "hours": per_outcome[s]["min"] / 60,
                "share": ratio(per_outcome[s]["min"], total_minutes),
            }
            for s in OUTCOMES
        ]
        names = _names(per_person)
        person_rows = []
        for pk, minutes in per_person.items():
            total = sum(minutes[s] for s in OUTCOMES)
            person_rows.append(
                {
                    "name": _person(names, pk),
                    "activities": minutes["activities"],
                    **{str(s): minutes[s] / 60 for s in OUTCOMES},
                    "hours": total / 60,
                    "lost_share": ratio(minutes[OpportunityStatus.LOST], total),
                }
            )
        person_rows.sort(key=lambda r: (-r["hours"], r["name"]))
        hours_lost = per_outcome[OpportunityStatus.LOST]["min"] / 60
        return outcome_rows, person_rows, hours_lost

    # --- quotes per order ------------------------------------------------------------

    def _quotes_per_order(self, scope: Scope):
        sent = dict(
            scope.quotes("sent_at")
            .values("opportunity__owner")
            .annotate(n=Count("pk"))
            .values_list("opportunity__owner", "n")
        )
        won = dict(
            scope.opportunities("closed_at")
            .filter(status=WON)
            .values("owner")
            .annotate(n=Count("pk"))
            .values_list("owner", "n")
        )
        names = _names(set(sent) | set(won))

        def row(name, quotes, orders):
            return {
                "name": name,
                "quotes_sent": quotes,
                "won": orders,
                "quotes_per_order": ratio(quotes, orders),
                "hit_rate": ratio(orders, quotes),
            }

        rows = [
            row(_person(names, pk), sent.get(pk, 0), won.get(pk, 0))
            for pk in set(sent) | set(won)
        ]
        rows.sort(key=lambda r: (-r["quotes_sent"], r["name"]))
        return rows, row("", sum(sent.values()), sum(won.values()))

    # --- documentation completeness ----------------------------------------------------

    def _completeness(self, scope: Scope) -> list[dict]:
        counts = (
            scope.opportunities("closed_at")
            .filter(status__in=DECIDED)
            .annotate(_score=completeness_expression())
            .values("_score")
            .annotate(closed=Count("pk"), won=Count("pk", filter=Q(status=WON)))
        )
        by_score = {r["_score"]: r for r in counts}
        labels = {
            "low": _("Low (0–2)"),
            "medium": _("Medium (3–4)"),
            "high": _("High (5)"),
        }
        rows = []
        for key, low, high in COMPLETENESS_BUCKETS:
            closed = sum(
                by_score.get(s, {}).get("closed", 0) for s in range(low, high + 1)
            )
            won = sum(by_score.get(s, {}).get("won", 0) for s in range(low, high + 1))
            rows.append(
                {
                    "name": str(labels[key]),
                    "closed": closed,
                    "won": won,
                    "win_rate": ratio(won, closed),
                }
            )
        return rows

    # --- contact type ------------------------------------------------------------------

    def _contact_types(self, scope: Scope) -> list[dict]:
        counts = {
            r["_type"]: r
            for r in scope.inquiries("received_at")
            .annotate(_type=contact_type_expression())
            .values("_type")
            .annotate(
                inquiries=Count("pk"),
                qualified=Count("pk", filter=Q(outcome=Outcome.QUALIFIED)),
                closed=Count("pk", filter=Q(opportunity__status__in=DECIDED)),
                won=Count("pk", filter=Q(opportunity__status=WON)),
            )
        }
        labels = {
            "customer": _("Customer"),
            "known": _("Known, not a customer"),
            "unknown": _("Unknown (new contact)"),
        }
        rows = []
        for key in CONTACT_TYPES:
            c = counts.get(key, {})
            inquiries, won = c.get("inquiries", 0), c.get("won", 0)
            rows.append(
                {
                    "name": str(labels[key]),
                    "inquiries": inquiries,
                    "qualified": c.get("qualified", 0),
                    "closed": c.get("closed", 0),
                    "won": won,
                    "win_rate": ratio(won, c.get("closed", 0)),
                    "conversion": ratio(won, inquiries),
                }
            )
        return rows

    # --- prompt follow-up --------------------------------------------------------------

    def _follow_up(self, scope: Scope):
        now = timezone.now()
        counts = list(
            scope.activities("due_at")
            .filter(due_at__lte=now)
            .values("assignee")
            .annotate(
                due=Count("pk"),
                on_time=Count("pk", filter=Q(done_at__lte=F("due_at"))),
                late=Count("pk", filter=Q(done_at__gt=F("due_at"))),
                open=Count("pk", filter=Q(done_at__isnull=True)),
            )
        )
        names = _names(r["assignee"] for r in counts)
        rows = [
            {
                "name": _person(names, r["assignee"]),
                "due": r["due"],
                "on_time": r["on_time"],
                "late": r["late"],
                "open": r["open"],
                "on_time_share": ratio(r["on_time"], r["due"]),
            }
            for r in counts
        ]
        rows.sort(key=lambda r: (-r["due"], r["name"]))
        totals = {
            key: sum(r[key] for r in rows) for key in ("due", "on_time", "late", "open")
        }
        totals["on_time_share"] = ratio(totals["on_time"], totals["due"])
        return rows, totals
