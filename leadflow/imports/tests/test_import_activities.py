"""Importing activities of qualified leads end to end: Dutch and English headers and
kinds, messy dates, the lead by its old id or Leadflow number, closed leads, people
mapped, duplicates, re-imports, row rules, what is stored, and the efficiency
analysis counting the imported time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leadflow.analytics.reports import REPORTS
from leadflow.analytics.scope import ReportFilters, Scope
from leadflow.audit.models import AuditEvent
from leadflow.core.errors import Forbidden
from leadflow.imports import actions
from leadflow.imports.models import ImportedRecord, ImportStatus, IssueLevel
from leadflow.imports.tests.messy import write_csv, write_xlsx
from leadflow.imports.tests.test_import_contacts import checked, run, upload
from leadflow.imports.tests.test_import_context import issues
from leadflow.opportunities.actions import close_opportunity
from leadflow.opportunities.models import Activity
from leadflow.opportunities.tests.pipeline_factories import make_lead
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


@pytest.fixture
def leads(admin, rep, outsider):
    """Two leads from the old CRM (OLD-1 open, OLD-2 lost) and one made here."""
    open_lead = make_lead(admin, owner=rep, title="Chairs for Acme")
    lost = make_lead(admin, owner=outsider, title="Desks for Brûlé")
    close_opportunity(lost, actor=admin, result="lost", reason="price")
    here = make_lead(admin, owner=rep, title="Made in Leadflow")
    for external_id, lead in (("OLD-1", open_lead), ("OLD-2", lost)):
        ImportedRecord.objects.create(
            kind="opportunities", external_id=external_id, object_id=lead.pk
        )
    return {"open": open_lead, "lost": lost, "here": here}


ACTIVITIES_NL = [
    [
        "Activiteit id",
        "Verkoopkans",
        "Soort",
        "Onderwerp",
        "Gepland op",
        "Afgerond op",
        "Medewerker",
        "Duur (min)",
        "Notities",
    ],
    [
        "A1",
        "OLD-1",
        "Gesprek",
        "Eerste  telefoon",
        "25/03/2024 10:00",
        "25/03/2024 10:20",
        "Rep Persona",
        "20",
        "Wil een offerte",
    ],
    ["A2", "OLD-1", "afspraak", "Demo ter plaatse", "02/04/2024 14u30", "", "", "", ""],
    [],
    [
        "A3",
        "OLD-2",
        "Vergadering",
        "Prijsbespreking",
        "",
        "13/02/2024",
        "outsider",
        "90",
        "",
    ],
    [
        "A4",
        "OLD-2",
        "E-mail",
        "Offerte nagestuurd",
        "",
        "14/02/2024",
        "outsider",
        "",
        "",
    ],
    [
        "A1",
        "OLD-1",
        "Gesprek",
        "Eerste telefoon",
        "25/03/2024 10:00",
        "25/03/2024 10:20",
        "Rep Persona",
        "20",
        "Wil een offerte",
    ],
]


def test_activities_with_dutch_headers_and_kinds(admin, rep, outsider, leads, tmp_path):
    path = write_csv(
        tmp_path / "activiteiten.csv", ACTIVITIES_NL, encoding="cp1252", delimiter=";"
    )
    job = upload(admin, "activities", path)
    assert job.mapping == {
        "Activiteit id": "external_id",
        "Verkoopkans": "lead_external_id",
        "Soort": "kind",
        "Onderwerp": "subject",
        "Gepland op": "due_at",
        "Afgerond op": "done_at",
        "Medewerker": "assignee",
        "Duur (min)": "duration_minutes",
        "Notities": "notes",
    }
    job = actions.check_job(job, actor=admin)
    assert job.report["date_order"] == "dmy"
    assert (job.report["rows"], job.report["errors"]) == (5, 0)
    assert job.report["duplicates_in_file"] == 1
    warnings = {i.line: i.message for i in job.issues.filter(level=IssueLevel.WARNING)}
    assert warnings[6] == (
        "E-mail: Leadflow has no e-mail activity, it is kept as a task."
    )
    assert Activity.objects.count() == 0

    job = run(admin, job)
    assert job.status == ImportStatus.DONE
    assert (job.created, job.unchanged) == (4, 1)
    call = Activity.objects.get(subject="Eerste telefoon")
    assert call.opportunity == leads["open"]
    assert (call.kind, call.assignee, call.duration_minutes, call.notes) == (
        "call",
        rep,
        20,
        "Wil een offerte",
    )
    assert (call.due_at, call.done_at) == (
        local(2024, 3, 25, 10),
        local(2024, 3, 25, 10, 20),
    )
    # Recorded when it was due (the file has no "recorded at" column), by the importer.
    assert (call.created_at, call.created_by) == (local(2024, 3, 25, 10), admin)
    demo = Activity.objects.get(subject="Demo ter plaatse")
    # No assignee in the file: the lead's owner; planned, not done.
    assert (demo.kind, demo.assignee, demo.done_at) == ("appointment", rep, None)
    assert demo.due_at == local(2024, 4, 2, 14, 30)
    # A closed lead takes its history.
    meeting = Activity.objects.get(subject="Prijsbespreking")
    assert meeting.opportunity == leads["lost"]
    assert (meeting.kind, meeting.assignee, meeting.duration_minutes) == (
        "appointment",
        outsider,
        90,
    )
    assert meeting.done_at == local(2024, 2, 13)
    assert Activity.objects.get(subject="Offerte nagestuurd").kind == "task"
    # Audited like activities entered on the lead's page; the past notifies nobody.
    assert AuditEvent.objects.filter(event_type="activity.added").count() == 4
    assert AuditEvent.objects.filter(event_type="activity.done").count() == 3
    assert not Notification.objects.filter(event_type="activity.assigned").exists()
    assert ImportedRecord.objects.get(
        kind="activities", external_id="A3"
    ).object_id == (meeting.pk)


def test_english_headers_leadflow_numbers_and_a_reimport(admin, rep, leads, tmp_path):
    lead = leads["here"]
    rows = [
        [
            "Leadflow id",
            "Type",
            "Subject",
            "Due date",
            "Completed",
            "Owner",
            "Minutes",
            "Created",
        ],
        [
            str(lead.pk),
            "Meeting",
            "Kick-off",
            "2024-05-02 09:00",
            "",
            "rep",
            "45",
            "2024-04-20",
        ],
        [str(lead.pk), "Call", "Follow-up", "", "2024-05-06 16:00", "rep", "", ""],
    ]
    path = write_csv(tmp_path / "acts.csv", rows)
    job = upload(admin, "activities", path)
    assert job.mapping == {
        "Leadflow id": "lead_id",
        "Type": "kind",
        "Subject": "subject",
        "Due date": "due_at",
        "Completed": "done_at",
        "Owner": "assignee",
        "Minutes": "duration_minutes",
        "Created": "created_at",
    }
    job = run(admin, actions.check_job(job, actor=admin))
    assert job.created == 2
    kickoff = Activity.objects.get(subject="Kick-off")
    assert (kickoff.kind, kickoff.created_at, kickoff.due_at) == (
        "appointment",
        local(2024, 4, 20),
        local(2024, 5, 2, 9),
    )

    # The same file again adds nothing; a later export with the kick-off done
    # fills in its done date and nothing else.
    again = run(admin, checked(admin, "activities", path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    rows[1][4] = "2024-05-02 10:00"
    rows[1][6] = "60"
    later = write_csv(tmp_path / "later.csv", rows)
    job = run(admin, checked(admin, "activities", later))
    assert (job.created, job.updated, job.unchanged) == (0, 1, 1)
    kickoff.refresh_from_db()
    assert (kickoff.done_at, kickoff.duration_minutes) == (local(2024, 5, 2, 10), 45)
    assert Activity.objects.filter(opportunity=lead).count() == 2


def test_activity_row_rules(admin, leads, tmp_path):
    next_year = timezone.localdate().year + 1
    rows = [
        ["Lead", "Kind", "Subject", "Done", "Duration", "Assignee"],
        ["OLD-404", "call", "Lost lead", "2024-01-01", "", ""],
        ["OLD-1", "fax", "Odd kind", "2024-01-01", "", ""],
        ["OLD-1", "call", "From the future", f"{next_year}-01-01", "", ""],
        ["OLD-1", "call", "Negative", "2024-01-01", "-5", ""],
        ["OLD-1", "call", "", "2024-01-01", "", ""],
        ["OLD-1", "call", "Nobody", "2024-01-01", "", "Ghost Writer"],
        ["OLD-2", "task", "Still open", "", "", ""],
        ["OLD-1", "", "Long day", "2024-01-01", "600", ""],
        ["", "call", "No lead", "2024-01-01", "", ""],
    ]
    job = checked(admin, "activities", write_csv(tmp_path / "bad.csv", rows))
    found = issues(job)
    assert found[2] == [
        "Qualified lead OLD-404 is not in Leadflow: import the qualified leads first."
    ]
    assert found[3] == ["fax is not a call, an appointment or a task."]
    assert found[4] == [f"Done at cannot be in the future ({next_year}-01-01)."]
    assert found[5] == ["A duration is zero minutes or more."]
    assert found[6] == ["This column must be filled."]
    assert "Ghost Writer is not known" in found[7][0]
    assert found[8] == ["The lead is closed: this activity stays open (not done)."]
    assert found[9] == ["600 minutes is longer than a working day."]
    assert "Fill at least one of" in found[10][0]
    assert job.report["unknown"] == {"user": [["Ghost Writer", 1]]}
    assert job.report["error_lines"] == 7
    assert job.issues.get(line=2).column == "Lead"

    # Map the unknown person, skip the bad lines: the rest is written.
    job = actions.set_mapping(
        job,
        actor=admin,
        mapping=job.mapping,
        options={"skip_invalid": True, "values": {"user": {"Ghost Writer": ""}}},
    )
    job = run(admin, actions.check_job(job, actor=admin))
    assert (job.created, job.skipped) == (3, 6)
    assert Activity.objects.get(subject="Nobody").assignee == leads["open"].owner
    assert Activity.objects.get(subject="Long day").kind == "task"


def test_imported_time_counts_in_the_efficiency_analysis(
    admin, director, rep, leads, tmp_path
):
    path = write_xlsx(
        tmp_path / "acts.xlsx",
        [
            ["Lead ID", "Activity", "Title", "Done on", "Duration"],
            ["OLD-2", "call", "Price call", datetime(2024, 2, 12, 11, 0), 30],
            ["OLD-2", "meeting", "Negotiation", datetime(2024, 2, 13, 9, 0), 90],
            ["OLD-1", "call", "Intro", datetime(2024, 2, 14, 9, 0), 15],
        ],
    )
    job = run(admin, checked(admin, "activities", path))
    assert job.created == 3
    scope = Scope(
        director, ReportFilters(date_from=date(2024, 2, 1), date_to=date(2024, 2, 29))
    )
    table = REPORTS["efficiency"].compute(scope).table("time-by-outcome")
    rows = {row["name"]: row for row in table.rows}
    assert (rows["Lost"]["activities"], rows["Lost"]["hours"]) == (2, pytest.approx(2))
    assert (rows["Open"]["activities"], rows["Open"]["hours"]) == (
        1,
        pytest.approx(0.25),
    )


def test_activities_are_imported_by_admins_and_the_sales_director_only(
    director, marketer, rep, inside, leads, tmp_path
):
    path = write_csv(tmp_path / "a.csv", ACTIVITIES_NL, delimiter=";")
    for user in (marketer, rep, inside):
        with pytest.raises(Forbidden):
            upload(user, "activities", path)
    assert run(director, checked(director, "activities", path)).created == 4
