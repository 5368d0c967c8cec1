import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from beian.delivery import outbox


class Command(BaseCommand):
    help = "Print every outgoing email and SMS, newest first (development and tests only)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print a JSON list")
        parser.add_argument("--to", help="only messages to this email address or mobile")
        parser.add_argument("--limit", type=int, default=200)

    def handle(self, *args, **options):
        if not settings.OUTBOX_ENABLED:
            raise CommandError("the outbox is disabled in production")
        rows = outbox(to=options["to"], limit=options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows:
            self.stdout.write(
                f"[{row['sent_at'] or 'queued'}] {row['channel']} → {row['to']}: {row['subject']}"
            )
            self.stdout.write(row["body"])
            self.stdout.write("")
