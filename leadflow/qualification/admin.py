from django.contrib import admin

from leadflow.qualification.models import BuyingPhase, QualificationSettings


@admin.register(QualificationSettings)
class QualificationSettingsAdmin(admin.ModelAdmin):
    """The SCOTSMAN gate: threshold, showstopper rule, override allowed."""

    list_display = (
        "__str__",
        "scotsman_threshold",
        "block_on_showstopper",
        "allow_override",
    )

    def has_add_permission(self, request):
        return not QualificationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BuyingPhase)
class BuyingPhaseAdmin(admin.ModelAdmin):
    """Buying-clock phases: rename, reorder (position), add or deactivate."""

    list_display = ("position", "name", "name_nl", "is_active")
    list_editable = ("name", "name_nl", "is_active")
    list_display_links = ("position",)
