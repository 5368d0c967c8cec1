"""The API's JSON parser: JSON strings must be Unicode text.

JSON may escape a lone UTF-16 surrogate (``"北京\\ud83d科技有限公司"``, what is left of an
emoji cut in half), which Python accepts but no database, page or JSON answer can encode. Such
a request is answered 400 with the message on each field that holds one, before any view
sees the data, so nothing of it is stored. So is a string holding a C0 control character
other than tab and new line (U+0000 NUL above all, which PostgreSQL cannot store), in a value
or in a key.
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ValidationError

from .normalforms.text import unreadable_text_message


def surrogate_errors(value: Any) -> Any:
    """Field errors, shaped like DRF's nested ones, for every string of ``value`` holding a
    lone surrogate or a control character (``unreadable_text_message``); None when there is
    none."""
    if isinstance(value, str):
        message = unreadable_text_message(value)
        return [message] if message else None
    if isinstance(value, dict):
        errors = {}
        for key, item in value.items():
            message = unreadable_text_message(key) if isinstance(key, str) else None
            if message:
                errors.setdefault("non_field_errors", [message])
                continue
            found = surrogate_errors(item)
            if found:
                errors[key] = found
        return errors or None
    if isinstance(value, list):
        found = [surrogate_errors(item) or {} for item in value]
        return found if any(found) else None
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that refuses lone surrogates and control characters on the fields
    that hold them."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        errors = surrogate_errors(data)
        if errors:
            raise ValidationError(errors)
        return data
