from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

api_v1 = [
    path("", include("schools.api_urls")),
    path("", include("exams.api_urls")),
    path("", include("delivery.api_urls")),
    path("", include("results.api_urls")),
    path("", include("grading.api_urls")),
    path("", include("grading.desk_api_urls")),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("", include("results.urls")),
    path("", include("delivery.urls")),
    path("", include("grading.urls")),
    path("", include("exams.urls")),
    path("", include("grading.desk_urls")),
    path("", include("schools.urls")),
]
if settings.ADMIN_ENABLED:
    urlpatterns.insert(1, path("admin/", admin.site.urls))
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
