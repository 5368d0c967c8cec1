from django import forms
from django.utils.translation import gettext_lazy as _

from beian.normalforms.domains import domain_for_lookup

from . import format as cert_format


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("Certificate file (bazs.cert)"), required=False)
    text = forms.CharField(
        label=_("Or paste the certificate text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "form-control font-monospace"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["class"] = "form-control"

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        text = cleaned.get("text") or ""
        if upload is not None:
            if upload.size > cert_format.MAX_FILE_BYTES:
                self.add_error(
                    "file", _("The file is larger than any certificate: choose bazs.cert.")
                )
                return cleaned
            cleaned["data"] = upload.read()
        elif text.strip():
            cleaned["data"] = text.encode("utf-8")
        else:
            self.add_error(
                "file", _("Choose the bazs.cert file, or paste its text into the box below.")
            )
        return cleaned


class DomainCheckForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        help_text=_("For example example.cn; we fetch http://{domain}/cert/bazs.cert."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def clean_domain(self):
        domain = domain_for_lookup(self.cleaned_data["domain"])
        if domain is None or "." not in domain:
            raise forms.ValidationError(
                _("Enter a domain name such as example.cn, without http:// or a path.")
            )
        return domain
