from django.urls import path

from leadflow.analytics import views

urlpatterns = [
    path("forecast/", views.forecast_page, name="forecast"),
    path("forecast/snapshots/", views.snapshot_take, name="forecast_snapshot_take"),
]
