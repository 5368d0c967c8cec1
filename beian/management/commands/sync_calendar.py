from django.core.management.base import BaseCommand

from beian.workdays import sync_from_package


class Command(BaseCommand):
    help = "Store the holidays and adjusted working days known to the chinesecalendar package."

    def handle(self, *args, **options):
        written = sync_from_package()
        self.stdout.write(f"{written} calendar days written")
