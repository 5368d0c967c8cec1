"""Manage the Ed25519 keys that sign certificates: ``certkeys list|create|ensure|rotate``.

``ensure`` creates the first key only when no key is active, so a deployment can run it on every
start.
"""

from django.core.management.base import BaseCommand, CommandError

from certificates.keys import key_create, key_rotate
from certificates.models import SigningKey


class Command(BaseCommand):
    help = (
        "List, create or rotate the certificate signing keys. Retired keys keep verifying the "
        "certificates they signed; only the active key signs new ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "create", "ensure", "rotate"])

    def handle(self, *args, action, **options):
        if action == "list":
            self._list()
        elif action in ("create", "ensure"):
            active = SigningKey.objects.filter(is_active=True).first()
            if active is not None and action == "ensure":
                self.stdout.write(f"{active.key_id} is active")
                return
            if active is not None:
                raise CommandError("an active key exists already: use `certkeys rotate`")
            key, path = key_create(activate=True)
            self.stdout.write(f"created {key.key_id} (active); private key in {path}")
        else:
            key, old, path = key_rotate()
            retired = f"; retired {old.key_id}" if old else ""
            self.stdout.write(f"created {key.key_id} (active){retired}; private key in {path}")

    def _list(self):
        keys = SigningKey.objects.order_by("created_at", "id")
        if not keys:
            self.stdout.write("no signing keys yet")
        for key in keys:
            state = "active" if key.is_active else ("retired" if key.retired_at else "inactive")
            retired = f" retired {key.retired_at:%Y-%m-%d %H:%M}" if key.retired_at else ""
            self.stdout.write(
                f"{key.key_id}  {state:8}  created {key.created_at:%Y-%m-%d %H:%M}{retired}  "
                f"{key.public_key}"
            )
