from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Announcement, AnnualReview, AnnualReviewWindow


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["title", "publish_at", "pinned", "created_by"]
    list_filter = ["pinned"]
    list_editable = ["pinned"]
    search_fields = ["title", "body"]
    date_hierarchy = "publish_at"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AnnualReviewWindow)
class AnnualReviewWindowAdmin(admin.ModelAdmin):
    list_display = ["year", "starts_on", "ends_on"]

    def get_fieldsets(self, request, obj=None):
        # Shown on the form, so the ministry knows what a year without a row falls back to.
        description = _(
            "Years without a window of their own use the default window, %(start)s to %(end)s "
            "(month-day)."
        ) % {"start": settings.ANNUAL_REVIEW_START, "end": settings.ANNUAL_REVIEW_END}
        return [(None, {"fields": ["year", "starts_on", "ends_on"], "description": description})]


@admin.register(AnnualReview)
class AnnualReviewAdmin(admin.ModelAdmin):
    list_display = [
        "filing",
        "year",
        "reminded_open_at",
        "reminded_final_at",
        "confirmed_at",
        "overdue_flagged_at",
    ]
    list_filter = ["year"]
    search_fields = ["filing__number", "filing__sponsor_name"]
    list_select_related = ["filing"]
    readonly_fields = [f.name for f in AnnualReview._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
