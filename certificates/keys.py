"""Ed25519 signing keys: creation, rotation and where the private halves come from.

A private key is looked up, in order, in the secret ``CERT_SIGNING_KEY_<KEY ID>`` (a PEM, or
``CERT_SIGNING_KEY_<KEY ID>_FILE`` naming a file holding it; the key id upper-cased with ``-``
as ``_``) and in ``<CERT_SIGNING_KEY_DIR>/<key id>.pem``. Only public keys enter the database.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import SigningKey


class SigningKeyUnavailable(Exception):
    """No key can sign: none is active, or its private half cannot be found."""


def _env_name(key_id: str) -> str:
    return "CERT_SIGNING_KEY_" + key_id.upper().replace("-", "_")


def _key_path(key_id: str) -> Path:
    return Path(settings.CERT_SIGNING_KEY_DIR) / f"{key_id}.pem"


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def public_key_of(key: SigningKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))


def public_key_pem(key: SigningKey) -> str:
    return (
        public_key_of(key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def load_private_key(key_id: str) -> Ed25519PrivateKey:
    name = _env_name(key_id)
    pem: bytes | None = None
    if os.environ.get(name):
        pem = os.environ[name].encode()
    elif os.environ.get(f"{name}_FILE"):
        pem = Path(os.environ[f"{name}_FILE"]).read_bytes()
    elif _key_path(key_id).exists():
        pem = _key_path(key_id).read_bytes()
    if pem is None:
        raise SigningKeyUnavailable(
            f"the private key of {key_id} is neither in {name}, {name}_FILE "
            f"nor in {_key_path(key_id)}"
        )
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyUnavailable(f"the private key of {key_id} is not an Ed25519 key")
    return key


def _write_private_key(key_id: str, key: Ed25519PrivateKey) -> Path:
    path = _key_path(key_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created with owner-only permissions from the start, never world-readable for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return path


def new_key_id() -> str:
    return f"{timezone.localdate():%Y%m%d}-{secrets.token_hex(4)}"


@transaction.atomic
def key_create(*, activate: bool) -> tuple[SigningKey, Path]:
    """Generate a key pair, store the private half in the key folder, register the public."""
    private_key = Ed25519PrivateKey.generate()
    key_id = new_key_id()
    path = _write_private_key(key_id, private_key)
    key = SigningKey.objects.create(
        key_id=key_id, public_key=public_key_b64(private_key), is_active=activate
    )
    return key, path


@transaction.atomic
def key_rotate() -> tuple[SigningKey, SigningKey | None, Path]:
    """Retire the active key (it keeps verifying) and make a new one active."""
    old = SigningKey.objects.select_for_update().filter(is_active=True).first()
    if old is not None:
        old.is_active = False
        old.retired_at = timezone.now()
        old.save(update_fields=["is_active", "retired_at"])
    new, path = key_create(activate=True)
    return new, old, path


def active_signing_key() -> tuple[SigningKey, Ed25519PrivateKey]:
    """The key that signs new certificates, created on first use in the embedded default."""
    key = SigningKey.objects.filter(is_active=True).first()
    if key is None:
        if not settings.CERT_AUTO_CREATE_KEY:
            raise SigningKeyUnavailable(
                "no active signing key: run `python manage.py certkeys create`"
            )
        try:
            with transaction.atomic():
                key, _path = key_create(activate=True)
        except IntegrityError:
            # Another process created the first key at the same moment; use theirs.
            key = SigningKey.objects.get(is_active=True)
    return key, load_private_key(key.key_id)
