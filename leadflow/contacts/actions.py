"""Every change to companies and contacts goes through these functions."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.audit.actions import changed_fields, record_event
from leadflow.contacts.models import (
    Company,
    CompanyToken,
    Complaint,
    Consent,
    Contact,
    ContactToken,
    Invoice,
    Lifecycle,
    SalesRecord,
    Visit,
    VisitKind,
)
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.core.phone import normalise_phone
from leadflow.core.text import company_key, name_key, normalise_email, tokens


@dataclass
class ContactData:
    """What a registration form or API call says about the requester."""

    name: str
    email: str = ""
    phone: str = ""
    company_name: str = ""
    company_size: int | None = None
    job_title: str = ""
    country: str = ""


def check_email(email: str | None) -> None:
    """A given e-mail address must be valid (an empty one is allowed)."""
    if email and email.strip():
        try:
            validate_email(email.strip())
        except DjangoValidationError as exc:
            raise ValidationFailed(exc.messages[0], code="invalid_email") from exc


def _index_contact(contact: Contact, *, new: bool = False) -> None:
    if not new:
        ContactToken.objects.filter(contact=contact).delete()
    ContactToken.objects.bulk_create(
        [ContactToken(contact=contact, token=t[:60]) for t in tokens(contact.name)]
    )


def _index_company(company: Company, *, new: bool = False) -> None:
    if not new:
        CompanyToken.objects.filter(company=company).delete()
    CompanyToken.objects.bulk_create(
        [CompanyToken(company=company, token=t[:60]) for t in tokens(company.name)]
    )


def find_or_create_company(
    name: str, *, actor, size: int | None = None, country: str = ""
) -> Company | None:
    """The company with this name (legal form and accents ignored), created if new."""
    name = (name or "").strip()
    if not name:
        return None
    key = company_key(name) or name_key(name)
    company = Company.objects.filter(name_key=key).order_by("id").first()
    if company is not None:
        if size and not company.size:
            Company.objects.filter(pk=company.pk).update(size=size)
            record_event(
                actor=actor,
                subject=company,
                event_type="company.updated",
                old={"size": None},
                new={"size": size},
            )
            company.size = size
        return company
    company = Company.objects.create(
        name=name,
        name_key=key,
        size=size,
        country=(country or settings.LEADFLOW_DEFAULT_COUNTRY).upper()[:2],
    )
    _index_company(company, new=True)
    record_event(
        actor=actor, subject=company, event_type="company.created", new={"name": name}
    )
    return company


def create_contact(
    data: ContactData, *, actor, company: Company | None = None
) -> Contact:
    """Register a new person; e-mail and phone are normalised for later lookups."""
    check_email(data.email)
    name = (data.name or "").strip()
    if not name:
        raise ValidationFailed(
            _("A contact needs a name."), code="contact_name_required"
        )
    if company is None and data.company_name:
        company = find_or_create_company(
            data.company_name, actor=actor, size=data.company_size, country=data.country
        )
    country = data.country or (company.country if company else "")
    contact = Contact.objects.create(
        name=name,
        name_key=name_key(name),
        email=(data.email or "").strip(),
        email_key=normalise_email(data.email),
        phone=(data.phone or "").strip(),
        phone_key=normalise_phone(data.phone, country),
        company=company,
        job_title=data.job_title,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _index_contact(contact, new=True)
    record_event(
        actor=actor,
        subject=contact,
        event_type="contact.created",
        new={
            "name": name,
            "email": contact.email,
            "phone": contact.phone,
            "company": company.name if company else "",
        },
    )
    return contact


EDITABLE_CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "job_title",
    "lifecycle",
    "language",
)


@transaction.atomic
def update_contact(contact: Contact, *, actor, version: int, **values) -> Contact:
    """Change a contact's own fields if nobody changed it since ``version`` was read."""
    unknown = set(values) - set(EDITABLE_CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s"),
            fields=", ".join(sorted(unknown)),
        )
    if "email" in values:
        check_email(values["email"])
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.version != version:
        raise Conflict(code="stale_version")
    if "name" in values and not (values["name"] or "").strip():
        raise ValidationFailed(
            _("A contact needs a name."), code="contact_name_required"
        )
    if "lifecycle" in values and values["lifecycle"] not in Lifecycle.values:
        raise ValidationFailed(
            _("Unknown lifecycle %(value)r."),
            code="invalid_lifecycle",
            value=values["lifecycle"],
        )
    old, new = changed_fields(locked, values)
    if not new:
        return locked
    derived = {}
    if "name" in new:
        derived["name_key"] = name_key(new["name"])
    if "email" in new:
        derived["email_key"] = normalise_email(new["email"])
    if "phone" in new:
        country = locked.company.country if locked.company_id else ""
        derived["phone_key"] = normalise_phone(new["phone"], country)
    for key, value in {**new, **derived}.items():
        setattr(locked, key, value)
    locked.version = F("version") + 1
    locked.save(update_fields=[*new, *derived, "version", "updated_at"])
    locked.refresh_from_db()
    if "name" in new:
        _index_contact(locked)
    record_event(
        actor=actor, subject=locked, event_type="contact.updated", old=old, new=new
    )
    return locked


