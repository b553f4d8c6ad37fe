from django.contrib import admin

from leadflow.opportunities.models import Stage


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_nl", "order", "weight", "is_active")
    list_editable = ("order", "weight", "is_active")
