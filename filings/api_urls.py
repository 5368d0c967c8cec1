from django.urls import path

from . import api

urlpatterns = [
    path("", api.FilingListView.as_view(), name="api-filings"),
    path("<int:pk>/", api.FilingDetailView.as_view(), name="api-filing"),
    path("<int:pk>/documents/", api.FilingDocumentView.as_view(), name="api-filing-documents"),
    path("<int:pk>/submit/", api.FilingSubmitView.as_view(), name="api-filing-submit"),
    path("<int:pk>/revocation/", api.FilingRevocationView.as_view(), name="api-filing-revocation"),
    path(
        "<int:pk>/verification/resend/",
        api.FilingVerificationResendView.as_view(),
        name="api-filing-verification-resend",
    ),
    path("<int:pk>/withdraw/", api.FilingWithdrawView.as_view(), name="api-filing-withdraw"),
    path("<int:pk>/accesses/", api.FilingAccessView.as_view(), name="api-filing-accesses"),
    path(
        "<int:pk>/accesses/cancel/",
        api.FilingAccessCancelView.as_view(),
        name="api-filing-access-cancel",
    ),
    path(
        "<int:pk>/websites/<int:website>/cancel/",
        api.FilingWebsiteCancelView.as_view(),
        name="api-filing-website-cancel",
    ),
]
