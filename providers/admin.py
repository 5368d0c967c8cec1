"""The ministry's console for access providers: organisations, their staff, deliveries."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessProvider, User
from accounts.services import identity_check, staff_create
from beian.audit import audit

from .models import ImportJob, WebhookDelivery


class StaffInline(admin.TabularInline):
    model = User
    fk_name = "provider"
    fields = ["username", "email", "mobile", "last_login", "is_active"]
    readonly_fields = ["username", "email", "mobile", "last_login"]
    extra = 0
    can_delete = False
    verbose_name = _("staff account")
    verbose_name_plural = _("staff accounts")

    def has_add_permission(self, request, obj=None) -> bool:
        # Staff are added with their own form (below), which sets the role and password.
        return False


class StaffCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=32)
    email = forms.CharField(label=_("Email"), max_length=254)
    mobile = forms.CharField(label=_("Mobile"), max_length=24)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def clean(self):
        """The account service's checks (format, and not held by another account), each
        problem on its field."""
        data = super().clean()
        names = [n for n in ("username", "email", "mobile") if n in data]
        try:
            data.update(
                identity_check(
                    **{n: data.get(n) for n in ("username", "email", "mobile")}, staff=True
                )
            )
        except ValidationError as exc:
            for name, messages_ in exc.message_dict.items():
                if name in names:
                    self.add_error(name, messages_)
        password = data.get("password")
        if password:
            try:
                validate_password(
                    password,
                    user=User(username=data.get("username", ""), email=data.get("email", "")),
                )
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


# What a change of an organisation records in the audit trail, before and after.
_AUDITED = (
    "name",
    "licence_number",
    "email",
    "phone",
    "is_active",
    "is_access_provider",
    "is_distribution_platform",
)


@admin.register(AccessProvider)
class AccessProviderAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "licence_number",
        "is_access_provider",
        "is_distribution_platform",
        "contact_name",
        "email",
        "phone",
        "is_active",
    ]
    list_filter = ["is_active", "is_access_provider", "is_distribution_platform", "provinces"]
    search_fields = ["name", "licence_number", "email"]
    filter_horizontal = ["provinces"]
    readonly_fields = ["created_at", "add_staff_link"]
    fields = [
        "name",
        "licence_number",
        "contact_name",
        "email",
        "phone",
        "is_access_provider",
        "is_distribution_platform",
        "provinces",
        "webhook_url",
        "is_active",
        "created_at",
        "add_staff_link",
    ]
    inlines = [StaffInline]

    @admin.display(description=_("staff"))
    def add_staff_link(self, obj):
        if not obj or not obj.pk:
            return "—"
        url = reverse("admin:providers_accessprovider_add_staff", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Add a staff account"))

    def get_urls(self):
        return [
            path(
                "<int:provider_id>/add-staff/",
                self.admin_site.admin_view(self.add_staff_view),
                name="providers_accessprovider_add_staff",
            ),
            *super().get_urls(),
        ]

    def add_staff_view(self, request, provider_id: int):
        provider = get_object_or_404(AccessProvider, pk=provider_id)
        form = StaffCreateForm(request.POST or None)
        user = None
        if request.method == "POST" and form.is_valid():
            try:
                user, _device = staff_create(
                    role=User.Role.PROVIDER, provider=provider, **form.cleaned_data
                )
            except ValidationError as exc:
                # Taken between the form's check and the insert: shown on the field as well.
                for name, messages_ in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, messages_)
        if user is not None:
            audit(
                actor=request.user,
                action="provider.staff_create",
                target=user,
                after={"provider": provider.pk, "username": user.username},
            )
            messages.success(
                request, _("Staff account %(username)s created.") % {"username": user.username}
            )
            return redirect("admin:accounts_accessprovider_change", provider.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add a staff account to %(provider)s") % {"provider": provider.name},
            "form": form,
            "provider": provider,
            "opts": self.model._meta,
        }
        return render(request, "providers/admin_add_staff.html", context)

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            before = dict(AccessProvider.objects.filter(pk=obj.pk).values(*_AUDITED).first() or {})
        super().save_model(request, obj, form, change)
        audit(
            actor=request.user,
            action="provider.change" if change else "provider.create",
            target=obj,
            before=before,
            after={name: getattr(obj, name) for name in _AUDITED},
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "provider", "event", "status", "attempts", "response_status"]
    list_filter = ["status", "event"]
    search_fields = ["provider__name", "url"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields if f.name != "body"]
    exclude = ["body"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "provider",
        "filename",
        "status",
        "total_rows",
        "created_count",
        "error_count",
    ]
    list_filter = ["status"]
    search_fields = ["provider__name", "filename"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
