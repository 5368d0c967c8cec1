"""The life of a filing (SPEC §3) through the services: submit, resubmit, amend, revoke;
versions, conflicts, documents, and who may do what."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.services import username_reminder_send
from beian.audit import AuditLog
from beian.workdays import add_working_days
from filings import services
from filings.models import Conflict, Filing, FilingDraft, FilingVersion, PublishedDomain
from filings.selectors import document_for_user
from filings.serializers import filing_as_json, filing_owner_json
from tests import filings_support as fs
from tests.factories import (
    AccessProviderFactory,
    BureauFactory,
    FilingFactory,
    UserFactory,
    WebsiteFactory,
)


@pytest.fixture(autouse=True)
def _messages_in_english(english):
    """These tests read the English wording of the messages."""


pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def test_an_owner_holds_at_most_one_filing():
    owner = UserFactory()
    services.filing_create(owner=owner)
    with pytest.raises(services.FilingError) as exc:
        services.filing_create(owner=owner)
    assert exc.value.code == "exists"


def test_staff_accounts_hold_no_filing():
    with pytest.raises(services.FilingError):
        services.filing_create(owner=BureauFactory())


def test_saving_a_draft_keeps_invalid_values_as_typed():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    payload = fs.data(sponsor={"id_number": "91350100M000100Y44"})
    services.filing_save_data(filing=filing, by=owner, data=payload)
    shown = filing_owner_json(filing)
    assert shown["status"] == "draft"
    assert shown["sponsor"]["id_number"] == "91350100M000100Y44"
    # Nothing reaches the working copy before submission.
    assert filing_as_json(filing)["websites"] == []


def test_malformed_data_is_refused_without_saving():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    with pytest.raises(services.FilingInvalid) as exc:
        services.filing_save_data(filing=filing, by=owner, data={"websites": "example.cn"})
    assert "websites" in exc.value.errors
    assert not FilingDraft.objects.filter(filing=filing).exists()


@time_machine.travel(dt.datetime(2026, 9, 25, 23, 30, tzinfo=SHANGHAI), tick=False)
def test_submission_sets_pending_review_and_the_20th_working_day_after_the_submission_date():
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.submitted_by == owner
    # Friday 25 September 2026 in Shanghai (15:30 UTC): the count starts on the next day.
    assert filing.review_deadline == add_working_days(dt.date(2026, 9, 25), 20)
    assert filing.province_id == "11"
    assert filing.websites.get().homepage_key == "www.example.cn"
    assert filing.sponsor_name_key == "北京示例科技有限公司"
    assert not FilingDraft.objects.filter(filing=filing).exists()


def test_submission_keeps_a_version_with_who_and_when_and_audits_it(outbox_messages):
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    version = FilingVersion.objects.get(filing=filing)
    assert (version.seq, version.kind, version.created_by) == (1, "submitted", owner)
    assert version.data == filing_as_json(filing)
    assert AuditLog.objects.filter(action="filing.submit", target_id=str(filing.pk)).exists()
    receipt = outbox_messages(to=owner.email)
    assert any(str(filing.review_deadline) in m["subject"] for m in receipt)


def test_submission_returns_every_problem_and_changes_nothing():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    payload = fs.data(
        sponsor={"id_number": "91350100M000100Y44"},
        websites=[fs.website(domains=["www.example.cn"], ips=["192.168.0.1"])],
    )
    services.filing_save_data(filing=filing, by=owner, data=payload)
    with pytest.raises(services.FilingInvalid) as exc:
        services.filing_submit(filing=filing, by=owner)
    assert set(exc.value.errors["sponsor"]) == {"id_number"}
    assert set(exc.value.errors["websites"][0]) == {"domains", "ips"}
    filing.refresh_from_db()
    assert filing.status == Filing.Status.DRAFT
    assert FilingDraft.objects.filter(filing=filing).exists()


def test_an_owner_who_has_not_confirmed_both_codes_cannot_submit():
    owner = UserFactory(email_verified_at=None)
    filing = services.filing_create(owner=owner)
    services.filing_save_data(filing=filing, by=owner, data=fs.data())
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(filing=filing, by=owner)
    assert exc.value.code == "identity_unverified"


def test_resubmitting_before_approval_replaces_the_data_and_restarts_the_deadline():
    owner = UserFactory()
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=SHANGHAI), tick=False):
        filing = fs.submitted_filing(owner)
    first_deadline = filing.review_deadline
    changed = fs.data(websites=[fs.website(name="新名字", domains=["example.cn", "example.com"])])
    with time_machine.travel(dt.datetime(2026, 3, 9, 10, tzinfo=SHANGHAI), tick=False):
        services.filing_save_data(filing=filing, by=owner, data=changed)
        # The bureau still sees the submitted data until the owner submits again.
        assert filing_as_json(filing)["websites"][0]["name"] == "示例网站"
        filing = services.filing_submit(filing=filing, by=owner)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.review_deadline == add_working_days(dt.date(2026, 3, 9), 20) != first_deadline
    website = filing_as_json(filing)["websites"][0]
    assert (website["name"], website["domains"]) == ("新名字", ["example.cn", "example.com"])
    assert list(filing.versions.values_list("seq", flat=True)) == [1, 2]


def test_submitting_again_without_changes_is_refused():
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(filing=filing, by=owner)
    assert exc.value.code == "no_changes"


def test_a_rejected_filing_can_be_edited_and_submitted_again():
    from review.services import filing_reject

    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    filing = filing_reject(filing=filing, by=BureauFactory(), reason="主办单位名称与证件不符")
    assert filing.status == Filing.Status.REJECTED
    services.filing_save_data(
        filing=filing, by=owner, data=fs.data(sponsor={"name": "北京示例科技股份有限公司"})
    )
    filing = services.filing_submit(filing=filing, by=owner)
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.sponsor_name == "北京示例科技股份有限公司"
    assert filing.rejection_reason == ""


def test_an_amendment_keeps_the_approved_data_public_until_it_is_approved():
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    assert filing.status == Filing.Status.APPROVED
    number = filing.websites.get().number
    amended = fs.data(
        websites=[
            {**fs.website(), "number": number, "domains": ["example.cn", "example.net"]},
            fs.website(name="新网站", domains=["example.org"], homepage="https://example.org/"),
        ]
    )
    services.filing_save_data(filing=filing, by=owner, data=amended)
    filing.refresh_from_db()
    # Saved but not submitted: still approved, the working copy untouched.
    assert filing.status == Filing.Status.APPROVED
    assert filing_as_json(filing)["websites"][0]["domains"] == ["example.cn"]

    filing = services.filing_submit(filing=filing, by=owner)
    assert filing.status == Filing.Status.AMENDMENT_PENDING
    assert set(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True)) == {
        "example.cn"
    }
    websites = filing_as_json(filing)["websites"]
    assert websites[0]["number"] == number  # the approved website keeps its number
    assert websites[1]["number"] is None

    filing = fs.approve(filing)
    assert set(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True)) == {
        "example.cn",
        "example.net",
        "example.org",
    }


def test_an_approved_filing_cannot_be_submitted_without_an_amendment():
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    with pytest.raises(services.FilingError) as exc:
        services.filing_submit(filing=filing, by=owner)
    assert exc.value.code == "no_changes"


def test_a_website_number_in_the_data_is_kept_only_if_it_is_this_filings():
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    stranger = fs.approve(
        fs.submitted_filing(
            UserFactory(),
            fs.data(
                sponsor={"name": "上海别家有限公司"},
                websites=[fs.website(domains=["other.cn"], homepage="http://other.cn/")],
            ),
        )
    )
    foreign_number = stranger.websites.get().number
    own_number = filing.websites.get().number
    elsewhere = fs.website(domains=["elsewhere.cn"], homepage="http://elsewhere.cn/")
    services.filing_save_data(
        filing=filing,
        by=owner,
        data=fs.data(
            websites=[
                {**fs.website(), "number": foreign_number},
                {**elsewhere, "number": foreign_number},
            ]
        ),
    )
    # The first is this filing's approved website by its domain (example.cn), and keeps its
    # number; the other is a new website: neither takes the stranger's number.
    shown = filing_owner_json(filing)["websites"]
    assert [w["number"] for w in shown] == [own_number, None]


def test_revocation_is_applied_for_from_approved_only():
    owner = UserFactory()
    filing = fs.submitted_filing(owner)
    with pytest.raises(services.FilingError):
        services.filing_apply_revocation(filing=filing, by=owner, reason="网站已关闭")
    filing = fs.approve(filing)
    with pytest.raises(services.FilingInvalid) as exc:
        services.filing_apply_revocation(filing=filing, by=owner, reason="  ")
    assert "reason" in exc.value.errors
    filing = services.filing_apply_revocation(filing=filing, by=owner, reason="网站已关闭")
    assert filing.status == Filing.Status.REVOCATION_PENDING
    assert filing.revocation_reason == "网站已关闭"
    assert filing.review_deadline is not None
    assert AuditLog.objects.filter(action="filing.revocation_apply").exists()


@pytest.mark.parametrize("status", ["revocation_pending", "revoked"])
def test_a_filing_being_revoked_cannot_be_changed_or_submitted(status):
    owner = UserFactory()
    filing = FilingFactory(owner=owner, status=status)
    with pytest.raises(services.FilingError):
        services.filing_save_data(filing=filing, by=owner, data=fs.data())
    with pytest.raises(services.FilingError):
        services.filing_submit(filing=filing, by=owner)
    with pytest.raises(services.FilingError):
        services.filing_apply_revocation(filing=filing, by=owner, reason="x")


def test_nobody_else_may_change_an_owners_filing():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    for stranger in (UserFactory(), BureauFactory()):
        with pytest.raises(PermissionDenied):
            services.filing_save_data(filing=filing, by=stranger, data=fs.data())
        with pytest.raises(PermissionDenied):
            services.filing_submit(filing=filing, by=stranger)


def test_the_access_provider_that_files_for_a_client_may_save_and_submit():
    provider = AccessProviderFactory()
    staff = UserFactory(role="provider", provider=provider, origin="staff")
    client = UserFactory(origin="import", imported_by=provider, email_verified_at=None)
    filing = services.filing_create(owner=client, provider=provider)
    assert filing.filed_by_provider == provider
    services.filing_save_data(filing=filing, by=staff, data=fs.data())
    filing = services.filing_submit(filing=filing, by=staff)
    assert (filing.status, filing.submitted_by) == (Filing.Status.PENDING_REVIEW, staff)
    other_staff = UserFactory(role="provider", provider=AccessProviderFactory(), origin="staff")
    with pytest.raises(PermissionDenied):
        services.filing_save_data(filing=filing, by=other_staff, data=fs.data())


def test_a_conflict_with_another_account_is_recorded_and_emailed_to_the_submitter(
    outbox_messages,
):
    first = fs.submitted_filing(UserFactory())
    owner = UserFactory()
    filing = fs.submitted_filing(
        owner,
        fs.data(
            sponsor={"name": "另一家公司"},
            websites=[fs.website(homepage="http://example.cn/")],
        ),
    )
    assert filing.has_open_conflicts
    conflicts = filing_as_json(filing)["conflicts"]
    assert {"field": "domain", "value": "example.cn", "other_filing": first.pk} in conflicts
    assert Conflict.objects.filter(filing=first, other_filing=filing).exists()
    subjects = [m["subject"] for m in outbox_messages(to=owner.email)]
    assert any("conflict" in s.lower() or "冲突" in s for s in subjects)


def test_unsubmitted_amendment_edits_take_no_part_in_conflict_checks():
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    services.filing_save_data(
        filing=filing,
        by=owner,
        data=fs.data(websites=[fs.website(domains=["example.cn", "taken.cn"])]),
    )
    other = fs.submitted_filing(
        UserFactory(),
        fs.data(
            sponsor={"name": "别家公司"},
            websites=[fs.website(domains=["taken.cn"], homepage="http://taken.cn/")],
        ),
    )
    assert not other.has_open_conflicts


# --- Documents ------------------------------------------------------------------------------


def test_a_pdf_and_a_png_are_kept_with_their_type_found_by_content():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    pdf = services.document_upload(
        filing=filing, by=owner, file=fs.upload(fs.PDF_BYTES, "批文.pdf")
    )
    png = services.document_upload(
        filing=filing, by=owner, file=fs.upload(fs.png_bytes(), "scan.jpg")
    )
    assert (pdf.content_type, pdf.original_name, pdf.size) == (
        "application/pdf",
        "批文.pdf",
        len(fs.PDF_BYTES),
    )
    assert png.content_type == "image/png"  # the name said JPEG; the content is PNG
    assert "/media/" not in pdf.file.name and pdf.file.name.startswith("documents/")


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00 an executable renamed to .pdf",
        b"%PDF-1.4 but never finished",
        b"\x89PNG\r\n\x1a\n but not an image at all",
        b"<html><script>alert(1)</script></html>",
    ],
)
def test_a_disguised_file_is_refused_whatever_its_name(content):
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    with pytest.raises(services.FilingInvalid) as exc:
        services.document_upload(filing=filing, by=owner, file=fs.upload(content, "approval.pdf"))
    assert "PDF, JPEG or PNG" in exc.value.errors["file"][0]


def test_an_oversized_file_is_refused_with_the_limit(settings):
    settings.UPLOAD_MAX_BYTES = 1024
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    big = fs.PDF_BYTES[:-7] + b" " * 2048 + b"%%EOF\n"
    with pytest.raises(services.FilingInvalid) as exc:
        services.document_upload(filing=filing, by=owner, file=fs.upload(big))
    assert "at most" in exc.value.errors["file"][0]


def test_an_empty_file_is_refused():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    with pytest.raises(services.FilingInvalid):
        services.document_upload(filing=filing, by=owner, file=fs.upload(b""))


def test_documents_are_readable_by_the_owner_and_the_province_bureau_only():
    owner = UserFactory()
    filing = FilingFactory(owner=owner)
    document = services.document_upload(filing=filing, by=owner, file=fs.upload(fs.PDF_BYTES))
    assert document_for_user(user=owner, document_id=document.pk) == document
    assert document_for_user(user=BureauFactory(), document_id=document.pk) == document
    from beian.models import Province

    shanghai = BureauFactory(province=Province.objects.get(code="31"))
    for outsider in (UserFactory(), shanghai):
        with pytest.raises(Http404):
            document_for_user(user=outsider, document_id=document.pk)


def test_a_submitted_preapproval_links_its_document():
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    document = services.document_upload(filing=filing, by=owner, file=fs.upload(fs.PDF_BYTES))
    entry = {
        "category": "news",
        "authority": "北京市委网信办",
        "document_number": "京网信[2026]12号",
        "document": document.pk,
    }
    payload = fs.data(websites=[fs.website(services=["news", "portal"], preapprovals=[entry])])
    services.filing_save_data(filing=filing, by=owner, data=payload)
    filing = services.filing_submit(filing=filing, by=owner)
    assert filing.has_preapproval
    assert filing_as_json(filing)["websites"][0]["preapprovals"] == [entry]


# --- Forgotten username (Q11) -----------------------------------------------------------------


def test_the_username_goes_to_the_verified_contacts_of_the_filing_account(outbox_messages):
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    username_reminder_send(number=filing.number)
    sent = outbox_messages(to=owner.email) + outbox_messages(to=owner.mobile)
    reminders = [m for m in sent if owner.username in m["body"] and filing.number in m["body"]]
    assert {m["channel"] for m in reminders} == {"email", "sms"}


def test_a_website_number_also_finds_the_account_and_an_import_names_the_provider(
    outbox_messages,
):
    provider = AccessProviderFactory(name="示例云")
    owner = UserFactory(origin="import", imported_by=provider)
    filing = FilingFactory(owner=owner, status="approved", number="京ICP备2026000123号")
    website = WebsiteFactory(filing=filing, number="京ICP备2026000123号-1")
    username_reminder_send(number=website.number)
    emails = [m for m in outbox_messages(to=owner.email) if owner.username in m["body"]]
    assert emails and "示例云" in emails[0]["body"]


def test_an_unknown_number_sends_nothing(outbox_messages):
    before = len(outbox_messages())
    username_reminder_send(number="京ICP备2099999999号")
    assert len(outbox_messages()) == before


def test_unverified_contacts_receive_nothing(outbox_messages):
    owner = UserFactory(email_verified_at=None, mobile_verified_at=None)
    FilingFactory(owner=owner, status="approved", number="京ICP备2026000124号")
    username_reminder_send(number="京ICP备2026000124号")
    assert outbox_messages(to=owner.email) == [] and outbox_messages(to=owner.mobile) == []


@pytest.mark.django_db(transaction=True)
def test_a_double_submission_at_the_same_moment_submits_once():
    from threading import Barrier, Thread

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    owner = UserFactory()
    filing = services.filing_create(owner=owner)
    services.filing_save_data(filing=filing, by=owner, data=fs.data())
    barrier = Barrier(2)
    outcomes: list[str] = []

    def submit():
        from django.db import connections

        barrier.wait()
        try:
            services.filing_submit(filing=Filing.objects.get(pk=filing.pk), by=owner)
            outcomes.append("submitted")
        except services.FilingError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["no_changes", "submitted"]
    assert FilingVersion.objects.filter(filing=filing).count() == 1
