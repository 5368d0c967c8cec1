from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditLog, CalendarDay, Message, Province


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "abbr", "bureau_name", "bureau_phone", "bureau_email"]
    list_editable = ["bureau_phone", "bureau_email"]
    readonly_fields = ["code", "abbr"]
    search_fields = ["code", "name", "name_en"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name", "source"]
    list_filter = ["is_workday", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.Source.MANUAL
        super().save_model(request, obj, form, change)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "subject", "template", "status", "attempts"]
    list_filter = ["channel", "status", "template"]
    search_fields = ["to", "subject"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id", "province"]
    list_filter = ["action", "target_type", "province"]
    search_fields = ["target_id", "actor__username", "note"]
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The authenticator-app and backup-code devices (django-otp): the same admin pages, with the
# fieldset and column names translatable (the library gives them as plain English).
def _translated_fieldsets(fieldsets):
    return [(gettext_lazy(name) if name else name, options) for name, options in fieldsets]


class TranslatedTOTPDeviceAdmin(TOTPDeviceAdmin):
    def get_fieldsets(self, request, obj=None):
        return _translated_fieldsets(super().get_fieldsets(request, obj))

    @admin.display(description=gettext_lazy("QR Code"))
    def qrcode_link(self, device):
        href = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
        return format_html('<a href="{}">{}</a>', href, gettext_lazy("QR Code"))


class TranslatedStaticDeviceAdmin(StaticDeviceAdmin):
    fieldsets = _translated_fieldsets(StaticDeviceAdmin.fieldsets)


for _model, _admin_class in (
    (TOTPDevice, TranslatedTOTPDeviceAdmin),
    (StaticDevice, TranslatedStaticDeviceAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
