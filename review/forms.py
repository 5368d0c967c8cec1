"""Forms of the review console: the queue filters and the reason of a decision."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beian.models import Province
from filings.models import Filing

from .scope import is_ministry
from .selectors import QueueFilters

KIND_CHOICES = [
    ("", _("all kinds")),
    ("new", _("new filing")),
    ("amendment", _("amendment")),
    ("revocation", _("revocation")),
    # The changes of one access or one website (SPEC §12), at the bureau as amendments.
    ("new_access", pgettext_lazy("application kind", "new access")),
    ("cancel_access", pgettext_lazy("application kind", "access cancellation")),
    ("cancel_website", pgettext_lazy("application kind", "website cancellation")),
]


# In the queue's filter a new filing's status is told apart from "everything waiting", which
# reads the same ("待审核") in Chinese when both are called "pending".
_QUEUE_LABELS = {Filing.Status.PENDING_REVIEW: _("new filing pending review")}


def status_choices():
    return [
        ("open", _("all waiting for a decision (new, amendment, revocation)")),
        ("all", _("any status")),
        *[
            (s.value, _QUEUE_LABELS.get(s, s.label))
            for s in Filing.Status
            if s != Filing.Status.DRAFT
        ],
    ]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=253,
        help_text=_("Filing or website number, domain, account name, sponsor full name or id"),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=status_choices, required=False)
    province = forms.ChoiceField(label=_("Province"), required=False)
    conflicts = forms.BooleanField(label=_("with conflicts"), required=False)
    preapproval = forms.BooleanField(label=_("with pre-approval"), required=False)
    overdue = forms.BooleanField(label=_("overdue"), required=False)
    due_soon = forms.BooleanField(label=_("due within 5 working days"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if is_ministry(user):
            self.fields["province"].choices = [("", _("all provinces"))] + [
                (p.code, p.display_name) for p in Province.objects.order_by("code")
            ]
        else:
            del self.fields["province"]

    def filters(self) -> QueueFilters:
        """The filters to apply; a value that did not validate is simply left out."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return QueueFilters(
            q=data.get("q", ""),
            kind=data.get("kind", ""),
            status=data.get("status") or "open",
            province=data.get("province", ""),
            conflicts=bool(data.get("conflicts")),
            preapproval=bool(data.get("preapproval")),
            overdue=bool(data.get("overdue")),
            due_soon=bool(data.get("due_soon")),
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=2000,
        error_messages={"required": _("Enter the reason. The owner receives it by email.")},
    )


class RejectForm(ReasonForm):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=2000,
        error_messages={"required": _("Enter the reason. The owner receives it by email.")},
    )


class RefuseForm(ReasonForm):
    reason = forms.CharField(
        label=_("Reason for refusing the application"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Enter the reason. The owner receives it by email.")},
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Note to the owner (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )


class RevokeForm(ReasonForm):
    reason = forms.CharField(
        label=_("Reason for the revocation"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": _("Enter the reason. The owner receives it by email.")},
    )
    # The filing whose conflict led here: the reviewer returns to it to re-check.
    return_to = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Set by the confirmation page: revoking cannot be undone, so it is asked for twice.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
