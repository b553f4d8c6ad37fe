from django.urls import path

from leadflow.contacts import views, views_privacy

urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path(
        "contacts/<int:contact_id>/consent/",
        views.contact_consent,
        name="contact_consent",
    ),
    path("companies/<int:company_id>/", views.company_detail, name="company_detail"),
    path(
        "contacts/<int:contact_id>/export/",
        views_privacy.contact_export,
        name="contact_export",
    ),
    path(
        "contacts/<int:contact_id>/erase/",
        views_privacy.contact_erase,
        name="contact_erase",
    ),
]
