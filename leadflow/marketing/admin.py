from django.contrib import admin

from leadflow.marketing.models import MarketingList, WebForm, WebFormAttempt


@admin.register(MarketingList)
class MarketingListAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "created_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, not edited here: changes go through the audited page (/marketing/forms/)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebForm)
class WebFormAdmin(ReadOnlyAdmin):
    list_display = ("title", "slug", "campaign", "department", "is_active", "version")
    list_filter = ("is_active",)
    search_fields = ("title", "slug")
    list_select_related = ("campaign", "department")


@admin.register(WebFormAttempt)
class WebFormAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "web_form", "outcome", "inquiry")
    list_filter = ("outcome",)
    date_hierarchy = "at"
    list_select_related = ("web_form",)
    raw_id_fields = ("inquiry",)
