from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditLog, CalendarDay, Message, Province, TopLevelDomain


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


class TopLevelDomainForm(forms.ModelForm):
    class Meta:
        model = TopLevelDomain
        fields = ["name", "source", "listed_on"]

    def clean_name(self) -> str:
        from .normalforms.domains import normalize_domain

        try:
            name = normalize_domain(self.cleaned_data["name"].lstrip(".").lstrip("。"))
        except ValueError:
            raise forms.ValidationError(
                _("Enter a top-level domain such as cn, com or 中国, without the dot.")
            ) from None
        if "." in name:
            raise forms.ValidationError(
                _("A top-level domain is one label, such as cn or 中国, without dots.")
            )
        return name


@admin.register(TopLevelDomain)
class TopLevelDomainAdmin(admin.ModelAdmin):
    form = TopLevelDomainForm
    list_display = ["name", "shown", "source", "listed_on"]
    search_fields = ["name"]

    @admin.display(description=_("as people read it"))
    def shown(self, obj) -> str:
        return str(obj)
