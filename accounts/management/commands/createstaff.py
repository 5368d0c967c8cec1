import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import AccessProvider, User
from accounts.services import staff_create
from beian.models import Province


class Command(BaseCommand):
    help = "Create a bureau, ministry or access-provider staff account."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=["bureau", "ministry", "provider"])
        parser.add_argument("--province", help="GB/T 2260 code of the bureau's province")
        parser.add_argument("--provider", help="name (or id) of the access provider")
        parser.add_argument("--email", required=True)
        parser.add_argument("--mobile", required=True)
        parser.add_argument("--password", help="prompted for when not given")

    def handle(self, *args, **options):
        role = options["role"]
        province = provider = None
        if role == "bureau":
            if not options["province"]:
                raise CommandError("--province is required for bureau staff")
            province = Province.objects.filter(code=options["province"]).first()
            if province is None:
                raise CommandError(f"unknown province code {options['province']!r}")
        if role == "provider":
            ref = options["provider"]
            if not ref:
                raise CommandError("--provider is required for provider staff")
            provider = (
                AccessProvider.objects.filter(pk=int(ref)).first()
                if ref.isdigit()
                else AccessProvider.objects.filter(name=ref).first()
            )
            if provider is None:
                raise CommandError(f"unknown access provider {ref!r}")
        password = options["password"]
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords do not match")
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError(f"username {options['username']!r} is taken")
        try:
            user, device = staff_create(
                username=options["username"],
                role=role,
                email=options["email"],
                mobile=options["mobile"],
                password=password,
                province=province,
                provider=provider,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        self.stdout.write(f"created {role} account {user.username} (id {user.pk})")
        if device is not None:
            self.stdout.write("TOTP enrolment URI (scan it with an authenticator app):")
            self.stdout.write(device.config_url)
