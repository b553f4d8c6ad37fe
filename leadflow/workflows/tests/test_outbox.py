"""The workflow outbox: transition rows → notification rules → in-app and e-mail.

Inquiries and qualified leads are made through the real actions; the outbox is run
explicitly with ``process_outbox()`` (inside a test transaction the after-commit
wake-up never fires unless a test captures it).
"""

import importlib
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.db import connection
from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.audit.models import AuditEvent
from leadflow.audit.queries import timeline_for
from leadflow.contacts.actions import ContactData
from leadflow.contacts.tests.factories import make_company
from leadflow.core.lifecycle import wake_outbox
from leadflow.intake.actions import InquiryInput, close_inquiry, register_inquiry
from leadflow.intake.models import Channel, Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_campaign, make_inquiry
from leadflow.opportunities.actions import (
    close_opportunity,
    decide_quote,
    move_stage,
)
from leadflow.opportunities.models import (
    Opportunity,
    OpportunityTransition,
    QuoteTransition,
)
from leadflow.opportunities.tests.pipeline_factories import (
    make_sent_quote,
    qualified_lead,
)
from leadflow.workflows import outbox
from leadflow.workflows.models import Notification, NotificationRule, RuleEvent
from leadflow.workflows.outbox import load_rules, process_outbox
from leadflow.workflows.tasks import email_notification

pytestmark = pytest.mark.django_db

OUTBOX_MODELS = (InquiryTransition, OpportunityTransition, QuoteTransition)


# --- helpers --------------------------------------------------------------------------


def make_rule(
    name: str,
    event: str = RuleEvent.INQUIRY_REGISTERED,
    *,
    users=(),
    companies=(),
    channels=(),
    campaigns=(),
    departments=(),
    teams=(),
    **fields,
) -> NotificationRule:
    rule = NotificationRule.objects.create(name=name, event=event, **fields)
    rule.recipient_users.set(users)
    rule.companies.set(companies)
    rule.channels.set(channels)
    rule.campaigns.set(campaigns)
    rule.departments.set(departments)
    rule.teams.set(teams)
    return rule


def register(
    actor, name: str, company: str = "", *, size: int | None = None, **extra
) -> Inquiry:
    """A new requester (and company, if named) registered through the real action."""
    slug = re.sub(r"\W+", ".", name.lower())
    return register_inquiry(
        InquiryInput(
            summary=f"Quote for office chairs ({name})",
            channel=extra.pop("channel", "phone"),
            contact=ContactData(
                name=name,
                email=f"{slug}@example.be",
                company_name=company,
                company_size=size,
            ),
            **extra,
        ),
        actor=actor,
    )


def told(**filters) -> list[tuple[str, str]]:
    """(recipient, rule) of the notifications the rules delivered, sorted."""
    return sorted(
        Notification.objects.filter(rule__isnull=False, **filters).values_list(
            "recipient__username", "rule__name"
        )
    )


def source_of(row) -> str:
    return f"{row._meta.label_lower}:{row.pk}"


def registration_row(inquiry: Inquiry) -> InquiryTransition:
    return InquiryTransition.objects.get(
        inquiry=inquiry, data__event="inquiry.registered"
    )


def unprocessed() -> int:
    return sum(
        m.objects.filter(processed_at__isnull=True).count() for m in OUTBOX_MODELS
    )


@pytest.fixture
def north_manager(teams, director):
    """The sales director manages team North (inside and rep are in it)."""
    teams["North"].manager = director
    teams["North"].save()
    return director


# --- the SPEC example -------------------------------------------------------------------


@pytest.fixture
def spec_rules(director):
    """SPEC: the sales director gets every new inquiry from a list of key accounts or
    from companies above 200 employees: two rules on "New inquiry registered"."""
    acme = make_company("Acme NV")
    globex = make_company("Globex BV", size=40)
    key = make_rule("Key accounts", users=[director], companies=[acme, globex])
    large = make_rule("Large companies", users=[director], min_company_size=200)
    return {"key": key, "large": large, "acme": acme, "globex": globex}


