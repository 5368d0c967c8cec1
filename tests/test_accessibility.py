"""What the pages give assistive technology before any script runs (GB/T 37668-2019, WCAG 2.1
AA): a focusable skip-link target, the wizard's current step, a named scroll region for the
query results, confirmations to focus, and no inline script for a Content-Security-Policy to
block. The browser journeys (tests/e2e) check the rest with axe-core and the keyboard."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AccessProviderFactory, UserFactory
from tests.public_support import approved_filing
from tests.test_filings_wizard import SPONSOR_FORM, website_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client():
    client = Client()
    client.force_login(UserFactory())
    return client


def test_the_skip_link_leads_to_a_main_region_that_can_take_focus(client):
    body = client.get("/").content.decode()
    first_link = re.search(r"<body[^>]*>\s*<a [^>]*>", body).group(0)
    assert 'href="#main"' in first_link
    assert re.search(r'<main id="main"[^>]* tabindex="-1"', body)


@pytest.mark.parametrize(
    ("url_name", "current"),
    [("filings:sponsor", "1. 主办者"), ("filings:websites", "2. 网站")],
)
def test_the_wizard_tells_screen_readers_which_step_is_current(owner_client, url_name, current):
    owner_client.post(reverse("filings:sponsor"), SPONSOR_FORM)
    body = owner_client.get(reverse(url_name)).content.decode()
    marked = re.findall(r'<li [^>]*aria-current="step"[^>]*>(.*?)</li>', body)
    assert len(marked) == 1
    assert current in marked[0]


def test_the_query_results_box_is_a_named_region_the_keyboard_can_scroll(client):
    approved_filing(
        sponsor_name="北京花开科技有限公司",
        websites=[
            {"name": "花开博客", "homepage": "http://www.blossom.cn/", "domains": ["blossom.cn"]}
        ],
    )
    body = client.get("/query/", {"q": "blossom.cn"}).content.decode()
    box = re.search(r'<div class="table-responsive"[^>]*>', body).group(0)
    assert 'tabindex="0"' in box and 'role="region"' in box
    # Each kind's table is named by its heading (websites, apps, mini-programs).
    assert 'aria-labelledby="results-website"' in box
    assert re.search(r'<h3[^>]* id="results-website"', body)
    assert 'id="results-title"' in body


def test_saving_a_website_confirms_it_by_name_where_focus_will_land(owner_client):
    AccessProviderFactory()
    owner_client.post(reverse("filings:sponsor"), SPONSOR_FORM)
    saved = owner_client.post(
        reverse("filings:website-new"), website_form(access_provider="other"), follow=True
    )
    body = saved.content.decode()
    assert saved.redirect_chain[-1][0] == reverse("filings:websites")
    assert re.search(r'role="status" data-message>网站“示例新闻网”已保存。<', body)


def test_a_failed_save_shows_a_summary_the_focus_script_can_reach(owner_client):
    body = owner_client.post(
        reverse("filings:sponsor"), {**SPONSOR_FORM, "id_number": "not-a-code"}
    ).content.decode()
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1"', body)
    assert "/static/js/focus.js" in body


def test_pages_carry_no_inline_script(client, owner_client):
    for page in (
        client.get("/"),
        client.get("/accounts/login/"),
        owner_client.get(reverse("filings:task_list")),
    ):
        scripts = re.findall(r"<script\b[^>]*>", page.content.decode())
        assert scripts and all(" src=" in tag for tag in scripts), scripts
