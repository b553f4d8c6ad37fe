"""URLs of the notification-rule and webhook settings pages (under /settings/)."""

from django.urls import path

from leadflow.workflows import views_rules as views

urlpatterns = [
    path("rules/", views.rule_settings, name="rule_settings"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/companies/", views.rule_company_search, name="rule_company_search"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/active/", views.rule_active, name="rule_active"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("webhooks/", views.webhook_settings, name="webhook_settings"),
    path("webhooks/new/", views.webhook_new, name="webhook_new"),
    path("webhooks/<int:webhook_id>/", views.webhook_edit, name="webhook_edit"),
    path(
        "webhooks/<int:webhook_id>/rotate-secret/",
        views.webhook_rotate_secret,
        name="webhook_rotate_secret",
    ),
    path(
        "webhooks/<int:webhook_id>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        views.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/redeliver/",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
