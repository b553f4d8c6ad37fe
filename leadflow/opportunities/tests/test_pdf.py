"""The quote PDF: Decimal totals in the quote's language, the letterhead, the draft mark,
escaping and no network; the download for whoever may see the lead, 404 for others."""

import socket
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from leadflow.intake.tests.factories import make_opportunity
from leadflow.opportunities.actions import LineInput, create_quote, send_quote
from leadflow.opportunities.pdf import euro, number, percent, render_quote_html
from leadflow.opportunities.pdf import render_quote_pdf as render
from leadflow.qualification.actions import score_qualification

pytestmark = pytest.mark.django_db

# 2 × 1000 at 10% + 1 × 500 = 2300; 5% off = 2185; 21% VAT = 458.85; total 2643.85.
LINES = [
    LineInput("Ergonomic office chair", Decimal("2"), Decimal("1000"), Decimal("0.10")),
    LineInput("Delivery and installation", Decimal("1"), Decimal("500")),
]


def make_quote(actor, owner, *, language="nl", contact="An Peeters", lines=LINES):
    opportunity = make_opportunity(
        actor, owner=owner, name=contact, company="Acme Meubelen NV"
    )
    score_qualification(
        opportunity,
        actor=owner,
        framework="scotsman",
        criteria={
            name: "met"
            for name in ("solution", "competition", "timescales", "money", "need")
        },
    )
    return create_quote(
        opportunity,
        actor=owner,
        lines=lines,
        discount=Decimal("0.05"),
        language=language,
        notes="Delivery within 3 weeks.\nPrices firm until the date above.",
    )


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), text.replace("\u00a0", " ")


@pytest.mark.parametrize(
    ("language", "amount", "rate", "expected"),
    [
        ("nl", "2643.85", "0.21", ("€ 2.643,85", "21%")),
        ("en", "2643.85", "0.21", ("€2,643.85", "21%")),
        ("nl", "-1234567.5", "0.125", ("\u2212€ 1.234.567,50", "12,5%")),
        ("en", "0", "0", ("€0.00", "0%")),
    ],
)
def test_euro_and_percent_follow_the_language(language, amount, rate, expected):
    with translation.override(language):
        shown = (euro(Decimal(amount)).replace("\u00a0", " "), percent(Decimal(rate)))
    assert shown == expected


def test_quantities_show_the_decimals_they_need():
    with translation.override("nl"):
        assert [number(Decimal(q)) for q in ("2.000", "1.500", "1000", "0.125")] == [
            "2",
            "1,5",
            "1.000",
            "0,125",
        ]


def test_a_dutch_draft_has_the_totals_the_draft_mark_and_no_network(
    inside, rep, settings, monkeypatch
):
    settings.LEADFLOW_COMPANY_NAME = "Zitcomfort BV"
    settings.LEADFLOW_COMPANY_ADDRESS = "Industrieweg 12\n9000 Gent"
    settings.LEADFLOW_COMPANY_VAT = "BE 0123.456.789"
    settings.LEADFLOW_COMPANY_IBAN = "BE68 5390 0754 7034"
    quote = make_quote(inside, rep)

    def no_network(*args, **kwargs):
        raise AssertionError("the PDF tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    data = render(quote)

    assert data.startswith(b"%PDF")
    pages, text = pdf_text(data)
    assert pages == 1
    for expected in (
        "Zitcomfort BV",
        "Industrieweg 12",
        "9000 Gent",
        "BE 0123.456.789",
        "BE68 5390 0754 7034",
        "Offerte",
        quote.reference,
        "Acme Meubelen NV",
        "An Peeters",
        "€ 1.800,00",  # the chairs after their 10% line discount
        "€ 2.300,00",  # subtotal
        "\u2212€ 115,00",  # the 5% overall discount
        "€ 458,85",  # btw 21%
        "€ 2.643,85",
        "btw 21%",
        "CONCEPT",
        "Pagina 1 van 1",
        "Delivery within 3 weeks.",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text


def test_an_english_sent_quote_has_english_formatting_and_no_draft_mark(inside, rep):
    quote = send_quote(make_quote(inside, rep, language="en"), actor=rep)
    pages, text = pdf_text(render(quote))
    for expected in (
        "Quote",
        quote.reference,
        "Acme Meubelen NV",
        "€2,643.85",
        "VAT 21%",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text
    assert "CONCEPT" not in text


def test_an_english_draft_says_draft(inside, rep):
    html = render_quote_html(make_quote(inside, rep, language="en"))
    assert html.count(">DRAFT<") == 2  # the watermark and the banner


def test_names_are_text_never_markup(inside, rep):
    name = "<script>alert(1)</script>"
    quote = make_quote(inside, rep, contact=name)
    html = render_quote_html(quote)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    _pages, text = pdf_text(render(quote))
    assert name in text


def test_a_long_quote_runs_over_pages_with_numbered_footers(inside, rep):
    lines = [
        LineInput(f"Item {n}: desk module", Decimal("1"), Decimal("10"))
        for n in range(1, 31)
    ]
    quote = make_quote(inside, rep, language="en", lines=lines)
    pages, text = pdf_text(render(quote))
    assert pages >= 2
    assert f"Page 2 of {pages}" in text
    assert "Item 30: desk module" in text


# --- the download --------------------------------------------------------------------


def test_the_owner_downloads_the_pdf(client, inside, rep):
    quote = make_quote(inside, rep)
    client.force_login(rep)
    response = client.get(reverse("quote_pdf", args=[quote.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{quote.reference}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"%PDF")


def test_another_team_gets_404(client, inside, rep, outsider):
    quote = make_quote(inside, rep)
    client.force_login(outsider)
    assert client.get(reverse("quote_pdf", args=[quote.pk])).status_code == 404
    assert client.get(reverse("quote_pdf", args=[quote.pk + 999])).status_code == 404


def test_anonymous_is_sent_to_log_in(client, inside, rep):
    quote = make_quote(inside, rep)
    url = reverse("quote_pdf", args=[quote.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
