"""History from another system: inquiries and qualified leads with their own dates and
outcomes, written through the same actions as a user would, at the file's moments,
so that the analyses and the forecast count them exactly as if they had been entered
then (cycle times from the imported dates, win rates from the imported results).

Every transition row an import writes carries ``data["imported"] = <import id>`` and
is written as already processed: the workflow worker does not announce the past (no
notifications, webhooks or escalation clocks), and owners get no "new lead" message.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.contacts.actions import (
    ContactData,
    attach_company,
    create_contact,
    find_or_create_company,
)
from leadflow.contacts.models import Contact
from leadflow.core.errors import DomainError
from leadflow.core.text import name_key
from leadflow.imports import values as V
from leadflow.imports.fields import (
    Field,
    FieldType,
    Kind,
    Outcome,
    RowProblem,
    register,
)
from leadflow.imports.kinds.common import EXTERNAL_ID, imported, remember
from leadflow.imports.kinds.contacts import COMPANY_NAME, Contacts
from leadflow.intake.actions import (
    InquiryInput,
    close_inquiry,
    find_existing_contact,
    register_inquiry,
)
from leadflow.intake.models import Inquiry
from leadflow.intake.states import InquiryStatus
from leadflow.intake.states import Outcome as InquiryOutcome
from leadflow.opportunities.actions import (
    check_owner,
    close_opportunity,
    first_stage,
    move_stage,
    open_opportunity,
    update_opportunity,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.states import OpportunityStatus

HISTORY = "data.import_history"
CONTACTS = Contacts()
# The requester's name, e-mail and phone as the contacts import reads them.
PERSON_FIELDS = tuple(f for f in Contacts.fields if f.key in ("name", "email", "phone"))
OPEN = "open"

# Written words for an inquiry's outcome and a lead's result, English and Dutch,
# compared folded (case, accents and punctuation ignored).
INQUIRY_OUTCOMES = {
    "open": OPEN,
    "lopend": OPEN,
    "nieuw": OPEN,
    "new": OPEN,
    "qualified": InquiryOutcome.QUALIFIED,
    "qualified lead": InquiryOutcome.QUALIFIED,
    "gekwalificeerd": InquiryOutcome.QUALIFIED,
    "gekwalificeerde lead": InquiryOutcome.QUALIFIED,
    "sales": InquiryOutcome.QUALIFIED,
    "nurture": InquiryOutcome.NURTURE,
    "nurturing": InquiryOutcome.NURTURE,
    "marketing": InquiryOutcome.NURTURE,
    "marketingopvolging": InquiryOutcome.NURTURE,
    "opvolging marketing": InquiryOutcome.NURTURE,
    "archived": InquiryOutcome.ARCHIVED,
    "archive": InquiryOutcome.ARCHIVED,
    "gearchiveerd": InquiryOutcome.ARCHIVED,
    "archief": InquiryOutcome.ARCHIVED,
}
LEAD_RESULTS = {
    "open": OPEN,
    "lopend": OPEN,
    "in progress": OPEN,
    "won": OpportunityStatus.WON,
    "closed won": OpportunityStatus.WON,
    "gewonnen": OpportunityStatus.WON,
    "binnen": OpportunityStatus.WON,
    "lost": OpportunityStatus.LOST,
    "closed lost": OpportunityStatus.LOST,
    "verloren": OpportunityStatus.LOST,
    "not going ahead": OpportunityStatus.NOT_GOING_AHEAD,
    "not_going_ahead": OpportunityStatus.NOT_GOING_AHEAD,
    "no decision": OpportunityStatus.NOT_GOING_AHEAD,
    "cancelled": OpportunityStatus.NOT_GOING_AHEAD,
    "gaat niet door": OpportunityStatus.NOT_GOING_AHEAD,
    "geannuleerd": OpportunityStatus.NOT_GOING_AHEAD,
    "geen beslissing": OpportunityStatus.NOT_GOING_AHEAD,
}

CLOSED_AT_SYNONYMS = (
    "closed",
    "closed on",
    "close date",
    "closed date",
    "date closed",
    "decided on",
    "afgesloten",
    "afgesloten op",
    "datum afsluiting",
    "sluitingsdatum",
    "afsluitdatum",
)
REASON_SYNONYMS = (
    "reason",
    "close reason",
    "result reason",
    "lost reason",
    "reason lost",
    "reden",
    "reden afsluiting",
    "reden verlies",
)
OWNER = Field(
    "owner",
    gettext_lazy("owner (salesperson)"),
    FieldType.LOOKUP,
    lookup="user",
    synonyms=(
        "owner",
        "salesperson",
        "sales person",
        "sales rep",
        "rep",
        "account manager",
        "assigned to",
        "eigenaar",
        "verkoper",
        "vertegenwoordiger",
        "accountmanager",
        "toegewezen aan",
    ),
)


def _word(table: dict[str, str], text: str | None, message) -> str | None:
    if not text:
        return None
    value = table.get(name_key(text))
    if value is None:
        raise RowProblem(message, value=text)
    return value


def inquiry_outcome(row: dict) -> str:
    """The row's outcome: open, qualified, nurture or archived (empty: open)."""
    return (
        _word(
            INQUIRY_OUTCOMES,
            row.get("outcome"),
            _("%(value)s is not open, qualified, nurture or archived."),
        )
        or OPEN
    )


