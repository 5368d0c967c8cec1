from django.core.management.base import BaseCommand, CommandError

from review import tally


class Command(BaseCommand):
    help = "Recompute the statistics tally from the filings (after a bulk load, or to repair it)."

    def handle(self, *args, **options):
        if not tally.enabled():
            raise CommandError("the filing tally is kept on PostgreSQL only")
        written = tally.rebuild()
        self.stdout.write(f"{written} tally rows written")
