from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PortalCaptchaInput


class ForgotUsernameForm(forms.Form):
    number = forms.CharField(
        label=_("Filing number"),
        max_length=48,
        help_text=_(
            "The sponsor's filing number, like 京ICP备2026000001号, or a website's, like "
            "京ICP备2026000001号-1. Find it with the public query."
        ),
        error_messages={"required": _("Enter the filing number.")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    captcha = CaptchaField(
        label=_("Characters in the picture"),
        widget=PortalCaptchaInput(attrs={"class": "form-control captcha-input"}),
        error_messages={
            "invalid": _("The characters do not match the picture. Type those of the new picture."),
            "required": _("Type the characters in the picture."),
        },
    )
