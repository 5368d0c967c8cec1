from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import AccessProvider
from beian.models import Province
from providers.services import provider_create


class Command(BaseCommand):
    help = (
        "Register a provider organisation (an access provider, a distribution platform or both) "
        "and print its id."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--licence", required=True, help="its telecom business licence")
        parser.add_argument("--email", required=True)
        parser.add_argument("--phone", required=True)
        parser.add_argument("--contact", default="", help="the contact person")
        parser.add_argument(
            "--province",
            action="append",
            default=[],
            help="GB/T 2260 code of a province served (repeat for several)",
        )
        parser.add_argument(
            "--kind",
            choices=AccessProvider.Kind.values,
            default=AccessProvider.Kind.ACCESS,
            help="access: an access provider (the default); distribution: a distribution "
            "platform (an app store or mini-program host, SPEC §13); both",
        )

    def handle(self, *args, **options):
        codes = options["province"]
        provinces = list(Province.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {p.code for p in provinces})
        if unknown:
            raise CommandError(f"unknown province code(s): {', '.join(unknown)}")
        try:
            provider = provider_create(
                name=options["name"],
                licence_number=options["licence"],
                email=options["email"],
                phone=options["phone"],
                contact_name=options["contact"],
                provinces=provinces,
                kind=options["kind"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        self.stdout.write(str(provider.pk))
