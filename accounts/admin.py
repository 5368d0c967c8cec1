from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import SignIn, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "role",
        "province",
        "email",
        "mobile",
        "origin",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "origin", "province", "is_active", "password_is_initial"]
    search_fields = ["username", "email", "mobile"]
    readonly_fields = ["last_login", "date_joined", "mobile_verified_at", "email_verified_at"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Contact"), {"fields": ["email", "mobile", "mobile_verified_at", "email_verified_at"]}),
        (
            _("Role"),
            {"fields": ["role", "province", "provider", "origin", "imported_by", "language"]},
        ),
        (_("State"), {"fields": ["is_active", "password_is_initial", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "username",
                    "email",
                    "mobile",
                    "role",
                    "province",
                    "password1",
                    "password2",
                ]
            },
        ),
    ]


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "method", "ip_address", "user_agent"]
    list_filter = ["method"]
    search_fields = ["user__username", "ip_address"]
    readonly_fields = [f.name for f in SignIn._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
