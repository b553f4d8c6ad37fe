from django.contrib import admin

from leadflow.intake.models import Campaign, Channel, InboundMail


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "name_nl",
        "order",
        "prompted_by_default",
        "is_active",
    )
    list_editable = ("order", "is_active")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "starts_on", "ends_on", "is_active")
    list_filter = ("is_active", "channel")


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    """Read-only: what reached the sales mailbox; failed mails are retried with
    ``manage.py poll_mailbox --retry-failed`` (operators.md §15)."""

    list_display = ("received_at", "from_address", "subject", "status", "source")
    list_filter = ("status", "source")
    search_fields = ("message_id", "from_address", "subject")
    readonly_fields = [f.name for f in InboundMail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
