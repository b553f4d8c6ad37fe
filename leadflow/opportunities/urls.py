from django.urls import path

from leadflow.opportunities import board_views, pdf_views, views

urlpatterns = [
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path(
        "opportunities/<int:opportunity_id>/",
        views.opportunity_detail,
        name="opportunity_detail",
    ),
    path(
        "opportunities/<int:opportunity_id>/edit/",
        views.opportunity_edit,
        name="opportunity_edit",
    ),
    path(
        "opportunities/<int:opportunity_id>/owner/",
        views.opportunity_owner,
        name="opportunity_owner",
    ),
    path(
        "opportunities/<int:opportunity_id>/move/",
        views.opportunity_move,
        name="opportunity_move",
    ),
    path(
        "opportunities/<int:opportunity_id>/close/",
        views.opportunity_close,
        name="opportunity_close",
    ),
    path(
        "opportunities/<int:opportunity_id>/qualify/<str:framework>/",
        views.opportunity_qualify,
        name="opportunity_qualify",
    ),
    path(
        "opportunities/<int:opportunity_id>/stakeholders/",
        views.opportunity_stakeholder,
        name="opportunity_stakeholder",
    ),
    path(
        "opportunities/<int:opportunity_id>/team/",
        views.opportunity_team,
        name="opportunity_team",
    ),
    path(
        "opportunities/<int:opportunity_id>/competitors/",
        views.opportunity_competitor,
        name="opportunity_competitor",
    ),
    path(
        "opportunities/<int:opportunity_id>/activities/",
        views.opportunity_activity,
        name="opportunity_activity",
    ),
    path(
        "activities/<int:activity_id>/done/", views.activity_done, name="activity_done"
    ),
    path(
        "opportunities/<int:opportunity_id>/documents/",
        views.opportunity_document,
        name="opportunity_document",
    ),
    path(
        "documents/<int:document_id>/",
        views.document_download,
        name="document_download",
    ),
    path(
        "opportunities/<int:opportunity_id>/quotes/",
        views.quote_create,
        name="quote_create",
    ),
    path("quotes/<int:quote_id>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:quote_id>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:quote_id>/revise/", views.quote_revise, name="quote_revise"),
    path("quotes/<int:quote_id>/decide/", views.quote_decide, name="quote_decide"),
    path("pipeline/", board_views.pipeline_board, name="pipeline_board"),
    path(
        "pipeline/column/<int:stage_id>/",
        board_views.pipeline_column,
        name="pipeline_column",
    ),
    path(
        "pipeline/move/<int:opportunity_id>/",
        board_views.pipeline_move,
        name="pipeline_move",
    ),
    path("quotes/<int:quote_id>/pdf/", pdf_views.quote_pdf, name="quote_pdf"),
    path(
        "opportunities/<int:opportunity_id>/forecast-category/",
        views.opportunity_forecast_category,
        name="opportunity_forecast_category",
    ),
]
