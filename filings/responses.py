"""The one way a private pre-approval document leaves the portal, whoever reads it (the owner,
the filing's provider, the bureau, the ministry): no caching, and a sandboxing CSP so that a
file that a browser would render (an image, a PDF viewer page) can run nothing."""

from __future__ import annotations

from django.http import FileResponse, Http404

from .models import Document

DOCUMENT_CSP = "default-src 'none'; img-src 'self'; sandbox"


def document_response(document: Document, *, download: bool | None = None) -> FileResponse:
    """Stream ``document``; PDFs download, images show inline unless ``download`` is given.
    Raises ``Http404`` when the stored file is missing."""
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=document.content_type or "application/octet-stream",
        as_attachment=(
            download if download is not None else document.content_type == "application/pdf"
        ),
        filename=document.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = DOCUMENT_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response
