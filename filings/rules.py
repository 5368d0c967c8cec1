"""What the owner (or the access provider filing for them) may do to a filing in each status.

One table, read by the task list (``selectors.allowed_actions``) and by the services that
enforce it (``services.filing_save_data``, ``filing_submit``, ``filing_apply_revocation``,
``filing_withdraw``, ``document_upload``). SPEC §3 (the life of a filing), §12 (withdrawing),
Q9 (annual review), Q21 (revocation).
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import PermissionDenied

from .models import Filing

Status = Filing.Status

START = "start"  # no filing yet
EDIT = "edit"  # save changes to a filing not yet approved, or under review
AMEND = "amend"  # save changes to an approved filing (submitted as an amendment)
SUBMIT = "submit"
DISCARD = "discard"  # forget the saved, unsubmitted changes
REVOKE = "revoke"  # apply for revocation (Q21)
WITHDRAW = "withdraw"  # withdraw the open application before its decision (§12)
REAPPLY = "reapply"  # correct a returned new access on its own page and apply again (§12)
RESEND_CODE = "resend_code"  # a new SMS code for the responsible person (§12)
CERTIFICATE = "certificate"  # download bazs.cert
ANNUAL_REVIEW = "annual_review"  # the annual review page (Q9)


class Allowed(NamedTuple):
    action: str
    # Only with saved, unsubmitted changes: submitting again (or an amendment) needs a change.
    needs_changes: bool = False
    # Only for a record approved before (``Filing.is_filed``): its certificate and annual
    # review stay while an application passes the stages before the bureau.
    needs_filed: bool = False
    # Only while the open application is of one of these kinds (any when empty).
    kinds: tuple[str, ...] = ()


# An application on its way (SPEC §12): the owner may change it (submitting again sends it
# through the stages afresh) or withdraw it; a filed record keeps its certificate meanwhile.
_ON_ITS_WAY = (
    Allowed(EDIT),
    Allowed(SUBMIT, needs_changes=True),
    Allowed(DISCARD, needs_changes=True),
    Allowed(WITHDRAW),
    Allowed(CERTIFICATE, needs_filed=True),
    Allowed(ANNUAL_REVIEW, needs_filed=True),
)


# Status → the owner's actions, in the order the task list offers them.
OWNER_ACTIONS: dict[str, tuple[Allowed, ...]] = {
    Status.DRAFT: (Allowed(EDIT), Allowed(SUBMIT)),
    Status.REJECTED: (Allowed(EDIT), Allowed(SUBMIT)),
    Status.PENDING_REVIEW: (
        Allowed(EDIT),
        Allowed(SUBMIT, needs_changes=True),
        Allowed(DISCARD, needs_changes=True),
        Allowed(WITHDRAW),
    ),
    Status.PROVIDER_REVIEW: _ON_ITS_WAY,
    Status.VERIFICATION: (*_ON_ITS_WAY, Allowed(RESEND_CODE)),
    # Returned with reasons: fix and submit again (unchanged too, after a lapsed code); a
    # returned new access is corrected on its own page, not in the wizard.
    Status.RETURNED: (
        Allowed(REAPPLY, kinds=("new_access",)),
        Allowed(EDIT),
        Allowed(SUBMIT),
        Allowed(DISCARD, needs_changes=True),
        Allowed(WITHDRAW),
        Allowed(CERTIFICATE, needs_filed=True),
        Allowed(ANNUAL_REVIEW, needs_filed=True),
    ),
    Status.AMENDMENT_PENDING: (
        Allowed(EDIT),
        Allowed(SUBMIT, needs_changes=True),
        Allowed(DISCARD, needs_changes=True),
        Allowed(WITHDRAW),
        Allowed(CERTIFICATE),
        Allowed(ANNUAL_REVIEW),
    ),
    Status.APPROVED: (
        Allowed(AMEND),
        Allowed(SUBMIT, needs_changes=True),
        Allowed(DISCARD, needs_changes=True),
        Allowed(REVOKE),
        Allowed(CERTIFICATE),
        Allowed(ANNUAL_REVIEW),
    ),
    Status.REVOCATION_PENDING: (
        Allowed(WITHDRAW),
        Allowed(CERTIFICATE),
        # The page says that only an approved filing takes part (ANNUAL_REVIEW_STATUSES).
        Allowed(ANNUAL_REVIEW),
    ),
    Status.REVOKED: (),
}

# Statuses whose owner confirms the record every year (Q9): approved, and approved with an
# amendment on its way (a filed record, ``Filing.filed_q``). An application for revocation
# ends it.
ANNUAL_REVIEW_STATUSES: tuple[str, ...] = (
    Status.APPROVED,
    Status.AMENDMENT_PENDING,
    Status.PROVIDER_REVIEW,
    Status.VERIFICATION,
    Status.RETURNED,
)


# While an application changing one part of the record is open (a new access, an access or a
# website cancelled: ``filings.changes``), the owner's edits wait for it: its data is not the
# wizard's to change (SPEC §12, one application at a time).
CHANGE_KINDS = ("new_access", "cancel_access", "cancel_website")
WAITING_FOR_A_CHANGE = (EDIT, AMEND, SUBMIT, DISCARD)


def owner_actions(
    status: str | None, *, has_changes: bool, filed: bool = False, kind: str | None = None
) -> list[str]:
    """The action names (``EDIT``, ``SUBMIT`` …) the owner has in ``status`` (``None``: no
    filing yet, only ``START``), given whether saved, unsubmitted changes exist, whether
    the record was approved before (``Filing.is_filed``) and the kind of its open application
    (``kind``; none of the edits while one of ``CHANGE_KINDS`` is open, ``REAPPLY`` for a
    returned new access instead)."""
    if status is None:
        return [START]
    return [
        allowed.action
        for allowed in OWNER_ACTIONS.get(status, ())
        if (has_changes or not allowed.needs_changes)
        and (filed or not allowed.needs_filed)
        and (not allowed.kinds or kind in allowed.kinds)
        and not (kind in CHANGE_KINDS and allowed.action in WAITING_FOR_A_CHANGE)
    ]


def statuses_allowing(*actions: str, needs_changes: bool | None = None) -> tuple[str, ...]:
    """The statuses in which any of ``actions`` is allowed, in the order of ``OWNER_ACTIONS``;
    with ``needs_changes`` True (False), only those where it needs (does not need) saved
    changes."""
    return tuple(
        status
        for status, allowed in OWNER_ACTIONS.items()
        if any(
            a.action in actions and (needs_changes is None or a.needs_changes == needs_changes)
            for a in allowed
        )
    )


def check_actor(filing: Filing, by) -> None:
    """Raise ``PermissionDenied`` unless ``by`` is the owner of ``filing``, or active staff
    of the access provider that files for the owner (SPEC §6)."""
    if by is None or not by.is_active:
        raise PermissionDenied
    if by.pk == filing.owner_id and by.role == by.Role.OWNER:
        return
    if (
        by.role == by.Role.PROVIDER
        and by.provider_id is not None
        and by.provider_id == filing.filed_by_provider_id
    ):
        return
    raise PermissionDenied
