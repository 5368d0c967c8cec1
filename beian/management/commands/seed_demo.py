import importlib
import io
import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from beian.models import Message

# Each app that has demo data provides ``<app>/demo.py`` with ``seed(out) -> list[dict]``;
# they run in this order, so later apps can rely on the accounts of earlier ones.
DEMO_APPS = ["accounts", "providers", "filings", "review", "certificates", "public"]

# The development console backend would print every demo email, raw, before the logins.
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
SILENT_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class Command(BaseCommand):
    help = "Create demo data and accounts for every role, and print their logins."

    def handle(self, *args, **options):
        verbosity = options.get("verbosity", 1)
        progress = self.stdout if verbosity > 1 else io.StringIO()
        logins: list[dict] = []
        first_message = Message.objects.order_by("-id").values_list("id", flat=True).first() or 0
        backend = SILENT_BACKEND if settings.EMAIL_BACKEND == CONSOLE_BACKEND else None
        quiet = verbosity <= 1
        if quiet:
            # Task results and other INFO lines would bury the logins.
            logging.disable(logging.INFO)
        try:
            with (
                override_settings(**({"EMAIL_BACKEND": backend} if backend else {})),
                transaction.atomic(),
            ):
                for app in DEMO_APPS:
                    try:
                        module = importlib.import_module(f"{app}.demo")
                    except ModuleNotFoundError as exc:
                        if exc.name != f"{app}.demo":
                            raise
                        continue
                    logins.extend(module.seed(progress) or [])
        finally:
            if quiet:
                logging.disable(logging.NOTSET)
        sent = Message.objects.filter(id__gt=first_message)
        emails = sent.filter(channel=Message.Channel.EMAIL).count()
        sms = sent.filter(channel=Message.Channel.SMS).count()
        self.stdout.write(
            f"Demo data ready: {emails} new emails and {sms} new SMS, readable in the outbox "
            "(manage.py outbox --to ADDRESS, or /dev/outbox/ while DEBUG is on)."
        )
        self.stdout.write(f"Portal: {settings.PORTAL_URL}/")
        self.stdout.write("")
        self.stdout.write("Demo logins (demo data only — never use these passwords elsewhere):")
        for login in logins:
            line = f"  {login['role']:<10} {login['username']:<16} {login['password']:<22}"
            if login.get("note"):
                line += f" {login['note']}"
            self.stdout.write(line.rstrip())
            if login.get("otpauth"):
                self.stdout.write(f"             TOTP: {login['otpauth']}")
