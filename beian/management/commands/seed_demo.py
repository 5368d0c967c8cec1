import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo data provides ``<app>/demo.py`` with ``seed(out) -> list[dict]``;
# they run in this order, so later apps can rely on the accounts of earlier ones.
DEMO_APPS = ["accounts", "providers", "filings", "review", "certificates", "public"]


class Command(BaseCommand):
    help = "Create demo data and accounts for every role, and print their logins."

    def handle(self, *args, **options):
        logins: list[dict] = []
        with transaction.atomic():
            for app in DEMO_APPS:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                logins.extend(module.seed(self.stdout) or [])
        self.stdout.write("")
        self.stdout.write("Demo logins (demo data only — never use these passwords elsewhere):")
        for login in logins:
            line = f"  {login['role']:<10} {login['username']:<16} {login['password']:<22}"
            if login.get("note"):
                line += f" {login['note']}"
            self.stdout.write(line)
            if login.get("otpauth"):
                self.stdout.write(f"             TOTP: {login['otpauth']}")
