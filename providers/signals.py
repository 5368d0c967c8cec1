"""Revocation signals for remembered console tokens (``providers.gating_lane``): a token
saved (revoked) or deleted, or an account or provider changed in any way, makes the tokens
concerned forgotten when the change commits, so their next gating call authenticates against
the database."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from accounts.models import AccessProvider, User

from .gating_lane import forget_tokens
from .models import ApiToken


def _forget_on_commit(key_hashes: list[str]) -> None:
    """Forget now, and again when the change commits: a call answered in between by the
    ordinary path (which still reads the old rows) may have remembered the token again."""
    if key_hashes:
        forget_tokens(key_hashes)
        transaction.on_commit(lambda: forget_tokens(key_hashes))


def token_changed(sender, instance: ApiToken, **kwargs) -> None:
    _forget_on_commit([instance.key_hash])


def account_changed(sender, instance: User, **kwargs) -> None:
    if instance.pk is None or instance.role != User.Role.PROVIDER:
        return
    _forget_on_commit(
        list(ApiToken.objects.filter(user=instance).values_list("key_hash", flat=True))
    )


def provider_changed(sender, instance: AccessProvider, **kwargs) -> None:
    if instance.pk is None:
        return
    _forget_on_commit(
        list(ApiToken.objects.filter(user__provider=instance).values_list("key_hash", flat=True))
    )


def connect() -> None:
    post_save.connect(token_changed, sender=ApiToken, dispatch_uid="providers.token_saved")
    post_delete.connect(token_changed, sender=ApiToken, dispatch_uid="providers.token_deleted")
    post_save.connect(account_changed, sender=User, dispatch_uid="providers.account_saved")
    # Deleting an account or a provider deletes (cascades) or detaches its tokens' owner:
    # the tokens are read before the rows go.
    pre_delete.connect(account_changed, sender=User, dispatch_uid="providers.account_deleted")
    post_save.connect(provider_changed, sender=AccessProvider, dispatch_uid="providers.saved")
    pre_delete.connect(provider_changed, sender=AccessProvider, dispatch_uid="providers.deleted")
