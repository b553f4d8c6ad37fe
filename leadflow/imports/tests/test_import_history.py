"""Importing history: inquiries and qualified leads of the past, with their own dates
and outcomes, written through the actions at the file's moments (every field and
rule on small messy files, re-imports, row errors, resume), and the ``at`` /
``imported`` keywords of the actions the import uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leadflow.contacts.models import Contact
from leadflow.core.errors import Forbidden, ValidationFailed
from leadflow.imports import actions
from leadflow.imports.models import ImportedRecord, ImportJob, ImportStatus
from leadflow.imports.tests.messy import write_csv, write_xlsx
from leadflow.imports.tests.test_import_contacts import checked, run, upload
from leadflow.intake.actions import close_inquiry
from leadflow.intake.models import Campaign, Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_inquiry
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.actions import (
    close_opportunity,
    move_stage,
    open_opportunity,
)
from leadflow.opportunities.models import Opportunity, OpportunityTransition
from leadflow.opportunities.tests.pipeline_factories import make_lead
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Brussels")


def local(day: int, month: int, year: int = 2024, hour: int = 0, minute: int = 0):
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def issues(job: ImportJob) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for issue in job.issues.all():
        out.setdefault(issue.line, []).append(issue.message)
    return out


# --- inquiries ------------------------------------------------------------------------

INQUIRY_HEADER = [
    "Nummer",
    "Ontvangen op",
    "Naam",
    "E-mailadres",
    "Bedrijf",
    "Vraag",
    "Kanaal",
    "Campagne",
    "Uitkomst",
    "Afgesloten op",
    "Reden",
    "Verkoper",
]
INQUIRIES = [
    INQUIRY_HEADER,
    [
        "A-1",
        "25/03/2024 09:15",
        "Émile Dupré",
        "emile@cafe-brule.be",
        "Café Brûlé BV",
        "Offerte voor 20 stoelen",
        "Telefoon",
        "Voorjaar",
        "Gekwalificeerd",
        "27/03/2024 10:00",
        "",
        "rep",
    ],
    [
        "A-2",
        "02/04/2024 14:30",
        " Jürgen Müller ",
        "j.muller@example.de",
        "Müller GmbH",
        "Brochure gevraagd",
        "E-mail",
        "",
        "Marketingopvolging",
        "03/04/2024 08:00",
        "Nog geen budget",
        "",
    ],
    [],
    [
        "A-3",
        "15/04/2024",
        "Piet Janssens",
        "piet@janssens.be",
        "",
        "Vraag over levertijd",
        "webformulier",
        "",
        "gearchiveerd",
        "15/04/2024 16:00",
        "",
        "",
    ],
    [
        "A-4",
        "30/04/2024 11:00",
        "Zoë Çelik",
        "zoe@example.com",
        "",
        "Nog te bellen",
        "Telefoon",
        "",
        "open",
        "",
        "",
        "",
    ],
]


def import_inquiries(user, tmp_path, rows=INQUIRIES, name="aanvragen.csv", **options):
    path = write_csv(tmp_path / name, rows, encoding="cp1252", delimiter=";")
    job = checked(user, "inquiries", path)
    if options or job.report.get("unknown"):
        values = {"campaign": {"Voorjaar": "+new"}}
        job = actions.set_mapping(
            job, actor=user, mapping=job.mapping, options={"values": values, **options}
        )
        job = actions.check_job(job, actor=user)
    return run(user, job)


def test_inquiries_of_the_past_keep_their_dates_and_outcomes(director, rep, tmp_path):
    path = write_csv(tmp_path / "a.csv", INQUIRIES, encoding="cp1252", delimiter=";")
    job = upload(director, "inquiries", path)
    assert job.mapping == {
        "Nummer": "external_id",
        "Ontvangen op": "received_at",
        "Naam": "name",
        "E-mailadres": "email",
        "Bedrijf": "company",
        "Vraag": "summary",
        "Kanaal": "channel",
        "Campagne": "campaign",
        "Uitkomst": "outcome",
        "Afgesloten op": "closed_at",
        "Reden": "close_reason",
        "Verkoper": "owner",
    }
    job = actions.check_job(job, actor=director)
    assert job.report["date_order"] == "dmy"
    # An unknown campaign is listed for mapping; nothing is written by the check.
    assert job.report["unknown"] == {"campaign": [["Voorjaar", 1]]}
    assert Inquiry.objects.count() == 0

    job = import_inquiries(director, tmp_path)
    assert job.status == ImportStatus.DONE
    assert (job.rows_done, job.created) == (4, 4)

    qualified = Inquiry.objects.get(contact__email="emile@cafe-brule.be")
    assert qualified.received_at == local(25, 3, hour=9, minute=15)
    assert qualified.closed_at == local(27, 3, hour=10)
    assert (qualified.status, qualified.outcome) == ("closed", "qualified")
    assert qualified.channel.code == "phone"
    assert qualified.campaign == Campaign.objects.get(name="Voorjaar")
    assert qualified.contact.company.name == "Café Brûlé BV"
    # The requester was known from that inquiry on.
    assert qualified.contact.created_at == qualified.received_at
    lead = qualified.opportunity
    assert lead.owner == rep
    assert lead.created_at == lead.stage_entered_at == local(27, 3, hour=10)
    assert lead.title == "Offerte voor 20 stoelen"

    moves = list(qualified.transitions.order_by("at"))
    assert [(t.from_state, t.to_state, t.at) for t in moves] == [
        ("", "open", local(25, 3, hour=9, minute=15)),
        ("open", "closed", local(27, 3, hour=10)),
    ]
    # History is marked as imported and not news for the workflow worker.
    assert all(t.data["imported"] == job.pk for t in moves)
    assert all(t.processed_at is not None for t in moves)
    created = lead.transitions.get()
    assert (created.to_state, created.at) == ("open", local(27, 3, hour=10))
    assert created.data["imported"] == job.pk and created.processed_at
    assert not Notification.objects.filter(recipient=rep).exists()

    nurture = Inquiry.objects.get(contact__email="j.muller@example.de")
    assert (nurture.outcome, nurture.close_reason) == ("nurture", "Nog geen budget")
    assert nurture.contact.name == "Jürgen Müller"
    assert ListMembership.objects.filter(
        contact=nurture.contact, marketing_list__name="Nurture"
    ).exists()
    archived = Inquiry.objects.get(contact__email="piet@janssens.be")
    assert archived.channel.code == "web_form"
    assert archived.received_at == local(15, 4)  # a date alone: midnight, local
    assert archived.outcome == "archived"
    assert archived.close_reason == "imported from aanvragen.csv"
    still_open = Inquiry.objects.get(contact__email="zoe@example.com")
    assert (still_open.status, still_open.closed_at) == ("open", None)
    assert (
        ImportedRecord.objects.get(kind="inquiries", external_id="A-4").object_id
        == still_open.pk
    )


def test_importing_the_same_inquiries_again_changes_nothing(director, tmp_path):
    import_inquiries(director, tmp_path)
    before = (
        Inquiry.objects.count(),
        InquiryTransition.objects.count(),
        Opportunity.objects.count(),
        Contact.objects.count(),
    )
    again = import_inquiries(director, tmp_path, name="again.csv")
    assert (again.created, again.unchanged) == (0, 4)
    after = (
        Inquiry.objects.count(),
        InquiryTransition.objects.count(),
        Opportunity.objects.count(),
        Contact.objects.count(),
    )
    assert after == before


def test_inquiries_without_ids_are_recognised_by_requester_time_and_question(
    director, tmp_path
):
    rows = [row[1:] for row in INQUIRIES if row]
    import_inquiries(director, tmp_path, rows=rows, name="no-ids.csv")
    again = import_inquiries(director, tmp_path, rows=rows, name="no-ids-2.csv")
    assert (again.created, again.unchanged) == (0, 4)
    assert Inquiry.objects.count() == 4


def test_inquiry_rows_that_break_the_rules_are_listed_per_line(director, tmp_path):
    future = (timezone.localdate() + timedelta(days=3)).strftime("%d/%m/%Y")
    header = ["id", "received", "email", "question", "channel", "outcome", "closed"]
    header += ["owner"]
    rows = [
        header,
        ["E-1", "10/05/2024", "a@example.com", "q", "phone", "archived", "09/05/2024"]
        + [""],
        ["E-2", future, "b@example.com", "q", "phone", "open", "", ""],
        ["E-3", "10/05/2024", "c@example.com", "q", "phone", "qualified", "13/05/2024"]
        + [""],
        ["E-4", "10/05/2024", "d@example.com", "q", "phone", "maybe", "", ""],
        ["E-5", "10/05/2024", "e@example.com", "q", "phone", "nurture", "", ""],
        ["E-6", "10/05/2024", "f@example.com", "q", "phone", "qualified", "13/05/2024"]
        + ["marketer"],
        ["E-7", "10/05/2024", "g@example.com", "q", "fax", "", "", ""],
        ["E-8", "10/05/2024", "h@example.com", "q", "phone", "open", "11/05/2024", ""],
        ["E-9", "14/05/2024", "i@example.com", "q", "phone", "archived", "15/05/2024"]
        + [""],
    ]
    job = checked(director, "inquiries", write_csv(tmp_path / "bad.csv", rows))
    found = issues(job)
    assert "closed before it was received" in found[2][0]
    assert "in the future" in found[3][0]
    assert "needs an owner" in found[4][0]
    assert "not open, qualified, nurture or archived" in found[5][0]
    assert "needs the time it was closed" in found[6][0]
    assert "cannot own qualified leads" in found[7][0]
    assert "not known as one of the channels" in found[8][0]
    assert "has no closing time" in found[9][0]
    assert 10 not in found
    assert job.report["error_lines"] == 8
    job = actions.set_mapping(
        job, actor=director, mapping=job.mapping, options={"skip_invalid": True}
    )
    job = run(director, actions.check_job(job, actor=director))
    assert (job.created, job.skipped) == (1, 8)
    assert list(Inquiry.objects.values_list("contact__email", flat=True)) == [
        "i@example.com"
    ]


def test_history_kinds_are_for_administrators_and_the_director(
    rep, marketer, director, tmp_path
):
    path = write_csv(tmp_path / "a.csv", INQUIRIES)
    for user in (rep, marketer):
        with pytest.raises(Forbidden):
            upload(user, "inquiries", path)
        with pytest.raises(Forbidden):
            upload(user, "opportunities", path)
    assert upload(director, "opportunities", path).pk


# --- qualified leads ------------------------------------------------------------------

LEAD_HEADER = [
    "Referentie",
    "Eigenaar",
    "Product",
    "Bedrijf",
    "Contactpersoon",
    "Fase",
    "Resultaat",
    "Aangemaakt",
    "Beslissingsdatum",
    "Afgesloten op",
    "Waarde",
    "Kans",
    "Reden",
]
LEADS = [
    LEAD_HEADER,
    [
        "Q-1",
        "J. Janssens",
        "Installatie",
        "Acme NV",
        "Ann Acme",
        "Onderhandeling",
        "Gewonnen",
        "14/02/2024",
        "01/03/2024",
        "06/03/2024 15:00",
        "12.500,00",
        "",
        "",
    ],
    [
        "Q-2",
        "outsider",
        "Onderhoud",
        "Beta BV",
        "",
        "",
        "verloren",
        "01/02/2024",
        "",
        "20/02/2024",
        "3.000,50",
        "",
        "Te duur",
    ],
    [
        "Q-3",
        "J. Janssens",
        "Installatie",
        "Gamma",
        "Gert Gamma",
        "Voorstel / offerte",
        "",
        "10/06/2024",
        "30/09/2024",
        "",
        "40.000,00",
        "60%",
        "",
    ],
    [
        "Q-4",
        "outsider",
        "",
        "Delta",
        "Dirk Delta",
        "Kwalificatie",
        "Gaat niet door",
        "03/01/2024",
        "",
        "05/01/2024",
        "",
        "",
        "",
    ],
]


def import_leads(user, rep, tmp_path, rows=LEADS, name="leads.csv", **options):
    path = write_csv(tmp_path / name, rows, delimiter=";")
    job = checked(user, "opportunities", path)
    job = actions.set_mapping(
        job,
        actor=user,
        mapping=job.mapping,
        options={
            "values": {
                "user": {"J. Janssens": str(rep.pk)},
                "service_type": {"Installatie": "+new", "Onderhoud": "+new"},
            },
            **options,
        },
    )
    return run(user, actions.check_job(job, actor=user))


def test_leads_of_the_past_get_exactly_their_own_transitions(
    admin, rep, outsider, tmp_path
):
    path = write_csv(tmp_path / "leads.csv", LEADS, delimiter=";")
    job = checked(admin, "opportunities", path)
    assert job.mapping == {
        "Referentie": "external_id",
        "Eigenaar": "owner",
        "Product": "service_type",
        "Bedrijf": "company",
        "Contactpersoon": "name",
        "Fase": "stage",
        "Resultaat": "result",
        "Aangemaakt": "created_at",
        "Beslissingsdatum": "decision_date",
        "Afgesloten op": "closed_at",
        "Waarde": "expected_value",
        "Kans": "p_win",
        "Reden": "reason",
    }
    assert job.report["decimal"] == ","
    # The unknown salesperson and the new products are listed to map or create.
    assert dict(job.report["unknown"]["user"]) == {"J. Janssens": 2}
    assert dict(job.report["unknown"]["service_type"]) == {
        "Installatie": 2,
        "Onderhoud": 1,
    }

    job = import_leads(admin, rep, tmp_path)
    assert job.status == ImportStatus.DONE and job.created == 4

    won = Opportunity.objects.get(company__name="Acme NV")
    assert (won.owner, won.status, won.service_type) == (rep, "won", "Installatie")
    assert won.expected_value == Decimal("12500.00")
    assert won.stage.code == "negotiation"
    assert won.created_at == local(14, 2)
    assert won.closed_at == local(6, 3, hour=15)
    assert won.decision_date.isoformat() == "2024-03-01"
    assert won.inquiry is None and won.contact.name == "Ann Acme"
    assert won.title == "Acme NV – Installatie"
    assert won.result_reason == "imported from leads.csv"
    moves = [
        (t.from_state, t.to_state, t.at, t.data["imported"])
        for t in won.transitions.order_by("at", "id")
    ]
    assert moves == [
        ("", "open", local(14, 2), job.pk),
        ("qualification", "negotiation", local(14, 2), job.pk),
        ("open", "won", local(6, 3, hour=15), job.pk),
    ]
    assert not won.transitions.filter(processed_at__isnull=True).exists()

    lost = Opportunity.objects.get(company__name="Beta BV")
    assert (lost.status, lost.result_reason) == ("lost", "Te duur")
    assert lost.expected_value == Decimal("3000.50")
    assert lost.stage.code == "qualification"
    assert lost.contact.name == "Beta BV"  # only a company: a contact named after it
    assert [t.to_state for t in lost.transitions.order_by("at", "id")] == [
        "open",
        "lost",
    ]

    running = Opportunity.objects.get(company__name="Gamma")
    assert (running.status, running.stage.code) == ("open", "proposal")
    assert running.p_win == Decimal("0.600")
    assert running.stage_entered_at == local(10, 6)
    assert running.closed_at is None
    assert Opportunity.objects.get(company__name="Delta").status == "not_going_ahead"
    assert not Notification.objects.filter(recipient__in=[rep, outsider]).exists()


def test_importing_the_same_leads_again_changes_nothing(admin, rep, tmp_path):
    import_leads(admin, rep, tmp_path)
    before = (Opportunity.objects.count(), OpportunityTransition.objects.count())
    again = import_leads(admin, rep, tmp_path, name="again.csv")
    assert (again.created, again.unchanged) == (0, 4)
    assert (
        Opportunity.objects.count(),
        OpportunityTransition.objects.count(),
    ) == before


def test_leads_without_ids_imported_twice_make_no_second_lead(admin, rep, tmp_path):
    """Without the old system's id, what the line says (owner, customer, title,
    service, created date) recognises the lead again."""
    without_ids = [LEAD_HEADER[1:]] + [row[1:] for row in LEADS[1:]]
    first = import_leads(admin, rep, tmp_path, rows=without_ids, name="a.csv")
    assert first.created == 4
    before = (Opportunity.objects.count(), OpportunityTransition.objects.count())
    again = import_leads(admin, rep, tmp_path, rows=without_ids, name="b.csv")
    assert (again.created, again.unchanged) == (0, 4)
    assert (
        Opportunity.objects.count(),
        OpportunityTransition.objects.count(),
    ) == before


def test_a_lead_line_continues_the_lead_of_its_imported_inquiry(
    director, rep, tmp_path
):
    import_inquiries(director, tmp_path)
    rows = [
        ["id", "inquiry id", "owner", "stage", "result", "created", "closed", "value"],
        ["L-1", "A-1", "outsider", "proposal", "won", "26/03/2024", "18/04/2024", "9"],
        # The open inquiry is qualified at the lead's created date.
        ["L-2", "A-4", "rep", "", "lost", "02/05/2024", "20/05/2024", ""],
    ]
    job = checked(director, "opportunities", write_csv(tmp_path / "l.csv", rows))
    assert job.report["errors"] == 0
    # The lead exists since the inquiry was qualified: its date and owner stay.
    assert sorted(issues(job)[2]) == [
        "The lead of this inquiry is owned by Rep Persona; that is kept.",
        "The lead was created when its inquiry was qualified (2024-03-27); that "
        "date is kept.",
    ]
    job = run(director, job)
    assert job.created == 2
    first = Inquiry.objects.get(contact__email="emile@cafe-brule.be").opportunity
    assert (first.status, first.stage.code, first.owner) == ("won", "proposal", rep)
    assert first.expected_value == Decimal("9")
    assert first.created_at == local(27, 3, hour=10)  # when the inquiry was qualified
    assert first.closed_at == local(18, 4)
    assert [t.to_state for t in first.transitions.order_by("at", "id")] == [
        "open",
        "proposal",
        "won",
    ]
    zoe = Inquiry.objects.get(contact__email="zoe@example.com")
    assert (zoe.outcome, zoe.closed_at) == ("qualified", local(2, 5))
    assert zoe.opportunity.status == "lost"
    assert Opportunity.objects.count() == 2
    # A line naming the inquiry again (with or without its own id) is the same lead.
    again = run(
        director,
        checked(director, "opportunities", write_csv(tmp_path / "l2.csv", rows)),
    )
    assert (again.created, again.unchanged) == (0, 2)


def test_lead_rows_that_break_the_rules_are_listed_per_line(director, tmp_path):
    # Day 25 proves the file's order is day/month (a future date with a day up to 12
    # would leave every date ambiguous and the check asking for the order).
    future = date(timezone.localdate().year + 1, 1, 25).strftime("%d/%m/%Y")
    rows = [
        ["id", "owner", "company", "result", "created", "closed", "value", "kans"],
        ["R-1", "rep", "A", "won", "10/05/2024", "01/05/2024", "", ""],
        ["R-2", "rep", "B", "", future, "", "", ""],
        ["R-3", "rep", "C", "lost", "10/05/2024", "", "", ""],
        ["R-4", "rep", "D", "", "10/05/2024", "", "-5", ""],
        ["R-5", "marketer", "E", "", "10/05/2024", "", "", ""],
        ["R-6", "rep", "", "", "10/05/2024", "", "", ""],
        ["R-7", "rep", "G", "perhaps", "10/05/2024", "", "", ""],
        ["R-8", "rep", "H", "", "10/05/2024", "", "", "250"],
        ["R-9", "rep", "I", "won", "10/05/2024", future, "", ""],
        ["R-10", "rep", "J", "won", "10/05/2024", "12/05/2024", "", ""],
    ]
    job = checked(director, "opportunities", write_csv(tmp_path / "bad.csv", rows))
    found = issues(job)
    assert "closed before it was created" in found[2][0]
    assert "in the future" in found[3][0]
    assert "needs the date it was decided" in found[4][0]
    assert "cannot be negative" in found[5][0]
    assert "cannot own qualified leads" in found[6][0]
    assert "Name the company or contact" in found[7][0]
    assert "not open, won, lost or not going ahead" in found[8][0]
    assert "probability between 0 and 1" in found[9][0]
    assert "in the future" in found[10][0]
    assert 11 not in found
    unknown = [
        ["id", "inquiry id", "owner", "created"],
        ["S-1", "NOPE", "rep", "20/05/2024"],
    ]
    job = checked(director, "opportunities", write_csv(tmp_path / "u.csv", unknown))
    assert "No inquiry with the id NOPE" in issues(job)[2][0]


def test_an_xlsx_file_with_real_dates_and_numbers(admin, rep, tmp_path):
    path = write_xlsx(
        tmp_path / "leads.xlsx",
        [
            ["Opportunity", "Owner", "Company", "Stage", "Status", "Created", "Closed"]
            + ["Amount"],
            [
                "Big deal",
                "rep",
                "Omega NV",
                "negotiation",
                "won",
                datetime(2024, 2, 1, 9, 30),
                datetime(2024, 3, 15, 17, 0),
                Decimal("25000.5"),
            ],
        ],
    )
    job = run(admin, checked(admin, "opportunities", path))
    assert job.created == 1
    lead = Opportunity.objects.get()
    assert lead.title == "Big deal"
    assert (lead.created_at, lead.closed_at) == (
        local(1, 2, hour=9, minute=30),
        local(15, 3, hour=17),
    )
    assert lead.expected_value == Decimal("25000.50")


def test_an_interrupted_lead_import_resumes_without_duplicates(
    admin, rep, tmp_path, monkeypatch
):
    from leadflow.imports.kinds.history import Opportunities

    rows = [["id", "owner", "company", "result", "created", "closed", "value"]] + [
        [f"B-{i}", "rep", f"Company {i}", "won", "21/02/2024", "13/03/2024", "100"]
        for i in range(12)
    ]
    job = checked(admin, "opportunities", write_csv(tmp_path / "r.csv", rows))
    monkeypatch.setattr(Opportunities, "batch_size", 5)
    real_write = Opportunities.write

    def failing_write(self, row, ctx):
        if row["external_id"] == "B-7":
            raise RuntimeError("connection lost")
        return real_write(self, row, ctx)

    monkeypatch.setattr(Opportunities, "write", failing_write)
    with pytest.raises(RuntimeError):
        actions.start(job, actor=admin, background=False)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.rows_done == 5
    assert Opportunity.objects.count() == 5  # the failed batch rolled back whole

    monkeypatch.setattr(Opportunities, "write", real_write)
    job = actions.resume(job, actor=admin, background=False)
    assert (job.status, job.rows_done, job.created) == (ImportStatus.DONE, 12, 12)
    assert Opportunity.objects.count() == 12
    assert OpportunityTransition.objects.filter(to_state="won").count() == 12
    assert ImportedRecord.objects.filter(kind="opportunities").count() == 12


# --- the history keywords of the actions ------------------------------------------------


def test_history_cannot_be_in_the_future_or_before_the_step_before(inside, rep):
    inquiry = make_inquiry(inside, received_at=local(1, 3))
    with pytest.raises(ValidationFailed) as future:
        close_inquiry(
            inquiry,
            actor=inside,
            outcome="qualified",
            owner=rep,
            at=timezone.now() + timedelta(hours=1),
        )
    assert future.value.code == "in_future"
    with pytest.raises(ValidationFailed) as early:
        close_inquiry(
            inquiry, actor=inside, outcome="qualified", owner=rep, at=local(28, 2)
        )
    assert early.value.code == "before_previous_step"
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep, at=local(2, 3))
    lead = Opportunity.objects.get(inquiry=inquiry)
    assert lead.created_at == local(2, 3)
    with pytest.raises(ValidationFailed) as before_created:
        move_stage(lead, actor=rep, stage="proposal", reason="r", at=local(1, 3))
    assert before_created.value.code == "before_previous_step"
    lead = move_stage(lead, actor=rep, stage="proposal", reason="r", at=local(5, 3))
    with pytest.raises(ValidationFailed):
        close_opportunity(lead, actor=rep, result="won", reason="r", at=local(4, 3))
    lead = close_opportunity(lead, actor=rep, result="won", reason="r", at=local(9, 3))
    assert lead.closed_at == local(9, 3)
    # Entered by a person (no import): the rows are news for the worker.
    assert not lead.transitions.filter(processed_at__isnull=False).exists()


def test_without_at_the_actions_write_now_as_before(inside, rep):
    lead = make_lead(inside, owner=rep)
    assert timezone.now() - lead.created_at < timedelta(minutes=1)
    stamped = open_opportunity(
        actor=inside,
        contact=lead.contact,
        owner=rep,
        title="Older",
        at=local(1, 1),
        imported=42,
    )
    stamped.refresh_from_db()
    assert stamped.created_at == stamped.stage_entered_at == local(1, 1)
    row = stamped.transitions.get()
    assert (row.at, row.data["imported"]) == (local(1, 1), 42)
    assert row.processed_at is not None


# --- the pages ----------------------------------------------------------------------------


def test_the_director_imports_lead_history_on_the_pages(
    director, rep, tmp_path, django_capture_on_commit_callbacks
):
    from django.test import Client

    client = Client()
    client.force_login(director)
    page = client.get("/imports/").content.decode()
    assert 'value="inquiries"' in page and 'value="opportunities"' in page
    path = write_csv(tmp_path / "leads.csv", LEADS, delimiter=";")
    with path.open("rb") as handle:
        client.post("/imports/", {"kind": "opportunities", "file": handle})
    job = ImportJob.objects.get()
    form = {"version": job.version}
    form |= {f"col-{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    client.post(f"/imports/{job.pk}/check/", form)
    job.refresh_from_db()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Values Leadflow does not know yet" in page
    assert "J. Janssens" in page and "Installatie" in page
    assert "J. Janssens is not known as one of the people: map it above." in page

    # The unknown salesperson is mapped to a user; the new products are created.
    form |= {
        "version": job.version,
        "value-user-0": str(rep.pk),
        "value-service_type-0": "+new",
        "value-service_type-1": "+new",
    }
    client.post(f"/imports/{job.pk}/check/", form)
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED and job.report["errors"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/start/", {"version": job.version})
    job.refresh_from_db()
    assert (job.status, job.created) == (ImportStatus.DONE, 4)
    assert Opportunity.objects.filter(owner=rep).count() == 2
    lead = Opportunity.objects.get(company__name="Acme NV")
    timeline = client.get(f"/opportunities/{lead.pk}/").content.decode()
    assert "Acme NV – Installatie" in timeline


def test_salespeople_cannot_open_the_imports(rep):
    from django.test import Client

    client = Client()
    client.force_login(rep)
    assert client.get("/imports/").status_code == 403