def test_spec_example_the_director_hears_of_key_accounts_and_large_companies(
    spec_rules, inside, director
):
    acme = register(inside, "Sofie Claes", "Acme NV")  # key account, size unknown
    globex = register(inside, "Gert Globex", "Globex BV")  # key account, 40 people
    big = register(inside, "Bea Big", "Bigcorp NV", size=500)
    edge = register(inside, "Eddy Edge", "Edge BV", size=200)
    register(inside, "Sam Small", "Smallco BV", size=50)
    register(inside, "Una Unknown", "Unknown Size BV")
    register(inside, "Piet Private")  # no company at all

    assert process_outbox() == 7
    assert unprocessed() == 0

    assert told() == [
        ("director", "Key accounts"),
        ("director", "Key accounts"),
        ("director", "Large companies"),
        ("director", "Large companies"),
    ]
    assert Notification.objects.count() == 4  # nobody else was told anything
    expected = {
        acme: (spec_rules["key"], "New inquiry from Sofie Claes (Acme NV)"),
        globex: (spec_rules["key"], "New inquiry from Gert Globex (Globex BV)"),
        big: (spec_rules["large"], "New inquiry from Bea Big (Bigcorp NV)"),
        edge: (spec_rules["large"], "New inquiry from Eddy Edge (Edge BV)"),
    }
    for inquiry, (rule, message) in expected.items():
        n = Notification.objects.get(
            subject_id=inquiry.pk, subject_type="intake.inquiry"
        )
        assert n.recipient == director
        assert n.rule == rule
        assert n.message == message
        assert n.url == f"/inquiries/{inquiry.pk}/"
        assert n.event_type == "inquiry.registered"
        assert n.source == source_of(registration_row(inquiry))
        assert n.read_at is None
        assert n.emailed_at is None  # e-mail goes after commit


def test_a_key_account_above_200_employees_tells_the_director_once(
    spec_rules, inside, director
):
    register(inside, "Karel Key", "Acme NV", size=900)
    process_outbox()
    assert Notification.objects.filter(recipient=director).count() == 1


def test_the_actor_is_never_told_of_their_own_action(spec_rules, director, inside):
    everyone = make_rule(
        "Every inquiry to sales",
        recipient_roles=[Role.SALES_DIRECTOR, Role.INSIDE_SALES],
    )
    mine = register(director, "Dora Director", "Bigcorp NV", size=500)
    theirs = register(inside, "Ivo Inside", "Acme NV")
    process_outbox()

    assert told(subject_id=mine.pk) == [("inside", everyone.name)]
    # Two rules match the director; a person is told once per event.
    assert told(subject_id=theirs.pk) == [("director", everyone.name)]


def test_recipients_by_role_and_by_name_once_each_and_only_active_people(
    personas, inside, rep, outsider, director
):
    gone = User.objects.create(username="gone", role=Role.SALES, is_active=False)
    rule = make_rule(
        "Sales hears everything",
        recipient_roles=[Role.SALES],
        users=[rep, director, gone],
    )
    register(inside, "Rita Role")
    process_outbox()
    assert told() == [
        ("director", rule.name),
        ("outsider", rule.name),
        ("rep", rule.name),
    ]


def test_an_inactive_rule_tells_nobody(inside, director):
    make_rule("Switched off", users=[director], is_active=False)
    register(inside, "Olga Off")
    assert process_outbox() == 1
    assert not Notification.objects.exists()


# --- qualified leads and quotes ---------------------------------------------------------


