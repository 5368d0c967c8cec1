"""README's settings table names every setting an operator can give the portal through the
environment (``beian/settings.py``)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PY = (ROOT / "beian" / "settings.py").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
# ``env.int("NAME", …)``, ``env.db("NAME", …)``, ``flag("NAME", …)`` and the like.
READ_FROM_ENVIRONMENT = re.compile(r'\b(?:env\.[a-z_]+|flag)\(\s*"([A-Z][A-Z0-9_]+)"')


def _table_rows() -> list[str]:
    return [line for line in README.splitlines() if line.startswith("| `")]


def _missing(names: set[str]) -> set[str]:
    rows = _table_rows()
    return {name for name in names if not any(f"`{name}`" in row for row in rows)}


def test_every_api_throttle_rate_setting_is_in_the_readme_settings_table():
    names = set(re.findall(r'env\.str\("(THROTTLE_[A-Z_]+)"', SETTINGS_PY))

    assert {"THROTTLE_PUBLIC", "THROTTLE_GATING", "THROTTLE_AUTH"} <= names
    assert not _missing(names)


def test_every_setting_read_from_the_environment_is_in_the_readme_settings_table():
    names = set(READ_FROM_ENVIRONMENT.findall(SETTINGS_PY))

    # The pattern finds the kinds of reads settings.py makes.
    assert {"DATABASE_URL", "EMAIL_URL", "DEBUG", "CAPTCHA_TEST_MODE", "UPLOAD_MAX_BYTES"} <= names
    assert not _missing(names)


def test_the_captcha_test_mode_row_says_it_is_for_tests_and_refused_in_production():
    (row,) = [line for line in _table_rows() if "`CAPTCHA_TEST_MODE`" in line]
    assert "off" in row and "refused in production" in row
