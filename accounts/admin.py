from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from beian.normalforms.emails import normalize_email

from .models import SignIn, User
from .services import identity_check, staff_create

# Accounts the admin creates: owners register themselves and provider staff are added from
# their access provider's page.
ADMIN_CREATED_ROLES = (User.Role.BUREAU, User.Role.MINISTRY)


class _NormalEmailField(forms.EmailField):
    """The admin's email field reads an address in its normal form
    (``beian.normalforms.emails``), as the API and the pages do: a full-width
    ``ｏｗｎｅｒ@example.cn`` is ``owner@example.cn``; an address that is none is refused, on
    the field, with the services' message."""

    default_validators = []

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return text
        return normalize_email(text)


class _AccountChecks:
    """What the account services check, on the admin's account forms, each on its field."""

    def _use_normal_email(self) -> None:
        field = self.fields.get("email")
        if field is not None:
            self.fields["email"] = _NormalEmailField(
                label=field.label, required=field.required, help_text=field.help_text
            )

    def _check_account(self, data: dict, *, creating: bool) -> None:
        names = [n for n in ("username", "email", "mobile") if n in self.fields]
        if names:
            try:
                cleaned = identity_check(
                    **{
                        n: data.get(n) if n in names else None
                        for n in ("username", "email", "mobile")
                    },
                    exclude=None if creating else self.instance,
                    staff=self.instance.role != User.Role.OWNER if not creating else True,
                )
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    if name in names:
                        self.add_error(name, messages)
            else:
                data.update(cleaned)
        if "role" not in self.fields:
            return
        role, province = data.get("role"), data.get("province")
        if creating and role and role not in ADMIN_CREATED_ROLES:
            self.add_error(
                "role",
                _(
                    "Create bureau staff and ministry administrators here. Owners register "
                    "themselves; provider staff are added from their access provider's page."
                ),
            )
        if role == User.Role.BUREAU and not province and "province" in self.fields:
            self.add_error("province", _("Bureau staff act for one province: choose it."))
        if role and role != User.Role.BUREAU and province and "province" in self.fields:
            self.add_error("province", _("Only bureau staff have a province; leave it empty."))


class AccountCreationForm(_AccountChecks, AdminUserCreationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff sign in with a password: there is no account without one to create here.
        self.fields.pop("usable_password", None)
        self._use_normal_email()

    def clean(self):
        data = super().clean()
        self._check_account(data, creating=True)
        return data


class AccountChangeForm(_AccountChecks, UserChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._use_normal_email()

    def clean(self):
        data = super().clean()
        self._check_account(data, creating=False)
        return data


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = AccountCreationForm
    form = AccountChangeForm
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

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new staff account is made by the account service (its second-factor device, its
        # admin rights for the ministry), as createstaff makes it.
        data = form.cleaned_data
        user, _device = staff_create(
            username=data["username"],
            role=data["role"],
            email=data["email"],
            mobile=data["mobile"],
            password=data["password1"],
            province=data.get("province"),
        )
        obj.pk = user.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)


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
