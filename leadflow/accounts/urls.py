from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from leadflow.accounts import views
from leadflow.opportunities import views_ical

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/calendar/", views.account_calendar, name="account_calendar"),
    # The feed's secret is the credential (no login: calendar apps cannot log in).
    re_path(
        r"^calendar/(?P<secret>[A-Za-z0-9_-]{20,100})\.ics$",
        views_ical.calendar_feed,
        name="calendar_feed",
    ),
]
