from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("bureaus/", views.bureau_directory, name="bureau-directory"),
    path("healthz", views.health, name="health"),
    # The two calls made by programs at volume come first, so they are resolved quickly.
    path("api/v1/", include("public.api_urls")),
    path("api/v1/", include("providers.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("captcha/", include("captcha.urls")),
    path("accounts/", include("accounts.urls")),
    path("certificates/", include("certificates.urls")),
    # Before the filings and public API includes, so these two exact paths are ours.
    path("api/v1/", include("certificates.api_urls")),
    path("api/v1/", include("accounts.api_urls")),
    path("filing/", include("filings.urls")),
    path("api/v1/filings/", include("filings.api_urls")),
    path("provider/", include("providers.urls")),
    path("", include("public.urls")),
    path("review/", include("review.urls")),
    path("api/v1/review/", include("review.api_urls")),
    # The access provider organisation is kept by accounts; bookmarks of its earlier admin
    # address still arrive.
    re_path(
        r"^admin/providers/accessprovider/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/accounts/accessprovider/%(rest)s", query_string=True),
        name="admin-accessprovider-moved",
    ),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Answers 404 unless DEBUG is on and the outbox is enabled.
    path("dev/outbox/", views.dev_outbox, name="dev-outbox"),
]

handler404 = "beian.views.not_found"
