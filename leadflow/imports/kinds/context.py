"""Customer context from the ERP: overdue invoices, complaints and revenue per year.

Each line names a company Leadflow already knows (by the id it had in the old system,
from the companies import, or by its name without the legal form, as the companies
kind matches it). A company not in Leadflow is a line error ("import companies
first"): an invoice list is no place to create customers, and a misspelt name would
make a second company. These records feed the customer context shown beside a
qualified lead (overdue invoices, open complaints, sales history)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.contacts.actions import (
    check_complaint,
    check_invoice,
    check_sales_record,
    record_complaint,
    record_invoice,
    record_sales_year,
    update_complaint,
    update_invoice,
)
from leadflow.contacts.models import Company, Complaint, Invoice, SalesRecord
from leadflow.core.errors import ValidationFailed
from leadflow.core.text import company_key, name_key
from leadflow.imports.fields import (
    Field,
    FieldType,
    Kind,
    Outcome,
    RowProblem,
    kind_named,
    register,
)
from leadflow.imports.kinds.common import EXTERNAL_ID, changes, imported, remember
from leadflow.imports.kinds.contacts import COMPANY_NAME

HISTORY = "data.import_history"
# Companies kept per import for the lines that name them again (bounded).
MAX_CACHED = 5000

COMPANY = Field(
    "company",
    gettext_lazy("company"),
    max_length=200,
    spelling=True,
    synonyms=(
        *COMPANY_NAME.synonyms,
        "customer name",
        "klantnaam",
        "debtor",
        "debiteur",
        "relatie",
        "relation",
    ),
)
COMPANY_ID = Field(
    "company_id",
    gettext_lazy("company id in the old system"),
    max_length=100,
    synonyms=(
        "company id",
        "customer id",
        "customer number",
        "customer no",
        "account id",
        "account number",
        "klantnummer",
        "klant nr",
        "klantnr",
        "debiteurnummer",
        "debiteur nr",
        "relatienummer",
    ),
    help=gettext_lazy("The id the company had in the companies import."),
)
COMPANY_ONE_OF = ("company", "company_id")


def company_of(row: dict, ctx) -> Company | None:
    """The company a line names, matched like the companies kind matches it."""
    external, name = row.get("company_id"), row.get("company") or ""
    cache = ctx.cache.setdefault("companies", {})
    key = (external, company_key(name) or name_key(name))
    if key not in cache:
        if len(cache) >= MAX_CACHED:
            cache.clear()
        found = None
        if external and not name:
            pk = imported("companies", external)
            found = Company.objects.filter(pk=pk).first() if pk else None
        elif external or name:
            found = kind_named("companies").existing(
                {"name": name, "external_id": external}, ctx
            )
        cache[key] = found
    return cache[key]


def header_of(ctx, key: str) -> str:
    """The file's column mapped to a field (for the line's problem)."""
    for header, field_key in (ctx.job.mapping or {}).items():
        if field_key == key:
            return header
    return ""


def known_company(row: dict, ctx) -> Company:
    company = company_of(row, ctx)
    if company is None:
        raise RowProblem(
            _("%(company)s is not in Leadflow: import companies first."),
            column=header_of(ctx, "company" if row.get("company") else "company_id"),
            company=row.get("company") or row.get("company_id"),
        )
    return company


def company_identity(row: dict) -> str:
    if row.get("company_id"):
        return f"id:{row['company_id']}"
    return company_key(row.get("company")) or name_key(row.get("company"))


def not_in_future(row: dict, ctx, keys: tuple[str, ...]) -> None:
    """Dates of things that happened (issued, paid, opened...) are today or before."""
    today = timezone.localdate()
    for key in keys:
        value = row.get(key)
        day = value.date() if hasattr(value, "date") else value
        if day is not None and day > today:
            raise RowProblem(
                _("%(what)s cannot be in the future (%(date)s)."),
                column=header_of(ctx, key),
                what=capfirst(str(ctx.kind.field(key).label)),
                date=day.isoformat(),
            )


def money(row: dict, ctx, key: str) -> None:
    """An amount fits the money columns: cents at most, below a trillion."""
    value = row.get(key)
    if value is None:
        return
    if value.as_tuple().exponent < -2 or abs(value) >= 10**12:
        raise RowProblem(
            _("%(value)s is not an amount in euro and cent."),
            column=header_of(ctx, key),
            value=value,
        )


def as_row_problem(check, **values) -> None:
    """A contacts action's own rule, reported on the line in the dry run."""
    try:
        check(**values)
    except ValidationFailed as exc:
        raise RowProblem(str(exc)) from exc


# --- invoices ----------------------------------------------------------------------------


ISSUED_ON = gettext_lazy("issued on")
DUE_ON = gettext_lazy("due on")
PAID_ON = gettext_lazy("paid on")