def lead_result(row: dict) -> str:
    """The row's result: open, won, lost or not going ahead (empty: open)."""
    return (
        _word(
            LEAD_RESULTS,
            row.get("result"),
            _("%(value)s is not open, won, lost or not going ahead."),
        )
        or OPEN
    )


def _moment(value) -> datetime | None:
    """A date column's value as an aware moment (a date alone: midnight, local)."""
    if value is None or isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, datetime.min.time()))


def _not_future(row: dict, key: str, label) -> None:
    value = _moment(row.get(key))
    if value is not None and value > timezone.now():
        raise RowProblem(
            _("%(field)s is in the future: history cannot be."), column=key, field=label
        )


def _not_before(row: dict, later: str, earlier: str, message) -> None:
    end, start = _moment(row.get(later)), _moment(row.get(earlier))
    if end is not None and start is not None and end < start:
        raise RowProblem(message, column=later)


def _owner(row: dict, ctx, *, required: bool):
    user = ctx.resolve("user", row.get("owner"))
    if user is None and not required:
        return None
    try:
        return check_owner(user)
    except DomainError as exc:
        raise RowProblem(str(exc), column="owner") from exc


def _imported_reason(ctx) -> str:
    return _("imported from %(file)s") % {"file": ctx.job.filename}


def _contact_data(row: dict) -> ContactData:
    return CONTACTS._data(row)


def _contact(row: dict, ctx) -> Contact:
    """The requester the row names: found like the intake lookup does, else created;
    with only a company, that company's first contact (or one named after it)."""
    data = _contact_data(row)
    if not (row.get("name") or row.get("email")) and row.get("company"):
        company = find_or_create_company(row["company"], actor=ctx.actor)
        found = Contact.objects.filter(company=company).order_by("id").first()
        if found is not None:
            return found
        return create_contact(
            ContactData(name=company.name), actor=ctx.actor, company=company
        )
    contact = find_existing_contact(data)
    if contact is None:
        return create_contact(data, actor=ctx.actor)
    if contact.company_id is None and data.company_name:
        company = find_or_create_company(data.company_name, actor=ctx.actor)
        contact = attach_company(contact, company, actor=ctx.actor)
    return contact