def test_a_qualified_lead_tells_its_owner_and_the_owners_manager(
    north_manager, inside, rep, director
):
    created = make_rule(
        "New leads",
        RuleEvent.OPPORTUNITY_CREATED,
        notify_owner=True,
        notify_owner_manager=True,
    )
    qualified = make_rule(
        "Qualified inquiries",
        RuleEvent.INQUIRY_CLOSED,
        outcome="qualified",
        recipient_roles=[Role.SALES_DIRECTOR],
    )
    inquiry = register(inside, "Quinten Qualified", "Quality NV")
    nurtured = register(inside, "Nora Nurture")
    close_inquiry(nurtured, actor=inside, outcome="nurture")
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    process_outbox()

    opportunity = Opportunity.objects.get(inquiry=inquiry)
    assert told(event_type="opportunity.created") == [
        ("director", created.name),
        ("rep", created.name),
    ]
    n = Notification.objects.get(rule=created, recipient=rep)
    assert n.message == f"New qualified lead: {opportunity.title}"
    assert n.url == f"/opportunities/{opportunity.pk}/"
    assert (n.subject_type, n.subject_id) == (
        "opportunities.opportunity",
        opportunity.pk,
    )
    row = OpportunityTransition.objects.get(opportunity=opportunity)
    assert n.source == source_of(row)
    # Only the qualified close matched the outcome filter.
    assert told(event_type="inquiry.closed") == [("director", qualified.name)]
    closed = Notification.objects.get(rule=qualified)
    assert closed.subject_id == inquiry.pk
    assert closed.message == (
        "Inquiry closed (Qualified): Quinten Qualified (Quality NV)"
    )


def test_the_owner_who_qualified_it_themselves_is_not_told(
    north_manager, inside, rep, director
):
    rule = make_rule(
        "New leads",
        RuleEvent.OPPORTUNITY_CREATED,
        notify_owner=True,
        notify_owner_manager=True,
    )
    inquiry = register(inside, "Olaf Own")
    close_inquiry(inquiry, actor=rep, outcome="qualified", owner=rep)
    process_outbox()
    assert told() == [("director", rule.name)]


def test_an_owner_without_team_has_no_manager_to_tell(inside, outsider, marketer):
    make_rule("Managers only", RuleEvent.OPPORTUNITY_CREATED, notify_owner_manager=True)
    outsider.team = None
    outsider.save()
    inquiry = register(inside, "Tom Teamless")
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=outsider)
    process_outbox()
    assert told() == []


def test_an_inactive_owner_is_not_told(north_manager, inside, rep, director):
    lead = qualified_lead(inside, owner=rep)
    User.objects.filter(pk=rep.pk).update(is_active=False)
    rule = make_rule(
        "Stage moves", RuleEvent.OPPORTUNITY_STAGE_CHANGED, notify_owner=True
    )
    move_stage(lead, actor=director, stage="proposal", reason="Demo planned")
    process_outbox()
    assert told(rule=rule) == []


def test_stage_moves_and_results_reach_owner_and_manager(
    north_manager, inside, rep, director, outsider
):
    stage = make_rule(
        "Stage moves",
        RuleEvent.OPPORTUNITY_STAGE_CHANGED,
        notify_owner=True,
        notify_owner_manager=True,
    )
    won = make_rule(
        "Won", RuleEvent.OPPORTUNITY_WON, recipient_roles=[Role.SALES_DIRECTOR]
    )
    lost = make_rule(
        "Lost", RuleEvent.OPPORTUNITY_LOST, notify_owner=True, notify_owner_manager=True
    )
    north = qualified_lead(inside, owner=rep, title="Desks for Brightwave")
    south = qualified_lead(inside, owner=outsider, title="Chairs for Southwind")
    move_stage(north, actor=rep, stage="proposal", reason="Demo went well")
    close_opportunity(north, actor=rep, result="won", reason="Signed")
    close_opportunity(south, actor=director, result="lost", reason="Price")
    process_outbox()

    # rep moved their own lead: only their manager hears of it.
    assert told(rule=stage) == [("director", stage.name)]
    moved = Notification.objects.get(rule=stage)
    assert moved.message == (
        "Stage changed (qualification → proposal): Desks for Brightwave"
    )
    assert moved.url == f"/opportunities/{north.pk}/"
    assert told(rule=won) == [("director", won.name)]
    assert Notification.objects.get(rule=won).message == "Won: Desks for Brightwave"
    # South has no manager, and the director closed it himself.
    assert told(rule=lost) == [("outsider", lost.name)]
    assert Notification.objects.get(rule=lost).message == "Lost: Chairs for Southwind"


