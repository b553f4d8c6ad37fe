from django.urls import path

from leadflow.marketing import views

urlpatterns = [
    path("marketing/lists/", views.marketing_lists, name="marketing_lists"),
    path(
        "marketing/lists/<int:list_id>/",
        views.marketing_list_detail,
        name="marketing_list_detail",
    ),
]
