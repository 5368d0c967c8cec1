from django.urls import path

from . import api

urlpatterns = [
    path("public/filings/", api.PublicFilingSearchView.as_view(), name="public-filings"),
]
