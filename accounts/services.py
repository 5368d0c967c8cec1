"""Account actions (SPEC §2). Each write runs in a transaction; side effects start after commit."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from beian.models import Province
from providers.models import AccessProvider

from .models import User


@transaction.atomic
def staff_create(
    *,
    username: str,
    role: str,
    email: str,
    mobile: str,
    password: str,
    province: Province | None = None,
    provider: AccessProvider | None = None,
) -> tuple[User, TOTPDevice | None]:
    """Create a staff account; bureau and ministry staff get an unconfirmed TOTP device.

    The device becomes usable once the staff member confirms a first code from it.
    """
    if role not in {User.Role.BUREAU, User.Role.MINISTRY, User.Role.PROVIDER}:
        raise ValueError(f"not a staff role: {role}")
    if role == User.Role.BUREAU and province is None:
        raise ValueError("bureau staff need a province")
    if role == User.Role.PROVIDER and provider is None:
        raise ValueError("provider staff need a provider")
    now = timezone.now()
    user = User(
        username=username,
        email=email,
        mobile=mobile,
        role=role,
        origin=User.Origin.STAFF,
        province=province if role == User.Role.BUREAU else None,
        provider=provider if role == User.Role.PROVIDER else None,
        is_staff=role == User.Role.MINISTRY,
        is_superuser=role == User.Role.MINISTRY,
        mobile_verified_at=now,
        email_verified_at=now,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    device = None
    if role in User.STAFF_ROLES:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return user, device
