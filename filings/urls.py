from django.urls import path

from . import views

app_name = "filings"

urlpatterns = [
    path("", views.task_list, name="tasks"),
    path("sponsor/", views.sponsor, name="sponsor"),
    path("websites/", views.websites, name="websites"),
    path("websites/new/", views.website_new, name="website-new"),
    path("websites/<int:index>/", views.website_edit, name="website"),
    path("websites/<int:index>/remove/", views.website_remove, name="website-remove"),
    path("providers/search/", views.provider_search, name="provider-search"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("check/", views.check_answers, name="check"),
    path("submitted/", views.submitted, name="submitted"),
    path("discard/", views.discard, name="discard"),
    path("revocation/", views.revocation, name="revocation"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("versions/<int:seq>/", views.version, name="version"),
    path("forgot-username/", views.forgot_username, name="forgot-username"),
]
