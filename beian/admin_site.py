from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class MinistryAdminSite(OTPAdminSite):
    """The Django admin belongs to the ministry administrator, signed in with a second factor."""

    site_header = _("ICP Filing System — ministry administration")
    site_title = _("ICP Filing System")
    index_title = _("Administration")

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            super().has_permission(request)
            and getattr(user, "role", None) == "ministry"
            and user.is_superuser
        )
