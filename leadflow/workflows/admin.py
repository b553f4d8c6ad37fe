from django.contrib import admin

from leadflow.workflows.models import (
    Escalation,
    EscalationSettings,
    Notification,
    NotificationRule,
    ScheduledJob,
    Webhook,
    WebhookDelivery,
)


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


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    """Every timed reminder: when it was due, and whether it was sent or cancelled."""

    list_display = ("due_at", "kind", "status", "target", "sent_at", "note")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Escalation._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log (read-only): each event for each webhook, with its attempts."""

    list_display = (
        "created_at",
        "webhook",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "delivered_at",
    )
    list_filter = ("status", "webhook", "event_type")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(EscalationSettings)
class EscalationSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "inquiry_after_hours",
        "manager_after_hours",
        "remind_overdue_activities",
        "remind_stale_leads",
    )

    def has_add_permission(self, request):
        return not EscalationSettings.objects.exists()


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "next_run_at",
        "last_started_at",
        "last_finished_at",
        "last_result",
    )
    readonly_fields = [f.name for f in ScheduledJob._meta.fields]

    def has_add_permission(self, request):
        return False
