"""Access providers (接入服务提供商): hosting and cloud companies that file for clients."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessProvider(models.Model):
    name = models.CharField(_("name"), max_length=128, unique=True)
    licence_number = models.CharField(_("licence number"), max_length=64, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    email = models.EmailField(_("contact email"))
    phone = models.CharField(_("contact phone"), max_length=32)
    provinces = models.ManyToManyField(
        "beian.Province", verbose_name=_("provinces served"), blank=True
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=128, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("access provider")
        verbose_name_plural = _("access providers")

    def __str__(self) -> str:
        return self.name
