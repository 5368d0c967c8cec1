from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BeianConfig(AppConfig):
    default = True
    name = "beian"
    verbose_name = _("System")

    def ready(self) -> None:
        from .third_party_i18n import translate_library_models

        translate_library_models()


class MinistryAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "beian.admin_site.MinistryAdminSite"
