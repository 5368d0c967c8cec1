from django.urls import path

from . import api

urlpatterns = [
    path("accounts/register/", api.RegisterView.as_view(), name="api-register"),
    path("accounts/verify/", api.VerifyView.as_view(), name="api-verify"),
    path("accounts/resend-code/", api.ResendCodeView.as_view(), name="api-resend-code"),
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
]
