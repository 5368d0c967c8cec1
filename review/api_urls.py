from django.urls import path

from . import api

urlpatterns = [
    path("queue/", api.QueueView.as_view(), name="api-review-queue"),
    path("filings/<int:pk>/", api.FilingView.as_view(), name="api-review-filing"),
    path("filings/<int:pk>/decision/", api.DecisionView.as_view(), name="api-review-decision"),
    path("filings/<int:pk>/recheck/", api.RecheckView.as_view(), name="api-review-recheck"),
    path("filings/<int:pk>/revoke/", api.RevokeView.as_view(), name="api-review-revoke"),
]
