from django.urls import path

from accounts import views as account_views

from . import app_views, change_views, views

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
    # Apps and mini-programs (SPEC §13): an app's four pages, a mini-program's two.
    path("apps/", app_views.apps, name="apps"),
    path("apps/new/", app_views.app_new, name="app-new"),
    path("apps/<int:index>/", app_views.app_edit, name="app"),
    path("apps/<int:index>/platforms/", app_views.app_platforms, name="app-platforms"),
    path("apps/<int:index>/domains/", app_views.app_domains, name="app-domains"),
    path("apps/<int:index>/accesses/", app_views.app_accesses, name="app-accesses"),
    path("apps/<int:index>/remove/", app_views.app_remove, name="app-remove"),
    path(
        "distribution-platforms/candidates/",
        app_views.store_candidates,
        name="store-candidates",
    ),
    path("mini-programs/", app_views.mini_programs, name="mini-programs"),
    path("mini-programs/new/", app_views.mini_program_new, name="mini-program-new"),
    path("mini-programs/<int:index>/", app_views.mini_program_edit, name="mini-program"),
    path(
        "mini-programs/<int:index>/platform/",
        app_views.mini_program_platform,
        name="mini-program-platform",
    ),
    path(
        "mini-programs/<int:index>/remove/",
        app_views.mini_program_remove,
        name="mini-program-remove",
    ),
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
