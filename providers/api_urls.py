from django.urls import path

from . import api

urlpatterns = [
    path("provider/domains/check/", api.DomainCheckView.as_view(), name="api-provider-check"),
    path("provider/domains/<str:domain>/", api.DomainView.as_view(), name="api-provider-domain"),
    path("provider/imports/", api.ImportView.as_view(), name="api-provider-imports"),
]
