"""Who may see and act on which filing: a bureau its own province, the ministry every province.

Every console page, API call, export and search of this app starts from ``filings_in_scope``
and every service checks ``ensure_in_scope``; objects outside the caller's scope answer 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import User
from filings.models import Filing


class OutOfScope(PermissionDenied):
    """The object is not the caller's to see or act on; views answer 404, never 403."""


def is_reviewer(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == User.Role.MINISTRY:
        return True
    return user.role == User.Role.BUREAU and user.province_id is not None


def is_ministry(user) -> bool:
    return is_reviewer(user) and user.role == User.Role.MINISTRY


def province_code_of(user) -> str | None:
    """The one province a bureau reviewer acts for; None for the ministry (all provinces)."""
    return None if is_ministry(user) else user.province_id


def filings_in_scope(user) -> QuerySet[Filing]:
    """Submitted filings the reviewer may see; an owner's unsubmitted draft is nobody's."""
    if not is_reviewer(user):
        return Filing.objects.none()
    submitted = Filing.objects.exclude(status=Filing.Status.DRAFT)
    if is_ministry(user):
        return submitted
    return submitted.filter(province_id=user.province_id)


def can_act_on(user, filing: Filing) -> bool:
    if not is_reviewer(user):
        return False
    return is_ministry(user) or (
        filing.province_id is not None and filing.province_id == user.province_id
    )


def ensure_in_scope(user, filing: Filing) -> None:
    if not can_act_on(user, filing):
        raise OutOfScope


def account_province_code(account: User) -> str | None:
    """An owner account belongs to the province of its filing (SPEC §2: its bureau resets it)."""
    filing = Filing.objects.filter(owner=account).only("province_id").first()
    return filing.province_id if filing else None


def ensure_account_in_scope(user, account: User) -> None:
    if not is_reviewer(user) or account.role != User.Role.OWNER:
        raise OutOfScope
    if is_ministry(user):
        return
    if account_province_code(account) != user.province_id:
        raise OutOfScope