@register
class Invoices(Kind):
    key = "invoices"
    label = gettext_lazy("invoices")
    capability = HISTORY
    description = gettext_lazy(
        "One line per invoice of a company Leadflow knows (import companies first). "
        "An invoice number the company already has is the same invoice: an empty "
        "paid date is filled in. Unpaid invoices past their due date show on the "
        "company's qualified leads. Credit notes (negative amounts) are refused."
    )
    one_of = COMPANY_ONE_OF
    fields = (
        COMPANY_ID,
        COMPANY,
        Field(
            "number",
            gettext_lazy("invoice number"),
            required=True,
            max_length=50,
            synonyms=(
                "number",
                "invoice",
                "invoice no",
                "invoice nr",
                "factuurnummer",
                "factuurnr",
                "factuur nr",
                "factuur",
                "nummer",
                "nr",
            ),
        ),
        Field(
            "issued_on",
            ISSUED_ON,
            FieldType.DATE,
            required=True,
            synonyms=(
                "invoice date",
                "issue date",
                "issued",
                "date",
                "factuurdatum",
                "datum",
                "uitgiftedatum",
            ),
        ),
        Field(
            "due_on",
            DUE_ON,
            FieldType.DATE,
            required=True,
            synonyms=(
                "due date",
                "due",
                "payment due",
                "vervaldatum",
                "vervaldag",
                "verval datum",
                "uiterste betaaldatum",
            ),
        ),
        Field(
            "amount",
            gettext_lazy("amount"),
            FieldType.DECIMAL,
            required=True,
            synonyms=(
                "total",
                "amount due",
                "open amount",
                "outstanding",
                "bedrag",
                "totaal",
                "openstaand bedrag",
                "openstaand",
                "saldo",
            ),
        ),
        Field(
            "paid_on",
            PAID_ON,
            FieldType.DATE,
            synonyms=(
                "paid",
                "payment date",
                "date paid",
                "betaald op",
                "betaald",
                "betaaldatum",
                "datum betaling",
            ),
        ),
    )
    VALUES = ("issued_on", "due_on", "amount", "paid_on")

    def identity(self, row):
        return f"{company_identity(row)}|{row['number'].strip().lower()}"

    def check(self, row, ctx):
        not_in_future(row, ctx, ("issued_on", "paid_on"))
        money(row, ctx, "amount")
        as_row_problem(
            check_invoice,
            number=row["number"],
            **{k: row.get(k) for k in self.VALUES},
        )
        known_company(row, ctx)
        return []

    def _numbers(self, company: Company, ctx) -> set[str]:
        """The company's invoice numbers, read once per import (one query per
        company instead of one per line)."""
        cache = ctx.cache.setdefault("invoice_numbers", {})
        if company.pk not in cache:
            if len(cache) >= MAX_CACHED:
                cache.clear()
            cache[company.pk] = set(
                Invoice.objects.filter(company=company).values_list("number", flat=True)
            )
        return cache[company.pk]

    def existing(self, row, ctx):
        company = company_of(row, ctx)
        number = row["number"].strip()
        if company is None or number not in self._numbers(company, ctx):
            return None
        return Invoice.objects.filter(company=company, number=number).first()

    def write(self, row, ctx):
        company = known_company(row, ctx)
        invoice = self.existing(row, ctx)
        values = {k: row.get(k) for k in self.VALUES}
        if invoice is None:
            invoice = record_invoice(
                company, actor=ctx.actor, number=row["number"], **values
            )
            self._numbers(company, ctx).add(invoice.number)
            return Outcome.CREATED
        new = changes(invoice, values, self.VALUES, overwrite=ctx.update_existing)
        if not new:
            return Outcome.UNCHANGED
        update_invoice(invoice, actor=ctx.actor, **new)
        return Outcome.UPDATED


# --- complaints --------------------------------------------------------------------------


OPENED_ON = gettext_lazy("opened on")
RESOLVED_ON = gettext_lazy("resolved on")


