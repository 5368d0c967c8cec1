"""Messages kept as codes with parameters, rendered in the reader's language.

A message a background job stores (an import row's errors, an installation check's detail) is
read later by someone whose language the job cannot know. It is therefore stored as a *coded
message*: the English message id (the code, as it appears in ``locale/.../django.po``) and
the values put into it, ``{"code": "Enter a date in the form %(format)s.", "params":
{"format": "YYYY-MM-DD"}}``. Reading it translates the code and then fills in the values.

Jobs produce their messages in English (``translation.override("en")``), the language of the
message ids; ``encode`` finds the message id a produced text came from (an exact id, or an
id with ``%(name)s`` placeholders whose fixed parts match) and pulls the values back out.
Exact ids need no look-up: the text is its own code. A text that is no message id (a value quoted from elsewhere, a row stored
before messages were coded) is kept as its own code with no values and read as it is.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")
# The catalog read to know the project's message ids; every language has the same ids.
_CATALOG_LANGUAGE = "zh_Hans"
# An id with less fixed text than this (e.g. "%(name)s: %(value)s") would match any text.
_MIN_FIXED = 4


def is_coded(value: Any) -> bool:
    """Whether ``value`` is a coded message (a dict with exactly ``code`` and ``params``)."""
    return isinstance(value, dict) and set(value) == {"code", "params"}


@functools.cache
def _project_ids() -> frozenset[str]:
    """The project's own message ids (``LOCALE_PATHS``), without plural forms or contexts."""
    ids: set[str] = set()
    for folder in settings.LOCALE_PATHS:
        path = Path(folder) / _CATALOG_LANGUAGE / "LC_MESSAGES" / "django.mo"
        if path.exists():
            with path.open("rb") as fp:
                catalog = gettext_module.GNUTranslations(fp)._catalog
            ids.update(k for k in catalog if isinstance(k, str) and k and "\x04" not in k)
    return frozenset(ids)


@functools.cache
def _patterns() -> dict[str, list[tuple[int, str, re.Pattern]]]:
    """The project's message ids with placeholders, as patterns grouped by their first
    character (``""`` for ids that start with a placeholder), the most specific first."""
    patterns: dict[str, list[tuple[int, str, re.Pattern]]] = {}
    for key in _project_ids():
        if "%(" not in key:
            continue
        pattern, fixed = _template_pattern(key)
        if fixed < _MIN_FIXED:
            continue  # too little fixed text to tell it from a value
        first = key[0] if not key.startswith("%(") else ""
        patterns.setdefault(first, []).append((fixed, key, pattern))
    for group in patterns.values():
        group.sort(key=lambda item: -item[0])
    return patterns


def encode(text: Any) -> dict:
    """The coded form of a message produced in English: ``{"code": str, "params": dict}``.

    ``text`` that is already coded is returned as it is; anything else is made a string.
    """
    if is_coded(text):
        return text
    text = str(text)
    patterns = _patterns()
    for group in (patterns.get(text[:1], []), patterns.get("", [])):
        for _fixed, code, pattern in group:
            match = pattern.fullmatch(text)
            if match:
                params = {
                    name: int(value) if f"%({name})d" in code else value
                    for name, value in match.groupdict().items()
                }
                return {"code": code, "params": params}
    return {"code": text, "params": {}}


def encode_tree(errors: Any) -> Any:
    """``errors`` (nested dicts and lists ending in message strings) with every message
    coded; the nesting is kept."""
    if is_coded(errors):
        return errors
    if isinstance(errors, dict):
        return {key: encode_tree(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [encode_tree(value) for value in errors]
    return encode(errors)


def render(message: Any) -> str:
    """A coded message (or a plain stored string) in the active language.

    Values that are themselves the project's message ids (a field's label, a choice) are
    translated too.
    """
    coded = encode(message) if not is_coded(message) else message
    code, params = str(coded["code"]), coded.get("params") or {}
    if not params:
        return gettext(code)
    values = {
        name: (gettext(value) if isinstance(value, str) and value in _project_ids() else value)
        for name, value in params.items()
    }
    for template, filling in ((gettext(code), values), (code, params)):
        try:
            return template % filling
        except (KeyError, TypeError, ValueError):
            continue
    return code


@functools.cache
def _written_pattern(message_id: str, language: str) -> re.Pattern:
    """``message_id`` as ``language`` writes it, as a pattern whose groups are its values."""
    with translation.override(language):
        template = gettext(message_id)
    return _template_pattern(template)[0]


def _template_pattern(template: str) -> tuple[re.Pattern, int]:
    """``template`` (a message with ``%(name)s`` / ``%(name)d`` placeholders) as a pattern
    whose named groups are its values (a name used twice must match the same text), and the
    number of its fixed, non-space characters."""
    pieces, pos, fixed, names = [], 0, 0, set()
    for match in _PLACEHOLDER.finditer(template):
        literal = template[pos : match.start()]
        fixed += len(literal.strip())
        pieces.append(re.escape(literal.replace("%%", "%")))
        name, kind = match.groups()
        if name in names:
            pieces.append(f"(?P={name})")
        else:
            names.add(name)
            pieces.append(f"(?P<{name}>-?\\d+)" if kind == "d" else f"(?P<{name}>.+?)")
        pos = match.end()
    tail = template[pos:]
    fixed += len(tail.strip())
    pieces.append(re.escape(tail.replace("%%", "%")))
    return re.compile("".join(pieces), re.S), fixed


def written_again(text: str, message_ids: tuple[str, ...]) -> str | None:
    """``text`` in the active language when the portal wrote it from one of ``message_ids``
    (English ids, with ``%(name)d`` / ``%(name)s`` values) in any language of ``LANGUAGES``,
    whatever its values; None when it was written from none of them (typed by a person).

    For text a job stored as written, in the language it ran in (a lapsed code's return,
    written by beat in the server's language), and read later by someone else."""
    for message_id in message_ids:
        for language, _name in settings.LANGUAGES:
            match = _written_pattern(message_id, language).fullmatch(text)
            if match is None:
                continue
            params = {
                name: int(value) if f"%({name})d" in message_id else value
                for name, value in match.groupdict().items()
            }
            return gettext(message_id) % params if params else gettext(message_id)
    return None
