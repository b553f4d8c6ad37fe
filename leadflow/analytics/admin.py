from django.contrib import admin

from leadflow.analytics.models import Benchmark, ForecastSnapshot


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(admin.ModelAdmin):
    """Read-only: snapshots are taken by the worker, the command or the forecast page."""

    list_display = (
        "taken_at",
        "kind",
        "taken_by",
        "line_count",
        "unweighted",
        "weighted",
    )
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    """Editable reference data (DOMAIN.md §7): the process report compares our ratios
    with the active rows of a metric; ``segment`` holds the channel code for
    ``lead_to_deal``."""

    list_display = (
        "metric",
        "label",
        "segment",
        "low",
        "high",
        "unit",
        "source",
        "year",
        "is_active",
    )
    list_filter = ("metric", "unit", "is_active")
    list_editable = ("is_active",)
    search_fields = ("metric", "label", "segment", "source")
