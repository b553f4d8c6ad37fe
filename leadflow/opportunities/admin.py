from django.contrib import admin

from leadflow.opportunities.models import Stage


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "name_nl",
        "order",
        "weight",
        "stale_after_days",
        "forecast_category",
        "is_active",
    )
    list_editable = ("order", "weight", "stale_after_days", "is_active")
