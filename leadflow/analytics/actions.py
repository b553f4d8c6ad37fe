"""Freezing the forecast: snapshots of every open qualified lead (DOMAIN.md §6.5)."""

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, DecimalField, F, Sum, Value
from django.db.models.fields import BigIntegerField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.analytics.forecast import CENT, is_snapshot_day
from leadflow.analytics.models import (
    ForecastSnapshot,
    ForecastSnapshotLine,
    SnapshotKind,
)
from leadflow.analytics.queries import category_expression
from leadflow.audit.actions import record_event
from leadflow.core.errors import ValidationFailed
from leadflow.core.worktime import current_calendar
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.queries import weight_expression
from leadflow.opportunities.states import OpportunityStatus

# (line column, expression over an open Opportunity), in INSERT order.
_LINE_COLUMNS = (
    ("opportunity", "pk"),
    ("owner", "owner_id"),
    ("team", "owner__team_id"),
    ("stage", "stage_id"),
    ("value", "expected_value"),
    ("p_win", "p_win"),
    ("p_go", "p_go"),
    ("weight", "_weight"),
    ("category", "_category"),
    ("decision_date", "decision_date"),
    ("service_type", "service_type"),
)


def _copy_open_leads(snapshot: ForecastSnapshot) -> int:
    """One INSERT … SELECT: the database copies every open lead into the snapshot, so
    300,000 leads cost one statement and no rows pass through Python."""
    source = (
        Opportunity.objects.filter(status=OpportunityStatus.OPEN)
        .order_by()
        .annotate(
            _snapshot=Cast(Value(snapshot.pk), BigIntegerField()),
            _weight=weight_expression(),
            _category=category_expression(),
        )
        .values_list("_snapshot", *(expr for _column, expr in _LINE_COLUMNS))
    )
    select_sql, params = source.query.get_compiler(using=source.db).as_sql()
    meta = ForecastSnapshotLine._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("snapshot", *(column for column, _expr in _LINE_COLUMNS))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) {select_sql}", params
        )
        return cursor.rowcount


def _store_totals(snapshot: ForecastSnapshot) -> None:
    money = DecimalField(max_digits=20, decimal_places=6)
    totals = ForecastSnapshotLine.objects.filter(snapshot=snapshot).aggregate(
        n=Count("pk"),
        unweighted=Coalesce(Sum("value"), 0, output_field=money),
        weighted=Coalesce(Sum(F("value") * F("weight")), 0, output_field=money),
    )
    snapshot.line_count = totals["n"]
    snapshot.unweighted = totals["unweighted"].quantize(CENT)
    snapshot.weighted = totals["weighted"].quantize(CENT)
    snapshot.save(update_fields=["line_count", "unweighted", "weighted"])


@transaction.atomic
def take_snapshot(
    *,
    actor: User | None = None,
    kind: str = SnapshotKind.MANUAL,
    now: datetime | None = None,
) -> ForecastSnapshot:
    """Freeze every open qualified lead. An automatic snapshot is taken at most once a
    day (company calendar): asking again that day returns the one already taken."""
    if kind not in SnapshotKind.values:
        raise ValidationFailed(
            _("Unknown snapshot kind."), code="invalid_snapshot_kind"
        )
    now = now or timezone.now()
    taken_on = timezone.localdate(now, current_calendar().tz)
    by = actor if actor is not None and actor.is_authenticated else None
    if kind == SnapshotKind.AUTO:
        existing = ForecastSnapshot.objects.filter(
            kind=SnapshotKind.AUTO, taken_on=taken_on
        ).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                snapshot = ForecastSnapshot.objects.create(
                    taken_at=now, taken_on=taken_on, kind=kind, taken_by=by
                )
        except IntegrityError:
            # Another worker took today's snapshot a moment ago.
            return ForecastSnapshot.objects.get(
                kind=SnapshotKind.AUTO, taken_on=taken_on
            )
    else:
        snapshot = ForecastSnapshot.objects.create(
            taken_at=now, taken_on=taken_on, kind=kind, taken_by=by
        )
    _copy_open_leads(snapshot)
    _store_totals(snapshot)
    record_event(
        actor=by,
        subject=snapshot,
        event_type="forecast.snapshot_taken",
        new={"kind": kind, "leads": snapshot.line_count},
    )
    return snapshot


def take_scheduled_snapshot(*, now: datetime | None = None) -> str:
    """The worker's daily 06:00 job: a snapshot on Mondays and on the first working day
    of the month (``leadflow.workflows.scheduler.JOBS``)."""
    now = now or timezone.now()
    calendar = current_calendar()
    today = timezone.localdate(now, calendar.tz)
    if not is_snapshot_day(today, calendar.is_working_day):
        return "not a snapshot day"
    snapshot = take_snapshot(actor=None, kind=SnapshotKind.AUTO, now=now)
    return f"snapshot {snapshot.pk} ({snapshot.line_count} leads)"
