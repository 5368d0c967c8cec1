"""Conflicts (Q17): another account's filing with the same homepage, a shared domain or the
same sponsor full name, in any province; drafts, rejected and revoked filings never conflict.
The conflict belongs to the later submission; the earlier filing shows it as a notice."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import translation

from filings.conflicts import detect_conflicts
from filings.models import Conflict, Filing
from review.services import filing_approve, filing_recheck, filing_reject, filing_revoke
from tests.factories import FilingFactory, MinistryFactory, UserFactory, WebsiteFactory
from tests.review_support import approved, beijing_reviewer, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def open_conflicts(filing):
    return list(
        Conflict.objects.filter(
            filing=filing, kind=Conflict.Kind.CONFLICT, resolved_at__isnull=True
        ).values_list("field", "value", "other_filing_id", "other_account_id")
    )


def later_claims(filing):
    return list(
        Conflict.objects.filter(
            filing=filing, kind=Conflict.Kind.LATER_CLAIM, resolved_at__isnull=True
        ).values_list("field", "value", "other_filing_id", "other_account_id")
    )


def test_a_shared_domain_conflicts_with_the_other_filing_and_its_account():
    first = submit(domains=["shared.cn", "first-only.cn"])
    second = submit(domains=["shared.cn"], homepage="http://shop.shared.cn/")

    assert open_conflicts(second) == [("domain", "shared.cn", first.pk, first.owner_id)]
    second.refresh_from_db()
    assert second.has_open_conflicts


def test_the_earlier_filing_shows_the_later_claim_as_a_notice_not_a_conflict():
    first = submit(domains=["both.cn"])
    second = submit(domains=["both.cn"], homepage="http://m.both.cn/")

    first.refresh_from_db()
    assert not first.has_open_conflicts
    assert open_conflicts(first) == []
    assert later_claims(first) == [("domain", "both.cn", second.pk, second.owner_id)]
    assert later_claims(second) == []


def test_a_later_submission_does_not_block_the_first_filer():
    reviewer = beijing_reviewer()
    first = submit(domains=["a.cn"])
    squatting = submit(domains=["a.cn"], homepage="http://shop.a.cn/")

    filing_approve(filing=first, by=reviewer)

    first.refresh_from_db()
    assert first.status == "approved"
    squatting.refresh_from_db()
    assert squatting.has_open_conflicts


def test_the_earlier_filer_submitting_again_stays_the_earlier_one():
    first = submit(domains=["again.cn"])
    later = submit(domains=["again.cn"], homepage="http://m.again.cn/")

    # Q19: the first owner corrects the filing under review; the later claim is still later.
    submit(first.owner, domains=["again.cn", "again-extra.cn"])

    first.refresh_from_db()
    assert first.status == "pending_review"
    assert not first.has_open_conflicts
    assert later_claims(first) == [("domain", "again.cn", later.pk, later.owner_id)]
    assert open_conflicts(later) == [("domain", "again.cn", first.pk, first.owner_id)]


def test_an_approved_filer_amending_stays_the_earlier_one_but_a_domain_it_adds_is_its_conflict():
    reviewer = beijing_reviewer()
    first = approved(domains=["amend-kept.cn"])
    later = submit(domains=["amend-kept.cn"], homepage="http://m.amend-kept.cn/")
    elsewhere = submit(domains=["amend-added.cn"])

    amendment = submit(first.owner, domains=["amend-kept.cn", "amend-added.cn"])

    assert amendment.status == "amendment_pending"
    assert open_conflicts(amendment) == [
        ("domain", "amend-added.cn", elsewhere.pk, elsewhere.owner_id)
    ]
    assert ("domain", "amend-kept.cn", later.pk, later.owner_id) in later_claims(amendment)
    assert open_conflicts(later) == [("domain", "amend-kept.cn", first.pk, first.owner_id)]
    with pytest.raises(ValidationError):
        filing_approve(filing=amendment, by=reviewer)
    filing_approve(filing=elsewhere, by=reviewer)


def test_the_same_homepage_conflicts_whatever_its_scheme_case_or_trailing_slash():
    first = submit(domains=["home.cn"], homepage="http://www.home.cn/")
    second = submit(domains=["home.cn"], homepage="HTTPS://WWW.HOME.CN")

    fields = {field for field, *_ in open_conflicts(second)}
    assert fields == {"domain", "homepage"}
    homepage = [c for c in open_conflicts(second) if c[0] == "homepage"][0]
    assert homepage[2] == first.pk


@pytest.mark.parametrize(
    "first_name, second_name",
    [
        ("北京示例科技有限公司", "  北京示例科技有限公司 "),
        ("Example Technology Co., Ltd.", "EXAMPLE technology co., ltd."),
        ("ＡＢＣ网络科技（北京）有限公司", "ABC网络科技(北京)有限公司"),
    ],
)
def test_the_same_sponsor_name_after_normalisation_conflicts(first_name, second_name):
    first = submit(name=first_name, domains=["name-a.cn"])
    second = submit(name=second_name, domains=["name-b.cn"])

    assert [(f, o) for f, _v, o, _a in open_conflicts(second)] == [("sponsor_name", first.pk)]


def test_filings_in_other_provinces_conflict_too():
    shanghai = submit(province="31", domains=["cross.cn"])
    beijing = submit(province="11", domains=["cross.cn"], homepage="http://bj.cross.cn/")

    assert [(f, o) for f, _v, o, _a in open_conflicts(beijing)] == [("domain", shanghai.pk)]


def test_the_same_account_never_conflicts_with_itself():
    owner = UserFactory()
    filing = submit(owner, domains=["mine.cn"])
    assert detect_conflicts(filing=filing) == []
    assert open_conflicts(filing) == []


@pytest.mark.parametrize("status", ["draft", "rejected", "revoked"])
def test_drafts_rejected_and_revoked_filings_do_not_conflict(status):
    other = FilingFactory(status=status, sponsor_name="停用的主办单位")
    WebsiteFactory(filing=other, homepage="http://www.quiet.cn/", domains=["quiet.cn"])

    filing = submit(name="停用的主办单位", domains=["quiet.cn"], homepage="http://www.quiet.cn/")

    assert open_conflicts(filing) == []


def test_an_approved_domain_still_conflicts_while_an_amendment_drops_it():
    squatter = approved(domains=["kept.cn"])
    # The amendment under review no longer names the domain, but the approved data is public.
    Filing.objects.filter(pk=squatter.pk).update(status=Filing.Status.AMENDMENT_PENDING)
    squatter.domains.all().delete()

    filing = submit(domains=["kept.cn"], homepage="http://new.kept.cn/")

    assert [(f, o) for f, _v, o, _a in open_conflicts(filing)] == [("domain", squatter.pk)]


def test_revoking_the_squatter_then_rechecking_clears_the_conflict():
    reviewer = beijing_reviewer()
    squatter = approved(domains=["squat.cn"])
    rightful = submit(domains=["squat.cn"], homepage="http://shop.squat.cn/")
    assert rightful.has_open_conflicts

    filing_revoke(filing=squatter, by=reviewer, reason="恶意抢注他人域名")
    rightful.refresh_from_db()
    # Revoking alone does not decide for the bureau: the conflict stays until re-checked.
    assert rightful.has_open_conflicts

    filing_recheck(filing=rightful, by=reviewer)

    rightful.refresh_from_db()
    assert not rightful.has_open_conflicts
    assert open_conflicts(rightful) == []
    assert Conflict.objects.filter(filing=rightful, resolved_at__isnull=False).count() == 1


def test_recheck_finds_a_conflict_that_appeared_since_and_emails_the_owner(outbox_messages):
    reviewer = beijing_reviewer()
    filing = submit(domains=["later.cn"])
    other = FilingFactory(status="approved", number="沪ICP备2026999999号")
    WebsiteFactory(filing=other, homepage="http://www.later.cn/", domains=["later.cn"])

    filing_recheck(filing=filing, by=reviewer)

    filing.refresh_from_db()
    assert filing.has_open_conflicts
    mail = outbox_messages(to=filing.owner.email)[0]
    assert "later.cn" in mail["body"]


def test_a_recheck_by_english_speaking_staff_names_the_field_in_the_owners_language(
    outbox_messages,
):
    reviewer = beijing_reviewer()
    filing = submit(domains=["later.cn"])
    other = FilingFactory(status="approved", number="沪ICP备2026999998号")
    WebsiteFactory(filing=other, homepage="http://www.later.cn/", domains=["later.cn"])

    with translation.override("en"):
        filing_recheck(filing=filing, by=reviewer)

    mail = outbox_messages(to=filing.owner.email)[0]
    assert "域名: later.cn" in mail["body"] or "域名：later.cn" in mail["body"]


def test_rejecting_the_later_filing_takes_its_notice_off_the_earlier_one():
    reviewer = beijing_reviewer()
    first = submit(domains=["gone.cn"])
    second = submit(domains=["gone.cn"], homepage="http://m.gone.cn/")
    assert later_claims(first)
    reason = "域名 gone.cn 与他人备案冲突，请联系 " + first.principal_mobile

    filing_reject(filing=second, by=reviewer, reason=reason)

    assert later_claims(first) == []
    assert open_conflicts(second) == []


def test_a_rejected_earlier_filing_leaves_the_later_ones_conflict_open_until_rechecked():
    reviewer = beijing_reviewer()
    first = submit(domains=["left.cn"])
    second = submit(domains=["left.cn"], homepage="http://m.left.cn/")

    filing_reject(filing=first, by=reviewer, reason="材料不全")
    second.refresh_from_db()
    assert second.has_open_conflicts

    filing_recheck(filing=second, by=MinistryFactory())
    second.refresh_from_db()
    assert not second.has_open_conflicts


def test_a_recheck_decides_a_pair_found_then_by_the_time_of_submission():
    from datetime import timedelta

    from django.utils import timezone

    reviewer = beijing_reviewer()
    filing = submit(domains=["found-late.cn"])
    # Data the system saw no submission of (written directly): which one came first is read
    # from the submission times.
    newer = FilingFactory(status="pending_review", submitted_at=timezone.now() + timedelta(1))
    WebsiteFactory(filing=newer, homepage="http://m.found-late.cn/", domains=["found-late.cn"])

    filing_recheck(filing=filing, by=reviewer)

    filing.refresh_from_db()
    assert not filing.has_open_conflicts
    assert later_claims(filing) == [("domain", "found-late.cn", newer.pk, newer.owner_id)]
    assert open_conflicts(newer) == [("domain", "found-late.cn", filing.pk, filing.owner_id)]


# The race: two owners submit the same domain at the same moment (PostgreSQL only) ----------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row and advisory locks"
)
def test_two_owners_submitting_the_same_domain_at_once_exactly_one_holds_the_conflict():
    from filings.services import filing_create, filing_save_data, filing_submit
    from tests.review_support import filing_data

    owners = [UserFactory(), UserFactory()]
    filings = []
    for i, owner in enumerate(owners):
        filing = filing_create(owner=owner)
        filing_save_data(
            filing=filing,
            by=owner,
            data=filing_data(
                name=f"并发测试公司{i}",
                domains=["race.cn"],
                homepage=f"http://w{i}.race.cn/",
                mobile=f"1360000000{i}",
                email=f"race{i}@example.cn",
            ),
        )
        filings.append(filing)

    barrier = threading.Barrier(2)
    errors = []

    def run(filing, owner):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                filing_submit(filing=filing, by=owner)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(f, o)) for f, o in zip(filings, owners, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    for filing in filings:
        filing.refresh_from_db()
        assert filing.status == "pending_review"
    # The one whose submission came second holds the conflict; the first shows the notice.
    later, earlier = sorted(filings, key=lambda f: f.has_open_conflicts, reverse=True)
    assert later.has_open_conflicts and not earlier.has_open_conflicts
    assert open_conflicts(later) == [("domain", "race.cn", earlier.pk, earlier.owner_id)]
    assert open_conflicts(earlier) == []
    assert later_claims(earlier) == [("domain", "race.cn", later.pk, later.owner_id)]


# Many filings at once (a chunk of a provider import) ------------------------------------------


def _pending(domains, *, name=None, homepage=None):
    website = WebsiteFactory(
        filing__status="pending_review",
        domains=domains,
        **({"filing__sponsor_name": name} if name else {}),
        **({"homepage": homepage} if homepage else {}),
    )
    return website.filing


def test_filings_detected_together_conflict_with_each_other_and_with_an_existing_filing():
    from filings.conflicts import detect_conflicts_many

    existing = submit(domains=["batch-shared.cn"])
    one = _pending(["batch-shared.cn", "one-only.cn"])
    two = _pending(["batch-shared.cn"])
    alone = _pending(["alone.cn"])

    new = detect_conflicts_many([one, two, alone])

    # In order: "one" came after the existing filing, "two" after both.
    assert [(c.other_filing_id, c.value) for c in new[one.pk]] == [(existing.pk, "batch-shared.cn")]
    assert sorted(c.other_filing_id for c in new[two.pk]) == sorted([existing.pk, one.pk])
    assert new[alone.pk] == []
    # The existing filing shows both later claims once each; "one" shows the claim of "two".
    assert sorted(o for _f, _v, o, _a in later_claims(existing)) == sorted([one.pk, two.pk])
    assert [o for _f, _v, o, _a in later_claims(one)] == [two.pk]
    flags = dict(
        Filing.objects.filter(pk__in=[existing.pk, one.pk, two.pk, alone.pk]).values_list(
            "pk", "has_open_conflicts"
        )
    )
    assert flags == {existing.pk: False, one.pk: True, two.pk: True, alone.pk: False}

    # Detecting again records nothing twice.
    again = detect_conflicts_many([one, two, alone])
    assert again == {one.pk: [], two.pk: [], alone.pk: []}
    assert len(later_claims(existing)) == 2
    assert len(open_conflicts(two)) == 2


def test_detection_costs_the_same_queries_for_one_filing_or_twenty():
    from django.test.utils import CaptureQueriesContext

    from filings.conflicts import detect_conflicts_many

    for i in range(21):
        submit(domains=[f"cost-{i}.cn"])
    few = [_pending(["cost-20.cn"])]
    many = [_pending([f"cost-{i}.cn", f"cost-own-{i}.cn"]) for i in range(20)]

    with CaptureQueriesContext(connection) as one_query_set:
        detect_conflicts_many(few)
    with CaptureQueriesContext(connection) as many_query_set:
        detect_conflicts_many(many)

    assert len(many_query_set) == len(one_query_set) <= 8
    assert all(open_conflicts(filing) for filing in many)


def test_a_conflict_that_went_away_is_resolved_on_the_next_detection():
    first = submit(domains=["gone-later.cn"])
    second = submit(domains=["gone-later.cn"], homepage="http://m.gone-later.cn/")
    assert open_conflicts(second)

    first.status = Filing.Status.REJECTED
    first.save(update_fields=["status"])
    assert detect_conflicts(filing=second) == []

    assert open_conflicts(second) == []
    second.refresh_from_db()
    assert not second.has_open_conflicts


def test_filings_detected_together_record_what_one_by_one_submission_would():
    from filings.conflicts import detect_conflicts_many

    earlier = _pending(["together-first.cn"], homepage="http://www.together.cn/")
    later = _pending(["together-second.cn"], homepage="HTTPS://WWW.TOGETHER.CN")

    detect_conflicts_many([earlier, later])

    # As if "later" had been submitted after "earlier": both sides name the earlier homepage.
    assert open_conflicts(earlier) == []
    assert [(f, v) for f, v, _o, _a in later_claims(earlier)] == [
        ("homepage", "http://www.together.cn/")
    ]
    assert [(f, v) for f, v, _o, _a in open_conflicts(later)] == [
        ("homepage", "http://www.together.cn/")
    ]


def test_one_by_one_submission_records_the_earlier_homepage_on_both_sides():
    earlier = submit(domains=["apart.cn"], homepage="http://www.apart.cn/")
    later = submit(domains=["apart.cn"], homepage="HTTPS://WWW.APART.CN")

    def homepages(rows):
        return [v for f, v, _o, _a in rows if f == "homepage"]

    assert homepages(later_claims(earlier)) == homepages(open_conflicts(later))
    assert homepages(open_conflicts(later)) == ["http://www.apart.cn/"]


# Conflicts recorded on both filings before the conflict belonged to the later one ----------


def test_the_migration_turns_the_earlier_side_of_each_open_pair_into_a_notice():
    import importlib
    from datetime import timedelta

    from django.apps import apps
    from django.utils import timezone

    migration = importlib.import_module("filings.migrations.0004_conflict_kind_later_claim")
    now = timezone.now()
    earlier = FilingFactory(status="approved", submitted_at=now - timedelta(days=3))
    later = FilingFactory(status="pending_review", submitted_at=now)
    unrelated = FilingFactory(status="pending_review", submitted_at=now - timedelta(days=9))
    for holder, other in [(earlier, later), (later, earlier)]:
        Conflict.objects.create(
            filing=holder,
            field="domain",
            value="old.cn",
            other_filing=other,
            other_account=other.owner,
        )
    # A one-sided conflict (the other side was resolved) stays a conflict, even if earlier.
    Conflict.objects.create(
        filing=unrelated,
        field="domain",
        value="one-sided.cn",
        other_filing=later,
        other_account=later.owner,
    )
    Filing.objects.filter(pk__in=[earlier.pk, later.pk, unrelated.pk]).update(
        has_open_conflicts=True
    )

    migration.earlier_side_becomes_a_notice(apps, None)

    assert later_claims(earlier) == [("domain", "old.cn", later.pk, later.owner_id)]
    assert open_conflicts(earlier) == []
    assert open_conflicts(later) == [("domain", "old.cn", earlier.pk, earlier.owner_id)]
    assert open_conflicts(unrelated) == [("domain", "one-sided.cn", later.pk, later.owner_id)]
    flags = dict(
        Filing.objects.filter(pk__in=[earlier.pk, later.pk, unrelated.pk]).values_list(
            "pk", "has_open_conflicts"
        )
    )
    assert flags == {earlier.pk: False, later.pk: True, unrelated.pk: True}
