from django.urls import include, path

from leadflow.workflows import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification_preferences",
    ),
    path("settings/", include("leadflow.workflows.urls_rules")),
    path("settings/", include("leadflow.workflows.urls_calendar")),
]