@register
class Complaints(Kind):
    key = "complaints"
    label = gettext_lazy("complaints")
    capability = HISTORY
    description = gettext_lazy(
        "One line per complaint of a company Leadflow knows (import companies first). "
        "A complaint without a resolved date is open and shows on the company's "
        "qualified leads. The same complaint again (same id, or the same company, "
        "date and subject) gets its empty resolved date filled in."
    )
    one_of = COMPANY_ONE_OF
    fields = (
        Field(
            EXTERNAL_ID.key,
            EXTERNAL_ID.label,
            max_length=100,
            synonyms=(
                *EXTERNAL_ID.synonyms,
                "complaint id",
                "complaint number",
                "klachtnummer",
                "klacht id",
                "ticket",
                "ticket id",
            ),
        ),
        COMPANY_ID,
        COMPANY,
        Field(
            "opened_on",
            OPENED_ON,
            FieldType.DATE,
            required=True,
            synonyms=(
                "opened",
                "date",
                "complaint date",
                "reported on",
                "received on",
                "datum",
                "geopend op",
                "datum klacht",
                "ingediend op",
                "gemeld op",
            ),
        ),
        Field(
            "subject",
            gettext_lazy("subject"),
            required=True,
            max_length=300,
            synonyms=(
                "complaint",
                "description",
                "summary",
                "onderwerp",
                "klacht",
                "omschrijving",
                "beschrijving",
            ),
        ),
        Field(
            "resolved_on",
            RESOLVED_ON,
            FieldType.DATE,
            synonyms=(
                "resolved",
                "closed on",
                "solved on",
                "closed",
                "opgelost op",
                "afgehandeld op",
                "opgelost",
                "afgesloten op",
                "afgehandeld",
            ),
        ),
    )

    def identity(self, row):
        if row.get("external_id"):
            return f"id:{row['external_id']}"
        return (
            f"{company_identity(row)}|{row['opened_on'].isoformat()}|"
            f"{name_key(row['subject'])}"
        )

    def check(self, row, ctx):
        not_in_future(row, ctx, ("opened_on", "resolved_on"))
        as_row_problem(
            check_complaint,
            subject=row["subject"],
            opened_on=row["opened_on"],
            resolved_on=row.get("resolved_on"),
        )
        company = known_company(row, ctx)
        complaint = self.existing(row, ctx)
        if complaint is not None and complaint.company_id != company.pk:
            raise RowProblem(
                _("Complaint %(id)s was imported for another company."),
                id=row["external_id"],
            )
        return []

    def existing(self, row, ctx):
        pk = imported(self.key, row.get("external_id"))
        if pk:
            return Complaint.objects.filter(pk=pk).first()
        company = company_of(row, ctx)
        if company is None:
            return None
        return (
            Complaint.objects.filter(
                company=company,
                opened_on=row["opened_on"],
                subject__iexact=row["subject"].strip(),
            )
            .order_by("id")
            .first()
        )

    def write(self, row, ctx):
        company = known_company(row, ctx)
        complaint = self.existing(row, ctx)
        outcome = Outcome.UNCHANGED
        if complaint is None:
            complaint = record_complaint(
                company,
                actor=ctx.actor,
                opened_on=row["opened_on"],
                subject=row["subject"],
                resolved_on=row.get("resolved_on"),
            )
            outcome = Outcome.CREATED
        else:
            new = changes(
                complaint,
                row,
                ("subject", "opened_on", "resolved_on"),
                overwrite=ctx.update_existing,
            )
            if new:
                complaint = update_complaint(complaint, actor=ctx.actor, **new)
                outcome = Outcome.UPDATED
        remember(self.key, row.get("external_id"), complaint, ctx)
        return outcome


# --- sales history -----------------------------------------------------------------------


@register
class SalesHistory(Kind):
    key = "sales_history"
    label = gettext_lazy("sales history")
    capability = HISTORY
    description = gettext_lazy(
        "One line per company and year with the revenue of that year (import "
        "companies first). A year the company already has keeps its figure unless "
        "“update existing” is chosen."
    )
    one_of = COMPANY_ONE_OF
    fields = (
        COMPANY_ID,
        COMPANY,
        Field(
            "year",
            gettext_lazy("year"),
            FieldType.INT,
            required=True,
            synonyms=("fiscal year", "jaar", "boekjaar"),
        ),
        Field(
            "revenue",
            gettext_lazy("revenue"),
            FieldType.DECIMAL,
            required=True,
            synonyms=(
                "sales",
                "turnover",
                "amount",
                "total",
                "omzet",
                "verkoop",
                "bedrag",
                "totaal",
            ),
        ),
    )

    def identity(self, row):
        return f"{company_identity(row)}|{row['year']}"

    def check(self, row, ctx):
        money(row, ctx, "revenue")
        as_row_problem(check_sales_record, year=row["year"], revenue=row["revenue"])
        known_company(row, ctx)
        return []

    def existing(self, row, ctx):
        company = company_of(row, ctx)
        if company is None:
            return None
        return SalesRecord.objects.filter(company=company, year=row["year"]).first()

    def write(self, row, ctx):
        company = known_company(row, ctx)
        before = self.existing(row, ctx)
        _record, changed = record_sales_year(
            company,
            actor=ctx.actor,
            year=row["year"],
            revenue=row["revenue"],
            overwrite=ctx.update_existing,
        )
        if before is None:
            return Outcome.CREATED
        return Outcome.UPDATED if changed else Outcome.UNCHANGED
