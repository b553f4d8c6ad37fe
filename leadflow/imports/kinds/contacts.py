"""Companies and contacts: matched against what Leadflow has with the same rules as
the intake lookup (e-mail; phone and name; company name without its legal form)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.contacts.actions import (
    ContactData,
    attach_company,
    create_contact,
    find_or_create_company,
    update_company,
    update_contact,
)
from leadflow.contacts.models import Company, Consent, Contact, Lifecycle
from leadflow.core.text import company_key, name_key, normalise_email
from leadflow.imports.fields import (
    Field,
    FieldType,
    Kind,
    Outcome,
    RowProblem,
    register,
)
from leadflow.imports.kinds.common import EXTERNAL_ID, changes, imported, remember
from leadflow.intake.actions import find_existing_contact
from leadflow.marketing.actions import (
    get_or_create_lists,
    record_consent,
    subscribe_contact,
)

COMPANY_NAME = Field(
    "company",
    gettext_lazy("company"),
    max_length=200,
    spelling=True,
    synonyms=(
        "company name",
        "organisation",
        "organization",
        "account",
        "account name",
        "bedrijf",
        "bedrijfsnaam",
        "firma",
        "organisatie",
        "klant",
        "customer",
    ),
)
INDUSTRY = Field(
    "industry",
    gettext_lazy("industry"),
    FieldType.LOOKUP,
    lookup="industry",
    synonyms=("sector", "branche", "branch", "industrie"),
)
SIZE = Field(
    "company_size",
    gettext_lazy("employees"),
    FieldType.INT,
    synonyms=(
        "size",
        "company size",
        "number of employees",
        "employees",
        "fte",
        "aantal werknemers",
        "werknemers",
        "medewerkers",
        "grootte",
    ),
)
COUNTRY = Field(
    "country",
    gettext_lazy("country"),
    max_length=2,
    synonyms=("country code", "land", "landcode"),
    help=gettext_lazy("Two-letter code: BE, NL, FR…"),
)
LIFECYCLE_NAMES = {
    "prospect": Lifecycle.PROSPECT,
    "lead": Lifecycle.PROSPECT,
    "customer": Lifecycle.CUSTOMER,
    "client": Lifecycle.CUSTOMER,
    "klant": Lifecycle.CUSTOMER,
    "ex customer": Lifecycle.EX_CUSTOMER,
    "former customer": Lifecycle.EX_CUSTOMER,
    "ex klant": Lifecycle.EX_CUSTOMER,
    "oud klant": Lifecycle.EX_CUSTOMER,
    "voormalige klant": Lifecycle.EX_CUSTOMER,
}


def lifecycle_of(text: str | None) -> str | None:
    if not text:
        return None
    value = LIFECYCLE_NAMES.get(name_key(text))
    if value is None:
        raise RowProblem(
            _("%(value)s is not prospect, customer or ex-customer."), value=text
        )
    return value


def _country(row: dict) -> str:
    country = (row.get("country") or "").upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise RowProblem(
            _("%(value)s is not a two-letter country code."), value=country
        )
    return country


@register
class Companies(Kind):
    key = "companies"
    label = gettext_lazy("companies")
    description = gettext_lazy(
        "One line per company. An existing company (same name without its legal form, "
        "or the same id from the old system) gets its empty fields filled."
    )
    fields = (
        EXTERNAL_ID,
        Field(
            "name",
            gettext_lazy("name"),
            required=True,
            max_length=200,
            spelling=True,
            synonyms=COMPANY_NAME.synonyms,
        ),
        INDUSTRY,
        Field("size", gettext_lazy("employees"), FieldType.INT, synonyms=SIZE.synonyms),
        COUNTRY,
        Field(
            "street",
            gettext_lazy("street and number"),
            max_length=200,
            synonyms=("address", "street", "adres", "straat"),
        ),
        Field(
            "postcode",
            gettext_lazy("postcode"),
            max_length=20,
            synonyms=("zip", "zip code", "postal code", "postcode", "postnummer"),
        ),
        Field(
            "city",
            gettext_lazy("city"),
            max_length=100,
            synonyms=("town", "place", "gemeente", "plaats", "stad", "woonplaats"),
        ),
        Field(
            "vat_number",
            gettext_lazy("VAT number"),
            max_length=30,
            synonyms=("vat", "btw", "btw nummer", "btw nr", "ondernemingsnummer"),
        ),
        Field(
            "website",
            gettext_lazy("website"),
            max_length=200,
            synonyms=("web", "url", "site", "webadres"),
        ),
        Field(
            "lifecycle",
            gettext_lazy("lifecycle"),
            synonyms=("status", "type", "relation", "relatie", "soort"),
        ),
    )

    def identity(self, row):
        return company_key(row["name"]) or name_key(row["name"])

    def check(self, row, ctx):
        _country(row)
        lifecycle_of(row.get("lifecycle"))
        return []

    def existing(self, row, ctx):
        pk = imported(self.key, row.get("external_id"))
        if pk:
            return Company.objects.filter(pk=pk).first()
        return (
            Company.objects.filter(name_key=self.identity(row)).order_by("id").first()
        )

    def write(self, row, ctx):
        values = {
            "industry": row.get("industry"),
            "size": row.get("size"),
            "country": _country(row) or None,
            "street": row.get("street"),
            "postcode": row.get("postcode"),
            "city": row.get("city"),
            "vat_number": row.get("vat_number"),
            "website": row.get("website"),
            "lifecycle": lifecycle_of(row.get("lifecycle")),
        }
        company = self.existing(row, ctx)
        outcome = Outcome.UNCHANGED
        if company is None:
            company = find_or_create_company(
                row["name"],
                actor=ctx.actor,
                size=row.get("size"),
                country=values["country"] or "",
            )
            outcome = Outcome.CREATED
        new = changes(company, values, tuple(values), overwrite=ctx.update_existing)
        if outcome == Outcome.CREATED:
            new.pop("country", None)
            new.pop("size", None)
            # A new company has the default lifecycle: the file's one is wanted.
            if values["lifecycle"]:
                new["lifecycle"] = values["lifecycle"]
        if new:
            update_company(company, actor=ctx.actor, **new)
            if outcome == Outcome.UNCHANGED:
                outcome = Outcome.UPDATED
        remember(self.key, row.get("external_id"), company, ctx)
        return outcome


CONTACT_EDITABLE = ("name", "email", "phone", "job_title", "language")


@register
class Contacts(Kind):
    key = "contacts"
    label = gettext_lazy("contacts")
    description = gettext_lazy(
        "One line per person. A person Leadflow knows (same e-mail, or same phone and "
        "name, or the same id from the old system) gets the empty fields filled; their "
        "company is found or created by name."
    )
    one_of = ("name", "first_name", "last_name", "email")
    fields = (
        EXTERNAL_ID,
        Field(
            "name",
            gettext_lazy("name"),
            max_length=200,
            synonyms=(
                "full name",
                "contact",
                "contact name",
                "contact person",
                "person",
                "naam",
                "volledige naam",
                "contactpersoon",
            ),
        ),
        Field(
            "first_name",
            gettext_lazy("first name"),
            max_length=100,
            synonyms=("firstname", "given name", "voornaam"),
        ),
        Field(
            "last_name",
            gettext_lazy("last name"),
            max_length=100,
            synonyms=(
                "lastname",
                "surname",
                "family name",
                "achternaam",
                "familienaam",
            ),
        ),
        Field(
            "email",
            gettext_lazy("e-mail"),
            FieldType.EMAIL,
            synonyms=(
                "email",
                "e mail",
                "email address",
                "e mail address",
                "mail",
                "e mailadres",
                "emailadres",
                "e mail adres",
            ),
        ),
        Field(
            "phone",
            gettext_lazy("phone"),
            FieldType.PHONE,
            max_length=40,
            synonyms=(
                "telephone",
                "phone number",
                "mobile",
                "gsm",
                "telefoon",
                "telefoonnummer",
                "tel",
                "mobiel",
            ),
        ),
        COMPANY_NAME,
        SIZE,
        INDUSTRY,
        Field(
            "job_title",
            gettext_lazy("job title"),
            max_length=100,
            synonyms=(
                "title",
                "function",
                "position",
                "role",
                "functie",
                "functietitel",
            ),
        ),
        Field(
            "language",
            gettext_lazy("language"),
            max_length=5,
            synonyms=("lang", "taal"),
        ),
        COUNTRY,
        Field(
            "consent",
            gettext_lazy("marketing consent"),
            FieldType.BOOL,
            synonyms=(
                "consent",
                "opt in",
                "optin",
                "newsletter",
                "marketing",
                "toestemming",
                "nieuwsbrief",
                "opt-in",
            ),
            help=gettext_lazy(
                "yes: consent given; no: refused or unsubscribed; empty: not asked."
            ),
        ),
        Field(
            "marketing_lists",
            gettext_lazy("marketing lists"),
            FieldType.NAMES,
            synonyms=(
                "lists",
                "list",
                "segments",
                "tags",
                "lijsten",
                "mailinglijsten",
                "doelgroepen",
            ),
        ),
    )

    def _name(self, row) -> str:
        name = row.get("name") or " ".join(
            part for part in (row.get("first_name"), row.get("last_name")) if part
        )
        return name or (row.get("email") or "").split("@")[0]

    def _data(self, row) -> ContactData:
        return ContactData(
            name=self._name(row),
            email=row.get("email") or "",
            phone=row.get("phone") or "",
            company_name=row.get("company") or "",
            company_size=row.get("company_size"),
            job_title=row.get("job_title") or "",
            country=_country(row),
        )

    def identity(self, row):
        email = normalise_email(row.get("email"))
        if email:
            return email
        if row.get("phone"):
            return f"{row['phone']}|{name_key(self._name(row))}"
        return None

    def check(self, row, ctx):
        _country(row)
        if row.get("language") and row["language"].lower()[:2] not in (
            "nl",
            "en",
            "fr",
            "de",
        ):
            raise RowProblem(
                _("%(value)s is not a language code (nl, en, fr, de)."),
                value=row["language"],
            )
        if not self._name(row):
            raise RowProblem(_("A contact needs a name or an e-mail address."))
        return []

    def existing(self, row, ctx):
        pk = imported(self.key, row.get("external_id"))
        if pk:
            return Contact.objects.filter(pk=pk).first()
        return find_existing_contact(self._data(row))

    def write(self, row, ctx):
        data = self._data(row)
        contact = self.existing(row, ctx)
        outcome = Outcome.UNCHANGED
        if contact is None:
            contact = create_contact(data, actor=ctx.actor)
            outcome = Outcome.CREATED
        values = {
            "name": data.name,
            "email": data.email,
            "phone": data.phone,
            "job_title": data.job_title,
            "language": (row.get("language") or "").lower()[:2] or None,
        }
        new = changes(
            contact,
            values,
            CONTACT_EDITABLE,
            overwrite=ctx.update_existing and outcome != Outcome.CREATED,
        )
        if new:
            contact = update_contact(
                contact, actor=ctx.actor, version=contact.version, **new
            )
            outcome = outcome if outcome == Outcome.CREATED else Outcome.UPDATED
        if contact.company_id is None and data.company_name:
            company = find_or_create_company(
                data.company_name,
                actor=ctx.actor,
                size=data.company_size,
                country=data.country,
            )
            contact = attach_company(contact, company, actor=ctx.actor)
            outcome = outcome if outcome == Outcome.CREATED else Outcome.UPDATED
        if row.get("industry") and contact.company_id:
            company = Company.objects.get(pk=contact.company_id)
            if not company.industry:
                update_company(company, actor=ctx.actor, industry=row["industry"])
        reason = _("import of %(file)s") % {"file": ctx.job.filename}
        if row.get("consent") is True and contact.marketing_consent == Consent.UNKNOWN:
            contact = record_consent(
                contact, actor=ctx.actor, consent=Consent.GRANTED, reason=reason
            )
        elif (
            row.get("consent") is False
            and contact.marketing_consent != Consent.OPTED_OUT
        ):
            contact = record_consent(
                contact, actor=ctx.actor, consent=Consent.OPTED_OUT, reason=reason
            )
        if row.get("marketing_lists"):
            lists = get_or_create_lists(row["marketing_lists"], actor=ctx.actor)
            subscribe_contact(
                contact, actor=ctx.actor, lists=lists, source="import", reason=reason
            )
        remember(self.key, row.get("external_id"), contact, ctx)
        return outcome
