"""A marketing list exported for a mailing tool: only members who may be mailed, the
left-outs counted by reason, formulas neutralised, every export audited."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from leadflow.audit.models import AuditEvent
from leadflow.contacts import privacy
from leadflow.contacts.models import Consent
from leadflow.contacts.tests.factories import make_contact
from leadflow.marketing import exports, unsubscribe
from leadflow.marketing.actions import (
    get_or_create_lists,
    record_consent,
    subscribe_contact,
)
from leadflow.marketing.models import ListMembership

pytestmark = pytest.mark.django_db

HEADER = [
    "Email",
    "First name",
    "Last name",
    "Company",
    "Language",
    "Consent since",
    "Unsubscribe URL",
    "List-Unsubscribe",
]


def _member(newsletter, marketer, *, consent=Consent.GRANTED, **contact_args):
    contact = make_contact(**contact_args)
    subscribe_contact(contact, actor=marketer, lists=[newsletter], source="test")
    if consent != Consent.UNKNOWN:
        record_consent(contact, actor=marketer, consent=consent, reason="asked")
    contact.refresh_from_db()
    return contact


@pytest.fixture
def newsletter(marketer):
    return get_or_create_lists(["Newsletter"], actor=marketer)[0]


@pytest.fixture
def members(newsletter, marketer, admin):
    """One member of each kind; opted-out and erased ones put back on the list by
    hand (as an old import could have), so the export must filter them itself."""
    piet = _member(
        newsletter,
        marketer,
        name="Piet van der Berg",
        email="Piet@Berg.be",
        company="Berg Bouw BV",
    )
    formula = _member(newsletter, marketer, name="=cmd|' /C calc'!A0", email="f@x.be")
    unknown = _member(newsletter, marketer, consent=Consent.UNKNOWN, email="u@x.be")
    no_email = _member(newsletter, marketer, name="Mail Less", email="")
    opted_out = _member(
        newsletter, marketer, consent=Consent.OPTED_OUT, email="out@x.be"
    )
    erased = _member(newsletter, marketer, email="gone@x.be")
    privacy.erase_contact(erased, actor=admin, reason="asked to be forgotten")
    for contact in (opted_out, erased):
        ListMembership.objects.create(marketing_list=newsletter, contact=contact)
    return {
        "piet": piet,
        "formula": formula,
        "unknown": unknown,
        "no_email": no_email,
        "opted_out": opted_out,
        "erased": erased,
    }


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_summary_counts_who_is_exported_and_why_the_others_are_not(
    newsletter, members
):
    summary = exports.export_summary(newsletter)
    assert summary.members == 6
    assert summary.rows == 2
    assert summary.left_out == {
        "erased": 1,
        "opted_out": 1,
        "no_consent": 1,
        "no_email": 1,
    }
    assert summary.left_out_total == 4


def test_only_consenting_members_with_an_address_are_exported(newsletter, members):
    rows = list(exports.rows(newsletter))
    assert rows[0] == HEADER
    emails = [row[0] for row in rows[1:]]
    assert emails == ["f@x.be", "Piet@Berg.be"]  # ordered by address


def test_a_row_holds_the_mailing_tool_columns_and_a_working_unsubscribe_link(
    newsletter, members, settings
):
    settings.LEADFLOW_BASE_URL = "https://crm.example.be/"
    piet = members["piet"]
    row = next(r for r in exports.rows(newsletter) if r[0] == "Piet@Berg.be")
    url = row[6]
    assert row[:5] == ["Piet@Berg.be", "Piet", "van der Berg", "Berg Bouw BV", "nl"]
    since = timezone.localtime(piet.consent_changed_at)
    assert row[5] == since.isoformat(timespec="seconds")
    assert url.startswith("https://crm.example.be/unsubscribe/")
    assert row[7] == f"<{url}>"
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe.contact_for_token(token) == piet


def test_split_name_keeps_every_word():
    assert exports.split_name("Jan van der Berg") == ("Jan", "van der Berg")
    assert exports.split_name("  Madonna ") == ("Madonna", "")
    assert exports.split_name("") == ("", "")


def test_the_page_shows_the_counts_before_the_download(client, marketer, newsletter):
    members = {"unknown": make_contact(email="u@x.be")}
    subscribe_contact(
        members["unknown"], actor=marketer, lists=[newsletter], source="test"
    )
    _member(newsletter, marketer, email="ok@x.be")
    client.force_login(marketer)
    response = client.get(f"/marketing/lists/{newsletter.pk}/export/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 contact will be exported" in page
    assert "The list has 2 members." in page
    assert 'data-testid="left-out-no_consent"><td>no consent given</td><td>1<' in page
    assert "?format=xlsx" in page


def test_the_list_pages_link_to_the_export_for_marketing_only(
    client, marketer, director, newsletter
):
    link = f"/marketing/lists/{newsletter.pk}/export/"
    client.force_login(marketer)
    assert link in client.get(f"/marketing/lists/{newsletter.pk}/").content.decode()
    assert link in client.get("/marketing/lists/").content.decode()
    client.force_login(director)
    assert link not in client.get(f"/marketing/lists/{newsletter.pk}/").content.decode()


def test_csv_download_is_streamed_neutralised_and_audited(
    client, marketer, newsletter, members
):
    client.force_login(marketer)
    response = client.get(
        f"/marketing/lists/{newsletter.pk}/export/download/", {"format": "csv"}
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    assert response["X-Leadflow-Rows"] == "2"
    assert response["X-Leadflow-Left-Out"] == "4"
    rows = _csv(response)
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["f@x.be", "Piet@Berg.be"]
    formula_row = rows[1]
    assert formula_row[1] == "'=cmd|'"  # first word of the name, made text
    event = AuditEvent.objects.get(event_type="marketing_list.exported")
    assert event.actor == marketer
    assert event.subject_id == newsletter.pk
    assert event.new == {
        "format": "csv",
        "rows": 2,
        "left_out": {"erased": 1, "opted_out": 1, "no_consent": 1, "no_email": 1},
    }


def test_xlsx_download_reads_back_with_the_same_rows(
    client, admin, newsletter, members
):
    client.force_login(admin)
    response = client.get(
        f"/marketing/lists/{newsletter.pk}/export/download/", {"format": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_TYPE
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert values[0] == HEADER
    assert [r[0] for r in values[1:]] == ["f@x.be", "Piet@Berg.be"]
    assert values[1][1] == "'=cmd|'"
    assert values[2][1:5] == ["Piet", "van der Berg", "Berg Bouw BV", "nl"]
    assert AuditEvent.objects.get(event_type="marketing_list.exported").new[
        "format"
    ] == ("xlsx")


def test_an_unknown_format_on_the_page_is_a_400_with_a_message(
    client, marketer, newsletter
):
    client.force_login(marketer)
    response = client.get(
        f"/marketing/lists/{newsletter.pk}/export/download/", {"format": "pdf"}
    )
    assert response.status_code == 400
    assert "Choose CSV or XLSX." in response.content.decode()
    assert not AuditEvent.objects.filter(event_type="marketing_list.exported").exists()


@pytest.mark.parametrize("who", ["inside", "rep", "outsider", "director", "colleague"])
def test_roles_without_marketing_manage_may_not_export(
    client, personas, api_as, newsletter, who
):
    client.force_login(personas[who])
    base = f"/marketing/lists/{newsletter.pk}/export/"
    assert client.get(base).status_code == 403
    assert client.get(base + "download/").status_code == 403
    api = api_as(who)
    assert api.get(f"/api/marketing/lists/{newsletter.pk}/export").status_code == 403
    response = api.get(f"/api/marketing/lists/{newsletter.pk}/export-summary")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not AuditEvent.objects.filter(event_type="marketing_list.exported").exists()


def test_the_api_exports_csv_and_xlsx_and_summarises(api_as, newsletter, members):
    api = api_as("marketer")
    summary = api.get(f"/api/marketing/lists/{newsletter.pk}/export-summary")
    assert summary.status_code == 200
    assert summary.json() == {
        "list_id": newsletter.pk,
        "name": "Newsletter",
        "members": 6,
        "rows": 2,
        "left_out": {"erased": 1, "opted_out": 1, "no_consent": 1, "no_email": 1},
    }
    response = api.get(f"/api/marketing/lists/{newsletter.pk}/export")
    assert response.status_code == 200
    assert [r[0] for r in _csv(response)[1:]] == ["f@x.be", "Piet@Berg.be"]
    xlsx = api.get(f"/api/marketing/lists/{newsletter.pk}/export", {"format": "xlsx"})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert book.active.max_row == 3


def test_the_api_refuses_an_unknown_format_and_an_unknown_list(
    api_as, anonymous_api, newsletter
):
    api = api_as("admin")
    bad = api.get(f"/api/marketing/lists/{newsletter.pk}/export", {"format": "pdf"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"
    missing = api.get("/api/marketing/lists/999999/export")
    assert missing.status_code == 404
    assert (
        anonymous_api.get(f"/api/marketing/lists/{newsletter.pk}/export").status_code
        == 401
    )


def test_the_export_reads_the_rows_in_a_fixed_number_of_queries(newsletter, marketer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            list(exports.rows(newsletter))
        return len(ctx.captured_queries)

    _member(newsletter, marketer, company="A BV")
    few = queries()
    for n in range(5):
        _member(newsletter, marketer, company=f"Company {n} BV")
    assert queries() == few


def test_the_erased_event_name_matches_privacy():
    assert exports.ERASED_EVENT == privacy.ERASED_EVENT
    assert unsubscribe.ERASED_EVENT == privacy.ERASED_EVENT


def test_the_page_advises_csv_for_a_large_list(
    client, marketer, newsletter, monkeypatch
):
    _member(newsletter, marketer, email="ok@x.be")
    client.force_login(marketer)
    path = f"/marketing/lists/{newsletter.pk}/export/"
    assert 'data-testid="export-large"' not in client.get(path).content.decode()
    monkeypatch.setattr(exports, "LARGE_EXPORT_ROWS", 1)
    assert 'data-testid="export-large"' in client.get(path).content.decode()
