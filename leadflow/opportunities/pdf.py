"""The quote as a PDF (WeasyPrint): letterhead, customer, lines and Decimal totals, written
in the quote's language with that language's number and date formats.

Nothing is fetched while rendering: the template has no external resources, and the URL
fetcher refuses every scheme but ``data:``, so a stray URL cannot reach the network or the
file system. Fonts come from the system (DejaVu Sans, Debian's fonts-dejavu-core)."""

import logging
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from leadflow.opportunities.models import Quote
from leadflow.opportunities.quoting import totals
from leadflow.opportunities.states import QuoteStatus

TEMPLATE = "opportunities/quote_document.html"
# Relative URLs (there are none) would resolve here, on the local disk, never remotely.
BASE_URL = str(Path(__file__).resolve().parent / "templates" / "opportunities")

# WeasyPrint reports each rendering step at INFO; keep its warnings only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

HUNDRED = Decimal(100)
NBSP = "\u00a0"
MINUS = "\u2212"

# Customers are mostly in the Benelux and around it; other codes are printed as they are.
COUNTRIES = {
    "BE": _("Belgium"),
    "NL": _("Netherlands"),
    "LU": _("Luxembourg"),
    "DE": _("Germany"),
    "FR": _("France"),
}


def number(value: Decimal, places: int | None = None) -> str:
    """A number in the active language: 1.234,5 (nl) or 1,234.5 (en). Without ``places``,
    as many decimals as the value needs (2.000 → 2, 1.500 → 1,5)."""
    if places is None:
        places = max(0, -value.normalize().as_tuple().exponent)
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def euro(value: Decimal) -> str:
    """An amount in euro: € 2.643,85 in Dutch, €2,643.85 in English."""
    sign = MINUS if value < 0 else ""
    amount = number(abs(value), 2)
    if (translation.get_language() or "").startswith("nl"):
        return f"{sign}€{NBSP}{amount}"
    return f"{sign}€{amount}"


def percent(rate: Decimal) -> str:
    """A 0–1 rate as a percentage: 0.21 → 21%, 0.125 → 12,5% (nl)."""
    return f"{number(rate * HUNDRED)}%"


def _company() -> dict:
    address = [
        line.strip()
        for line in settings.LEADFLOW_COMPANY_ADDRESS.splitlines()
        if line.strip()
    ]
    return {
        "name": settings.LEADFLOW_COMPANY_NAME,
        "address_lines": address,
        "vat": settings.LEADFLOW_COMPANY_VAT,
        "iban": settings.LEADFLOW_COMPANY_IBAN,
        "email": settings.LEADFLOW_COMPANY_EMAIL,
        "phone": settings.LEADFLOW_COMPANY_PHONE,
        "footer_address": ", ".join(address),
    }


def _customer(quote: Quote) -> dict:
    opportunity = quote.opportunity
    contact = opportunity.contact
    company = opportunity.company or contact.company
    country = company.country.upper() if company and company.country else ""
    return {
        "company": company.name if company else "",
        "contact": contact.name,
        "street": company.street if company else "",
        "city": " ".join(p for p in (company.postcode, company.city) if p)
        if company
        else "",
        "country": COUNTRIES.get(country, country),
        "vat_number": company.vat_number if company else "",
    }


def quote_context(quote: Quote) -> dict:
    """Everything the template shows, formatted; call inside translation.override."""
    opportunity = quote.opportunity
    lines = list(quote.lines.all())
    result = totals(
        [(line.quantity, line.unit_price, line.discount) for line in lines],
        discount=quote.discount,
        vat_rate=quote.vat_rate,
    )
    rows = [
        {
            "position": index,
            "description": line.description,
            "quantity": number(line.quantity),
            "unit_price": euro(line.unit_price),
            "discount": percent(line.discount) if line.discount else "",
            "net": euro(amounts.net),
        }
        for index, (line, amounts) in enumerate(
            zip(lines, result.lines, strict=True), start=1
        )
    ]
    owner = opportunity.owner
    issued = (
        timezone.localdate(quote.sent_at) if quote.sent_at else timezone.localdate()
    )
    return {
        "language": translation.get_language(),
        "company": _company(),
        "customer": _customer(quote),
        "reference": quote.reference,
        "revision": quote.revision,
        "issued": issued,
        "valid_until": quote.valid_until,
        "is_draft": quote.status == QuoteStatus.DRAFT,
        "sales_contact": {
            "name": owner.get_full_name() or owner.get_username(),
            "email": owner.email,
        },
        "lines": rows,
        "any_line_discount": any(line.discount for line in lines),
        "subtotal": euro(result.subtotal),
        "has_discount": bool(quote.discount),
        "discount_rate": percent(quote.discount),
        "discount_amount": euro(-result.discount_amount),
        "net": euro(result.net),
        "vat_rate": percent(quote.vat_rate),
        "vat": euro(result.vat),
        "total": euro(result.total),
        "notes": quote.notes.strip(),
        # WeasyPrint fills these with the page counters (see the template's CSS).
        "page_counter": mark_safe('<span class="page-number"></span>'),
        "pages_counter": mark_safe('<span class="page-count"></span>'),
    }


def quote_language(quote: Quote) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    return quote.language if quote.language in known else settings.LANGUAGE_CODE


def render_quote_html(quote: Quote) -> str:
    with translation.override(quote_language(quote)):
        return render_to_string(TEMPLATE, quote_context(quote))


@cache
def _offline_fetcher():
    """WeasyPrint's fetcher, refusing every URL but inline data: ones (made once: it
    builds an SSL context it will never use)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=1)


def render_quote_pdf(quote: Quote) -> bytes:
    """The quote document as PDF bytes, in the quote's language."""
    # Imported here: WeasyPrint loads Pango through cffi, which only PDFs need.
    from weasyprint import HTML

    html = render_quote_html(quote)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=_offline_fetcher())
    return document.write_pdf()
