from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from core.api.errors import api_not_found

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("processes.api.urls")),
    path("api/v1/", include("evaluations.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Anything else under /api/ answers JSON, whatever DEBUG says.
    re_path(r"^api/(?P<path>.*)$", api_not_found),
]

# Under /api/ a URL that matches nothing, a request Django refuses before any view (too many fields,
# a suspicious operation), a CSRF refusal, or a crash, answers JSON like every other API error.
handler400 = "core.api.errors.bad_request"
handler403 = "core.api.errors.permission_denied"
handler404 = "core.api.errors.page_not_found"
handler500 = "core.api.errors.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
