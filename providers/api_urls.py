from django.urls import path

from . import api

urlpatterns = [
    path("provider/domains/check/", api.DomainCheckView.as_view(), name="api-provider-check"),
    # ``path``: a URL asked about (its ``/`` escaped as %2F arrives decoded) is looked up by
    # its host, as the batch call does.
    path("provider/domains/<path:domain>/", api.DomainView.as_view(), name="api-provider-domain"),
    path("provider/apps/check/", api.AppCheckView.as_view(), name="api-provider-apps-check"),
    path("provider/imports/", api.ImportView.as_view(), name="api-provider-imports"),
    path("provider/reviews/", api.ProviderReviewQueueView.as_view(), name="api-provider-reviews"),
    path(
        "provider/reviews/<int:pk>/decision/",
        api.ProviderDecisionView.as_view(),
        name="api-provider-review-decision",
    ),
    path("provider/accesses/", api.ProviderAccessView.as_view(), name="api-provider-accesses"),
    path(
        "provider/accesses/cancel/",
        api.ProviderAccessCancelView.as_view(),
        name="api-provider-access-cancel",
    ),
]
