from django.contrib import admin

from leadflow.analytics.models import ForecastSnapshot


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
