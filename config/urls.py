from django.contrib import admin
from django.urls import include, path, re_path

from leadflow.api.main import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("leadflow.accounts.urls")),
    path("", include("leadflow.intake.urls")),
    path("", include("leadflow.contacts.urls")),
    path("", include("leadflow.opportunities.urls")),
    path("", include("leadflow.marketing.urls")),
    path("", include("leadflow.workflows.urls")),
    path("", include("leadflow.analytics.urls")),
    path("", include("leadflow.imports.urls")),
]

handler400 = "leadflow.core.views.bad_request"
