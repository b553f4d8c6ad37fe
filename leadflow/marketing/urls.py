from django.urls import path

from leadflow.marketing import views, views_exports, views_webforms

urlpatterns = [
    path("marketing/lists/", views.marketing_lists, name="marketing_lists"),
    path(
        "marketing/lists/<int:list_id>/",
        views.marketing_list_detail,
        name="marketing_list_detail",
    ),
    path(
        "marketing/lists/<int:list_id>/export/",
        views_exports.marketing_list_export,
        name="marketing_list_export",
    ),
    path(
        "marketing/lists/<int:list_id>/export/download/",
        views_exports.marketing_list_export_download,
        name="marketing_list_export_download",
    ),
    path(
        "unsubscribe/<str:token>/",
        views_exports.marketing_unsubscribe,
        name="marketing_unsubscribe",
    ),
    path("marketing/forms/", views_webforms.webform_list, name="webform_list"),
    path("marketing/forms/new/", views_webforms.webform_new, name="webform_new"),
    path(
        "marketing/forms/<int:form_id>/",
        views_webforms.webform_edit,
        name="webform_edit",
    ),
    path(
        "marketing/forms/<int:form_id>/active/",
        views_webforms.webform_active,
        name="webform_active",
    ),
    path("forms/<slug:slug>/", views_webforms.webform_public, name="webform_public"),
    path(
        "forms/<slug:slug>/thanks/",
        views_webforms.webform_thanks,
        name="webform_thanks",
    ),
]
