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
]
