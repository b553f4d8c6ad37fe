"""Qualified leads, scorecards, stakeholders and quotes made through the real actions."""

from decimal import Decimal
from itertools import count

from leadflow.contacts.models import Consent, Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.opportunities.actions import (
    LineInput,
    create_quote,
    open_opportunity,
    send_quote,
)
from leadflow.opportunities.models import Opportunity, Quote
from leadflow.qualification.actions import score_qualification
from leadflow.qualification.frameworks import Framework, criterion_names
from leadflow.qualification.models import QualificationSettings, Scorecard

_seq = count(1)

SCOTSMAN = criterion_names(Framework.SCOTSMAN)


def make_lead(
    actor,
    *,
    owner,
    contact: Contact | None = None,
    company: str = "",
    title: str | None = None,
) -> Opportunity:
    """An open qualified lead without an inquiry; its contact is not yet in the
    marketing database (closing an inquiry would have put them there)."""
    if contact is None:
        contact = make_contact(company=company or f"Lead Company {next(_seq)} NV")
    return open_opportunity(
        actor=actor,
        contact=contact,
        owner=owner,
        title=title or f"Lead {next(_seq)}",
    )


def make_person(*, company=None, opted_out: bool = False) -> Contact:
    """A contact (stakeholder); optionally one who opted out of marketing."""
    person = make_contact(company=company)
    if opted_out:
        Contact.objects.filter(pk=person.pk).update(marketing_consent=Consent.OPTED_OUT)
        person.refresh_from_db()
    return person


def scotsman_statuses(met: int, *, showstoppers: int = 0) -> dict[str, str]:
    """``met`` criteria met, then ``showstoppers`` showstoppers, the rest not met."""
    statuses = {}
    for index, name in enumerate(SCOTSMAN):
        if index < met:
            statuses[name] = "met"
        elif index < met + showstoppers:
            statuses[name] = "showstopper"
        else:
            statuses[name] = "not_met"
    return statuses


def score_scotsman(
    opportunity: Opportunity, actor, met: int, *, showstoppers: int = 0
) -> Scorecard:
    return score_qualification(
        opportunity,
        actor=actor,
        framework=Framework.SCOTSMAN,
        criteria=scotsman_statuses(met, showstoppers=showstoppers),
    )


def gate(**values) -> QualificationSettings:
    """Change the one settings row (threshold, showstopper rule, override)."""
    row, _created = QualificationSettings.objects.get_or_create(pk=1)
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    return row


def lines(*rows: tuple[str, str, str] | tuple[str, str]) -> list[LineInput]:
    """``lines(("2", "1000", "0.10"), ("1", "500"))``: quantity, price, discount."""
    out = []
    for n, row in enumerate(rows, start=1):
        quantity, price, *rest = row
        out.append(
            LineInput(
                description=f"Line {n}",
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                discount=Decimal(rest[0]) if rest else Decimal("0"),
            )
        )
    return out


def qualified_lead(actor, *, owner, **kwargs) -> Opportunity:
    """A lead whose SCOTSMAN scorecard passes the default gate (5 of 8)."""
    opportunity = make_lead(actor, owner=owner, **kwargs)
    score_scotsman(opportunity, actor, 5)
    return opportunity


def make_draft_quote(opportunity: Opportunity, actor, **kwargs) -> Quote:
    kwargs.setdefault("lines", lines(("2", "1000", "0.10"), ("1", "500")))
    return create_quote(opportunity, actor=actor, **kwargs)


def make_sent_quote(opportunity: Opportunity, actor, **kwargs) -> Quote:
    return send_quote(make_draft_quote(opportunity, actor, **kwargs), actor=actor)
