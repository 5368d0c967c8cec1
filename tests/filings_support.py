"""Helpers for the filings tests: complete filing data, documents, approval through services."""

from __future__ import annotations

import copy
import io

from django.core.files.uploadedfile import SimpleUploadedFile

USCC = "91350100M000100Y43"
RESIDENT_ID = "11010519491231002X"

SPONSOR = {
    "nature": "enterprise",
    "name": "北京示例科技有限公司",
    "id_type": "uscc",
    "id_number": USCC,
    "province": "11",
    "address": "北京市海淀区中关村大街1号",
    "principal": {
        "name": "张三",
        "id_type": "resident_id",
        "id_number": RESIDENT_ID,
        "mobile": "13700000001",
        "email": "zhangsan@example.cn",
    },
}

WEBSITE = {
    "name": "示例网站",
    "homepage": "http://www.example.cn/",
    "domains": ["example.cn"],
    "ips": ["120.79.1.10"],
    "services": ["corporate"],
    "commercial": False,
    "preapprovals": [],
    "server_location": "11",
    "access_provider": "other",
}


def website(**overrides) -> dict:
    return {**copy.deepcopy(WEBSITE), **overrides}


def data(*, sponsor: dict | None = None, websites: list[dict] | None = None) -> dict:
    return {
        "sponsor": {**copy.deepcopy(SPONSOR), **(sponsor or {})},
        "websites": websites if websites is not None else [website()],
    }


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(content: bytes, name: str = "approval.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def approve(filing):
    """Move a submitted filing to ``approved`` through the bureau's service."""
    from review.services import filing_approve
    from tests.factories import MinistryFactory

    return filing_approve(filing=filing, by=MinistryFactory())


def first_review_pass(filing, *, by=None):
    """Pass a filing waiting for its provider's first review (SPEC §12), by ``by`` or a new
    staff member of the provider named, with the whole checklist and a PDF record."""
    from filings.models import Application
    from filings.stages import CHECKLIST_CODES, Record, provider_decide
    from tests.factories import UserFactory

    application = Application.objects.get(filing=filing, closed_at=None)
    if by is None:
        by = UserFactory(role="provider", provider_id=application.provider_id)
    return provider_decide(
        filing_id=filing.pk,
        by=by,
        action="pass",
        checklist=list(CHECKLIST_CODES),
        record=Record(
            file=upload(PDF_BYTES, "record.pdf"), content_type="application/pdf", sha256="0" * 64
        ),
    )


def sms_code(mobile: str) -> str:
    """The code of the latest SMS verification sent to ``mobile``, read from the outbox."""
    import re

    from beian.models import Message

    body = (
        Message.objects.filter(channel="sms", to=mobile, template="verification_code")
        .order_by("-id")
        .values_list("body", flat=True)
        .first()
    )
    return re.search(r"(?<!\d)\d{6}(?!\d)", body or "").group(0)


def verify(filing):
    """Confirm the SMS verification of a filing waiting for it, as the responsible person
    would on the public page."""
    from filings.stages import verification_confirm

    filing.refresh_from_db()
    return verification_confirm(
        mobile=filing.principal_mobile,
        code=sms_code(filing.principal_mobile),
        id_last6=filing.principal_id_number[-6:],
        ip="198.51.100.7",
    )


def to_bureau(filing):
    """Take a submitted filing through the stages before the bureau (SPEC §12) that it is
    at: the provider's first review, then the SMS verification. Returns it, refreshed."""
    filing.refresh_from_db()
    if filing.status == "provider_review":
        first_review_pass(filing)
        filing.refresh_from_db()
    if filing.status == "verification":
        verify(filing)
        filing.refresh_from_db()
    return filing


def submitted_filing(owner, payload: dict | None = None):
    from filings.services import filing_create, filing_save_data, filing_submit

    filing = filing_create(owner=owner)
    filing_save_data(filing=filing, by=owner, data=payload or data())
    return filing_submit(filing=filing, by=owner)


# SPEC §10, "A filing in JSON" [contract]: the keys of a filing and of each website.
FILING_KEYS = {
    "id",
    "status",
    "number",
    "review_deadline",
    "conflicts",
    "application",
    "sponsor",
    "websites",
    "apps",
    "mini_programs",
}
WEBSITE_KEYS = {
    "id",
    "name",
    "number",
    "homepage",
    "domains",
    "ips",
    "services",
    "commercial",
    "preapprovals",
    "server_location",
    "access_provider",
    "accesses",
}
ACCESS_KEYS = {"provider", "method", "server_location", "ips"}
