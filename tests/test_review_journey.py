"""The issue's "done when": with the demo data, a Beijing reviewer settles a squatted domain."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from filings.models import Filing
from review.demo import CONFLICT_DOMAIN, OWNERS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def test_a_beijing_reviewer_revokes_the_squatter_rechecks_and_approves_the_rightful_owner(
    otp_client, capsys
):
    call_command("seed_demo")
    beijing = otp_client(User.objects.get(username="beijing"))
    shanghai = otp_client(User.objects.get(username="shanghai"))
    squatter = Filing.objects.get(owner__username="demo-squatter")
    rightful = Filing.objects.get(owner__username="demo-rightful")

    # The queue, by deadline, with the conflicted item flagged.
    queue = beijing.get(reverse("review:queue") + "?conflicts=on")
    assert [row.filing.pk for row in queue.context["rows"]] == [rightful.pk]

    # The conflict panel names the squatter, its account and contact, and offers revocation.
    detail = beijing.get(reverse("review:detail", args=[rightful.pk]))
    conflicts = detail.context["open_conflicts"]
    assert {(c.conflict.field, c.conflict.value) for c in conflicts} >= {
        ("domain", CONFLICT_DOMAIN)
    }
    assert {c.other.pk for c in conflicts} == {squatter.pk}
    assert all(c.can_revoke for c in conflicts)
    assert squatter.principal_mobile in detail.content.decode()

    # Revoke the squatter's approved filing, coming back to the rightful one.
    response = beijing.post(
        reverse("review:revoke", args=[squatter.pk]),
        {
            "revoke-reason": f"恶意抢注 {CONFLICT_DOMAIN}",
            "revoke-return_to": rightful.pk,
            "revoke-confirmed": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("review:detail", args=[rightful.pk]))
    squatter.refresh_from_db()
    assert squatter.status == "revoked"
    assert not squatter.owner.is_active

    # Re-check, then approve.
    beijing.post(reverse("review:recheck", args=[rightful.pk]))
    rightful.refresh_from_db()
    assert not rightful.has_open_conflicts
    beijing.post(reverse("review:approve", args=[rightful.pk]))
    rightful.refresh_from_db()
    assert rightful.status == "approved"
    assert re.fullmatch(r"京ICP备2\d{3}\d{6}号", rightful.number)
    assert rightful.websites.order_by("position").first().number == rightful.number + "-1"

    # Shanghai sees none of it.
    page = shanghai.get(reverse("review:queue") + "?status=all").content.decode()
    assert rightful.sponsor_name not in page
    assert squatter.sponsor_name not in page
    for filing in (rightful, squatter):
        assert shanghai.get(reverse("review:detail", args=[filing.pk])).status_code == 404
    entries = shanghai.get(reverse("review:audit")).context["page"].object_list
    assert all(entry.province_id == "31" for entry in entries)


def test_seed_demo_can_run_twice(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    usernames = [owner[0] for owner in OWNERS]
    assert Filing.objects.filter(owner__username__in=usernames).count() == len(OWNERS)
