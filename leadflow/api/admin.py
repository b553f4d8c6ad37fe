from django.contrib import admin

from leadflow.api.models import IdempotentRequest


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(admin.ModelAdmin):
    """Read-only; deleting a row frees a key stuck in progress."""

    list_display = ("created_at", "user", "method", "path", "key", "status")
    list_filter = ("status",)
    search_fields = ("key", "path", "user__username")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
