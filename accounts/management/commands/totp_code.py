from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of an account (development and tests only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        # Reading a second factor from the server defeats it; only where the outbox is on.
        if not (settings.DEBUG or settings.OUTBOX_ENABLED) or settings.PRODUCTION:
            raise CommandError("totp_code is for development and tests only")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no account {options['username']!r}")
        device = TOTPDevice.objects.filter(user=user).order_by("-confirmed", "-id").first()
        if device is None:
            raise CommandError(f"{user.username} has no TOTP device")
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
