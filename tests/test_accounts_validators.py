"""Mobile numbers, email addresses and usernames (SPEC §2), reusable by other apps."""

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import validate_mainland_mobile, validate_real_email, validate_username


@pytest.fixture(autouse=True)
def _messages_in_english(english):
    """These tests read the English wording of the messages."""


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000", "8613800138000"],
)
def test_a_mainland_mobile_is_stored_in_its_11_digit_form(raw):
    assert validate_mainland_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw",
    ["", "1380013800", "12345678901", "+1 415 555 0100", "+852 9123 4567", "1380013800a", "x" * 30],
)
def test_what_is_not_a_mainland_mobile_is_refused_with_an_example(raw):
    with pytest.raises(ValidationError, match="13800138000"):
        validate_mainland_mobile(raw)


def test_a_landline_is_refused_as_not_a_mobile():
    with pytest.raises(ValidationError, match="not a mobile"):
        validate_mainland_mobile("010 1234 5678")


@pytest.mark.parametrize(
    "raw", ["a@localhost", "a@b.test", "a@[10.0.0.1]", "a@mail", "a@b.c1", "@b.cn"]
)
def test_addresses_that_cannot_receive_mail_are_refused(raw):
    with pytest.raises(ValidationError):
        validate_real_email(raw)


def test_an_email_domain_is_stored_in_lower_case():
    assert validate_real_email(" Li.Lei@Mail.Example.CN ") == "Li.Lei@mail.example.cn"


@pytest.mark.parametrize("raw", ["abc", "1abc", "ab cd", "张三丰丰", "a" * 33])
def test_usernames_outside_the_rule_are_refused(raw):
    with pytest.raises(ValidationError):
        validate_username(raw)