@transaction.atomic
def set_consent(contact: Contact, *, actor, consent: str, reason: str = "") -> Contact:
    """Record a consent change; marketing.actions.record_consent also handles the lists."""
    if consent not in Consent.values:
        raise ValidationFailed(_("Unknown consent value."), code="invalid_consent")
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.marketing_consent == consent:
        return locked
    old = locked.marketing_consent
    now = timezone.now()
    Contact.objects.filter(pk=locked.pk).update(
        marketing_consent=consent, consent_changed_at=now, version=F("version") + 1
    )
    record_event(
        actor=actor,
        subject=locked,
        event_type="contact.consent_changed",
        old={"marketing_consent": old},
        new={"marketing_consent": consent},
        reason=reason,
    )
    locked.refresh_from_db()
    return locked


def put_in_marketing_database(contact: Contact, *, actor, reason: str) -> bool:
    """Every requester lands in the marketing database unless they opted out (SPEC)."""
    if contact.in_marketing_database or contact.opted_out:
        return False
    updated = (
        Contact.objects.filter(pk=contact.pk, in_marketing_database=False)
        .exclude(marketing_consent=Consent.OPTED_OUT)
        .update(in_marketing_database=True)
    )
    if updated:
        contact.in_marketing_database = True
        record_event(
            actor=actor,
            subject=contact,
            event_type="contact.added_to_marketing_database",
            new={"in_marketing_database": True},
            reason=reason,
        )
    return bool(updated)