def test_quote_sent_and_accepted(north_manager, inside, rep, director):
    sent_rule = make_rule(
        "Quotes out", RuleEvent.QUOTE_SENT, recipient_roles=[Role.SALES_DIRECTOR]
    )
    accepted_rule = make_rule(
        "Quotes accepted", RuleEvent.QUOTE_ACCEPTED, notify_owner=True
    )
    lead = qualified_lead(inside, owner=rep, title="Forty desks")
    quote = make_sent_quote(lead, rep)
    decide_quote(quote, actor=director, accepted=True)
    process_outbox()

    assert told(rule=sent_rule) == [("director", sent_rule.name)]
    assert told(rule=accepted_rule) == [("rep", accepted_rule.name)]
    for rule, text in ((sent_rule, "Quote sent"), (accepted_rule, "Quote accepted")):
        n = Notification.objects.get(rule=rule)
        assert n.message == f"{text}: {quote.reference} · Forty desks"
        assert n.url == f"/opportunities/{lead.pk}/#quotes"
        assert (n.subject_type, n.subject_id) == ("opportunities.opportunity", lead.pk)
        assert n.source.startswith("opportunities.quotetransition:")


def test_value_service_type_and_team_filters_on_real_leads(
    inside, rep, outsider, teams
):
    rule = make_rule(
        "Big northern installs",
        RuleEvent.OPPORTUNITY_WON,
        min_value=Decimal("10000"),
        service_type="Installation",
        teams=[teams["North"]],
        recipient_roles=[Role.SALES_DIRECTOR],
    )
    leads = {
        "hit": (rep, Decimal("25000"), "installation"),
        "small": (rep, Decimal("10000"), "installation"),
        "no value": (rep, None, "installation"),
        "other service": (rep, Decimal("25000"), "maintenance"),
        "south": (outsider, Decimal("25000"), "INSTALLATION"),
    }
    made = {}
    for title, (owner, value, service) in leads.items():
        lead = qualified_lead(inside, owner=owner, title=title)
        Opportunity.objects.filter(pk=lead.pk).update(
            expected_value=value, service_type=service
        )
        close_opportunity(lead, actor=inside, result="won", reason="Signed")
        made[title] = lead
    process_outbox()
    assert list(
        Notification.objects.filter(rule=rule).values_list("subject_id", flat=True)
    ) == [made["hit"].pk]


def test_channel_campaign_and_department_filters_on_real_inquiries(
    inside, director, departments
):
    campaign = make_campaign("Spring mailing")
    rule = make_rule(
        "Web leads of the spring mailing for Sales",
        channels=[Channel.objects.get(code="web_form")],
        campaigns=[campaign],
        departments=[departments["Sales"]],
        users=[director],
    )
    hit = register(inside, "Hanna Hit", channel="web_form", campaign=campaign)
    register(inside, "Pete Phone", channel="phone", campaign=campaign)
    register(inside, "Nico Nocampaign", channel="web_form")
    register(
        inside,
        "Mia Marketing",
        channel="web_form",
        campaign=campaign,
        department="Marketing",
    )
    process_outbox()
    assert list(
        Notification.objects.filter(rule=rule).values_list("subject_id", flat=True)
    ) == [hit.pk]


def test_a_lead_rule_can_filter_on_the_channel_of_its_inquiry(inside, rep, director):
    rule = make_rule(
        "Leads from the web form",
        RuleEvent.OPPORTUNITY_CREATED,
        channels=[Channel.objects.get(code="web_form")],
        users=[director],
    )
    inquiry = register(inside, "Wendy Web", channel="web_form")
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    process_outbox()
    assert told(rule=rule) == [("director", rule.name)]


def test_load_rules_reads_every_filter(director, teams, departments):
    acme = make_company("Acme NV")
    campaign = make_campaign()
    web = Channel.objects.get(code="web_form")
    rule = make_rule(
        "Everything",
        RuleEvent.OPPORTUNITY_WON,
        outcome="qualified",
        companies=[acme],
        min_company_size=10,
        channels=[web],
        campaigns=[campaign],
        departments=[departments["Sales"]],
        min_value=Decimal("5.50"),
        service_type="Repair",
        teams=[teams["South"]],
        users=[director],
    )
    make_rule("Off", is_active=False)
    [(spec, loaded)] = load_rules()
    assert loaded == rule
    assert spec.id == rule.pk
    assert spec.event == "opportunity.won"
    assert spec.created_at == rule.created_at
    assert spec.outcome == "qualified"
    assert spec.company_ids == {acme.pk}
    assert spec.min_company_size == 10
    assert spec.channel_ids == {web.pk}
    assert spec.campaign_ids == {campaign.pk}
    assert spec.department_ids == {departments["Sales"].pk}
    assert spec.min_value == Decimal("5.50")
    assert spec.service_type == "Repair"
    assert spec.team_ids == {teams["South"].pk}


