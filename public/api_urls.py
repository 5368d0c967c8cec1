from django.urls import path

from . import api

urlpatterns = [
    path("verification/", api.VerificationView.as_view(), name="api-verification"),
    path("public/filings/", api.PublicFilingSearchView.as_view(), name="public-filings"),
]
