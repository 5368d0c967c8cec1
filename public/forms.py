from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import PortalForm

from .selectors import MAX_QUERY_LENGTH, QueryInvalid, parse_query


class QueryForm(forms.Form):
    q = forms.CharField(
        label=_("Domain, filing number or name"),
        help_text=_(
            "For example example.cn, 京ICP备2026000001号, 京ICP备2026000001号-1 (an app's "
            "number ends in A, a mini-program's in X), com.example.app, wx0123456789abcdef, "
            "or part of the sponsor's or service's name."
        ),
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "required": _(
                "Enter a domain, a filing number, or part of the sponsor's or website's name."
            ),
            "max_length": _("Enter at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def clean_q(self) -> str:
        try:
            self.cleaned_data["parsed"] = parse_query(self.cleaned_data["q"])
        except QueryInvalid as exc:
            raise ValidationError(exc.message, code="invalid") from exc
        return self.cleaned_data["q"]

    def _post_clean(self) -> None:
        super()._post_clean()
        # A field in error points at its message for screen readers.
        for name, field in self.fields.items():
            if name in self.errors:
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["aria-describedby"] = f"id_{name}_error"
                field.widget.attrs["class"] = field.widget.attrs.get("class", "") + " is-invalid"


class PublicCaptchaInput(CaptchaTextInput):
    # The portal's captcha picture, with its "show another picture" button (accounts app).
    template_name = "accounts/widgets/captcha.html"


class QueryCaptchaForm(QueryForm):
    """The same query once this address has asked many times: a person must type the picture."""

    captcha = CaptchaField(
        label=_("Characters in the picture"),
        widget=PublicCaptchaInput(attrs={"class": "form-control"}),
        error_messages={
            "invalid": _("The characters do not match the picture. Type those of the new picture."),
            "required": _("Type the characters in the picture."),
        },
    )


class VerificationForm(PortalForm):
    """The public SMS verification (短信核验, SPEC §12). Only the length is checked here; the
    values are read and matched by ``filings.stages.verification_confirm``, which puts each
    problem on its field."""

    mobile = forms.CharField(
        label=_("Mobile number of the responsible person"),
        help_text=_("The number the SMS with the code was sent to."),
        max_length=32,
        required=False,
        error_messages={"max_length": _("Enter at most %(limit_value)d characters.")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label=_("Code in the SMS"),
        help_text=_("6 digits, valid for the hours the SMS says."),
        max_length=32,
        required=False,
        error_messages={"max_length": _("Enter at most %(limit_value)d characters.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"}
        ),
    )
    id_last6 = forms.CharField(
        label=_("Last 6 characters of the certificate number"),
        help_text=_(
            "Of the responsible person's identity card or other certificate named in the "
            "filing, for example 12345X."
        ),
        max_length=32,
        required=False,
        error_messages={"max_length": _("Enter at most %(limit_value)d characters.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
