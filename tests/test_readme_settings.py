"""README's settings table names the settings an operator tunes the API rates with."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_api_throttle_rate_setting_is_in_the_readme_settings_table():
    settings_py = (ROOT / "beian" / "settings.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'env\.str\("(THROTTLE_[A-Z_]+)"', settings_py))
    table_rows = [line for line in readme.splitlines() if line.startswith("| `")]

    assert {"THROTTLE_PUBLIC", "THROTTLE_GATING", "THROTTLE_AUTH"} <= names
    missing = {name for name in names if not any(f"`{name}`" in row for row in table_rows)}
    assert not missing


def test_every_size_limit_setting_is_in_the_readme_settings_table():
    settings_py = (ROOT / "beian" / "settings.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'env\.int\(\s*"([A-Z_]+_BYTES)"', settings_py))
    table_rows = [line for line in readme.splitlines() if line.startswith("| `")]

    assert {"UPLOAD_MAX_BYTES", "APP_PACKAGE_MAX_BYTES"} <= names
    missing = {name for name in names if not any(f"`{name}`" in row for row in table_rows)}
    assert not missing
