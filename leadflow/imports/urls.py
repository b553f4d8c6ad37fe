from django.urls import path

from leadflow.imports import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:job_id>/check/", views.import_check, name="import_check"),
    path("imports/<int:job_id>/start/", views.import_start, name="import_start"),
    path("imports/<int:job_id>/resume/", views.import_resume, name="import_resume"),
    path("imports/<int:job_id>/cancel/", views.import_cancel, name="import_cancel"),
    path(
        "imports/<int:job_id>/progress/", views.import_progress, name="import_progress"
    ),
    path(
        "imports/<int:job_id>/problems.csv",
        views.import_issues_csv,
        name="import_issues_csv",
    ),
]
