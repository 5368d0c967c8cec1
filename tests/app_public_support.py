"""Approved records with apps and mini-programs, through the API and the bureau's service, for
the tests of what the public, the certificate and the bureau see of them (SPEC §13)."""

from __future__ import annotations

from rest_framework.test import APIClient

from filings.models import Filing
from tests import filings_support as fs


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def record(**parts) -> dict:
    """Complete filing data (one website by default) with ``parts`` in place: ``apps``,
    ``mini_programs``, ``websites``, and ``sponsor`` (fields over the complete sponsor)."""
    payload = fs.data(sponsor=parts.pop("sponsor", None), websites=parts.pop("websites", None))
    payload.update(parts)
    return payload


def approved(owner, payload: dict) -> Filing:
    """``payload`` submitted by ``owner``, taken through the first review and the SMS
    verification and approved by the ministry: numbered, published, certified."""
    client = api(owner)
    pk = client.post("/api/v1/filings/", payload, format="json").json()["id"]
    answer = client.post(f"/api/v1/filings/{pk}/submit/")
    assert answer.status_code == 200, answer.json()
    return fs.approve(fs.to_bureau(Filing.objects.get(pk=pk)))


def cancel(owner, filing: Filing, service_id: int, reason: str = "下架") -> Filing:
    """The owner cancels the service ``service_id`` (a website, app or mini-program) and the
    bureau approves it."""
    answer = api(owner).post(
        f"/api/v1/filings/{filing.pk}/websites/{service_id}/cancel/",
        {"reason": reason},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    return fs.approve(fs.to_bureau(Filing.objects.get(pk=filing.pk)))
