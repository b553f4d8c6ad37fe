"""Slow analyses are computed once and served many times (ADR 0010).

At a million inquiries some analyses take seconds for a director's whole company on
SQLite, even with covering indexes (figures in docs/performance.md). Their results are
kept in ``ReportCache``: keyed by report, filters, language and reach, served for up to
``LEADFLOW_ANALYTICS_MAX_AGE`` seconds with the moment they were computed on the page
("figures of 14:05 · Refresh"), and the worker recomputes the default view of every
report every ten minutes (``refresh_defaults``), so the first visitor of the day does
not wait. A result that computed faster than ``LEADFLOW_ANALYTICS_CACHE_MS`` is not
kept: small companies always see live figures.

Reach: directors, administrators and inside sales see the same figures (every record,
with links to the leads); marketing sees every record without lead links; a
salesperson has their own key. Pickle is safe here: the rows are written only by this
module, from our own dataclasses.
"""

import hashlib
import json
import logging
import pickle
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from leadflow.accounts.models import Role, User
from leadflow.accounts.permissions import has_capability
from leadflow.analytics.models import ReportCache
from leadflow.analytics.reports import REPORTS, ordered_reports
from leadflow.analytics.reports.base import Report, ReportResult
from leadflow.analytics.scope import Scope, parse_filters

logger = logging.getLogger(__name__)


@dataclass
class Computed:
    result: ReportResult
    computed_at: datetime
    seconds: float
    cached: bool  # served from ReportCache (not computed for this request)


def reach_key(user: User) -> str:
    if has_capability(user, "analytics.view_all"):
        leads = has_capability(user, "opportunity.view_all")
        return "all+leads" if leads else "all"
    return f"user:{user.pk}"


def cache_key(scope: Scope) -> str:
    params = scope.filters.as_params()
    text = json.dumps(
        [reach_key(scope.user), translation.get_language() or "", params],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _max_age() -> timedelta:
    return timedelta(seconds=settings.LEADFLOW_ANALYTICS_MAX_AGE)


def _store(report: Report, key: str, result: ReportResult, seconds: float) -> datetime:
    now = timezone.now()
    blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        with transaction.atomic():
            ReportCache.objects.update_or_create(
                report=report.name,
                key=key,
                defaults={"computed_at": now, "seconds": seconds, "result": blob},
            )
    except IntegrityError:  # a concurrent request stored it first: fine
        pass
    return now


def compute(report: Report, scope: Scope, *, fresh: bool = False) -> Computed:
    """The report's result for this scope: kept if recent enough, else computed (and
    kept when it was slow)."""
    key = cache_key(scope)
    if not fresh:
        row = (
            ReportCache.objects.filter(
                report=report.name,
                key=key,
                computed_at__gte=timezone.now() - _max_age(),
            )
            .only("computed_at", "seconds", "result")
            .first()
        )
        if row is not None:
            try:
                result = pickle.loads(bytes(row.result))
            except Exception:  # an older shape of the dataclasses: recompute
                logger.warning("analytics cache row %s unreadable", row.pk)
            else:
                return Computed(result, row.computed_at, row.seconds, cached=True)
    started = time.perf_counter()
    result = report.compute(scope)
    seconds = time.perf_counter() - started
    computed_at = timezone.now()
    if seconds * 1000 >= settings.LEADFLOW_ANALYTICS_CACHE_MS:
        computed_at = _store(report, key, result, seconds)
    return Computed(result, computed_at, seconds, cached=False)


def _worker_user() -> User | None:
    """Someone whose figures are everybody's with lead links (a director or admin)."""
    return (
        User.objects.filter(is_active=True, role__in=[Role.SALES_DIRECTOR, Role.ADMIN])
        .order_by("pk")
        .first()
    )


def refresh_report(name: str, language: str) -> str:
    """Recompute one report's default view for every-record readers, in ``language``
    (the worker's task body); kept only when it is slow, like any other result."""
    report = REPORTS.get(name)
    user = _worker_user()
    if report is None or user is None:
        return "skipped"
    with translation.override(language):
        scope = Scope(user=user, filters=parse_filters({}))
        started = time.perf_counter()
        result = report.compute(scope)
        seconds = time.perf_counter() - started
        key = cache_key(scope)
        if seconds * 1000 >= settings.LEADFLOW_ANALYTICS_CACHE_MS:
            _store(report, key, result, seconds)
        else:
            # Fast enough to be live: a small company never sees kept figures.
            ReportCache.objects.filter(report=report.name, key=key).delete()
    return f"{seconds:.1f} s"


def refresh_defaults(*, now: datetime | None = None) -> int:
    """The scheduled job: one background task per report and language (so a long
    computation never holds up the scheduler's other jobs). Returns how many."""
    from leadflow.analytics.tasks import refresh_report_task

    prune(now=now)
    count = 0
    for report in ordered_reports():
        for language, _name in settings.LANGUAGES:
            refresh_report_task.enqueue(report.name, language)
            count += 1
    return count


def prune(*, now: datetime | None = None) -> int:
    """Results older than a day are of no use any more."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _by_model = ReportCache.objects.filter(computed_at__lt=cutoff).delete()
    return deleted
