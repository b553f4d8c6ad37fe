"""URLs of the workflow settings pages (included under /settings/)."""

from django.urls import path

from leadflow.workflows import views_calendar as views

urlpatterns = [
    path("", views.settings_home, name="settings_home"),
    path("calendar/", views.calendar_page, name="settings_calendar"),
    path("calendar/holidays/", views.holiday_add, name="settings_holiday_add"),
    path(
        "calendar/holidays/public/",
        views.public_holidays_add,
        name="settings_public_holidays_add",
    ),
    path(
        "calendar/holidays/<int:holiday_id>/remove/",
        views.holiday_remove,
        name="settings_holiday_remove",
    ),
    path("escalations/", views.escalations_page, name="settings_escalations"),
    path(
        "escalations/stages/<int:stage_id>/",
        views.stage_stale_limit,
        name="settings_stage_stale_limit",
    ),
    path("schedule/", views.schedule_page, name="settings_schedule"),
    path(
        "schedule/<slug:name>/run/",
        views.scheduled_job_run,
        name="settings_scheduled_job_run",
    ),
]
