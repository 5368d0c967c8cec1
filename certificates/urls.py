from django.urls import path, re_path

from . import views

app_name = "certificates"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/domain/", views.verify_domain, name="verify-domain"),
    path(
        "verify/domain/<str:check_id>/",
        views.verify_domain_result,
        name="verify-domain-result",
    ),
    path("keys.json", views.keys_json, name="keys"),
    re_path(
        r"^keys/(?P<key_id>[0-9A-Za-z_-]{1,40})\.(?P<ext>json|pem)$",
        views.key_detail,
        name="key",
    ),
    path("<int:filing_id>/bazs.cert", views.download, name="download"),
    path("<int:filing_id>/install/", views.install, name="install"),
    path("<int:filing_id>/check/", views.check_now, name="check"),
    path("<int:filing_id>/staff-check/", views.staff_check_now, name="staff-check"),
]
