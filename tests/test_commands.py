"""Operating commands of SPEC §11 and the settings of the embedded default."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.factories import AccessProviderFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_createstaff_bureau_prints_the_totp_enrolment_uri():
    out = StringIO()
    call_command(
        "createstaff",
        "bj-reviewer",
        "--role",
        "bureau",
        "--province",
        "11",
        "--email",
        "r@bca.example.cn",
        "--mobile",
        "13900001111",
        "--password",
        "Str0ng-pass!",
        stdout=out,
    )
    assert "otpauth://totp/" in out.getvalue()
    user = User.objects.get(username="bj-reviewer")
    assert (user.role, user.province_id) == ("bureau", "11")
    assert user.check_password("Str0ng-pass!")


@pytest.mark.django_db
def test_createstaff_provider_needs_no_totp():
    provider = AccessProviderFactory(name="示例云")
    out = StringIO()
    call_command(
        "createstaff",
        "p1",
        "--role",
        "provider",
        "--provider",
        "示例云",
        "--email",
        "p1@cloud.example.cn",
        "--mobile",
        "13900002222",
        "--password",
        "Str0ng-pass!",
        stdout=out,
    )
    assert "otpauth" not in out.getvalue()
    assert User.objects.get(username="p1").provider == provider


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,message",
    [
        (["--role", "bureau"], "--province"),
        (["--role", "bureau", "--province", "99"], "unknown province"),
        (["--role", "provider", "--provider", "nobody"], "unknown access provider"),
    ],
)
def test_createstaff_refuses_incomplete_or_unknown_references(args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "createstaff",
            "x",
            *args,
            "--email",
            "x@example.cn",
            "--mobile",
            "13900003333",
            "--password",
            "Str0ng-pass!",
            stdout=StringIO(),
        )


@pytest.mark.django_db
@pytest.mark.stages  # as deployed: the SMS verification on (SPEC §12)
def test_seed_demo_prints_logins_and_can_run_twice():
    from filings.models import Filing

    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    for username in ("admin", "beijing", "shanghai"):
        assert username in text
    assert User.objects.filter(role="bureau", province_id="31").count() == 1
    assert "otpauth://" in text
    # The demo's filings passed their stages the way real ones do: the bureau has a queue,
    # and one still waits for its responsible person's code.
    statuses = set(Filing.objects.values_list("status", flat=True))
    assert {"pending_review", "amendment_pending", "revocation_pending", "approved"} <= statuses
    assert Filing.objects.get(owner__username="demo-verify").status == "verification"


def _django(env_overrides: dict[str, str], code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_default_is_sqlite_in_process_and_outbox():
    result = _django(
        {},
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.SMS_BACKEND)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "outbox"]


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    result = _django(
        {"DATABASE_URL": "postgres://u@db:5432/beian", "REDIS_URL": "redis://cache:6379/0"},
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])",
    )
    assert result.returncode == 0, result.stderr
    engine, eager, broker, cache = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert eager == "False"
    assert broker == "redis://cache:6379/0"
    assert cache.endswith("RedisCache")


@pytest.mark.parametrize(
    "env,complaint",
    [
        ({"DJANGO_ENV": "staging"}, "DJANGO_ENV"),
        ({"DJANGO_ENV": "production"}, "SECRET_KEY"),
        ({"DEBUG": "perhaps"}, "DEBUG"),
        ({"SMS_BACKEND": "carrier-pigeon"}, "SMS_BACKEND"),
        ({"SMS_BACKEND": "http"}, "SMS_GATEWAY_URL"),
        ({"DATABASE_URL": "nonsense://x"}, ""),
    ],
)
def test_a_bad_setting_fails_loudly(env, complaint):
    result = _django(env, "print('started')")
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert complaint in result.stderr


def test_secrets_can_be_read_from_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 60)
    result = _django(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY_FILE": str(secret),
            "SMS_GATEWAY_URL": "https://sms.example.cn",
            "SMS_GATEWAY_SECRET": "k",
        },
        "from django.conf import settings as s; print(len(s.SECRET_KEY), s.DEBUG)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["60", "False"]
