from django.contrib import admin

from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.core.worktime import forget_calendar


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(admin.ModelAdmin):
    list_display = ("__str__", "starts_at", "ends_at", "time_zone")

    def has_add_permission(self, request):
        return not WorkingCalendar.objects.exists()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_calendar()


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("day", "name")
    date_hierarchy = "day"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_calendar()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_calendar()
