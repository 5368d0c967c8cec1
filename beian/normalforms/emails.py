"""Email addresses (电子邮箱).

Stored with the local part as typed and the domain in lower case (RFC 5321 §2.4: only the
domain is case-insensitive), after format characters are dropped and full-width characters
folded (``ｎａｍｅ＠ｅｘａｍｐｌｅ．ｃｎ``). The domain takes the domains' separators
(``name@example。cn``). Without network access the check is by form: a dotted domain with a
real-looking top-level domain (RFC 2606 and RFC 6761 reserved names refused), no IP literal.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from .domains import LABEL_SEPARATORS
from .text import folded

# Top-level domains that never reach a mailbox (RFC 2606, RFC 6761).
_RESERVED_TLDS = {"test", "example", "invalid", "localhost", "local", "internal", "lan", "home"}
_email_syntax = EmailValidator(allowlist=[])


def normalize_email(value: str | None) -> str:
    """An address that can receive mail, with its domain in lower case; ``ValidationError``
    coded ``invalid_email``."""
    address = folded(value)
    local, at, domain = address.rpartition("@")
    if at:
        domain = LABEL_SEPARATORS.sub(".", domain).lower()
        if domain.endswith("."):
            domain = domain[:-1]
        address = f"{local}@{domain}"
    message = _("Enter an email address that can receive mail, like name@example.com.")
    try:
        _email_syntax(address)
    except ValidationError as exc:
        raise ValidationError(message, code="invalid_email") from exc
    labels = domain.split(".")
    tld = labels[-1]
    if (
        len(labels) < 2
        or domain.startswith("[")
        or tld in _RESERVED_TLDS
        or not (tld.isalpha() or tld.startswith("xn--"))
        or len(tld) < 2
    ):
        raise ValidationError(message, code="invalid_email")
    return address
