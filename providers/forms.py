from django import forms
from django.utils.translation import gettext_lazy as _

from filings.models import Filing

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ClientFilter(forms.Form):
    q = forms.CharField(label=_("Username, number, sponsor or domain"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any"))] + Filing.Status.choices
    )
    conflicts = forms.ChoiceField(
        label=_("Conflicts"),
        required=False,
        choices=[("", _("any")), ("yes", _("with open conflicts")), ("no", _("none"))],
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("The columns of the template; UTF-8 or GB18030; one client a row."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 20 MB. Split it into several files.")
            )
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(
                _("Upload a .csv file: in a spreadsheet program, save as “CSV (UTF-8)”.")
            )
        return upload


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=64,
        help_text=_("Say where it is used, like “gating server” or “billing system”."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class WebhookForm(forms.Form):
    webhook_url = forms.CharField(
        label=_("Webhook URL"),
        required=False,
        max_length=200,
        help_text=_(
            "We POST a signed JSON body here when a filing under you is approved, "
            "amended or revoked. Leave empty for email only."
        ),
        widget=forms.URLInput(attrs={"class": "form-control", "placeholder": "https://"}),
    )
    new_secret = forms.BooleanField(
        label=_("Generate a new signing secret"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input ms-2"}),
    )


PAGE_SIZE = 50
