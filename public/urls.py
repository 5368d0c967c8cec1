from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("query/", views.query, name="query"),
    path("bulletin/", views.bulletin, name="bulletin"),
    path("bulletin/<int:pk>/", views.announcement, name="announcement"),
    path("annual-review/", views.annual_review, name="annual_review"),
    path("verification/", views.verification, name="verification"),
    path("annual-review/confirm/", views.annual_review_confirm_view, name="annual_review_confirm"),
]
