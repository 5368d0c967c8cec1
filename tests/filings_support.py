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
}
WEBSITE_KEYS = {
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
}
