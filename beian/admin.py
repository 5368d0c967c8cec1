import hashlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditLog, CalendarDay, Message, Province, TopLevelDomain
from .normalforms.domains import normalize_domain
from .workdays import calendar_year_replace, plan_calendar_year


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


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    text = forms.CharField(
        label=gettext_lazy("Holidays and adjusted working days"),
        widget=forms.Textarea(attrs={"rows": 18, "cols": 60}),
        max_length=20000,
        help_text=gettext_lazy(
            "One line each: the date (or a range of holidays, 2027-02-10~2027-02-16), then 休 "
            "for a holiday or 班 for an adjusted working day, then the holiday's name. "
            "Holidays on a weekend may be listed; they need no row."
        ),
    )

    def plan(self):
        """The checked plan, with every problem added to the text field (None if invalid)."""
        if not self.is_valid():
            return None
        self.digest = _plan_digest(self.cleaned_data)
        plan = plan_calendar_year(year=self.cleaned_data["year"], text=self.cleaned_data["text"])
        for line, message in plan.problems:
            self.add_error(
                "text", _("Line %(line)s: %(message)s") % {"line": line, "message": message}
            )
        return plan


def _plan_digest(data: dict) -> str:
    return hashlib.sha256(f"{data['year']}\n{data['text']}".encode()).hexdigest()


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name", "source"]
    list_filter = ["is_workday", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]
    fields = ["date", "is_workday", "name", "stored_source"]
    readonly_fields = ["stored_source"]
    change_list_template = "admin/beian/calendarday/change_list.html"

    @admin.display(description=gettext_lazy("source"))
    def stored_source(self, obj):
        # A day saved here is the ministry's, whatever it was before: show what is stored.
        return CalendarDay.Source.MANUAL.label

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.Source.MANUAL
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "paste-year/",
                self.admin_site.admin_view(self.paste_year_view),
                name="beian_calendarday_paste_year",
            ),
            *super().get_urls(),
        ]

    def paste_year_view(self, request):
        """Paste a year's list, check it, preview what changes, then save it."""
        if not self.has_add_permission(request) or not self.has_delete_permission(request):
            raise PermissionDenied
        form = CalendarYearForm(request.POST or None)
        plan = form.plan() if request.method == "POST" else None
        digest = getattr(form, "digest", "")
        # Saved only as previewed: a list edited after its preview is shown again first.
        if (
            plan is not None
            and not plan.problems
            and request.POST.get("confirm")
            and request.POST.get("previewed") == digest
        ):
            stored = calendar_year_replace(plan=plan, by=request.user)
            messages.success(
                request,
                _("The calendar of %(year)s now holds the %(count)s days of the list.")
                % {"year": plan.year, "count": stored},
            )
            return redirect("admin:beian_calendarday_changelist")
        preview = None
        if plan is not None and not plan.problems:
            stored = {d.date: d for d in CalendarDay.objects.filter(date__year=plan.year)}
            preview = [(d, plan.status_of(d, stored)) for d in plan.days]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Paste a year of holidays and adjusted working days"),
            "form": form,
            "plan": plan if plan is not None and not plan.problems else None,
            "preview": preview,
            "digest": digest,
            "opts": self.model._meta,
        }
        return render(request, "admin/beian/calendarday/paste_year.html", context)


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


class TopLevelDomainForm(forms.ModelForm):
    class Meta:
        model = TopLevelDomain
        fields = ["name", "source", "listed_on"]

    def clean_name(self) -> str:
        try:
            name = normalize_domain(self.cleaned_data["name"].lstrip(".").lstrip("。"))
        except ValueError:
            raise forms.ValidationError(
                gettext_lazy("Enter a top-level domain such as cn, com or 中国, without the dot.")
            ) from None
        if "." in name:
            raise forms.ValidationError(
                gettext_lazy("A top-level domain is one label, such as cn or 中国, without dots.")
            )
        return name


@admin.register(TopLevelDomain)
class TopLevelDomainAdmin(admin.ModelAdmin):
    form = TopLevelDomainForm
    list_display = ["name", "shown", "source", "listed_on"]
    search_fields = ["name"]

    @admin.display(description=gettext_lazy("as people read it"))
    def shown(self, obj) -> str:
        return str(obj)