# --- once, and only once ------------------------------------------------------------------


def test_running_the_outbox_twice_delivers_nothing_more(spec_rules, inside):
    register(inside, "Sofie Claes", "Acme NV")
    register(inside, "Bea Big", "Bigcorp NV", size=500)
    assert process_outbox() == 2
    assert process_outbox() == 0
    assert Notification.objects.count() == 2
    assert AuditEvent.objects.filter(event_type="notification.sent").count() == 2


def test_a_row_handled_again_delivers_nothing_twice(spec_rules, inside):
    """Even a row whose claim was lost after delivery (processed_at cleared) is
    not delivered again: (rule, source, recipient) is unique."""
    register(inside, "Sofie Claes", "Acme NV")
    process_outbox()
    InquiryTransition.objects.update(processed_at=None)
    assert process_outbox() == 1
    assert Notification.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="notification.sent").count() == 1


def test_rows_another_worker_claimed_are_left_alone(spec_rules, inside):
    register(inside, "Sofie Claes", "Acme NV")
    InquiryTransition.objects.update(processed_at=timezone.now())
    assert process_outbox() == 0
    assert not Notification.objects.exists()


def test_a_row_claimed_by_another_worker_between_listing_and_claiming(
    spec_rules, inside, monkeypatch
):
    """Worker A lists the pending rows; worker B claims them all before A's
    conditional UPDATE runs: A finds nothing to claim and delivers nothing."""
    register(inside, "Sofie Claes", "Acme NV")
    register(inside, "Bea Big", "Bigcorp NV", size=500)
    real_now = timezone.now

    class OtherWorkerFirst:
        @staticmethod
        def now():
            for model in OUTBOX_MODELS:
                model.objects.filter(processed_at__isnull=True).update(
                    processed_at=real_now()
                )
            return real_now()

    monkeypatch.setattr(outbox, "timezone", OtherWorkerFirst)
    assert process_outbox() == 0
    assert not Notification.objects.exists()


def test_a_crash_in_delivery_rolls_the_claim_back(
    spec_rules, inside, director, rep, monkeypatch
):
    make_rule("Reps too", min_company_size=100, users=[rep])
    first = register(inside, "Sofie Claes", "Acme NV")
    crashing = register(inside, "Bea Big", "Bigcorp NV", size=500)
    real_deliver = outbox.deliver

    def deliver(rule, event, recipient):
        if event.subject.pk == crashing.pk and recipient == rep:
            raise RuntimeError("mail server on fire")
        return real_deliver(rule, event, recipient)

    monkeypatch.setattr(outbox, "deliver", deliver)
    process_outbox()  # the failure is logged, not raised: later rows still go out
    # The first row is done; the crashing one is unclaimed, and the director's
    # notification delivered before the crash (same row) is rolled back with it.
    assert registration_row(first).processed_at is not None
    assert registration_row(crashing).processed_at is None
    assert told() == [("director", "Key accounts")]

    monkeypatch.setattr(outbox, "deliver", real_deliver)
    assert process_outbox() == 1
    assert registration_row(crashing).processed_at is not None
    assert told(subject_id=crashing.pk) == [
        ("director", "Large companies"),
        ("rep", "Reps too"),
    ]


