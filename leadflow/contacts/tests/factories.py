"""Contacts and companies made through the real actions (tokens, keys, audit rows)."""

from itertools import count

from leadflow.contacts.actions import (
    ContactData,
    create_contact,
    find_or_create_company,
)
from leadflow.contacts.models import Company, Contact

_seq = count(1)


def make_company(
    name: str | None = None, *, actor=None, size: int | None = None
) -> Company:
    return find_or_create_company(
        name or f"Company {next(_seq)} BV", actor=actor, size=size
    )


def make_contact(
    name: str | None = None,
    *,
    email: str | None = None,
    phone: str = "",
    company: str | Company | None = None,
    actor=None,
    country: str = "",
) -> Contact:
    """A new contact; a company given by name is found or created like at intake."""
    n = next(_seq)
    company_obj = company if isinstance(company, Company) else None
    return create_contact(
        ContactData(
            name=name or f"Person {n}",
            email=f"person{n}@example.be" if email is None else email,
            phone=phone,
            company_name=company if isinstance(company, str) else "",
            country=country,
        ),
        actor=actor,
        company=company_obj,
    )
