"""The one way a private file leaves the portal, whoever reads it: a pre-approval document (the
owner, the filing's provider, the bureau, the ministry) or a verification record (核验单, the
first-reviewing provider, the bureau, the ministry). No caching, and a sandboxing CSP so that
a file that a browser would render (an image, a PDF viewer page) can run nothing."""

from __future__ import annotations

from django.http import FileResponse, Http404

from .models import Document

DOCUMENT_CSP = "default-src 'none'; img-src 'self'; sandbox"


def document_response(document: Document, *, download: bool | None = None) -> FileResponse:
    """Stream ``document``; PDFs download, images show inline unless ``download`` is given.
    Raises ``Http404`` when the stored file is missing."""
    return stored_file_response(
        document.file,
        content_type=document.content_type,
        filename=document.original_name,
        download=download,
    )


def stored_file_response(
    file, *, content_type: str, filename: str, download: bool | None = None
) -> FileResponse:
    """Stream a stored ``file`` (a ``FieldFile``) checked by content when it was uploaded:
    PDFs download, images show inline unless ``download`` is given; never cached, sandboxed.
    Raises ``Http404`` when the stored file is missing."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=content_type or "application/octet-stream",
        as_attachment=(download if download is not None else content_type == "application/pdf"),
        filename=filename,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = DOCUMENT_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response
