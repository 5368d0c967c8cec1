from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("export.csv", views.export, name="export"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("statistics/", views.statistics, name="statistics"),
    path("audit/", views.audit_log, name="audit"),
    path("annual-overdue/", views.annual_overdue_list, name="annual-overdue"),
    path("shells/", views.shells, name="shells"),
    path("filings/<int:pk>/", views.detail, name="detail"),
    path("filings/<int:pk>/approve/", views.approve, name="approve"),
    path("filings/<int:pk>/reject/", views.reject, name="reject"),
    path("filings/<int:pk>/recheck/", views.recheck, name="recheck"),
    path("filings/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("filings/<int:pk>/revocation/", views.revocation, name="revocation"),
    path("filings/<int:pk>/password-reset/", views.password_reset, name="password-reset"),
    path("filings/<int:pk>/documents/<int:document_id>/", views.document, name="document"),
]
