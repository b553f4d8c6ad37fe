from django.urls import path

from leadflow.analytics import views, views_calibration, views_reports

urlpatterns = [
    path("forecast/", views.forecast_page, name="forecast"),
    path("forecast/snapshots/", views.snapshot_take, name="forecast_snapshot_take"),
    path("analytics/", views_reports.analytics_index, name="analytics_index"),
    path(
        "analytics/calibration/",
        views_calibration.calibration_page,
        name="analytics_calibration",
    ),
    path(
        "analytics/<slug:name>/",
        views_reports.analytics_report,
        name="analytics_report",
    ),
]
