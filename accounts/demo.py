"""Demo accounts for ``seed_demo``: printed logins for trying every role locally."""

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from beian.models import Province

from .models import User
from .services import staff_create

# A fixed secret so that the printed enrolment URI stays the same between runs.
DEMO_TOTP_KEYS = {
    "admin": "3132333435363738393031323334353637383930",
    "beijing": "4142434445464748494a4b4c4d4e4f5051525354",
    "shanghai": "6162636465666768696a6b6c6d6e6f7071727374",
}

STAFF = [
    (
        "admin",
        User.Role.MINISTRY,
        None,
        "admin@demo.beian.example.cn",
        "13900000001",
        "Demo-Ministry-2026",
    ),
    (
        "beijing",
        User.Role.BUREAU,
        "11",
        "beijing@demo.beian.example.cn",
        "13900000011",
        "Demo-Beijing-2026",
    ),
    (
        "shanghai",
        User.Role.BUREAU,
        "31",
        "shanghai@demo.beian.example.cn",
        "13900000031",
        "Demo-Shanghai-2026",
    ),
]


OWNER = ("owner", "owner@demo.beian.example.cn", "13900000100", "Demo-Owner-2026")


def seed(out) -> list[dict]:
    logins = [_seed_owner()]
    for username, role, province_code, email, mobile, password in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            province = Province.objects.get(code=province_code) if province_code else None
            user, _device = staff_create(
                username=username,
                role=role,
                email=email,
                mobile=mobile,
                password=password,
                province=province,
            )
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user, name="demo", key=DEMO_TOTP_KEYS[username], confirmed=True
        )
        note = f"({user.province.name})" if user.province else ""
        logins.append(
            {
                "role": role,
                "username": username,
                "password": password,
                "note": note,
                "otpauth": device.config_url,
            }
        )
    return logins


def _seed_owner() -> dict:
    """A self-registered website owner whose mobile and email are already confirmed."""
    username, email, mobile, password = OWNER
    user = User.objects.filter(username=username).first()
    if user is None:
        now = timezone.now()
        user = User(
            username=username,
            email=email,
            mobile=mobile,
            role=User.Role.OWNER,
            origin=User.Origin.SELF,
            mobile_verified_at=now,
            email_verified_at=now,
        )
        user.set_password(password)
        user.save()
    return {"role": User.Role.OWNER, "username": username, "password": password, "note": ""}
