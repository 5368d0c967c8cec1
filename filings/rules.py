"""What the owner (or the access provider filing for them) may do to a filing in each status.

One table, read by the task list (``selectors.allowed_actions``) and by the services that
enforce it (``services.filing_save_data``, ``filing_submit``, ``filing_apply_revocation``,
``filing_withdraw``, ``document_upload``). SPEC §3 (the life of a filing), §12 (withdrawing),
Q9 (annual review), Q21 (revocation).
"""

from __future__ import annotations

from typing import NamedTuple

from .models import Filing

Status = Filing.Status

START = "start"  # no filing yet
EDIT = "edit"  # save changes to a filing not yet approved, or under review
AMEND = "amend"  # save changes to an approved filing (submitted as an amendment)
SUBMIT = "submit"
DISCARD = "discard"  # forget the saved, unsubmitted changes
REVOKE = "revoke"  # apply for revocation (Q21)
WITHDRAW = "withdraw"  # withdraw an amendment or an application for revocation (§12)
CERTIFICATE = "certificate"  # download bazs.cert
ANNUAL_REVIEW = "annual_review"  # the annual review page (Q9)


class Allowed(NamedTuple):
    action: str
    # Only with saved, unsubmitted changes: submitting again (or an amendment) needs a change.
    needs_changes: bool = False


# Status → the owner's actions, in the order the task list offers them.
OWNER_ACTIONS: dict[str, tuple[Allowed, ...]] = {
    Status.DRAFT: (Allowed(EDIT), Allowed(SUBMIT)),
    Status.REJECTED: (Allowed(EDIT), Allowed(SUBMIT)),
    Status.PENDING_REVIEW: (
        Allowed(EDIT),
        Allowed(SUBMIT, needs_changes=True),
        Allowed(DISCARD, needs_changes=True),
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
# amendment under review. An application for revocation ends it.
ANNUAL_REVIEW_STATUSES: tuple[str, ...] = (Status.APPROVED, Status.AMENDMENT_PENDING)


def owner_actions(status: str | None, *, has_changes: bool) -> list[str]:
    """The action names (``EDIT``, ``SUBMIT`` …) the owner has in ``status`` (``None``: no
    filing yet, only ``START``), given whether saved, unsubmitted changes exist."""
    if status is None:
        return [START]
    return [
        allowed.action
        for allowed in OWNER_ACTIONS.get(status, ())
        if has_changes or not allowed.needs_changes
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
