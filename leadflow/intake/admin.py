from django.contrib import admin

from leadflow.intake.models import Campaign, Channel


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