@transaction.atomic
def record_visit(
    *,
    actor,
    kind: str,
    at: datetime,
    contact: Contact | None = None,
    company: Company | None = None,
    url: str = "",
    note: str = "",
    source: str = "",
) -> Visit:
    """Record a website visit (e.g. from an analytics export) or a sales visit."""
    if kind not in VisitKind.values:
        raise ValidationFailed(_("Unknown visit kind."), code="invalid_visit_kind")
    if contact is None and company is None:
        raise ValidationFailed(
            _("A visit needs a contact or a company."), code="visit_subject"
        )
    if company is None and contact is not None:
        company = contact.company
    visit = Visit.objects.create(
        kind=kind,
        contact=contact,
        company=company,
        at=at,
        url=url[:500],
        note=note[:500],
        source=source[:100],
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if kind == VisitKind.SALES:
        if contact is not None:
            Contact.objects.filter(pk=contact.pk).filter(
                last_sales_visit_at__isnull=True
            ).update(last_sales_visit_at=at)
            Contact.objects.filter(pk=contact.pk, last_sales_visit_at__lt=at).update(
                last_sales_visit_at=at
            )
        if company is not None:
            Company.objects.filter(
                pk=company.pk, last_sales_visit_at__isnull=True
            ).update(last_sales_visit_at=at)
            Company.objects.filter(pk=company.pk, last_sales_visit_at__lt=at).update(
                last_sales_visit_at=at
            )
    return visit


EDITABLE_COMPANY_FIELDS = (
    "name",
    "size",
    "industry",
    "country",
    "street",
    "postcode",
    "city",
    "vat_number",
    "website",
    "lifecycle",
    "is_key_prospect",
)


@transaction.atomic
def update_company(company: Company, *, actor, **values) -> Company:
    """Change a company's details and lifecycle flags, with an audit row of old and new."""
    unknown = set(values) - set(EDITABLE_COMPANY_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s"),
            fields=", ".join(sorted(unknown)),
        )
    if "lifecycle" in values and values["lifecycle"] not in Lifecycle.values:
        raise ValidationFailed(
            _("Unknown lifecycle %(value)r."),
            code="invalid_lifecycle",
            value=values["lifecycle"],
        )
    locked = Company.objects.select_for_update().get(pk=company.pk)
    old, new = changed_fields(locked, values)
    if not new:
        return locked
    for key, value in new.items():
        setattr(locked, key, value)
    fields = [*new, "version", "updated_at"]
    if "name" in new:
        locked.name_key = company_key(locked.name) or name_key(locked.name)
        fields.append("name_key")
    locked.version += 1
    locked.save(update_fields=fields)
    if "name" in new:
        _index_company(locked)
    record_event(
        actor=actor, subject=locked, event_type="company.updated", old=old, new=new
    )
    return locked


@transaction.atomic
def attach_company(contact: Contact, company: Company | None, *, actor) -> Contact:
    """Give a contact without a company the company it turns out to work at."""
    if company is None:
        return contact
    updated = Contact.objects.filter(pk=contact.pk, company__isnull=True).update(
        company=company, version=F("version") + 1
    )
    if updated:
        record_event(
            actor=actor,
            subject=contact,
            event_type="contact.updated",
            old={"company": None},
            new={"company": company.name},
        )
    return Contact.objects.select_related("company").get(pk=contact.pk)


# --- customer context: invoices, complaints, sales per year (entered or imported) -------


def check_invoice(*, number: str, issued_on, due_on, amount, paid_on=None) -> None:
    """An invoice's own rules. Credit notes (negative amounts) are not invoices."""
    if not (number or "").strip():
        raise ValidationFailed(
            _("An invoice needs a number."), code="invoice_number_required"
        )
    if len(number.strip()) > 50:
        raise ValidationFailed(
            _("An invoice number has at most 50 characters."), code="invoice_number"
        )
    if amount is None or amount < 0:
        raise ValidationFailed(
            _("An invoice amount is zero or more (credit notes are left out)."),
            code="invoice_amount",
        )
    if due_on < issued_on:
        raise ValidationFailed(
            _("An invoice cannot be due before it was issued."), code="invoice_dates"
        )
    if paid_on is not None and paid_on < issued_on:
        raise ValidationFailed(
            _("An invoice cannot be paid before it was issued."), code="invoice_dates"
        )


def check_complaint(*, subject: str, opened_on, resolved_on=None) -> None:
    if not (subject or "").strip():
        raise ValidationFailed(
            _("A complaint needs a subject."), code="complaint_subject_required"
        )
    if resolved_on is not None and resolved_on < opened_on:
        raise ValidationFailed(
            _("A complaint cannot be resolved before it was opened."),
            code="complaint_dates",
        )


FIRST_SALES_YEAR = 1990


def check_sales_record(*, year: int, revenue) -> None:
    this_year = timezone.localdate().year
    if not FIRST_SALES_YEAR <= year <= this_year:
        raise ValidationFailed(
            _("The year is between %(first)s and %(last)s."),
            code="sales_year",
            first=FIRST_SALES_YEAR,
            last=this_year,
        )
    if revenue is None or revenue < 0:
        raise ValidationFailed(
            _("Revenue is zero or more."), code="sales_revenue_negative"
        )


def _context_audit(actor, company: Company, event_type: str, old: dict, new: dict):
    record_event(actor=actor, subject=company, event_type=event_type, old=old, new=new)


def _clean(obj, **options) -> None:
    """The model's own field checks (lengths, digits) as a domain error."""
    try:
        obj.full_clean(exclude=["company"], **options)
    except DjangoValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(
            "%(field)s: %(error)s",
            code="invalid_value",
            field=field,
            error=messages[0],
        ) from exc


def _change_context(obj, *, actor, event_type: str, editable: tuple, values: dict):
    unknown = set(values) - set(editable)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s"),
            fields=", ".join(sorted(unknown)),
        )
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    old, new = changed_fields(locked, values)
    if not new:
        return locked
    for key, value in new.items():
        setattr(locked, key, value)
    _clean(locked, validate_unique=False)
    locked.save(update_fields=list(new))
    _context_audit(actor, locked.company, event_type, {"id": locked.pk, **old}, new)
    return locked


