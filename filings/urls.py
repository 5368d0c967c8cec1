from django.urls import path

from accounts import views as account_views

from . import change_views, views

app_name = "filings"

urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("sponsor/", views.sponsor, name="sponsor"),
    path("websites/", views.websites, name="websites"),
    path("websites/new/", views.website_new, name="website-new"),
    path("websites/<int:index>/", views.website_edit, name="website"),
    path("websites/<int:index>/remove/", views.website_remove, name="website-remove"),
    path("providers/search/", views.provider_search, name="provider-search"),
    path("stores/search/", views.store_search, name="store-search"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("check/", views.check_answers, name="check_answers"),
    path("submitted/", views.submitted, name="submitted"),
    path("discard/", views.discard, name="discard"),
    path("revocation/", views.revocation, name="revocation"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("verification/resend/", views.verification_resend, name="verification-resend"),
    path("versions/<int:seq>/", views.version, name="version"),
    # The changes of one part of an approved record (SPEC §12), by the website's id.
    path(
        "approved-websites/<int:website_id>/accesses/new/",
        change_views.access_new,
        name="access-new",
    ),
    path(
        "approved-websites/<int:website_id>/accesses/<int:access_id>/cancel/",
        change_views.access_cancel,
        name="access-cancel",
    ),
    path(
        "approved-websites/<int:website_id>/cancel/",
        change_views.website_cancel,
        name="website-cancel",
    ),
    path(
        "applications/<int:application_id>/record/",
        views.verification_record,
        name="verification-record",
    ),
    # An account page (SPEC §2, Q11) under /filing/: the owner knows the filing number.
    path("forgot-username/", account_views.forgot_username, name="forgot-username"),
]
