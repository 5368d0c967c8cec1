"""Bureau decisions (SPEC §4): approve, reject, revocation, own-motion revocation, password
reset — each scoped to the bureau's own province, audited and emailed."""

import re

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from beian.models import AuditLog, Message
from filings.models import FilingVersion, PublishedDomain, Website
from review.scope import OutOfScope
from review.services import (
    bureau_password_reset,
    conflict_rejection_text,
    filing_approve,
    filing_recheck,
    filing_reject,
    filing_revoke,
    revocation_approve,
    revocation_refuse,
)
from tests.factories import MinistryFactory
from tests.review_support import (
    approved,
    beijing_reviewer,
    filing_data,
    overdue,
    shanghai_reviewer,
    submit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NUMBER = re.compile(r"^京ICP备(\d{4})(\d{6})号$")


def audit_actions(filing):
    return list(
        AuditLog.objects.filter(target_type="filings.filing", target_id=str(filing.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# Approve -----------------------------------------------------------------------------------


def test_approval_allocates_the_sponsor_number_and_website_numbers_in_order():
    reviewer = beijing_reviewer()
    websites = [
        {**filing_data(domains=[d])["websites"][0], "name": f"站点{i}"}
        for i, d in enumerate(["one.cn", "two.cn"])
    ]
    filing = submit(websites=websites)

    filing_approve(filing=filing, by=reviewer)

    filing.refresh_from_db()
    match = NUMBER.match(filing.number)
    assert match, filing.number
    assert match.group(1) == str(timezone.localdate().year)
    assert filing.status == "approved"
    assert filing.approved_at and filing.first_approved_at and filing.decided_at
    numbers = list(filing.websites.order_by("position").values_list("number", flat=True))
    assert numbers == [f"{filing.number}-1", f"{filing.number}-2"]
    assert set(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True)) == {
        "one.cn",
        "two.cn",
    }
    assert FilingVersion.objects.filter(filing=filing, kind="approved").count() == 1


def test_approval_numbers_follow_the_province_sequence():
    first = approved(domains=["seq-a.cn"])
    second = approved(domains=["seq-b.cn"])
    shanghai = approved(domains=["seq-c.cn"], province="31")

    a, b = (int(NUMBER.match(f.number).group(2)) for f in (first, second))
    assert b == a + 1
    assert shanghai.number.startswith("沪ICP备")
    assert shanghai.number.endswith("000001号")


def test_approval_year_is_the_year_in_china(time_machine):
    # 2026-12-31 17:00 UTC is already 2027-01-01 in Asia/Shanghai.
    time_machine.move_to("2026-12-31T17:00:00Z")
    filing = approved(domains=["newyear.cn"])
    assert filing.number.startswith("京ICP备2027")


def test_approval_emails_the_owner_issues_the_certificate_and_audits(outbox_messages):
    reviewer = beijing_reviewer()
    filing = submit(domains=["mail.cn"])

    filing_approve(filing=filing, by=reviewer)

    mails = outbox_messages(to=filing.owner.email)
    assert any(filing.number in m["subject"] for m in mails)
    from certificates.models import Certificate

    assert Certificate.objects.filter(filing=filing).exists()
    entry = AuditLog.objects.get(action="filing.approve", target_id=str(filing.pk))
    assert entry.actor == reviewer
    assert entry.province_id == "11"
    assert entry.before["status"] == "pending_review"
    assert entry.after["status"] == "approved"
    assert entry.after["number"] == filing.number


def test_an_amendment_keeps_existing_website_numbers_and_numbers_only_new_websites():
    from filings.serializers import filing_as_json
    from filings.services import filing_save_data, filing_submit

    reviewer = beijing_reviewer()
    filing = approved(domains=["amend.cn"])
    number = filing.number
    data = filing_as_json(filing)
    extra = {**data["websites"][0], "name": "新站", "number": None}
    extra.update(homepage="http://www.added.cn/", domains=["added.cn"])
    data["websites"].append(extra)
    filing_save_data(filing=filing, by=filing.owner, data=data)
    filing_submit(filing=filing, by=filing.owner)
    filing.refresh_from_db()
    assert filing.status == "amendment_pending"

    filing_approve(filing=filing, by=reviewer)

    filing.refresh_from_db()
    assert filing.number == number
    assert list(filing.websites.order_by("position").values_list("number", flat=True)) == [
        f"{number}-1",
        f"{number}-2",
    ]
    assert "filing.approve_amendment" in audit_actions(filing)


def test_a_filing_with_open_conflicts_cannot_be_approved():
    approved(domains=["taken.cn"])
    filing = submit(domains=["taken.cn"], homepage="http://m.taken.cn/")

    with pytest.raises(ValidationError) as error:
        filing_approve(filing=filing, by=beijing_reviewer())

    assert "conflict" in str(error.value).lower() or "冲突" in str(error.value)
    filing.refresh_from_db()
    assert filing.status == "pending_review"
    assert filing.number is None


def test_an_overdue_item_can_still_be_approved():
    filing = overdue(submit(domains=["late.cn"]))
    assert filing.review_deadline < timezone.localdate()

    filing_approve(filing=filing, by=beijing_reviewer())

    filing.refresh_from_db()
    assert filing.status == "approved"


def test_approving_twice_is_refused_and_keeps_the_first_number():
    reviewer = beijing_reviewer()
    filing = submit(domains=["twice.cn"])
    filing_approve(filing=filing, by=reviewer)
    number = filing.number

    with pytest.raises(ValidationError):
        filing_approve(filing=filing, by=reviewer)
    filing.refresh_from_db()
    assert filing.number == number


# Scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, kwargs",
    [
        (filing_approve, {}),
        (filing_reject, {"reason": "不符合要求"}),
        (filing_recheck, {}),
    ],
)
def test_a_bureau_cannot_act_on_another_provinces_filing(action, kwargs):
    filing = submit(domains=["scope.cn"])

    with pytest.raises(OutOfScope):
        action(filing=filing, by=shanghai_reviewer(), **kwargs)

    filing.refresh_from_db()
    assert filing.status == "pending_review"


def test_a_bureau_cannot_revoke_another_provinces_filing_but_the_ministry_can():
    filing = approved(domains=["far.cn"], province="31")

    with pytest.raises(OutOfScope):
        filing_revoke(filing=filing, by=beijing_reviewer(), reason="抢注")
    filing_revoke(filing=filing, by=MinistryFactory(), reason="抢注")

    filing.refresh_from_db()
    assert filing.status == "revoked"


def test_an_owner_or_inactive_staff_cannot_decide():
    filing = submit(domains=["who.cn"])
    with pytest.raises(OutOfScope):
        filing_approve(filing=filing, by=filing.owner)
    with pytest.raises(OutOfScope):
        filing_approve(filing=filing, by=beijing_reviewer(is_active=False))


# Reject -----------------------------------------------------------------------------------


def test_rejection_needs_a_reason_and_emails_it(outbox_messages):
    reviewer = beijing_reviewer()
    filing = submit(domains=["no.cn"])

    with pytest.raises(ValidationError) as error:
        filing_reject(filing=filing, by=reviewer, reason="   ")
    assert "reason" in error.value.message_dict

    filing_reject(filing=filing, by=reviewer, reason="网站名称与主办单位不符")
    filing.refresh_from_db()
    assert filing.status == "rejected"
    assert filing.rejection_reason == "网站名称与主办单位不符"
    assert "网站名称与主办单位不符" in outbox_messages(to=filing.owner.email)[0]["body"]
    assert audit_actions(filing)[-1] == "filing.reject"


def test_rejecting_a_conflicted_filing_requires_the_conflict_cause_and_the_other_party_contact():
    reviewer = beijing_reviewer()
    other = approved(domains=["dispute.cn"], mobile="13911112222", email="other@example.cn")
    filing = submit(domains=["dispute.cn"], homepage="http://m.dispute.cn/")

    for reason in [
        "与他人冲突",  # neither
        "域名 dispute.cn 已被他人备案",  # the cause without the contact
        "请联系 13911112222 协商",  # the contact without the cause
    ]:
        with pytest.raises(ValidationError) as error:
            filing_reject(filing=filing, by=reviewer, reason=reason)
        assert "reason" in error.value.message_dict
    filing.refresh_from_db()
    assert filing.status == "pending_review"

    filing_reject(
        filing=filing, by=reviewer, reason="域名 dispute.cn 已由他人备案，请联系 other@example.cn"
    )
    filing.refresh_from_db()
    assert filing.status == "rejected"
    assert not filing.has_open_conflicts
    other.refresh_from_db()
    assert other.status == "approved"


def test_the_prefilled_rejection_text_satisfies_the_rule():
    from filings.models import Conflict

    other = approved(domains=["prefill.cn"], mobile="13922223333")
    filing = submit(domains=["prefill.cn"], homepage="http://m.prefill.cn/")
    conflicts = list(Conflict.objects.filter(filing=filing, resolved_at__isnull=True))
    text = conflict_rejection_text(conflicts)

    assert "prefill.cn" in text
    assert other.principal_mobile in text
    filing_reject(filing=filing, by=beijing_reviewer(), reason=text)


def test_rejecting_an_amendment_keeps_the_approved_data_valid_and_public():
    from filings.serializers import filing_as_json
    from filings.services import filing_save_data, filing_submit

    filing = approved(domains=["stay.cn"])
    data = filing_as_json(filing)
    data["websites"][0]["domains"] = ["stay.cn", "extra-stay.cn"]
    filing_save_data(filing=filing, by=filing.owner, data=data)
    filing_submit(filing=filing, by=filing.owner)

    filing_reject(filing=filing, by=beijing_reviewer(), reason="新增域名未实名")

    filing.refresh_from_db()
    assert filing.status == "approved"
    assert filing.rejection_reason == "新增域名未实名"
    # The working copy is back to the approved data, so no check sees the refused domain.
    assert list(filing.domains.values_list("name", flat=True)) == ["stay.cn"]
    assert list(PublishedDomain.objects.filter(filing=filing).values_list("name", flat=True)) == [
        "stay.cn"
    ]


# Revocation -------------------------------------------------------------------------------


def apply_for_revocation(filing):
    from filings.services import filing_apply_revocation

    return filing_apply_revocation(filing=filing, by=filing.owner, reason="网站已关闭")


def test_granting_a_revocation_revokes_the_filing_and_deactivates_the_owner(outbox_messages):
    filing = approved(domains=["bye.cn"])
    apply_for_revocation(filing)

    revocation_approve(filing=filing, by=beijing_reviewer())

    filing.refresh_from_db()
    assert filing.status == "revoked"
    assert filing.revoked_at is not None
    assert not User.objects.get(pk=filing.owner_id).is_active
    assert not PublishedDomain.objects.filter(filing=filing).exists()
    from certificates.models import Certificate

    assert not Certificate.objects.filter(filing=filing, revoked_at__isnull=True).exists()
    assert "revocation.approve" in audit_actions(filing)
    assert outbox_messages(to=filing.owner.email)[0]["subject"]


def test_refusing_a_revocation_needs_a_reason_and_keeps_the_filing_approved():
    filing = approved(domains=["keep.cn"])
    apply_for_revocation(filing)
    reviewer = beijing_reviewer()

    with pytest.raises(ValidationError):
        revocation_refuse(filing=filing, by=reviewer, reason="")
    revocation_refuse(filing=filing, by=reviewer, reason="仍有网站在运行")

    filing.refresh_from_db()
    assert filing.status == "approved"
    assert User.objects.get(pk=filing.owner_id).is_active


def test_revocation_decisions_need_an_application():
    filing = approved(domains=["noapp.cn"])
    with pytest.raises(ValidationError):
        revocation_approve(filing=filing, by=beijing_reviewer())


def test_own_motion_revocation_needs_a_reason_and_an_approved_filing():
    reviewer = beijing_reviewer()
    pending = submit(domains=["pending.cn"])
    with pytest.raises(ValidationError):
        filing_revoke(filing=pending, by=reviewer, reason="抢注")

    filing = approved(domains=["motion.cn"])
    with pytest.raises(ValidationError) as error:
        filing_revoke(filing=filing, by=reviewer, reason="")
    assert "reason" in error.value.message_dict

    filing_revoke(filing=filing, by=reviewer, reason="虚假备案信息")
    filing.refresh_from_db()
    assert filing.status == "revoked"
    assert filing.revocation_reason == "虚假备案信息"
    entry = AuditLog.objects.get(action="filing.revoke", target_id=str(filing.pk))
    assert entry.after["owner_active"] is False
    # Numbers are never reused: the next approval gets a new one.
    later = approved(domains=["after.cn"])
    assert later.number != filing.number
    assert Website.objects.filter(number__startswith=filing.number).exists()


# Password reset by the bureau (SPEC §2) -------------------------------------------------------


def test_a_bureau_resets_an_owner_password_by_sms_to_be_changed_at_next_login():
    filing = submit(domains=["pw.cn"])
    owner = filing.owner

    bureau_password_reset(account=owner, by=beijing_reviewer())

    owner.refresh_from_db()
    assert owner.password_is_initial
    sms = Message.objects.filter(channel="sms", to=owner.mobile).first()
    password = re.search(r"[A-Za-z0-9]{12}", sms.body).group(0)
    assert owner.check_password(password)
    entry = AuditLog.objects.get(action="account.password_reset", target_id=str(owner.pk))
    assert entry.province_id == "11"
    assert password not in str(entry.before) + str(entry.after) + entry.note


def test_a_bureau_cannot_reset_accounts_of_another_province_or_staff():
    filing = submit(domains=["pw2.cn"], province="31")
    with pytest.raises(OutOfScope):
        bureau_password_reset(account=filing.owner, by=beijing_reviewer())
    with pytest.raises(OutOfScope):
        bureau_password_reset(account=beijing_reviewer(), by=beijing_reviewer())
    bureau_password_reset(account=filing.owner, by=shanghai_reviewer())
    cache.clear()  # the SMS rate limit of one temporary password a minute is proved elsewhere
    bureau_password_reset(account=filing.owner, by=MinistryFactory())