def test_a_row_that_keeps_failing_does_not_hold_back_the_rows_after_it(
    spec_rules, inside, director, monkeypatch
):
    poison = register(inside, "Bea Big", "Bigcorp NV", size=500)
    later = register(inside, "Sofie Claes", "Acme NV")
    real_deliver = outbox.deliver

    def deliver(rule, event, recipient):
        if event.subject.pk == poison.pk:
            raise TypeError("broken")
        return real_deliver(rule, event, recipient)

    monkeypatch.setattr(outbox, "deliver", deliver)
    for _run in range(2):
        process_outbox()
    assert registration_row(poison).processed_at is None  # still to retry
    assert told(subject_id=later.pk) == [("director", "Key accounts")]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_deliver_every_notification_exactly_once(
    personas, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    if not Channel.objects.exists():  # flushed by an earlier transactional test
        importlib.import_module("leadflow.intake.migrations.0003_default_channels").add(
            django_apps, None
        )
    settings.LEADFLOW_OUTBOX_TASK = ""  # no after-commit run: the workers do it
    inside, director = personas["inside"], personas["director"]
    make_rule("All to director", users=[director])
    make_rule("All to sales", recipient_roles=[Role.SALES])
    rows = 40
    for n in range(rows):
        register(inside, f"Person {n}")
    assert unprocessed() == rows

    barrier = threading.Barrier(2)
    handled: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            handled.append(process_outbox())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sum(handled) == rows  # every row claimed by exactly one worker
    assert unprocessed() == 0
    # director + rep + outsider for each inquiry, each exactly once
    assert Notification.objects.count() == rows * 3
    assert AuditEvent.objects.filter(event_type="notification.sent").count() == rows * 3
    assert (
        Notification.objects.values("rule", "source", "recipient").distinct().count()
        == rows * 3
    )


# --- waking up after commit -----------------------------------------------------------


def test_a_registration_wakes_the_outbox_after_commit(
    spec_rules, inside, director, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inquiry = register(inside, "Sofie Claes", "Acme NV")
        assert not Notification.objects.exists()  # nothing before the commit
    assert callbacks
    assert registration_row(inquiry).processed_at is not None
    n = Notification.objects.get()
    assert (n.recipient, n.rule, n.subject_id) == (
        director,
        spec_rules["key"],
        inquiry.pk,
    )


def test_one_wake_up_per_transaction_handles_all_its_rows(
    north_manager, inside, rep, django_capture_on_commit_callbacks
):
    """Registering and qualifying write three transition rows; one wake-up (after
    the commit) handles them all. (The capture never clears the connection's hooks,
    and record_transition skips a wake-up already queued there, so a test that
    wants a second captured wake-up must not have queued one before.)"""
    make_rule("New leads", RuleEvent.OPPORTUNITY_CREATED, notify_owner_manager=True)
    make_rule("Closed", RuleEvent.INQUIRY_CLOSED, users=[north_manager])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inquiry = register(inside, "Quinten Qualified")
        close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    assert [c for c in callbacks if c is wake_outbox] == [wake_outbox]
    assert unprocessed() == 0
    assert told() == [("director", "Closed"), ("director", "New leads")]


def test_without_commit_nothing_is_delivered(spec_rules, inside):
    """Inside the test transaction the wake-up never fires: the row waits."""
    inquiry = register(inside, "Sofie Claes", "Acme NV")
    assert registration_row(inquiry).processed_at is None
    assert not Notification.objects.exists()


# --- e-mail -------------------------------------------------------------------------------


def test_a_recipient_with_email_on_gets_exactly_one_mail(
    spec_rules, inside, director, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        register(inside, "Sofie Claes", "Acme NV")
    n = Notification.objects.get()
    assert n.emailed_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["director@leadflow.test"]
    assert message.subject == "Leadflow: New inquiry from Sofie Claes (Acme NV)"
    assert n.message in message.body
    assert n.url in message.body


def test_running_the_email_task_twice_sends_once(
    spec_rules, inside, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        register(inside, "Sofie Claes", "Acme NV")
    n = Notification.objects.get()
    first_sent_at = n.emailed_at
    again = email_notification.enqueue(n.pk)
    assert again.return_value is False
    assert email_notification.call(n.pk) is False
    assert len(mail.outbox) == 1
    n.refresh_from_db()
    assert n.emailed_at == first_sent_at


def test_the_email_task_sends_a_pending_notification_once(spec_rules, inside):
    register(inside, "Sofie Claes", "Acme NV")
    process_outbox()  # no commit: the e-mail is not sent yet
    n = Notification.objects.get()
    assert n.emailed_at is None and mail.outbox == []
    assert email_notification.call(n.pk) is True
    assert email_notification.call(n.pk) is False
    assert len(mail.outbox) == 1
    n.refresh_from_db()
    assert n.emailed_at is not None


def test_no_mail_when_the_preference_is_off_or_there_is_no_address(
    inside, director, rep, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=director.pk).update(email_notifications=False)
    User.objects.filter(pk=rep.pk).update(email="")
    make_rule("Everyone", users=[director, rep])
    with django_capture_on_commit_callbacks(execute=True):
        register(inside, "Sofie Claes")
    assert told() == [("director", "Everyone"), ("rep", "Everyone")]
    assert mail.outbox == []
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()


def test_the_mail_links_to_the_record_with_an_absolute_address(
    spec_rules, inside, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = register(inside, "Sofie Claes", "Acme NV")
    [message] = mail.outbox
    assert re.search(rf"https?://[^\s/]+/inquiries/{inquiry.pk}/", message.body)


def test_the_message_is_in_the_recipients_language(
    spec_rules, inside, director, rep, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=director.pk).update(language="nl")
    make_rule("Reps", users=[rep])
    with django_capture_on_commit_callbacks(execute=True):
        register(inside, "Sofie Claes", "Acme NV")
    assert Notification.objects.get(recipient=director).message == (
        "Nieuwe aanvraag van Sofie Claes (Acme NV)"
    )
    assert Notification.objects.get(recipient=rep).message == (
        "New inquiry from Sofie Claes (Acme NV)"
    )
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "Leadflow: New inquiry from Sofie Claes (Acme NV)",
        "Leadflow: Nieuwe aanvraag van Sofie Claes (Acme NV)",
    ]


# --- history ------------------------------------------------------------------------------


def test_events_older_than_the_rule_are_ignored(inside, director):
    before = register(inside, "Olga Old")
    rule = make_rule("Added later", users=[director])
    assert rule.created_at > registration_row(before).at
    after = register(inside, "Nina New")
    assert process_outbox() == 2  # both rows handled, only the new one matches
    assert list(Notification.objects.values_list("subject_id", flat=True)) == [after.pk]
    assert registration_row(before).processed_at is not None


def test_the_timeline_names_the_rule_that_told_someone(
    spec_rules, north_manager, inside, rep
):
    rule = make_rule(
        "New leads", RuleEvent.OPPORTUNITY_CREATED, notify_owner_manager=True
    )
    inquiry = register(inside, "Sofie Claes", "Acme NV")
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    process_outbox()

    sent = [e for e in timeline_for(inquiry) if e.event_type == "notification.sent"]
    assert [(e.new, e.actor) for e in sent] == [
        ({"to": "director", "why": "Key accounts"}, None)
    ]
    opportunity = Opportunity.objects.get(inquiry=inquiry)
    sent = [
        e.new for e in timeline_for(opportunity) if e.event_type == "notification.sent"
    ]
    # Besides the rule's row, the direct "new lead for you" to the owner.
    assert sorted(sent, key=str) == [
        {"to": "director", "why": rule.name},
        {"to": "rep", "why": "opportunity.assigned"},
    ]


def test_a_quote_notification_lands_on_the_leads_timeline(inside, rep, director):
    make_rule("Quotes out", RuleEvent.QUOTE_SENT, users=[director])
    lead = qualified_lead(inside, owner=rep)
    make_sent_quote(lead, rep)
    process_outbox()
    sent = [
        e
        for e in timeline_for(lead)
        if e.event_type == "notification.sent" and e.new["to"] == "director"
    ]
    assert [e.new for e in sent] == [{"to": "director", "why": "Quotes out"}]
    assert timezone.now() - sent[0].at < timedelta(minutes=1)


def test_make_inquiry_factory_rows_are_picked_up_too(inside, director):
    """The shared factory goes through the same action, so its rows are in the outbox."""
    make_rule("All", users=[director])
    make_inquiry(inside)
    assert process_outbox() == 1
    assert told() == [("director", "All")]