@register
class Inquiries(Kind):
    """Inquiries of the past, one line each.

    Each is registered at its reception time (``register_inquiry(at=received)``);
    one that is not open is closed at its closing time (``close_inquiry(at=closed)``):
    qualified creates the qualified lead at that moment with the line's owner,
    nurture puts the requester on the "Nurture" list, archived needs a reason (the
    file's, else "imported from <file>"). An inquiry imported before (same id from
    the old system; without one: same requester, reception time and question) is
    left as it is: closed inquiries never change.
    """

    key = "inquiries"
    label = gettext_lazy("inquiries (history)")
    capability = HISTORY
    description = gettext_lazy(
        "One line per inquiry of the past, with its reception time, channel and "
        "outcome (open, qualified, nurture, archived) and, when closed, the time it "
        "was closed. Qualified inquiries become qualified leads at that time, with "
        "the owner of the line; import the leads' stages and results afterwards "
        "(qualified leads, history) with the inquiry's id."
    )
    one_of = ("name", "email")
    fields = (
        EXTERNAL_ID,
        Field(
            "received_at",
            gettext_lazy("received at"),
            FieldType.DATETIME,
            required=True,
            synonyms=(
                "received",
                "received on",
                "date received",
                "date",
                "inquiry date",
                "created",
                "created at",
                "ontvangen",
                "ontvangen op",
                "datum",
                "datum ontvangst",
                "aanvraagdatum",
            ),
        ),
        *PERSON_FIELDS,
        COMPANY_NAME,
        Field(
            "summary",
            gettext_lazy("question"),
            FieldType.LONG_TEXT,
            required=True,
            synonyms=(
                "summary",
                "question",
                "description",
                "subject",
                "request",
                "inquiry",
                "vraag",
                "omschrijving",
                "samenvatting",
                "onderwerp",
                "aanvraag",
            ),
        ),
        Field(
            "channel",
            gettext_lazy("channel"),
            FieldType.LOOKUP,
            required=True,
            lookup="channel",
            synonyms=("source", "lead source", "origin", "kanaal", "bron", "herkomst"),
        ),
        Field(
            "campaign",
            gettext_lazy("campaign"),
            FieldType.LOOKUP,
            lookup="campaign",
            synonyms=("action", "campagne", "actie"),
        ),
        Field(
            "department",
            gettext_lazy("department"),
            FieldType.LOOKUP,
            lookup="department",
            synonyms=("afdeling", "dienst"),
        ),
        Field(
            "referrer",
            gettext_lazy("referred by"),
            max_length=200,
            synonyms=("referrer", "referral", "doorverwezen door", "aangebracht door"),
        ),
        Field(
            "received_by",
            gettext_lazy("received by"),
            FieldType.LOOKUP,
            lookup="user",
            synonyms=(
                "taken by",
                "registered by",
                "ontvangen door",
                "geregistreerd door",
            ),
        ),
        Field(
            "outcome",
            gettext_lazy("outcome"),
            synonyms=("status", "result", "uitkomst", "resultaat", "beoordeling"),
            help=gettext_lazy(
                "open, qualified, nurture or archived (Dutch: gekwalificeerd, "
                "marketingopvolging, gearchiveerd). Empty: open."
            ),
        ),
        Field(
            "closed_at",
            gettext_lazy("closed at"),
            FieldType.DATETIME,
            synonyms=CLOSED_AT_SYNONYMS,
        ),
        Field(
            "close_reason",
            gettext_lazy("reason"),
            FieldType.LONG_TEXT,
            synonyms=REASON_SYNONYMS,
        ),
        OWNER,
    )

    def identity(self, row):
        if row.get("external_id"):
            return f"id:{row['external_id']}"
        return None

    def check(self, row, ctx):
        warnings = []
        outcome = inquiry_outcome(row)
        _not_future(row, "received_at", self.field("received_at").label)
        if outcome == OPEN:
            if row.get("closed_at"):
                raise RowProblem(
                    _("An open inquiry has no closing time: fill in its outcome."),
                    column="closed_at",
                )
        else:
            if not row.get("closed_at"):
                raise RowProblem(
                    _("A closed inquiry needs the time it was closed."),
                    column="closed_at",
                )
            _not_future(row, "closed_at", self.field("closed_at").label)
            _not_before(
                row,
                "closed_at",
                "received_at",
                _("The inquiry is closed before it was received."),
            )
        if outcome == InquiryOutcome.QUALIFIED:
            if row.get("owner") is None:
                raise RowProblem(
                    _("A qualified inquiry needs an owner for its qualified lead."),
                    column="owner",
                )
            _owner(row, ctx, required=True)
        elif row.get("owner") is not None:
            warnings.append(_("Only a qualified inquiry has an owner: it is left out."))
        return warnings

    def existing(self, row, ctx):
        pk = imported(self.key, row.get("external_id"))
        if pk:
            return Inquiry.objects.filter(pk=pk).first()
        contact = find_existing_contact(_contact_data(row))
        if contact is None:
            return None
        return (
            Inquiry.objects.filter(
                contact=contact,
                received_at=row["received_at"],
                summary=(row.get("summary") or "").strip(),
            )
            .order_by("id")
            .first()
        )

    def write(self, row, ctx):
        found = self.existing(row, ctx)
        if found is not None:
            remember(self.key, row.get("external_id"), found, ctx)
            return Outcome.UNCHANGED
        outcome = inquiry_outcome(row)
        received_at = row["received_at"]
        inquiry = register_inquiry(
            InquiryInput(
                summary=row["summary"],
                channel=ctx.resolve("channel", row["channel"]),
                contact_id=_contact(row, ctx).pk,
                campaign=ctx.resolve("campaign", row.get("campaign")),
                referrer=row.get("referrer") or "",
                received_by=ctx.resolve("user", row.get("received_by")),
                department=ctx.resolve("department", row.get("department")),
                received_at=received_at,
            ),
            actor=ctx.actor,
            at=received_at,
            imported=ctx.job.pk,
        )
        if outcome != OPEN:
            reason = row.get("close_reason") or ""
            if outcome == InquiryOutcome.ARCHIVED and not reason:
                reason = _imported_reason(ctx)
            close_inquiry(
                inquiry,
                actor=ctx.actor,
                outcome=outcome,
                reason=reason,
                owner=_owner(row, ctx, required=outcome == InquiryOutcome.QUALIFIED)
                if outcome == InquiryOutcome.QUALIFIED
                else None,
                at=row["closed_at"],
                imported=ctx.job.pk,
            )
        remember(self.key, row.get("external_id"), inquiry, ctx)
        return Outcome.CREATED


