from django.urls import path

from leadflow.intake import views, views_mail

urlpatterns = [
    path("inquiries/new/", views.inquiry_new, name="inquiry_new"),
    path("inquiries/lookup/", views.intake_lookup, name="intake_lookup"),
    path("inquiries/", views.triage, name="triage"),
    path("inquiries/<int:inquiry_id>/", views.inquiry_detail, name="inquiry_detail"),
    path(
        "inquiries/<int:inquiry_id>/close/", views.inquiry_close, name="inquiry_close"
    ),
    path(
        "inquiries/<int:inquiry_id>/assign/",
        views.inquiry_assign,
        name="inquiry_assign",
    ),
    path(
        "opportunities/<int:opportunity_id>/handover/", views.handover, name="handover"
    ),
    path(
        "inquiries/attachments/<int:attachment_id>/",
        views_mail.inquiry_attachment_download,
        name="inquiry_attachment_download",
    ),
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_new, name="order_new"),
    path("contacts/<int:contact_id>/card/", views.contact_card, name="contact_card"),
]
