from django.contrib import admin

from leadflow.marketing.models import MarketingList


@admin.register(MarketingList)
class MarketingListAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "created_at")
