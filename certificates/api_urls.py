from django.urls import path

from . import api

urlpatterns = [
    path(
        "filings/<int:pk>/certificate/",
        api.FilingCertificateView.as_view(),
        name="api-filing-certificate",
    ),
    path(
        "public/certificates/verify/",
        api.VerifyCertificateView.as_view(),
        name="api-certificate-verify",
    ),
]