@transaction.atomic
def record_invoice(
    company: Company,
    *,
    actor,
    number: str,
    issued_on,
    due_on,
    amount,
    paid_on=None,
) -> Invoice:
    """Add an invoice of a customer (its number is unique per company)."""
    check_invoice(
        number=number,
        issued_on=issued_on,
        due_on=due_on,
        amount=amount,
        paid_on=paid_on,
    )
    number = number.strip()
    if Invoice.objects.filter(company=company, number=number).exists():
        raise Conflict(
            _("%(company)s already has an invoice %(number)s."),
            code="invoice_exists",
            company=company.name,
            number=number,
        )
    invoice = Invoice(
        company=company,
        number=number,
        issued_on=issued_on,
        due_on=due_on,
        amount=amount,
        paid_on=paid_on,
    )
    _clean(invoice)
    invoice.save()
    _context_audit(
        actor,
        company,
        "invoice.recorded",
        {},
        {
            "id": invoice.pk,
            "number": number,
            "issued_on": issued_on,
            "due_on": due_on,
            "amount": amount,
            "paid_on": paid_on,
        },
    )
    return invoice


@transaction.atomic
def update_invoice(invoice: Invoice, *, actor, **values) -> Invoice:
    """Change an invoice's dates or amount (e.g. the date it was paid)."""
    merged = {
        f: values.get(f, getattr(invoice, f))
        for f in ("issued_on", "due_on", "amount", "paid_on")
    }
    check_invoice(number=invoice.number, **merged)
    return _change_context(
        invoice,
        actor=actor,
        event_type="invoice.updated",
        editable=("issued_on", "due_on", "amount", "paid_on"),
        values=values,
    )


@transaction.atomic
def record_complaint(
    company: Company, *, actor, opened_on, subject: str, resolved_on=None
) -> Complaint:
    """Add a complaint of a customer (open until it has a resolved date)."""
    check_complaint(subject=subject, opened_on=opened_on, resolved_on=resolved_on)
    complaint = Complaint(
        company=company,
        opened_on=opened_on,
        subject=subject.strip(),
        resolved_on=resolved_on,
    )
    _clean(complaint)
    complaint.save()
    _context_audit(
        actor,
        company,
        "complaint.recorded",
        {},
        {
            "id": complaint.pk,
            "subject": complaint.subject[:200],
            "opened_on": opened_on,
            "resolved_on": resolved_on,
        },
    )
    return complaint


@transaction.atomic
def update_complaint(complaint: Complaint, *, actor, **values) -> Complaint:
    """Change a complaint (e.g. the date it was resolved)."""
    merged = {
        f: values.get(f, getattr(complaint, f))
        for f in ("subject", "opened_on", "resolved_on")
    }
    check_complaint(**merged)
    if "subject" in values:
        values["subject"] = values["subject"].strip()
    return _change_context(
        complaint,
        actor=actor,
        event_type="complaint.updated",
        editable=("subject", "opened_on", "resolved_on"),
        values=values,
    )


@transaction.atomic
def record_sales_year(
    company: Company, *, actor, year: int, revenue, overwrite: bool = True
) -> tuple[SalesRecord, bool]:
    """A customer's revenue in a year: added, or the year's figure replaced when
    ``overwrite``. Returns the record and whether anything changed."""
    check_sales_record(year=year, revenue=revenue)
    record = (
        SalesRecord.objects.select_for_update()
        .filter(company=company, year=year)
        .first()
    )
    if record is None:
        record = SalesRecord(company=company, year=year, revenue=revenue)
        _clean(record, validate_unique=False)
        record.save()
        _context_audit(
            actor,
            company,
            "sales_year.recorded",
            {},
            {"id": record.pk, "year": year, "revenue": revenue},
        )
        return record, True
    if not overwrite or record.revenue == revenue:
        return record, False
    old = record.revenue
    record.revenue = revenue
    _clean(record, validate_unique=False)
    record.save(update_fields=["revenue"])
    _context_audit(
        actor,
        company,
        "sales_year.updated",
        {"id": record.pk, "year": year, "revenue": old},
        {"revenue": revenue},
    )
    return record, True
