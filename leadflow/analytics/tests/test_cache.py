"""Slow analyses are kept and served (analytics.cache): what is kept, for whom, for
how long, and how the worker refreshes it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from leadflow.analytics import cache
from leadflow.analytics.models import ReportCache
from leadflow.analytics.reports import REPORTS, ordered_reports
from leadflow.analytics.scope import Scope, parse_filters
from leadflow.intake.tests.factories import make_inquiry

SOURCES = REPORTS["sources"]


def inquiries(result) -> int:
    return dict((str(k), v) for k, v, _kind in result.figures)["Inquiries"]


def scope(user) -> Scope:
    return Scope(user=user, filters=parse_filters({}))


@pytest.fixture
def keep_everything(settings):
    settings.LEADFLOW_ANALYTICS_CACHE_MS = 0
    settings.LEADFLOW_ANALYTICS_MAX_AGE = 600


def test_a_fast_result_is_not_kept(director, inside):
    make_inquiry(inside)
    first = cache.compute(SOURCES, scope(director))
    make_inquiry(inside)
    second = cache.compute(SOURCES, scope(director))
    assert (first.cached, second.cached) == (False, False)
    assert (inquiries(first.result), inquiries(second.result)) == (1, 2)
    assert not ReportCache.objects.exists()


def test_a_slow_result_is_served_until_it_is_too_old(keep_everything, director, inside):
    make_inquiry(inside)
    first = cache.compute(SOURCES, scope(director))
    make_inquiry(inside)
    kept = cache.compute(SOURCES, scope(director))
    assert kept.cached and inquiries(kept.result) == 1
    assert kept.computed_at == first.computed_at
    # "Compute now" recomputes and keeps the new figures.
    fresh = cache.compute(SOURCES, scope(director), fresh=True)
    assert not fresh.cached and inquiries(fresh.result) == 2
    assert inquiries(cache.compute(SOURCES, scope(director)).result) == 2
    # Older than LEADFLOW_ANALYTICS_MAX_AGE: computed again.
    make_inquiry(inside)
    ReportCache.objects.update(computed_at=timezone.now() - timedelta(seconds=601))
    assert inquiries(cache.compute(SOURCES, scope(director)).result) == 3


def test_who_shares_a_kept_result(
    keep_everything, admin, director, inside, marketer, rep
):
    keys = {
        who: cache.cache_key(scope(u))
        for who, u in [
            ("admin", admin),
            ("director", director),
            ("inside", inside),
            ("marketer", marketer),
            ("rep", rep),
        ]
    }
    # Every record with lead links: admin, director, inside sales alike.
    assert keys["admin"] == keys["director"] == keys["inside"]
    # Marketing counts every record but may not open leads; a salesperson has their own.
    assert len({keys["director"], keys["marketer"], keys["rep"]}) == 3
    with translation.override("nl"):
        assert cache.cache_key(scope(director)) != keys["director"]
    other = Scope(user=director, filters=parse_filters({"from": "2026-01-01"}))
    assert cache.cache_key(other) != keys["director"]


def test_a_salesperson_never_gets_the_directors_figures(
    keep_everything, director, rep, inside
):
    make_inquiry(inside)
    assert inquiries(cache.compute(SOURCES, scope(director)).result) == 1
    assert inquiries(cache.compute(SOURCES, scope(rep)).result) == 0


def test_the_page_says_when_the_figures_were_computed(
    keep_everything, director, inside
):
    make_inquiry(inside)
    client = Client()
    client.force_login(director)
    live = client.get("/analytics/sources/").content.decode()
    assert 'data-testid="refresh"' not in live
    kept = client.get("/analytics/sources/").content.decode()
    assert 'data-testid="refresh"' in kept and "Figures of" in kept
    make_inquiry(inside)
    fresh = client.get("/analytics/sources/", {"fresh": "1"}).content.decode()
    assert 'data-testid="refresh"' not in fresh


def test_the_api_serves_the_kept_result_with_its_time(keep_everything, api_as, inside):
    make_inquiry(inside)
    client = api_as("director")
    first = client.get("/api/analytics/sources").json()
    make_inquiry(inside)
    kept = client.get("/api/analytics/sources").json()
    assert kept["computed_at"] == first["computed_at"]
    assert kept["figures"][0]["value"] == 1
    fresh = client.get("/api/analytics/sources?fresh=true").json()
    assert fresh["figures"][0]["value"] == 2


def test_the_worker_refreshes_every_default_view_in_each_language(
    keep_everything, director, inside
):
    make_inquiry(inside)
    queued = cache.refresh_defaults()
    assert queued == len(ordered_reports()) * 2
    assert ReportCache.objects.count() == len(ordered_reports()) * 2
    # The director's next visit is served from what the worker computed.
    with translation.override("en"):
        assert cache.compute(SOURCES, scope(director)).cached


def test_old_results_are_pruned(keep_everything, director):
    cache.compute(SOURCES, scope(director))
    ReportCache.objects.update(computed_at=timezone.now() - timedelta(days=2))
    assert cache.prune() == 1


def test_the_worker_keeps_nothing_that_is_fast_enough_to_be_live(
    settings, director, inside
):
    settings.LEADFLOW_ANALYTICS_CACHE_MS = 0
    cache.refresh_defaults()
    assert ReportCache.objects.exists()
    # The data is small again (or the machine faster): the next refresh forgets them,
    # so the pages show live figures.
    settings.LEADFLOW_ANALYTICS_CACHE_MS = 60_000
    cache.refresh_defaults()
    assert not ReportCache.objects.exists()
    make_inquiry(inside)
    assert not cache.compute(SOURCES, scope(director)).cached
