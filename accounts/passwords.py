"""Passwords the portal makes up: an access provider's initial password for a client account
(SPEC §6, Q12) and the bureau's temporary password sent by SMS (SPEC §2, Q11). Both must be
replaced at the next sign-in (``User.password_is_initial``)."""

from __future__ import annotations

import secrets
import string

# Letters and digits without the look-alikes 0/O/o and 1/l/I (56 characters): a password read
# out over the phone, copied from an SMS or from a printed list is typed right the first time.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0OoIl1")

# A temporary password is hashed like any chosen one (Argon2): 12 characters, about 70 bits.
TEMPORARY_PASSWORD_LENGTH = 12
# An initial password is hashed cheaply so that large imports stay fast
# (``providers/hashers.py``): 14 characters, about 81 bits, keep it out of reach all the same.
INITIAL_PASSWORD_LENGTH = 14


def random_password(length: int = TEMPORARY_PASSWORD_LENGTH) -> str:
    """``length`` characters of ``PASSWORD_ALPHABET`` from the operating system's secure
    source, at least one lower-case letter, one capital and one digit among them (so that it
    reads as a password and passes any composition check). ``length`` is 12
    (``TEMPORARY_PASSWORD_LENGTH``) or, for a password stored under the cheap initial-password
    hasher, 14 (``INITIAL_PASSWORD_LENGTH``); log2(56) ≈ 5.8 bits a character. Raises
    ``ValueError`` for a length below 3."""
    if length < 3:
        raise ValueError("a password needs at least 3 characters")
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password
