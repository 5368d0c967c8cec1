from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("register/", views.register, name="register"),
    path("verify/", views.verify, name="verify"),
    path("verify/resend/", views.verify_resend, name="verify-resend"),
    path("verify/email/", views.verify_change_email, name="verify-change-email"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("logout/everywhere/", views.sign_out_everywhere, name="logout-everywhere"),
    path("password/initial/", views.password_initial, name="password-initial"),
    path("password/forgot/", views.password_forgot, name="password-forgot"),
    path("password/reset/", views.password_reset, name="password-reset"),
    path("password/change/", views.password_change, name="password-change"),
    path("contact/<str:kind>/", views.contact_change, name="contact-change"),
    path("contact/<str:kind>/confirm/", views.contact_confirm, name="contact-confirm"),
    path("otp/setup/", views.otp_setup, name="otp-setup"),
    path("otp/", views.otp_verify, name="otp-verify"),
]
