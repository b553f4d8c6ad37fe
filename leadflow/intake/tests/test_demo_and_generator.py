"""Smoke tests of the demo loader and the benchmark data generator: what they store."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from leadflow.accounts.models import Role, Team, User
from leadflow.accounts.permissions import has_capability
from leadflow.contacts.models import Company, Consent, Contact, Visit
from leadflow.contacts.queries import find_matches
from leadflow.core.phone import normalise_phone
from leadflow.core.text import company_key, name_key, normalise_email, tokens
from leadflow.intake.management.commands.load_demo import DEMO_PASSWORD
from leadflow.intake.models import Campaign, Inquiry, InquiryTransition, Order
from leadflow.intake.queries import age_in_working_hours, is_overdue
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.models import Opportunity


def outcomes() -> dict[str, int]:
    return dict(
        Inquiry.objects.values("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
        .order_by()
    )


def assert_constraints_hold() -> None:
    for inquiry in Inquiry.objects.all():
        inquiry.validate_constraints()
        if inquiry.closed_at is not None:
            assert inquiry.closed_at >= inquiry.received_at
    for order in Order.objects.all():
        order.validate_constraints()


@pytest.mark.django_db
def test_load_demo_writes_a_year_of_history_through_the_actions(monkeypatch):
    # The qualified leads' pipeline has its own test (opportunities/tests/
    # test_demo_pipeline.py); leaving it out keeps this one about intake, and fast.
    monkeypatch.setattr(
        "leadflow.intake.management.commands.load_demo.load_demo_pipeline",
        lambda **kwargs: "pipeline skipped",
    )
    out = StringIO()
    call_command("load_demo", stdout=out)

    users = User.objects.all()
    assert {u.role for u in users} == set(Role.values)
    assert users.filter(role=Role.INSIDE_SALES).count() == 2
    assert users.filter(role=Role.SALES).count() == 3
    assert {u.team.name for u in users.filter(role=Role.SALES)} == {
        "Team Noord",
        "Team Zuid",
    }
    admin = users.get(role=Role.ADMIN)
    assert admin.is_staff and admin.is_superuser
    assert all(u.check_password(DEMO_PASSWORD) for u in users)
    assert all(team.manager_id for team in Team.objects.all())
    for user in users:
        assert user.username in out.getvalue()

    assert Company.objects.count() == 50
    assert set(Company.objects.values_list("lifecycle", flat=True)) == {
        "customer",
        "ex_customer",
        "prospect",
    }
    assert Company.objects.filter(is_key_prospect=True).exists()
    assert 180 <= Contact.objects.count() <= 230
    assert Contact.objects.filter(marketing_consent=Consent.OPTED_OUT).exists()

    counts = outcomes()
    assert counts[""] == Inquiry.objects.open().count() == 12
    assert counts["qualified"] >= 50 and counts["nurture"] >= 50
    assert counts["archived"] >= 20
    assert 280 <= Inquiry.objects.count() <= 310
    assert not Inquiry.objects.filter(outcome="archived", close_reason="").exists()
    assert Inquiry.objects.exclude(campaign=None).exists()
    assert Inquiry.objects.filter(prompted=True).exists()
    assert Inquiry.objects.filter(prompted=False).exists()
    assert Inquiry.objects.exclude(referrer="").exists()
    assert Campaign.objects.count() == 5

    # Every inquiry has its transition rows, stamped at the historic time.
    for inquiry in Inquiry.objects.filter(status="closed"):
        closing = InquiryTransition.objects.get(inquiry=inquiry, to_state="closed")
        assert closing.at == inquiry.closed_at
        assert age_in_working_hours(inquiry) <= 30  # closed within a few working days
    assert InquiryTransition.objects.filter(to_state="open").count() == (
        Inquiry.objects.count()
    )
    open_inquiries = list(Inquiry.objects.open())
    assert any(is_overdue(i) for i in open_inquiries)
    assert not all(is_overdue(i) for i in open_inquiries)

    qualified = Inquiry.objects.filter(outcome="qualified")
    assert (
        Opportunity.objects.filter(inquiry__in=qualified).count() == qualified.count()
    )
    owners = User.objects.filter(owned_opportunities__isnull=False).distinct()
    assert all(has_capability(u, "opportunity.own") for u in owners)
    assert owners.filter(role=Role.SALES).exists()
    lists = set(ListMembership.objects.values_list("marketing_list__name", flat=True))
    assert {"Nieuwsbrief", "Workshop uitnodiging", "Nieuwjaarskaart"} <= lists
    assert not ListMembership.objects.filter(
        contact__marketing_consent=Consent.OPTED_OUT
    ).exists()
    assert Order.objects.count() > 40
    assert set(Visit.objects.values_list("kind", flat=True)) == {"website", "sales"}
    assert_constraints_hold()

    again = StringIO()
    call_command("load_demo", "--if-empty", stdout=again)
    assert "not loaded" in again.getvalue() and DEMO_PASSWORD in again.getvalue()
    assert Inquiry.objects.count() == sum(counts.values())


@pytest.mark.django_db
def test_generate_data_fills_match_keys_and_respects_the_constraints():
    call_command(
        "generate_data", "--inquiries", "200", "--contacts", "50", stdout=StringIO()
    )

    assert Contact.objects.count() == 50
    assert Company.objects.count() == 50 // 6
    assert Inquiry.objects.count() == 200
    counts = outcomes()
    assert (
        counts.get("", 0) + counts["qualified"] + counts["nurture"] + counts["archived"]
        == 200
    )
    assert (
        counts["qualified"] > 20 and counts["nurture"] > 40 and counts["archived"] > 20
    )
    assert Opportunity.objects.count() == counts["qualified"]
    assert not Inquiry.objects.filter(outcome="archived", close_reason="").exists()
    assert_constraints_hold()

    for contact in Contact.objects.select_related("company"):
        assert contact.name_key == name_key(contact.name)
        assert contact.email_key == normalise_email(contact.email)
        country = contact.company.country if contact.company else ""
        assert contact.phone_key == normalise_phone(contact.phone, country)
        assert set(contact.tokens.values_list("token", flat=True)) == tokens(
            contact.name
        )
        asked = contact.inquiries.filter(status="closed").exists()
        assert contact.in_marketing_database == (asked and not contact.opted_out)
    for company in Company.objects.all():
        assert company.name_key == (company_key(company.name) or name_key(company.name))
    assert not ListMembership.objects.filter(
        contact__marketing_consent=Consent.OPTED_OUT
    ).exists()

    someone = Contact.objects.exclude(phone_key="").order_by("id").first()
    matches, _companies = find_matches(email=someone.email.upper())
    assert [m.contact for m in matches] == [someone]
    matches, _companies = find_matches(phone=someone.phone)
    assert someone in [m.contact for m in matches]
