"""Revocation signals for remembered console tokens (``providers.gating_lane``): a token
revoked or deleted, an account whose activity, role or provider changes (whatever its role
becomes) or is deleted, and a provider whose activity or roles change or which is deleted make
the tokens concerned forgotten at once and again when the change commits, so their next
gating call authenticates against the database. Other saves (a sign-in's ``last_login``, a
new token) leave the remembered tokens alone."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_delete

from accounts.models import AccessProvider, User

from .gating_lane import forget_tokens
from .models import ApiToken

# The fields that decide whether an account's or a provider's token may gate.
ACCOUNT_FIELDS = ("is_active", "role", "provider_id")
PROVIDER_FIELDS = ("is_active", "is_access_provider", "is_distribution_platform")


def _forget_on_commit(key_hashes: list[str]) -> None:
    """Forget now, and again when the change commits: a call answered in between by the
    ordinary path (which still reads the old rows) may have remembered the token again."""
    if key_hashes:
        forget_tokens(key_hashes)
        transaction.on_commit(lambda: forget_tokens(key_hashes))


# A field not loaded (deferred): reading it would load it, and the loaded copy would be
# initialised in turn, so the fields are read from the instance's own values only.
_NOT_LOADED = object()


def _loaded(instance, fields) -> tuple:
    return tuple(instance.__dict__.get(f, _NOT_LOADED) for f in fields)


def _snapshot(fields):
    def remember_loaded(sender, instance, **kwargs) -> None:
        instance._gating_fields = _loaded(instance, fields)

    return remember_loaded


def _changed(instance, fields, kwargs) -> bool:
    if kwargs.get("created"):
        return False
    before = getattr(instance, "_gating_fields", None)
    now = _loaded(instance, fields)
    instance._gating_fields = now
    return before != now


def token_changed(sender, instance: ApiToken, **kwargs) -> None:
    if kwargs.get("created") and instance.revoked_at is None:
        return
    _forget_on_commit([instance.key_hash])


def account_saved(sender, instance: User, **kwargs) -> None:
    if _changed(instance, ACCOUNT_FIELDS, kwargs):
        _forget_account(instance)


def _forget_account(instance: User, **kwargs) -> None:
    if instance.pk is not None:
        _forget_on_commit(
            list(ApiToken.objects.filter(user=instance).values_list("key_hash", flat=True))
        )


def provider_saved(sender, instance: AccessProvider, **kwargs) -> None:
    if _changed(instance, PROVIDER_FIELDS, kwargs):
        _forget_provider(instance)


def _forget_provider(instance: AccessProvider, **kwargs) -> None:
    if instance.pk is not None:
        _forget_on_commit(
            list(
                ApiToken.objects.filter(user__provider=instance).values_list("key_hash", flat=True)
            )
        )


def connect() -> None:
    post_save.connect(token_changed, sender=ApiToken, dispatch_uid="providers.token_saved")
    post_delete.connect(token_changed, sender=ApiToken, dispatch_uid="providers.token_deleted")
    post_init.connect(
        _snapshot(ACCOUNT_FIELDS), sender=User, weak=False, dispatch_uid="providers.account_init"
    )
    post_save.connect(account_saved, sender=User, dispatch_uid="providers.account_saved")
    # Deleting an account or a provider deletes (cascades) or detaches its tokens' owner:
    # the tokens are read before the rows go.
    pre_delete.connect(_forget_account, sender=User, dispatch_uid="providers.account_deleted")
    post_init.connect(
        _snapshot(PROVIDER_FIELDS),
        sender=AccessProvider,
        weak=False,
        dispatch_uid="providers.provider_init",
    )
    post_save.connect(provider_saved, sender=AccessProvider, dispatch_uid="providers.saved")
    pre_delete.connect(_forget_provider, sender=AccessProvider, dispatch_uid="providers.deleted")
