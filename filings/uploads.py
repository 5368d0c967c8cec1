"""Uploaded files judged by their content (SPEC §3 documents, §12 verification records): only
PDF, JPEG and PNG are kept, whatever a file's name or declared type says."""

from __future__ import annotations

import hashlib
import os
import warnings

from PIL import Image, UnidentifiedImageError

_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff_content_type(file) -> tuple[str, str] | None:
    """``(content type, extension)`` of a PDF, JPEG or PNG judged by its bytes (a PDF
    must end with its end-of-file marker, an image must decode whole), or None for anything
    else. Leaves ``file`` at its start."""
    file.seek(0)
    head = file.read(16)
    match = next((s for s in _SIGNATURES if head.startswith(s[0])), None)
    if match is None:
        return None
    _signature, content_type, extension = match
    if content_type == "application/pdf":
        # A real PDF ends with an end-of-file marker near its end.
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(max(0, size - 2048))
        if b"%%EOF" not in file.read():
            return None
        return content_type, extension
    file.seek(0)
    try:
        # An image is decoded whole before it is kept: ``verify`` reads only the structure, so
        # a truncated or corrupt picture (or one that unpacks into billions of pixels) would
        # otherwise pass. Above Pillow's MAX_IMAGE_PIXELS its warning is an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                image.verify()
                found = image.format
            file.seek(0)
            with Image.open(file) as image:
                image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        return None
    finally:
        file.seek(0)
    if (found, content_type) not in (("JPEG", "image/jpeg"), ("PNG", "image/png")):
        return None
    return content_type, extension


def file_sha256(file) -> str:
    """The SHA-256 hex digest of ``file``'s whole content; leaves it at its start."""
    digest = hashlib.sha256()
    file.seek(0)
    chunks = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b"")
    for chunk in chunks:
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def megabytes(size: int) -> str:
    """``size`` bytes as people read it, e.g. ``"10.0 MB"``."""
    return f"{size / (1024 * 1024):.1f} MB"
