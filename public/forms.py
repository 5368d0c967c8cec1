from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .selectors import MAX_QUERY_LENGTH, QueryInvalid, parse_query


class QueryForm(forms.Form):
    q = forms.CharField(
        label=_("Domain, filing number or name"),
        help_text=_(
            "For example example.cn, 京ICP备2026000001号, 京ICP备2026000001号-1, or part of the "
            "sponsor's or website's name."
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
