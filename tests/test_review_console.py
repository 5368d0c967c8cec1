"""The review console pages: OTP-verified staff only, each bureau its own province only (404
for anything else), the queue by deadline with its filters, the filing page and its forms."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing
from tests.factories import MinistryFactory, UserFactory
from tests.review_support import (
    approved,
    beijing_reviewer,
    overdue,
    shanghai_reviewer,
    submit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

LIST_PAGES = [
    "review:queue",
    "review:export",
    "review:deadlines",
    "review:statistics",
    "review:audit",
]
# name, method, extra POST data
FILING_PAGES = [
    ("review:detail", "get", {}),
    ("review:approve", "post", {}),
    ("review:reject", "post", {"reject-reason": "不符合要求"}),
    ("review:recheck", "post", {}),
    ("review:revoke", "post", {"revoke-reason": "抢注"}),
    ("review:revocation", "post", {"decision": "grant"}),
    ("review:password-reset", "post", {}),
]


def with_document(filing):
    from filings.models import Document

    return Document.objects.create(
        filing=filing,
        file=SimpleUploadedFile("approval.pdf", PDF),
        original_name="approval.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_by=filing.owner,
    )


@pytest.fixture
def beijing_filing():
    filing = submit(name="北京隔离测试有限公司", domains=["isolated.cn"])
    with_document(filing)
    return filing


# Who may open the console -------------------------------------------------------------------


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_need_a_signed_in_verified_staff_member(client, name, otp_client):
    url = reverse(name)
    assert client.get(url).status_code == 302  # to the login page

    owner = UserFactory()
    assert otp_client(owner).get(url).status_code == 403

    reviewer = beijing_reviewer()
    unverified = client
    unverified.force_login(reviewer)
    response = unverified.get(url)
    assert response.status_code == 302
    assert "otp" in response["Location"]

    assert otp_client(reviewer).get(url).status_code == 200


@pytest.mark.parametrize("name, method, data", FILING_PAGES)
def test_every_filing_page_answers_404_to_another_province(
    name, method, data, otp_client, beijing_filing
):
    client = otp_client(shanghai_reviewer())
    url = reverse(name, args=[beijing_filing.pk])

    response = getattr(client, method)(url, data)

    assert response.status_code == 404
    beijing_filing.refresh_from_db()
    assert beijing_filing.status == "pending_review"
    assert beijing_filing.owner.check_password("Correct-Horse-9")


def test_documents_answer_404_to_another_province(otp_client, beijing_filing):
    document = beijing_filing.documents.get()
    url = reverse("review:document", args=[beijing_filing.pk, document.pk])

    assert otp_client(shanghai_reviewer()).get(url).status_code == 404
    response = otp_client(beijing_reviewer()).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    # A document id of another filing is not reachable through this filing.
    other = submit(domains=["other-doc.cn"])
    assert (
        otp_client(beijing_reviewer())
        .get(reverse("review:document", args=[other.pk, document.pk]))
        .status_code
        == 404
    )


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_show_nothing_of_another_province(name, otp_client, beijing_filing):
    reviewer = beijing_reviewer()
    from review.services import filing_recheck

    filing_recheck(filing=beijing_filing, by=reviewer)  # an audit row in Beijing
    query = "?status=all" if name in ("review:queue", "review:export") else ""

    shanghai = otp_client(shanghai_reviewer()).get(reverse(name) + query)
    beijing = otp_client(reviewer).get(reverse(name) + query)

    def text(response):
        if response.streaming:
            return b"".join(response.streaming_content).decode()
        return response.content.decode()

    if name in ("review:queue", "review:export", "review:audit"):
        assert str(beijing_filing.pk) in text(beijing)
    assert "北京隔离测试有限公司" not in text(shanghai)
    assert f"/review/filings/{beijing_filing.pk}/" not in text(shanghai)


def test_search_does_not_cross_provinces(otp_client, beijing_filing):
    url = reverse("review:queue") + "?status=all&q=isolated.cn"
    assert "北京隔离测试有限公司" in otp_client(beijing_reviewer()).get(url).content.decode()
    assert "北京隔离测试有限公司" not in otp_client(shanghai_reviewer()).get(url).content.decode()


def test_the_ministry_sees_every_province(otp_client, beijing_filing):
    shanghai = submit(province="31", name="上海部级可见有限公司", domains=["ministry.cn"])
    page = otp_client(MinistryFactory()).get(reverse("review:queue")).content.decode()
    assert "北京隔离测试有限公司" in page
    assert "上海部级可见有限公司" in page
    detail = otp_client(MinistryFactory()).get(reverse("review:detail", args=[shanghai.pk]))
    assert detail.status_code == 200


# The queue ----------------------------------------------------------------------------------


def test_the_queue_is_ordered_by_deadline_and_marks_overdue_items(otp_client):
    later = submit(name="较晚到期公司", domains=["later-q.cn"])
    late = overdue(submit(name="已超期公司", domains=["late-q.cn"]))
    approved(name="已通过公司", domains=["done-q.cn"])

    response = otp_client(beijing_reviewer()).get(reverse("review:queue"))

    page = response.content.decode()
    assert page.index("已超期公司") < page.index("较晚到期公司")
    assert "已通过公司" not in page
    rows = {r.filing.pk: r for r in response.context["rows"]}
    assert rows[late.pk].overdue
    assert not rows[later.pk].overdue
    assert rows[later.pk].days_left == 20
    assert 'class="overdue"' in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=new", {"new"}),
        ("kind=amendment", {"amendment"}),
        ("kind=revocation", {"revocation"}),
        ("conflicts=on", {"conflicted"}),
        ("preapproval=on", {"preapproval"}),
        ("overdue=on", {"overdue"}),
    ],
)
def test_the_queue_filters(otp_client, query, expected):
    from filings.services import filing_apply_revocation

    made = {
        "new": submit(domains=["f-new.cn"]),
        "overdue": overdue(submit(domains=["f-late.cn"])),
    }
    made["conflicted"] = submit(domains=["f-new.cn"], homepage="http://m.f-new.cn/")
    pre = submit(domains=["f-pre.cn"])
    Filing.objects.filter(pk=pre.pk).update(has_preapproval=True)
    made["preapproval"] = pre
    amendment = approved(domains=["f-amend.cn"])
    Filing.objects.filter(pk=amendment.pk).update(status="amendment_pending")
    made["amendment"] = amendment
    revocation = approved(domains=["f-revoke.cn"])
    filing_apply_revocation(filing=revocation, by=revocation.owner, reason="关闭")
    made["revocation"] = revocation

    response = otp_client(beijing_reviewer()).get(reverse("review:queue") + "?" + query)

    shown = {r.filing.pk for r in response.context["rows"]}
    for key in expected:
        assert made[key].pk in shown
    if query.startswith("kind="):
        kind = query.split("=")[1]
        assert {r.kind for r in response.context["rows"]} == {kind}
    if query == "overdue=on":
        assert shown == {made["overdue"].pk}


def test_the_queue_costs_the_same_queries_for_many_rows(otp_client):
    client = otp_client(beijing_reviewer())
    for i in range(2):
        submit(domains=[f"few{i}.cn"])
    client.get(reverse("review:queue"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("review:queue"))
    for i in range(12):
        submit(domains=[f"many{i}.cn"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("review:queue"))
    assert len(response.context["rows"]) == 14
    assert len(many) == len(few)


def test_the_queue_paginates(otp_client, monkeypatch):
    from review import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(3):
        submit(domains=[f"page{i}.cn"])
    client = otp_client(beijing_reviewer())
    first = client.get(reverse("review:queue"))
    second = client.get(reverse("review:queue") + "?page=2")
    assert len(first.context["rows"]) == 2
    assert len(second.context["rows"]) == 1
    assert client.get(reverse("review:queue") + "?page=banana").status_code == 200


def test_the_export_is_a_csv_of_the_filtered_queue(otp_client):
    submit(name="导出公司", domains=["export.cn"])
    response = otp_client(beijing_reviewer()).get(reverse("review:export") + "?kind=new")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    lines = body.strip().splitlines()
    assert len(lines) == 2
    assert "导出公司" in lines[1]
    assert "export.cn" in lines[1]


# The filing page ------------------------------------------------------------------------------


def test_the_filing_page_shows_the_conflict_and_the_other_party(otp_client):
    squatter = approved(
        name="抢注网络工作室", domains=["claimed.cn"], mobile="13912340000", email="sq@example.cn"
    )
    filing = submit(name="正当权利人公司", domains=["claimed.cn"], homepage="http://m.claimed.cn/")

    response = otp_client(beijing_reviewer()).get(reverse("review:detail", args=[filing.pk]))

    page = response.content.decode()
    assert "抢注网络工作室" in page
    assert squatter.owner.username in page
    assert "13912340000" in page
    assert "sq@example.cn" in page
    # The rejection form starts with the conflict cause and the other party's contact.
    initial = response.context["reject_form"].initial["reason"]
    assert "claimed.cn" in initial
    assert "13912340000" in initial
    # No approve button while the conflict is open.
    assert reverse("review:approve", args=[filing.pk]) not in page


def test_the_filing_page_shows_what_changed_since_the_approved_version(otp_client):
    from filings.serializers import filing_as_json
    from filings.services import filing_save_data, filing_submit

    filing = approved(domains=["diff.cn"])
    data = filing_as_json(filing)
    data["websites"][0]["ips"] = ["120.79.1.11"]
    filing_save_data(filing=filing, by=filing.owner, data=data)
    filing_submit(filing=filing, by=filing.owner)

    response = otp_client(beijing_reviewer()).get(reverse("review:detail", args=[filing.pk]))

    changes = response.context["changes"].since_approved
    assert [(c.before, c.after) for c in changes] == [("120.79.1.10", "120.79.1.11")]
    assert "120.79.1.11" in response.content.decode()


def test_rejecting_a_conflicted_filing_without_the_cause_is_refused_on_the_page(otp_client):
    approved(domains=["page-dispute.cn"], mobile="13955556666")
    filing = submit(domains=["page-dispute.cn"], homepage="http://m.page-dispute.cn/")
    client = otp_client(beijing_reviewer())

    response = client.post(
        reverse("review:reject", args=[filing.pk]), {"reject-reason": "资料不全，请补充"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "error-summary" in page
    assert "资料不全，请补充" in page  # what was typed is kept
    filing.refresh_from_db()
    assert filing.status == "pending_review"


def test_approving_from_the_page_shows_the_number(otp_client):
    filing = submit(domains=["page-ok.cn"])
    client = otp_client(beijing_reviewer())

    response = client.post(reverse("review:approve", args=[filing.pk]), follow=True)

    filing.refresh_from_db()
    assert filing.status == "approved"
    assert filing.number in response.content.decode()


def test_an_empty_reason_is_refused_with_the_message_beside_the_field(otp_client):
    filing = approved(domains=["page-empty.cn"])
    response = otp_client(beijing_reviewer()).post(
        reverse("review:revoke", args=[filing.pk]), {"revoke-reason": ""}
    )
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    filing.refresh_from_db()
    assert filing.status == "approved"


def test_password_reset_from_the_page_sends_an_sms(otp_client, outbox_messages):
    filing = submit(domains=["page-pw.cn"])
    otp_client(beijing_reviewer()).post(reverse("review:password-reset", args=[filing.pk]))
    assert outbox_messages(to=filing.owner.mobile)[0]["channel"] == "sms"


# Deadlines and statistics -----------------------------------------------------------------


def test_deadlines_page_lists_due_soon_and_overdue_items(otp_client):
    from beian.workdays import add_working_days

    soon = submit(name="即将到期公司", domains=["soon.cn"])
    Filing.objects.filter(pk=soon.pk).update(
        review_deadline=add_working_days(timezone.localdate(), 2)
    )
    late = overdue(submit(name="超期公司", domains=["late-d.cn"]))

    response = otp_client(beijing_reviewer()).get(reverse("review:deadlines"))

    assert [r.filing.pk for r in response.context["due"]] == [soon.pk]
    assert [r.filing.pk for r in response.context["overdue"]] == [late.pk]


def test_statistics_count_by_status_and_decisions(otp_client):
    approved(domains=["stat-a.cn"])
    submit(domains=["stat-b.cn"])
    approved(domains=["stat-c.cn"], province="31")

    beijing = otp_client(beijing_reviewer()).get(reverse("review:statistics")).context["stats"]
    national = otp_client(MinistryFactory()).get(reverse("review:statistics")).context["stats"]

    assert beijing.national.by_status == {"approved": 1, "pending_review": 1}
    assert sum(w["approved"] for w in beijing.weeks) == 1
    assert beijing.national.median_days == 0
    assert national.national.by_status == {"approved": 2, "pending_review": 1}
    assert len(national.provinces) == 31
    assert sum(w["approved"] for w in national.weeks) == 2


def test_drafts_are_not_shown_to_reviewers(otp_client):
    from tests.factories import FilingFactory

    draft = FilingFactory(status="draft", sponsor_name="草稿公司")
    for user in (beijing_reviewer(), MinistryFactory()):
        client = otp_client(user)
        assert client.get(reverse("review:detail", args=[draft.pk])).status_code == 404
        page = client.get(reverse("review:queue") + "?status=all").content.decode()
        assert "草稿公司" not in page


def test_a_search_for_a_huge_number_is_not_an_error(otp_client):
    response = otp_client(beijing_reviewer()).get(
        reverse("review:queue") + "?status=all&q=" + "9" * 40
    )
    assert response.status_code == 200


def test_the_audit_log_names_actions_in_words_in_chinese_and_english(
    otp_client, beijing_filing, settings
):
    from review.services import filing_recheck

    reviewer = beijing_reviewer()
    filing_recheck(filing=beijing_filing, by=reviewer)
    client = otp_client(reviewer)

    page = client.get(reverse("review:audit")).content.decode()
    assert "重新检查冲突" in page
    assert ">filing.recheck<" not in page
    detail = client.get(reverse("review:detail", args=[beijing_filing.pk])).content.decode()
    assert "重新检查冲突" in detail and "提交备案" in detail

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(reverse("review:audit")).content.decode()
    assert "conflicts re-checked" in english


def test_every_recorded_action_has_a_name_on_the_console():
    import re
    from pathlib import Path

    from beian.audit import ACTION_LABELS

    root = Path(__file__).resolve().parent.parent
    codes = set()
    for path in root.glob("*/*.py"):
        if path.parts[-2] in ("tests", "bench", ".venv"):
            continue
        codes |= set(
            re.findall(
                r'action=(?:[^,\n]* if [^,\n]* else )?"([a-z_]+\.[a-z_]+)"', path.read_text()
            )
        )
        codes |= set(re.findall(r'else "([a-z_]+\.[a-z_]+)"', path.read_text()))
        codes |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"\)', path.read_text()))
    assert {"filing.submit", "filing.reject", "provider.import_client"} <= codes
    assert codes - set(ACTION_LABELS) == set()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_status_in_the_queue_filter_has_its_own_label(otp_client, language):
    import re

    client = otp_client(beijing_reviewer())
    client.cookies["django_language"] = language
    page = client.get(reverse("review:queue")).content.decode()

    select = re.search(r'<select[^>]*name="status".*?</select>', page, re.S).group(0)
    labels = [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]
    assert len(labels) == len(set(labels)) >= 7, labels
    assert ("新备案待审核" if language == "zh-hans" else "new filing pending review") in labels
