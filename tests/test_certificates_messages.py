"""What the installation checks say: in the reader's language, with domains and addresses as
people write them (Unicode, not A-labels), whoever ran the check and whenever it is read."""

import re
import socket
from pathlib import Path

import pytest
from django.urls import reverse

from certificates import tasks
from certificates.compliance import run_check
from tests.test_certificates_support import approved_filing

pytestmark = pytest.mark.django_db

TYPED = "新手测试cbx。中国"
UNICODE = "新手测试cbx.中国"
A_LABEL = "xn--cbx-f05fx3m28nv75c.xn--fiqs8s"


@pytest.fixture
def nothing_resolves(settings, monkeypatch):
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = False
    settings.COMPLIANCE_RESOLVE = {}
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    settings.COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS = 0

    def no_answer(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)


@pytest.fixture
def checks_run_at_once(monkeypatch):
    for task in (tasks.check_public_domain, tasks.check_domain):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.run(*args))


def read_in(client, language):
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(
    ("language", "headline", "reason"),
    [
        (
            "zh-hans",
            f"http://{UNICODE}/cert/bazs.cert 上不是有效的证书。",
            f"{UNICODE}：域名无法解析。",
        ),
        (
            "en",
            f"http://{UNICODE}/cert/bazs.cert does not hold the valid certificate.",
            f"{UNICODE}: the name does not resolve.",
        ),
    ],
)
def test_the_public_installation_check_reads_in_the_visitors_language_with_the_unicode_domain(
    client, nothing_resolves, checks_run_at_once, language, headline, reason
):
    approved_filing(domains=(A_LABEL,))

    answer = read_in(client, language).post(
        reverse("certificates:verify-domain"), {"domain": TYPED}, follow=True
    )

    page = answer.content.decode()
    assert headline in page
    assert reason in page
    assert "xn--" not in page
    assert answer.context["domain_form"]["domain"].value() == UNICODE


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh-hans", f"{UNICODE}：域名无法解析。"), ("en", f"{UNICODE}: the name does not resolve.")],
)
def test_the_owners_check_on_the_task_list_reads_in_the_owners_language(
    client, nothing_resolves, checks_run_at_once, language, reason
):
    filing = approved_filing(domains=(A_LABEL,))
    client.force_login(filing.owner)
    read_in(client, language)

    client.post(f"/certificates/{filing.pk}/check/")
    tasks_page = client.get(reverse("filings:task_list")).content.decode()
    guide = client.get(f"/certificates/{filing.pk}/install/").content.decode()

    for page in (tasks_page, guide):
        assert reason in page
        assert "xn--" not in page


@pytest.mark.parametrize(
    ("address", "english", "chinese"),
    [
        (
            "10.0.0.1:80",
            f"{UNICODE} resolves to a non-public address, 10.0.0.1.",
            f"{UNICODE} 解析到非公网地址 10.0.0.1。",
        ),
        (
            "127.0.0.1:1",
            f"http://{UNICODE}/cert/bazs.cert: the connection failed (ConnectionRefusedError).",
            f"http://{UNICODE}/cert/bazs.cert：连接失败（ConnectionRefusedError）。",
        ),
    ],
)
def test_every_outbound_failure_is_stored_as_a_message_read_in_either_language(
    settings, address, english, chinese
):
    from django.utils import translation

    from beian.coded import encode, render

    settings.COMPLIANCE_RESOLVE = {A_LABEL: address}
    # A closed local port stands for a server that refuses the connection.
    settings.COMPLIANCE_ALLOW_PRIVATE_TARGETS = address.startswith("127.")
    settings.COMPLIANCE_HOST_INTERVAL_SECONDS = 0
    filing = approved_filing(domains=(A_LABEL,))

    check = run_check(filing=filing, domain=A_LABEL, trigger="owner")

    assert check.detail == english
    assert encode(check.detail)["code"] != check.detail  # a message id with values
    with translation.override("zh-hans"):
        assert render(check.detail) == chinese
    with translation.override("en"):
        assert render(check.detail) == english


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}(.*?){%\s*endblocktrans(?:late)?\s*%}", re.S)


def test_no_translated_block_puts_a_filter_or_an_attribute_inside_its_text():
    """Inside ``blocktranslate`` a ``{{ x|filter }}`` renders nothing and makes a message id
    the catalogue does not have; filters belong in its ``with`` clause."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {{{{{name.strip()}}}}}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file() and path.suffix in {".html", ".txt"}
        for block in BLOCK.findall(path.read_text(encoding="utf-8"))
        for name in re.findall(r"{{(.*?)}}", block)
        if "|" in name or "." in name
    ]
    assert offenders == []
