from django import forms
from django.utils.translation import gettext_lazy as _

from beian.normalforms.text import unreadable_text_message
from filings.models import Access, Filing
from filings.stages import CHECKLIST
from filings.wizard import province_choices, provinces

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


# The first review (初审, SPEC §12) ------------------------------------------------------------

RETURN_ROWS = 5


class FirstReviewForm(forms.Form):
    """The first review's decision: the checklist and the verification record to pass it on,
    or reasons on fields of the filing (``return_fields``: path and label) and a general
    reason to return it. The rules (what passing needs, which paths exist) are
    ``filings.stages.provider_decide``'s; this form only gathers what was typed."""

    checklist = forms.MultipleChoiceField(
        label=_("What you checked"),
        required=False,
        choices=[(code, label) for code, label in CHECKLIST],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    record = forms.FileField(
        label=_("Verification record (核验单)"),
        required=False,
        help_text=_("PDF, JPEG or PNG, signed by the responsible person."),
    )
    reason = forms.CharField(
        label=_("General reason for returning it"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, return_fields: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— choose a field —")), *return_fields]
        self.return_rows = []
        for i in range(RETURN_ROWS):
            self.fields[f"return_{i}_field"] = forms.ChoiceField(
                label=_("Field %(number)d") % {"number": i + 1}, required=False, choices=choices
            )
            self.fields[f"return_{i}_reason"] = forms.CharField(
                label=_("What is wrong with it"), required=False, max_length=500
            )
            self.return_rows.append((self[f"return_{i}_field"], self[f"return_{i}_reason"]))

    def returns(self) -> tuple[list[dict[str, str]], dict[int, int]]:
        """The filled rows as ``[{field, reason}]`` for the service, and which form row each
        of them came from (so that its errors go back beside it)."""
        returns, rows = [], {}
        for i in range(RETURN_ROWS):
            path = self.cleaned_data.get(f"return_{i}_field") or ""
            why = self.cleaned_data.get(f"return_{i}_reason") or ""
            if path or why:
                rows[len(returns)] = i
                returns.append({"field": path, "reason": why})
        return returns, rows

    def add_service_errors(self, errors: dict[str, list[str]], rows: dict[int, int]) -> None:
        """Put the service's errors (``checklist``, ``record``, ``reason``,
        ``returns.<n>.field``/``.reason``) on the fields they concern."""
        for key, messages in errors.items():
            parts = key.split(".")
            if parts[0] == "returns" and len(parts) == 3 and parts[1].isdigit():
                name = f"return_{rows.get(int(parts[1]), 0)}_{parts[2]}"
            elif key in self.fields:
                name = key
            else:
                name = None
            self.add_error(name, list(messages))


# Accesses (接入, SPEC §12) ---------------------------------------------------------------------

WEBSITE_NUMBER_HINT = _("As the public query shows it, for example 京ICP备2026000001号-1.")


class AccessApplyForm(forms.Form):
    """A new access of the staff's own provider to an approved website (新增接入). Only what
    was typed is gathered here; the rules are ``filings.changes.access_apply``'s."""

    website_number = forms.CharField(
        label=_("Website number"),
        max_length=64,
        help_text=WEBSITE_NUMBER_HINT,
        error_messages={"required": _("Enter the number of the website you are to serve.")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(
        label=_("Access method"),
        choices=Access.Method.choices,
        initial=Access.Method.CLOUD,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    server_location = forms.ChoiceField(
        label=_("Server location"),
        required=False,
        help_text=_("Servers outside mainland China: choose “other”."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    ips = forms.CharField(
        label=_("IP addresses"),
        required=False,
        max_length=2000,
        help_text=_("One per line: the public IPv4 or IPv6 addresses of the server with you."),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["server_location"].choices = [
            ("", _("Choose…")),
            *province_choices(provinces()),
            (Access.OTHER_LOCATION, _("Other (outside mainland China)")),
        ]


class ReasonField(forms.CharField):
    """A reason typed on a page: text a record can hold, a control character or a lone
    surrogate being the field's own error, in the words every entrance uses
    (``unreadable_text_message``), before the other checks."""

    def to_python(self, value):
        if isinstance(value, str) and (message := unreadable_text_message(value)):
            raise forms.ValidationError(message, code="unreadable")
        return super().to_python(value)


class AccessWithdrawForm(forms.Form):
    """The withdrawal of the staff's own access to one website (取消接入): the website number
    and the reason, both asked and checked at once, before any confirmation."""

    website_number = forms.CharField(
        label=_("Website number"),
        max_length=64,
        help_text=WEBSITE_NUMBER_HINT,
        error_messages={"required": _("Enter the number of the website you no longer serve.")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    reason = ReasonField(
        label=_("Reason"),
        max_length=1000,
        help_text=_(
            "For example: the client ended the contract, or the site is no longer reachable."
        ),
        error_messages={"required": _("Say why you no longer serve the website.")},
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )


class AccessWithdrawUploadForm(ImportUploadForm):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns 网站备案号 and 原因 (or website_number and reason); UTF-8 or GB18030; "
            "one website a row."
        ),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,text/csv"}),
    )
