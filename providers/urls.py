from django.urls import path

from . import views

app_name = "providers"

urlpatterns = [
    path("", views.console, name="console"),
    path(
        "clients/<int:user_id>/reset-password/",
        views.client_password_reset,
        name="client-password-reset",
    ),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:filing_id>/", views.review_detail, name="review-detail"),
    path(
        "reviews/<int:filing_id>/documents/<int:document_id>/",
        views.review_document,
        name="review-document",
    ),
    path("accesses/", views.accesses, name="accesses"),
    path("accesses/new/", views.access_new, name="access-new"),
    path("accesses/withdraw/", views.access_withdraw, name="access-withdraw"),
    path("accesses/withdraw/file/", views.access_withdraw_upload, name="access-withdraw-upload"),
    path(
        "accesses/withdraw/results.csv",
        views.access_withdraw_results,
        name="access-withdraw-results",
    ),
    path(
        "accesses/withdraw/template.csv",
        views.access_withdraw_template,
        name="access-withdraw-template",
    ),
    path("imports/", views.import_list, name="imports"),
    path("imports/template.csv", views.import_template, name="import-template"),
    path("imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/errors.csv", views.import_errors, name="import-errors"),
    path("imports/<int:job_id>/results.csv", views.import_results, name="import-results"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("tokens/sign-in/revoke/", views.signin_token_revoke, name="signin-token-revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path(
        "webhooks/<int:delivery_id>/redeliver/",
        views.webhook_redeliver,
        name="webhook-redeliver",
    ),
]
