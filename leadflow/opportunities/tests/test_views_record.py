"""The qualified-lead record page: what each persona sees and what its forms store."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.opportunities.models import (
    Document,
    Opportunity,
    OpportunityTransition,
    Quote,
)
from leadflow.opportunities.tests.pipeline_factories import (
    make_lead,
    score_scotsman,
)
from leadflow.qualification.models import Scorecard


@pytest.fixture
def lead(rep):
    return make_lead(rep, owner=rep, title="Compressor line")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_sees_every_section(lead, rep):
    page = client_for(rep).get(f"/opportunities/{lead.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for section in (
        "Qualification",
        "Buying clock",
        "Activities",
        "Quotes",
        "Documents",
        "Customer context",
        "History",
    ):
        assert section in html
    assert 'data-testid="scotsman-form"' in html


def test_another_team_gets_404_and_marketing_gets_404(lead, outsider, marketer):
    assert client_for(outsider).get(f"/opportunities/{lead.pk}/").status_code == 404
    assert client_for(marketer).get(f"/opportunities/{lead.pk}/").status_code == 404
    response = client_for(outsider).post(
        f"/opportunities/{lead.pk}/move/", {"stage": "proposal", "reason": "x"}
    )
    assert response.status_code == 404
    assert Opportunity.objects.get(pk=lead.pk).stage.code == "qualification"


def test_a_stage_move_without_reason_is_refused_and_with_reason_recorded(lead, rep):
    client = client_for(rep)
    response = client.post(
        f"/opportunities/{lead.pk}/move/",
        {"stage": "proposal", "reason": ""},
        follow=True,
    )
    assert Opportunity.objects.get(pk=lead.pk).stage.code == "qualification"
    assert "Why" in response.content.decode()
    client.post(
        f"/opportunities/{lead.pk}/move/", {"stage": "proposal", "reason": "Demo done"}
    )
    lead.refresh_from_db()
    assert lead.stage.code == "proposal"
    move = OpportunityTransition.objects.filter(opportunity=lead).last()
    assert (move.from_state, move.to_state, move.reason) == (
        "qualification",
        "proposal",
        "Demo done",
    )


def test_scoring_on_the_page_stores_a_new_scorecard_version(lead, rep):
    data = {
        f"c_{n}": "met"
        for n in ("solution", "competition", "originality", "timescales", "size")
    }
    data.update({f"c_{n}": "unknown" for n in ("money", "authority", "need")})
    client_for(rep).post(f"/opportunities/{lead.pk}/qualify/scotsman/", data)
    card = Scorecard.objects.get(opportunity=lead)
    assert (card.met, card.passes_gate, card.version) == (5, True, 1)


def test_a_quote_below_the_gate_is_refused_on_the_page(lead, rep):
    score_scotsman(lead, rep, met=4)
    response = client_for(rep).post(
        f"/opportunities/{lead.pk}/quotes/",
        {
            "lines-TOTAL_FORMS": "5",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Compressor",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "1000",
            "vat_rate": "21",
            "language": "nl",
        },
        follow=True,
    )
    assert "No quote yet" in response.content.decode()
    assert not Quote.objects.exists()


def test_a_quote_line_without_price_is_named(lead, rep):
    score_scotsman(lead, rep, met=5)
    response = client_for(rep).post(
        f"/opportunities/{lead.pk}/quotes/",
        {
            "lines-TOTAL_FORMS": "5",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Compressor",
            "lines-0-quantity": "1",
            "vat_rate": "21",
            "language": "nl",
        },
        follow=True,
    )
    assert "Line 1 needs a unit price." in response.content.decode()
    assert not Quote.objects.exists()


def test_a_draft_is_edited_on_the_page(lead, rep):
    score_scotsman(lead, rep, met=5)
    client = client_for(rep)
    client.post(
        f"/opportunities/{lead.pk}/quotes/",
        {
            "lines-TOTAL_FORMS": "5",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Compressor",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "1000",
            "vat_rate": "21",
            "language": "nl",
        },
    )
    quote = Quote.objects.get()
    prefix = f"q{quote.pk}"
    client.post(
        f"/quotes/{quote.pk}/edit/",
        {
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-description": "Compressor XL",
            f"{prefix}-0-quantity": "2",
            f"{prefix}-0-unit_price": "1200",
            "vat_rate": "6",
            "language": "en",
        },
    )
    quote.refresh_from_db()
    line = quote.lines.get()
    assert (line.description, line.quantity, line.unit_price) == (
        "Compressor XL",
        2,
        1200,
    )
    assert (str(quote.vat_rate), quote.language) == ("0.060", "en")


def test_documents_upload_and_download_with_safe_headers(
    lead, rep, outsider, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(rep)
    # A text file whose content is a script: accepted (its type is), served inert.
    client.post(
        f"/opportunities/{lead.pk}/documents/",
        {
            "file": SimpleUploadedFile(
                "notes.txt", b"<script>alert(1)</script>", content_type="text/html"
            ),
            "kind": "meeting notes",
        },
    )
    document = Document.objects.get()
    response = client.get(f"/documents/{document.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert client_for(outsider).get(f"/documents/{document.pk}/").status_code == 404
    # Stored under MEDIA_ROOT, which no URL serves: only this view hands it out.
    assert str(tmp_path) in document.file.path
    assert client.get(f"/media/{document.file.name}").status_code == 404


@pytest.mark.parametrize(
    "name", ["page.html", "drawing.svg", "setup.exe", "run.js", "macro.bat", "noext"]
)
def test_documents_of_other_types_are_refused(lead, rep, settings, tmp_path, name):
    settings.MEDIA_ROOT = tmp_path
    response = client_for(rep).post(
        f"/opportunities/{lead.pk}/documents/",
        {"file": SimpleUploadedFile(name, b"<script>alert(1)</script>")},
        follow=True,
    )
    assert not Document.objects.exists()
    assert "are not accepted" in response.content.decode()
    assert not any(tmp_path.iterdir())


def test_an_empty_document_is_refused(lead, rep, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client_for(rep).post(
        f"/opportunities/{lead.pk}/documents/",
        {"file": SimpleUploadedFile("empty.pdf", b"")},
        follow=True,
    )
    assert not Document.objects.exists()
    assert response.status_code == 200


def test_closing_as_lost_on_the_page_needs_a_reason(lead, rep):
    client = client_for(rep)
    client.post(f"/opportunities/{lead.pk}/close/", {"result": "lost", "reason": ""})
    assert Opportunity.objects.get(pk=lead.pk).status == "open"
    client.post(
        f"/opportunities/{lead.pk}/close/", {"result": "lost", "reason": "Price"}
    )
    lead.refresh_from_db()
    assert (lead.status, lead.result_reason) == ("lost", "Price")
    lead.contact.refresh_from_db()
    assert lead.contact.in_marketing_database
