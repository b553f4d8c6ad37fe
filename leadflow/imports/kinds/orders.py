"""Orders: re-orders and repeat purchases of customers Leadflow knows, booked through
the same action as a re-order entered at intake (the customer becomes a customer).

The person is found like the contacts kind finds them (id from the contacts import,
e-mail, or phone and name) or by name at the company; the company like the companies
kind (id or name without its legal form). A customer Leadflow does not know is a line
error: import companies and contacts first. An order already booked (same id from the
old system, or the same customer, moment and description) is left as it is: there is
no editing of orders."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.contacts.models import Company, Contact
from leadflow.core.text import company_key, name_key, normalise_email
from leadflow.imports.fields import (
    Field,
    FieldType,
    Kind,
    Outcome,
    RowProblem,
    kind_named,
    register,
)
from leadflow.imports.kinds.common import imported, remember
from leadflow.imports.kinds.contacts import Contacts
from leadflow.imports.kinds.context import (
    COMPANY,
    COMPANY_ID,
    HISTORY,
    MAX_CACHED,
    company_of,
    header_of,
    money,
)
from leadflow.intake.actions import book_order
from leadflow.intake.models import Order

# A clock a little ahead of the server's is not "in the future".
LEEWAY = timedelta(minutes=5)


def _contacts_field(key: str) -> Field:
    return next(f for f in Contacts.fields if f.key == key)


@register
class Orders(Kind):
    key = "orders"
    label = gettext_lazy("orders")
    capability = HISTORY
    description = gettext_lazy(
        "One line per order of a customer Leadflow knows (import companies and "
        "contacts first): the person (e-mail, or name at the company) and/or the "
        "company. The same order again (same order id, or the same customer, date and "
        "description) is not booked twice. Negative amounts (credit notes, returns) "
        "are refused."
    )
    one_of = ("contact_id", "email", "contact", "company_id", "company")
    batch_size = 250

    fields = (
        Field(
            "external_id",
            gettext_lazy("order id in the old system"),
            max_length=100,
            synonyms=(
                "id",
                "order id",
                "order number",
                "order no",
                "order nr",
                "external id",
                "legacy id",
                "old id",
                "ordernummer",
                "order nummer",
                "bestelnummer",
                "bestelling",
                "oud id",
            ),
        ),
        Field(
            "contact_id",
            gettext_lazy("contact id in the old system"),
            max_length=100,
            synonyms=("contact id", "person id", "contactpersoon id"),
        ),
        Field(
            "contact",
            gettext_lazy("contact"),
            max_length=200,
            synonyms=(
                "contact name",
                "contact person",
                "person",
                "name",
                "ordered by",
                "buyer",
                "naam",
                "contactpersoon",
                "besteld door",
                "koper",
            ),
        ),
        Field(
            "email",
            gettext_lazy("e-mail"),
            FieldType.EMAIL,
            synonyms=_contacts_field("email").synonyms,
        ),
        Field(
            "phone",
            gettext_lazy("phone"),
            FieldType.PHONE,
            max_length=40,
            synonyms=_contacts_field("phone").synonyms,
        ),
        COMPANY_ID,
        COMPANY,
        Field(
            "description",
            gettext_lazy("what was ordered"),
            FieldType.LONG_TEXT,
            required=True,
            synonyms=(
                "description",
                "product",
                "products",
                "item",
                "items",
                "article",
                "omschrijving",
                "beschrijving",
                "artikel",
                "product omschrijving",
                "producten",
            ),
        ),
        Field(
            "amount",
            gettext_lazy("amount"),
            FieldType.DECIMAL,
            synonyms=(
                "total",
                "value",
                "order value",
                "price",
                "revenue",
                "bedrag",
                "totaal",
                "waarde",
                "orderwaarde",
                "prijs",
                "omzet",
            ),
        ),
        Field(
            "ordered_at",
            gettext_lazy("ordered at"),
            FieldType.DATETIME,
            required=True,
            synonyms=(
                "order date",
                "date",
                "ordered",
                "ordered on",
                "orderdatum",
                "besteldatum",
                "datum",
                "besteld op",
            ),
        ),
        Field(
            "channel",
            gettext_lazy("channel"),
            FieldType.LOOKUP,
            lookup="channel",
            synonyms=("source", "via", "kanaal", "bron"),
        ),
        Field(
            "reference",
            gettext_lazy("reference"),
            max_length=100,
            synonyms=(
                "ref",
                "your reference",
                "customer reference",
                "po",
                "po number",
                "purchase order",
                "referentie",
                "uw referentie",
                "klantreferentie",
                "bestelbon",
            ),
        ),
    )

    # --- who ordered ------------------------------------------------------------------

    def _person(self, row, ctx, company: Company | None) -> Contact | None:
        """The person, found as the contacts kind finds them, else by name at the
        company (or by a name only one contact has)."""
        if not (row.get("contact_id") or row.get("email") or row.get("contact")):
            return None
        cache = ctx.cache.setdefault("order_contacts", {})
        key = (
            row.get("contact_id"),
            normalise_email(row.get("email")),
            row.get("phone"),
            name_key(row.get("contact")),
            company.pk if company else None,
        )
        if key in cache:
            return cache[key]
        if len(cache) >= MAX_CACHED:
            cache.clear()
        found = kind_named("contacts").existing(
            {
                "external_id": row.get("contact_id"),
                "name": row.get("contact") or "",
                "email": row.get("email") or "",
                "phone": row.get("phone") or "",
            },
            ctx,
        )
        if found is None and row.get("contact"):
            named = Contact.objects.filter(name_key=name_key(row["contact"]))
            if company is not None:
                named = named.filter(company=company)
            candidates = list(named.order_by("id")[:2])
            if len(candidates) > 1:
                raise RowProblem(
                    _(
                        "Several contacts are called %(name)s: add their e-mail "
                        "address or company."
                    ),
                    column=header_of(ctx, "contact"),
                    name=row["contact"],
                )
            found = candidates[0] if candidates else None
        cache[key] = found
        return found

    def customer(self, row, ctx) -> tuple[Contact | None, Company | None, list]:
        """The contact and company to book on, and warnings about them."""
        warnings: list[str] = []
        company = None
        if row.get("company") or row.get("company_id"):
            company = company_of(row, ctx)
        contact = self._person(row, ctx, company)
        named_person = row.get("contact_id") or row.get("email") or row.get("contact")
        if company is None and (row.get("company") or row.get("company_id")):
            if contact is None:
                raise self._unknown(row, ctx)
            warnings.append(
                _("%(company)s is not in Leadflow: the order goes to %(name)s.")
                % {"company": row.get("company") or row["company_id"], "name": contact}
            )
        if contact is None and named_person:
            if company is None:
                raise self._unknown(row, ctx)
            warnings.append(
                _(
                    "%(name)s is not known at %(company)s: the order goes to the company."
                )
                % {"name": named_person, "company": company}
            )
        if (
            contact is not None
            and company is not None
            and contact.company_id
            and contact.company_id != company.pk
        ):
            raise RowProblem(
                _("%(name)s works at another company than %(company)s."),
                name=contact,
                company=company,
            )
        return contact, company, warnings

    def _unknown(self, row, ctx) -> RowProblem:
        who = (
            row.get("email")
            or row.get("contact")
            or row.get("contact_id")
            or row.get("company")
            or row.get("company_id")
        )
        return RowProblem(
            _("%(customer)s is not in Leadflow: import companies and contacts first."),
            customer=who,
        )

    # --- the kind ---------------------------------------------------------------------

    def identity(self, row):
        if row.get("external_id"):
            return f"id:{row['external_id']}"
        who = (
            row.get("contact_id")
            or normalise_email(row.get("email"))
            or name_key(row.get("contact"))
        )
        company = row.get("company_id") or company_key(row.get("company"))
        return (
            f"{who}|{company}|{row['ordered_at'].isoformat()}|"
            f"{name_key(row['description'])}|{row.get('amount')}|"
            f"{row.get('reference') or ''}"
        )

    def check(self, row, ctx):
        if row["ordered_at"] > timezone.now() + LEEWAY:
            raise RowProblem(
                _("An order cannot be placed in the future (%(date)s)."),
                column=header_of(ctx, "ordered_at"),
                date=row["ordered_at"].date().isoformat(),
            )
        if row.get("amount") is not None and row["amount"] < 0:
            raise RowProblem(
                _("The amount cannot be negative (credit notes are left out)."),
                column=header_of(ctx, "amount"),
            )
        money(row, ctx, "amount")
        _contact, _company, warnings = self.customer(row, ctx)
        return warnings

    def existing(self, row, ctx):
        pk = imported(self.key, row.get("external_id"))
        if pk:
            return Order.objects.filter(pk=pk).first()
        try:
            contact, company, _warnings = self.customer(row, ctx)
        except RowProblem:
            return None
        orders = Order.objects.filter(
            ordered_at=row["ordered_at"],
            description=row["description"].strip(),
        )
        company = company or (contact.company if contact is not None else None)
        if company is not None:
            orders = orders.filter(company=company)
        else:
            orders = orders.filter(contact=contact, company__isnull=True)
        if row.get("reference"):
            orders = orders.filter(reference=row["reference"].strip()[:100])
        return orders.order_by("id").first()

    def write(self, row, ctx):
        order = self.existing(row, ctx)
        if order is not None:
            remember(self.key, row.get("external_id"), order, ctx)
            return Outcome.UNCHANGED
        contact, company, _warnings = self.customer(row, ctx)
        order = book_order(
            actor=ctx.actor,
            description=row["description"],
            contact=contact,
            company=company,
            amount=row.get("amount"),
            reference=row.get("reference") or "",
            ordered_at=row["ordered_at"],
            channel=row.get("channel"),
        )
        remember(self.key, row.get("external_id"), order, ctx)
        return Outcome.CREATED