@register
class Opportunities(Kind):
    """Qualified leads of the past, one line each, and which transitions they get.

    A line with the id of an imported inquiry continues the qualified lead that
    inquiry became (an inquiry imported as open is first closed as qualified at the
    line's created date). A line without one makes a qualified lead without an
    inquiry, as the analyses know it ("registered without an inquiry": its total
    cycle counts from its creation); no inquiry is invented for it.

    The transitions of an imported lead, all marked with the import's id:

    1. created (``"" → open``, in the first stage) at the created date;
    2. if the line names a later stage: first stage → that stage, directly, also at
       the created date (no invented steps in between; reason "imported from
       <file>");
    3. if the line has a result (won, lost, not going ahead): ``open → result`` at
       the closed date, with the line's reason or "imported from <file>".

    Service type, decision date, expected value and P win are filled in between 1
    and 2 (``update_opportunity``). A lead imported before (same id from the old
    system) is left as it is.
    """

    key = "opportunities"
    label = gettext_lazy("qualified leads (history)")
    capability = HISTORY
    description = gettext_lazy(
        "One line per qualified lead of the past: owner, product or service, "
        "company or contact (or the id of an imported inquiry), stage or result "
        "(won, lost, not going ahead, open), created date, closed date and value. "
        "Each lead is moved straight to its stage at its created date and closed "
        "at its closed date, so cycle times and win rates count the real dates."
    )
    fields = (
        EXTERNAL_ID,
        Field(
            "inquiry_external_id",
            gettext_lazy("inquiry id in the old system"),
            max_length=90,
            synonyms=(
                "inquiry id",
                "inquiry",
                "inquiry number",
                "aanvraag id",
                "aanvraagnummer",
                "aanvraag",
                "id aanvraag",
            ),
        ),
        Field(
            "title",
            gettext_lazy("title"),
            max_length=200,
            synonyms=(
                "opportunity",
                "opportunity name",
                "deal",
                "deal name",
                "lead",
                "titel",
                "omschrijving",
                "onderwerp",
                "naam opportuniteit",
            ),
        ),
        replace(OWNER, required=True),
        Field(
            "service_type",
            gettext_lazy("product or service"),
            FieldType.LOOKUP,
            lookup="service_type",
            synonyms=(
                "product",
                "service",
                "product service",
                "service type",
                "product type",
                "dienst",
                "product of dienst",
                "producttype",
            ),
        ),
        COMPANY_NAME,
        *PERSON_FIELDS,
        Field(
            "stage",
            gettext_lazy("stage"),
            FieldType.LOOKUP,
            lookup="stage",
            synonyms=("sales stage", "phase", "fase", "stadium", "verkoopfase"),
        ),
        Field(
            "result",
            gettext_lazy("result"),
            synonyms=("status", "outcome", "won lost", "resultaat", "uitkomst"),
            help=gettext_lazy(
                "won, lost, not going ahead or open (Dutch: gewonnen, verloren, gaat "
                "niet door). Empty: open."
            ),
        ),
        Field(
            "created_at",
            gettext_lazy("created (engaged) date"),
            FieldType.DATETIME,
            required=True,
            synonyms=(
                "created",
                "created on",
                "created date",
                "date created",
                "engaged",
                "engaged on",
                "engaged date",
                "start date",
                "aangemaakt",
                "aangemaakt op",
                "aanmaakdatum",
                "datum",
                "startdatum",
            ),
        ),
        Field(
            "decision_date",
            gettext_lazy("decision date"),
            FieldType.DATE,
            synonyms=(
                "expected decision",
                "expected close date",
                "close by",
                "beslissingsdatum",
                "verwachte beslissing",
                "beslisdatum",
            ),
        ),
        Field(
            "closed_at",
            gettext_lazy("closed date"),
            FieldType.DATETIME,
            synonyms=(*CLOSED_AT_SYNONYMS, "won lost date", "datum resultaat"),
        ),
        Field(
            "expected_value",
            gettext_lazy("expected value"),
            FieldType.DECIMAL,
            synonyms=(
                "value",
                "amount",
                "deal value",
                "revenue",
                "waarde",
                "bedrag",
                "verwachte waarde",
                "omzet",
            ),
        ),
        Field(
            "p_win",
            gettext_lazy("P win"),
            max_length=20,
            synonyms=(
                "probability",
                "win probability",
                "chance",
                "kans",
                "slaagkans",
                "winkans",
            ),
            help=gettext_lazy("Between 0 and 1, or a percentage (60 or 60%)."),
        ),
        Field(
            "reason",
            gettext_lazy("reason for the result"),
            FieldType.LONG_TEXT,
            synonyms=REASON_SYNONYMS,
        ),
    )

    def identity(self, row):
        return _lead_key(row)

    # --- checks ---------------------------------------------------------------------

    def _inquiry(self, row) -> Inquiry | None:
        ref = row.get("inquiry_external_id")
        if not ref:
            return None
        pk = imported(Inquiries.key, ref)
        inquiry = Inquiry.objects.filter(pk=pk).first() if pk else None
        if inquiry is None:
            raise RowProblem(
                _("No inquiry with the id %(value)s was imported: import it first."),
                column="inquiry_external_id",
                value=ref,
            )
        if inquiry.status == InquiryStatus.CLOSED and (
            inquiry.outcome != InquiryOutcome.QUALIFIED
        ):
            raise RowProblem(
                _("The inquiry %(value)s was closed as %(outcome)s, not qualified."),
                column="inquiry_external_id",
                value=ref,
                outcome=inquiry.get_outcome_display(),
            )
        return inquiry

    def check(self, row, ctx):
        warnings = []
        result = lead_result(row)
        _p_win(row, ctx)
        if row.get("expected_value") is not None and row["expected_value"] < 0:
            raise RowProblem(
                _("The expected value cannot be negative."), column="expected_value"
            )
        _not_future(row, "created_at", self.field("created_at").label)
        if result == OPEN:
            if row.get("closed_at"):
                raise RowProblem(
                    _("An open qualified lead has no closed date: fill in its result."),
                    column="closed_at",
                )
        else:
            if not row.get("closed_at"):
                raise RowProblem(
                    _("A result needs the date it was decided (closed date)."),
                    column="closed_at",
                )
            _not_future(row, "closed_at", self.field("closed_at").label)
            _not_before(
                row,
                "closed_at",
                "created_at",
                _("The qualified lead is closed before it was created."),
            )
        _owner(row, ctx, required=True)
        inquiry = self._inquiry(row)
        if inquiry is None:
            if not any(row.get(k) for k in ("name", "email", "company")):
                raise RowProblem(
                    _("Name the company or contact, or the id of an imported inquiry.")
                )
        else:
            start = _moment(row["created_at"])
            if start < inquiry.received_at:
                raise RowProblem(
                    _("The qualified lead is created before its inquiry was received."),
                    column="created_at",
                )
            lead = (
                Opportunity.objects.filter(inquiry=inquiry)
                .select_related("owner")
                .first()
            )
            if lead is not None and lead.created_at.date() != start.date():
                warnings.append(
                    _(
                        "The lead was created when its inquiry was qualified "
                        "(%(date)s); that date is kept."
                    )
                    % {"date": timezone.localtime(lead.created_at).date().isoformat()}
                )
            if lead is not None and str(lead.owner_id) != row["owner"]:
                warnings.append(
                    _("The lead of this inquiry is owned by %(owner)s; that is kept.")
                    % {"owner": lead.owner}
                )
        return warnings

    def existing(self, row, ctx):
        pk = imported(self.key, _lead_key(row))
        if pk:
            return Opportunity.objects.filter(pk=pk).first()
        return None

    # --- writing --------------------------------------------------------------------

    def _title(self, row, contact: Contact) -> str:
        if row.get("title"):
            return row["title"]
        parts = [p for p in (row.get("company"), row.get("service_type")) if p]
        return " – ".join(parts) or contact.name

    def _lead(self, row, ctx, owner) -> Opportunity:
        """The lead of the line's inquiry (qualified now if still open), or a new one
        without an inquiry."""
        created = _moment(row["created_at"])
        inquiry = self._inquiry(row)
        if inquiry is not None:
            if inquiry.status == InquiryStatus.OPEN:
                close_inquiry(
                    inquiry,
                    actor=ctx.actor,
                    outcome=InquiryOutcome.QUALIFIED,
                    owner=owner,
                    at=created,
                    imported=ctx.job.pk,
                )
            lead = Opportunity.objects.get(inquiry=inquiry)
            if row.get("title") and row["title"] != lead.title:
                lead = update_opportunity(lead, actor=ctx.actor, title=row["title"])
            return lead
        contact = _contact(row, ctx)
        return open_opportunity(
            actor=ctx.actor,
            contact=contact,
            owner=owner,
            title=self._title(row, contact),
            at=created,
            imported=ctx.job.pk,
        )

    def write(self, row, ctx):
        found = self.existing(row, ctx)
        if found is not None:
            return Outcome.UNCHANGED
        result = lead_result(row)
        owner = _owner(row, ctx, required=True)
        lead = self._lead(row, ctx, owner)
        if lead.status != OpportunityStatus.OPEN:
            raise RowProblem(
                _("The qualified lead of this inquiry is closed already."),
                column="inquiry_external_id",
            )
        values = {
            key: row[key]
            for key in ("service_type", "decision_date", "expected_value")
            if row.get(key) not in (None, "")
        }
        p_win = _p_win(row, ctx)
        if p_win is not None:
            values["p_win"] = p_win
        if values:
            lead = update_opportunity(lead, actor=ctx.actor, **values)
        reason = _imported_reason(ctx)
        stage = ctx.resolve("stage", row.get("stage"))
        if stage is not None and stage.pk != first_stage().pk:
            lead = move_stage(
                lead,
                actor=ctx.actor,
                stage=stage,
                reason=reason,
                at=lead.created_at,
                imported=ctx.job.pk,
            )
        if result != OPEN:
            lead = close_opportunity(
                lead,
                actor=ctx.actor,
                result=result,
                reason=row.get("reason") or reason,
                at=row["closed_at"],
                imported=ctx.job.pk,
            )
        remember(self.key, _lead_key(row), lead, ctx)
        return Outcome.CREATED


