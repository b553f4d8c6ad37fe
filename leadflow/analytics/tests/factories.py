"""A small forecast dataset made through the real actions, with hand-computed sums.

Stages (migrations): qualification 0.25 → pipeline, proposal 0.50 → best case,
negotiation 0.75 → commit. Teams: rep and inside in North, outsider in South,
director in none.

lead  owner     stage          value   decision    service      P win  P go  weight  weighted  category
L1    rep       qualification  10000   2026-03-10  Installation  –      –     0.25    2500      pipeline
L2    rep       proposal       20000   2026-03-25  Maintenance   0.6    0.5   0.30    6000      best_case
L3    rep       negotiation     8000   2026-05-02  Installation  0.8    –     0.75    6000      commit
L4    outsider  qualification  40000   2026-04-15  Maintenance   –      –     0.25   10000      pipeline
L5    outsider  proposal       (none)  2026-03-01  (none)        –      –     0.50       0      best_case
L6    director  negotiation     5000   (none)      Consulting    0.9    1.0   0.90    4500      commit
L7    rep       qualification  12000   2026-04-30  Installation  –      –     0.25    3000      omitted (override)
L8    rep       proposal       30000   2026-03-15  Installation  closed as won: not in the forecast
L9    inside    qualification   1000   2026-06-30  Installation  –      –     0.25     250      commit (override)

L3 has only P win: one missing probability means the stage weight (0.75), not 0.8.
The forecast (everything a director sees, omitted left out) is L1–L6 and L9:
7 leads, unweighted 84,000, weighted 2500+6000+6000+10000+0+4500+250 = 29,250.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from leadflow.opportunities.actions import (
    close_opportunity,
    move_stage,
    set_forecast_category,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.tests.pipeline_factories import make_lead


@dataclass
class Leads:
    L1: Opportunity
    L2: Opportunity
    L3: Opportunity
    L4: Opportunity
    L5: Opportunity
    L6: Opportunity
    L7: Opportunity
    L8: Opportunity
    L9: Opportunity


def lead(
    owner,
    *,
    stage: str = "qualification",
    value: str | None = None,
    decision: date | None = None,
    service: str = "",
    p_win: str | None = None,
    p_go: str | None = None,
    category: str = "",
    title: str | None = None,
) -> Opportunity:
    o = make_lead(owner, owner=owner, title=title)
    update_opportunity(
        o,
        actor=owner,
        expected_value=Decimal(value) if value is not None else None,
        decision_date=decision,
        service_type=service,
        p_win=Decimal(p_win) if p_win is not None else None,
        p_go=Decimal(p_go) if p_go is not None else None,
    )
    if stage != "qualification":
        move_stage(o, actor=owner, stage=stage, reason="test data")
    if category:
        set_forecast_category(o, actor=owner, category=category)
    o.refresh_from_db()
    return o


def make_leads(personas) -> Leads:
    rep, inside = personas["rep"], personas["inside"]
    outsider, director = personas["outsider"], personas["director"]
    won = lead(
        rep,
        title="L8",
        stage="proposal",
        value="30000",
        decision=date(2026, 3, 15),
        service="Installation",
    )
    close_opportunity(won, actor=rep, result="won", reason="signed")
    return Leads(
        L1=lead(
            rep,
            title="L1",
            value="10000",
            decision=date(2026, 3, 10),
            service="Installation",
        ),
        L2=lead(
            rep,
            title="L2",
            stage="proposal",
            value="20000",
            decision=date(2026, 3, 25),
            service="Maintenance",
            p_win="0.6",
            p_go="0.5",
        ),
        L3=lead(
            rep,
            title="L3",
            stage="negotiation",
            value="8000",
            decision=date(2026, 5, 2),
            service="Installation",
            p_win="0.8",
        ),
        L4=lead(
            outsider,
            title="L4",
            value="40000",
            decision=date(2026, 4, 15),
            service="Maintenance",
        ),
        L5=lead(outsider, title="L5", stage="proposal", decision=date(2026, 3, 1)),
        L6=lead(
            director,
            title="L6",
            stage="negotiation",
            value="5000",
            service="Consulting",
            p_win="0.9",
            p_go="1.0",
        ),
        L7=lead(
            rep,
            title="L7",
            value="12000",
            decision=date(2026, 4, 30),
            service="Installation",
            category="omitted",
        ),
        L8=Opportunity.objects.get(pk=won.pk),
        L9=lead(
            inside,
            title="L9",
            value="1000",
            decision=date(2026, 6, 30),
            service="Installation",
            category="commit",
        ),
    )


def table(forecast) -> list[tuple]:
    """Rows as (key, count, unweighted, weighted) with Decimal money."""
    return [(r.key, r.count, r.unweighted, r.weighted) for r in forecast.rows]


def D(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
