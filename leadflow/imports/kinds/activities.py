"""Activities of qualified leads (calls, appointments, tasks), planned or done, from
the old CRM: added through the same actions as on the lead's page, at the time they
were recorded, so the efficiency analysis (where sales time goes, who follows up
promptly) counts them as if they had been entered.

The lead is named by the id it had in the old system (from the qualified-leads
import) or by its Leadflow number. Imported history notifies nobody and may belong
to a closed lead. Leadflow has calls, appointments and tasks; an e-mail is stored as
a task (with a warning). The same activity again (same id, or the same lead, kind,
subject and dates) is not added twice; only its done date is filled in."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.core.text import name_key
from leadflow.imports.fields import (
    Field,
    FieldType,
    Kind,
    Outcome,
    RowProblem,
    register,
)
from leadflow.imports.kinds.common import EXTERNAL_ID, imported, remember
from leadflow.imports.kinds.context import HISTORY, MAX_CACHED, header_of
from leadflow.opportunities.actions import add_activity, set_activity_done
from leadflow.opportunities.models import Activity, Opportunity
from leadflow.opportunities.states import ActivityKind, OpportunityStatus

LEEWAY = timedelta(minutes=5)
# Longer than a working day is probably minutes typed as something else.
LONG_MINUTES = 8 * 60

KIND_NAMES = {
    ActivityKind.CALL: (
        "call",
        "phone",
        "phone call",
        "telephone",
        "called",
        "gesprek",
        "telefoon",
        "telefoongesprek",
        "telefonisch",
        "bellen",
        "gebeld",
        "oproep",
    ),
    ActivityKind.APPOINTMENT: (
        "appointment",
        "meeting",
        "visit",
        "sales visit",
        "demo",
        "afspraak",
        "vergadering",
        "bezoek",
        "klantbezoek",
        "bespreking",
    ),
    ActivityKind.TASK: ("task", "to do", "todo", "follow up", "taak", "opvolging"),
}
# Kept as tasks: Leadflow has no e-mail activity.
EMAIL_NAMES = ("e mail", "email", "mail", "e mail sent", "mail verstuurd", "mailtje")


def _kinds() -> dict[str, str]:
    names = {}
    for kind, words in KIND_NAMES.items():
        for word in (kind.value, str(kind.label), *words):
            names[name_key(word)] = kind.value
    return names


KINDS_BY_NAME = _kinds()
EMAILS = {name_key(word) for word in EMAIL_NAMES}


def kind_of(text: str | None) -> tuple[str, list[str]]:
    """The activity kind a cell names (English or Dutch), and warnings."""
    if not text:
        return ActivityKind.TASK.value, []
    key = name_key(text)
    if key in KINDS_BY_NAME:
        return KINDS_BY_NAME[key], []
    if key in EMAILS:
        return ActivityKind.TASK.value, [
            _("%(value)s: Leadflow has no e-mail activity, it is kept as a task.")
            % {"value": text}
        ]
    raise RowProblem(
        _("%(value)s is not a call, an appointment or a task."), value=text
    )


@register
class Activities(Kind):
    key = "activities"
    label = gettext_lazy("activities")
    capability = HISTORY
    description = gettext_lazy(
        "One line per call, appointment or task of a qualified lead (import the "
        "qualified leads first): the lead's id in the old system or its Leadflow "
        "number, the subject, when it was due and when it was done, who did it (the "
        "lead's owner when empty) and how long it took. Imported activities notify "
        "nobody. E-mails are kept as tasks."
    )
    one_of = ("lead_external_id", "lead_id")
    fields = (
        Field(
            EXTERNAL_ID.key,
            gettext_lazy("activity id in the old system"),
            max_length=100,
            synonyms=(
                "id",
                "activity id",
                "activity number",
                "external id",
                "legacy id",
                "old id",
                "activiteit id",
                "activiteitnummer",
                "taak id",
                "oud id",
            ),
        ),
        Field(
            "lead_external_id",
            gettext_lazy("lead id in the old system"),
            max_length=100,
            synonyms=(
                "lead",
                "lead id",
                "opportunity",
                "opportunity id",
                "deal",
                "deal id",
                "old lead id",
                "kans",
                "kans id",
                "verkoopkans",
                "verkoopkans id",
                "lead nummer",
                "dossier",
                "dossiernummer",
            ),
        ),
        Field(
            "lead_id",
            gettext_lazy("Leadflow lead number"),
            FieldType.INT,
            synonyms=(
                "leadflow id",
                "leadflow lead",
                "leadflow lead id",
                "leadflow number",
                "leadflow nummer",
            ),
        ),
        Field(
            "kind",
            gettext_lazy("kind"),
            synonyms=(
                "type",
                "activity type",
                "activity",
                "soort",
                "activiteit",
                "type activiteit",
                "soort activiteit",
            ),
            help=gettext_lazy(
                "call, appointment or task (gesprek, afspraak, taak…); empty: task."
            ),
        ),
        Field(
            "subject",
            gettext_lazy("subject"),
            required=True,
            max_length=200,
            synonyms=(
                "title",
                "summary",
                "description",
                "onderwerp",
                "titel",
                "omschrijving",
            ),
        ),
        Field(
            "due_at",
            gettext_lazy("due"),
            FieldType.DATETIME,
            synonyms=(
                "due at",
                "due date",
                "due on",
                "planned",
                "planned for",
                "date",
                "deadline",
                "start",
                "gepland",
                "gepland op",
                "datum",
                "te doen op",
                "vervaldatum",
                "uiterste datum",
            ),
        ),
        Field(
            "done_at",
            gettext_lazy("done at"),
            FieldType.DATETIME,
            synonyms=(
                "done",
                "done on",
                "completed",
                "completed at",
                "completed on",
                "finished",
                "gedaan",
                "gedaan op",
                "afgerond",
                "afgerond op",
                "voltooid",
                "voltooid op",
                "uitgevoerd op",
            ),
        ),
        Field(
            "assignee",
            gettext_lazy("assignee"),
            FieldType.LOOKUP,
            lookup="user",
            synonyms=(
                "assigned to",
                "owner",
                "user",
                "salesperson",
                "rep",
                "done by",
                "uitvoerder",
                "toegewezen aan",
                "verkoper",
                "medewerker",
                "eigenaar",
                "door",
            ),
        ),
        Field(
            "duration_minutes",
            gettext_lazy("duration (minutes)"),
            FieldType.INT,
            synonyms=(
                "duration",
                "duration minutes",
                "minutes",
                "minutes spent",
                "time spent",
                "duur",
                "duur minuten",
                "duur min",
                "minuten",
                "bestede tijd",
            ),
        ),
        Field(
            "notes",
            gettext_lazy("notes"),
            FieldType.LONG_TEXT,
            synonyms=(
                "note",
                "comments",
                "remarks",
                "details",
                "notities",
                "notitie",
                "opmerkingen",
                "opmerking",
                "verslag",
                "toelichting",
            ),
        ),
        Field(
            "created_at",
            gettext_lazy("recorded at"),
            FieldType.DATETIME,
            synonyms=(
                "created",
                "created at",
                "created on",
                "logged at",
                "aangemaakt",
                "aangemaakt op",
                "geregistreerd op",
                "ingevoerd op",
            ),
        ),
    )

    # --- the lead ---------------------------------------------------------------------

    def lead(self, row, ctx) -> Opportunity:
        cache = ctx.cache.setdefault("leads", {})
        key = (row.get("lead_external_id"), row.get("lead_id"))
        if key not in cache:
            if len(cache) >= MAX_CACHED:
                cache.clear()
            pk = imported("opportunities", row.get("lead_external_id"))
            if pk is not None and row.get("lead_id") and pk != row["lead_id"]:
                raise RowProblem(
                    _(
                        "Lead %(old)s of the old system is Leadflow lead %(pk)s, "
                        "not %(id)s."
                    ),
                    old=row["lead_external_id"],
                    pk=pk,
                    id=row["lead_id"],
                )
            pk = pk or row.get("lead_id")
            cache[key] = (
                Opportunity.objects.select_related("owner").filter(pk=pk).first()
                if pk
                else None
            )
        found = cache[key]
        if found is None:
            column = "lead_external_id" if row.get("lead_external_id") else "lead_id"
            raise RowProblem(
                _(
                    "Qualified lead %(lead)s is not in Leadflow: import the "
                    "qualified leads first."
                ),
                column=header_of(ctx, column),
                lead=row.get(column),
            )
        return found

    # --- the kind ---------------------------------------------------------------------

    def identity(self, row):
        if row.get("external_id"):
            return f"id:{row['external_id']}"
        lead = row.get("lead_external_id") or f"#{row.get('lead_id')}"
        due = row["due_at"].isoformat() if row.get("due_at") else ""
        done = row["done_at"].isoformat() if row.get("done_at") else ""
        kind = kind_of(row.get("kind"))[0]
        return f"{lead}|{kind}|{name_key(row['subject'])}|{due}|{done}"

    def check(self, row, ctx):
        now = timezone.now() + LEEWAY
        for key in ("done_at", "created_at"):
            if row.get(key) is not None and row[key] > now:
                raise RowProblem(
                    _("%(what)s cannot be in the future (%(date)s)."),
                    column=header_of(ctx, key),
                    what=capfirst(str(self.field(key).label)),
                    date=row[key].date().isoformat(),
                )
        minutes = row.get("duration_minutes")
        warnings = []
        if minutes is not None and minutes < 0:
            raise RowProblem(
                _("A duration is zero minutes or more."),
                column=header_of(ctx, "duration_minutes"),
            )
        if minutes is not None and minutes > LONG_MINUTES:
            warnings.append(
                _("%(minutes)s minutes is longer than a working day.")
                % {"minutes": minutes}
            )
        _kind, kind_warnings = kind_of(row.get("kind"))
        warnings += kind_warnings
        lead = self.lead(row, ctx)
        if lead.status != OpportunityStatus.OPEN and row.get("done_at") is None:
            warnings.append(
                _("The lead is closed: this activity stays open (not done).")
            )
        return warnings

    def existing(self, row, ctx):
        pk = imported(self.key, row.get("external_id"))
        if pk:
            return Activity.objects.filter(pk=pk).first()
        try:
            lead = self.lead(row, ctx)
            kind, _warnings = kind_of(row.get("kind"))
        except RowProblem:
            return None
        same = Activity.objects.filter(
            opportunity=lead,
            kind=kind,
            subject=row["subject"].strip()[:200],
            due_at=row.get("due_at"),
        )
        if row.get("done_at"):
            # Done then, or still open here (a later export says it was done).
            same = same.filter(Q(done_at=row["done_at"]) | Q(done_at__isnull=True))
        return same.order_by(F("done_at").asc(nulls_last=True), "id").first()

    def write(self, row, ctx):
        activity = self.existing(row, ctx)
        if activity is not None:
            outcome = Outcome.UNCHANGED
            if row.get("done_at") and activity.done_at is None:
                activity = set_activity_done(
                    activity, actor=ctx.actor, done=True, at=row["done_at"]
                )
                outcome = Outcome.UPDATED
            remember(self.key, row.get("external_id"), activity, ctx)
            return outcome
        lead = self.lead(row, ctx)
        kind, _warnings = kind_of(row.get("kind"))
        assignee = ctx.resolve("user", row.get("assignee")) or lead.owner
        moments = [m for m in (row.get("due_at"), row.get("done_at")) if m]
        at = row.get("created_at") or (min(moments) if moments else timezone.now())
        activity = add_activity(
            lead,
            actor=ctx.actor,
            kind=kind,
            subject=row["subject"],
            assignee=assignee,
            due_at=row.get("due_at"),
            duration_minutes=row.get("duration_minutes"),
            notes=row.get("notes") or "",
            at=min(at, timezone.now()),
        )
        if row.get("done_at"):
            activity = set_activity_done(
                activity, actor=ctx.actor, done=True, at=row["done_at"]
            )
        remember(self.key, row.get("external_id"), activity, ctx)
        return Outcome.CREATED
