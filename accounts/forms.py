"""Browser forms. They check the shape of the input; the rules live in ``accounts.services``."""

from __future__ import annotations

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .validators import code_normal_form


class ServiceErrorsMixin:
    """Put a service's ``ValidationError`` beside the fields it names."""

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)


class CodeField(forms.CharField):
    """A 6-digit code, checked in its normal form (``code_normal_form``): full-width digits
    and invisible characters pasted or typed with it do not count."""

    def to_python(self, value):
        return super().to_python(code_normal_form(value) if isinstance(value, str) else value)


def _code_field(label) -> forms.CharField:
    return CodeField(
        label=label,
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
        ),
        error_messages={
            "required": _("Enter the 6-digit code."),
            "min_length": _("The code has 6 digits."),
            "max_length": _("The code has 6 digits."),
        },
    )


class PortalCaptchaInput(CaptchaTextInput):
    """The picture with a translated description, and a Bootstrap text input."""

    template_name = "accounts/widgets/captcha.html"


def _captcha_field() -> CaptchaField:
    return CaptchaField(
        widget=PortalCaptchaInput(attrs={"class": "form-control captcha-input"}),
        label=_("Characters in the picture"),
        error_messages={
            "invalid": _("The characters do not match the picture. Type those of the new picture."),
            "required": _("Type the characters in the picture."),
        },
    )


class PortalForm(ServiceErrorsMixin, forms.Form):
    """Bootstrap inputs; a field with an error points at its message for screen readers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-control")
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_hint"

    def add_error(self, field, error):
        super().add_error(field, error)
        names = [field] if field else []
        if hasattr(error, "error_dict"):
            names = list(error.error_dict)
        for name in names:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                hint = f" id_{name}_hint" if self.fields[name].help_text else ""
                attrs["aria-describedby"] = f"id_{name}_error{hint}"


class RegisterForm(PortalForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=32,
        help_text=_(
            "4 to 32 letters, digits, underscores, dots or hyphens, starting with a letter."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
        error_messages={"required": _("Enter a username.")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 8 characters; not only digits, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter a password.")},
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter the password again.")},
    )
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We send a code to it. It may take a while to arrive."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your email address.")},
    )
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=24,
        help_text=_("A mainland China mobile number; we send a code to it by SMS."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("Enter your mobile number.")},
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords do not match."))
        return data


class LoginForm(PortalForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": _("Enter your username.")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )
    captcha = _captcha_field()


class VerifyForm(PortalForm):
    sms_code = _code_field(_("Code sent to your mobile"))
    email_code = _code_field(_("Code sent to your email"))

    def __init__(self, *args, need_sms: bool = True, need_email: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not need_sms:
            del self.fields["sms_code"]
        if not need_email:
            del self.fields["email_code"]


class NewEmailForm(PortalForm):
    new_email = forms.CharField(
        label=_("New email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter the email address to use instead.")},
    )


class SetPasswordForm(PortalForm):
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 8 characters; not only digits, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter a new password.")},
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter the new password again.")},
    )

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


class ChangePasswordForm(SetPasswordForm):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your current password.")},
    )
    field_order = ["old_password", "new_password1", "new_password2"]


class ForgotPasswordForm(PortalForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        error_messages={"required": _("Enter your username.")},
    )
    captcha = _captcha_field()


class ResetPasswordForm(SetPasswordForm):
    sms_code = _code_field(_("Code sent to your mobile"))
    email_code = _code_field(_("Code sent to your email"))
    field_order = ["sms_code", "email_code", "new_password1", "new_password2"]


class ContactChangeForm(PortalForm):
    value = forms.CharField(max_length=254)

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["value"]
        if channel == "sms":
            field.label = _("New mobile number")
            field.error_messages["required"] = _("Enter the new mobile number.")
            field.widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        else:
            field.label = _("New email address")
            field.error_messages["required"] = _("Enter the new email address.")
            field.widget.attrs.update({"autocomplete": "email"})


class CodeForm(PortalForm):
    code = _code_field(_("Code"))


class OtpForm(PortalForm):
    otp_token = _code_field(_("6-digit code from your authenticator app"))


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