def _lead_key(row: dict) -> str | None:
    """What makes a line the same lead again: its id from the old system, else the
    id of its inquiry (one inquiry, one lead), else what the line says of it (owner,
    customer, title, service and created date): a file without ids imported twice
    makes no second lead."""
    if row.get("external_id"):
        return row["external_id"]
    if row.get("inquiry_external_id"):
        return f"@inquiry:{row['inquiry_external_id']}"
    parts = [
        str(row.get("owner") or ""),
        name_key(row.get("company") or ""),
        (row.get("email") or "").strip().lower(),
        name_key(row.get("name") or ""),
        name_key(row.get("title") or ""),
        name_key(row.get("service_type") or ""),
        str(row.get("created_at") or ""),
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]
    return f"@line:{digest}"


def _p_win(row: dict, ctx) -> Decimal | None:
    """P win from 0..1, or from a percentage ("60", "60 %")."""
    text = row.get("p_win")
    if not text:
        return None
    percent = text.endswith("%")
    try:
        value = V.parse_decimal(text.rstrip("% "), decimal=ctx.decimal)
    except V.ValueProblem as exc:
        raise RowProblem(str(exc), column="p_win") from exc
    if percent or value > 1:
        value = value / 100
    if not Decimal(0) <= value <= Decimal(1):
        raise RowProblem(
            _("P win is a probability between 0 and 1, or a percentage up to 100."),
            column="p_win",
        )
    return value.quantize(Decimal("0.001"))
