"""Translations for the admin pages of the libraries whose own strings are not translatable.

django-otp gives its models, fields and admin fieldsets plain English strings, and apps
without a ``verbose_name`` show their label ("Otp_Totp"). ``translate_library_models`` wraps
those strings in ``gettext_lazy`` once the apps are loaded, so that the Simplified Chinese of
``locale/zh_Hans`` applies; the English text is the message id, unchanged, so migrations see
no change (they are compared with translation deactivated).
"""

from __future__ import annotations

from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

# App label → its name on the admin index.
APP_NAMES = {
    "axes": gettext_lazy("Sign-in lockout"),
    "otp_totp": gettext_lazy("Authenticator apps (TOTP)"),
    "otp_static": gettext_lazy("Backup codes"),
}
# Apps whose models' and fields' plain strings become translatable.
LIBRARY_APPS = ("otp_totp", "otp_static")


def _lazy(value):
    """``value`` as a lazily translated message id; a lazy value that is no translation (the
    plural Django makes by adding "s") becomes its English text first."""
    if isinstance(value, Promise):
        with translation.override(None):
            value = str(value)
    # An empty string stays one: the message id "" is the catalog's header.
    return gettext_lazy(value) if isinstance(value, str) and value else value


def translate_library_models() -> None:
    """Make the named apps' names, model names and field labels and help texts translatable."""
    for label, name in APP_NAMES.items():
        try:
            apps.get_app_config(label).verbose_name = name
        except LookupError:
            continue
    for label in LIBRARY_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            meta = model._meta
            meta.verbose_name_plural = _lazy(meta.verbose_name_plural)
            meta.verbose_name = _lazy(meta.verbose_name)
            for field in meta.get_fields():
                if not getattr(field, "concrete", False) or field.auto_created:
                    continue
                field.verbose_name = _lazy(field.verbose_name)
                field.help_text = _lazy(field.help_text)
