from django.contrib import admin

from leadflow.workflows.models import Notification, NotificationRule


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    """Who is told of which events; empty filters match everything."""

    list_display = (
        "name",
        "event",
        "is_active",
        "notify_owner",
        "notify_owner_manager",
    )
    list_filter = ("event", "is_active")
    filter_horizontal = (
        "channels",
        "campaigns",
        "departments",
        "teams",
        "recipient_users",
    )
    autocomplete_fields = ("companies",)
    fieldsets = (
        (None, {"fields": ("name", "event", "is_active")}),
        (
            "Filters",
            {
                "fields": (
                    "outcome",
                    "companies",
                    "min_company_size",
                    "channels",
                    "campaigns",
                    "departments",
                    "min_value",
                    "service_type",
                    "teams",
                )
            },
        ),
        (
            "Recipients",
            {
                "fields": (
                    "recipient_users",
                    "recipient_roles",
                    "notify_owner",
                    "notify_owner_manager",
                )
            },
        ),
    )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The delivery log: who was told what, by which rule, when, and whether e-mailed."""

    list_display = (
        "created_at",
        "recipient",
        "event_type",
        "rule",
        "emailed_at",
        "read_at",
    )
    list_filter = ("event_type", "rule")
    readonly_fields = [f.name for f in Notification._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
