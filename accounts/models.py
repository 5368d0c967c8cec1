"""Accounts of every role: owners, access-provider staff, bureau staff and the ministry."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class AccessProvider(models.Model):
    """An access provider (接入服务提供商, SPEC §6): a hosting or cloud company that files for
    its clients. It stands beside the accounts because its staff accounts, the owners it
    imported, and the filings and websites it hosts all point at it; its table keeps the name
    it was created with (``providers_accessprovider``)."""

    class Kind(models.TextChoices):
        """What the organisation is, as ``createprovider --kind`` names it (SPEC §13)."""

        ACCESS = "access", _("access provider")
        DISTRIBUTION = "distribution", _("distribution platform")
        BOTH = "both", _("access provider and distribution platform")

    KIND_FLAGS = {
        Kind.ACCESS: (True, False),
        Kind.DISTRIBUTION: (False, True),
        Kind.BOTH: (True, True),
    }

    name = models.CharField(_("name"), max_length=128, unique=True)
    licence_number = models.CharField(_("licence number"), max_length=64, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    email = models.EmailField(_("contact email"))
    phone = models.CharField(_("contact phone"), max_length=32)
    provinces = models.ManyToManyField(
        "beian.Province", verbose_name=_("provinces served"), blank=True
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=128, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # What the organisation is (SPEC §13): an access provider (it serves websites and apps),
    # a distribution platform (an app store, a mini-program host), or both.
    is_access_provider = models.BooleanField(_("access provider"), default=True)
    is_distribution_platform = models.BooleanField(_("distribution platform"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "providers_accessprovider"
        ordering = ["name"]
        verbose_name = _("access provider")
        verbose_name_plural = _("access providers")

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        """``access``, ``distribution`` or ``both``: the two flags read as one
        (``Kind``; ``access`` for an organisation with neither, which ``clean`` refuses)."""
        flags = (self.is_access_provider, self.is_distribution_platform)
        return next((k for k, f in self.KIND_FLAGS.items() if f == flags), self.Kind.ACCESS)

    @property
    def kind_label(self) -> str:
        """What the organisation is, in the reader's language."""
        return self.Kind(self.kind).label

    def clean(self) -> None:
        """An organisation is an access provider, a distribution platform or both: a
        ``ValidationError`` on ``is_access_provider`` when it is neither."""
        super().clean()
        if not (self.is_access_provider or self.is_distribution_platform):
            raise ValidationError(
                {
                    "is_access_provider": _(
                        "An organisation is an access provider, a distribution platform "
                        "(an app store or a mini-program host) or both: tick at least one."
                    )
                }
            )


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username):
        """The account whose username is ``username`` in any case (``OWNER`` is ``owner``), as
        registration treats them; an exact match first, for staff names given before that rule.
        Raises ``User.DoesNotExist``."""
        matches = list(self.filter(username__iexact=(username or "").strip()).order_by("pk")[:10])
        for user in matches:
            if user.username == username:
                return user
        if not matches:
            raise self.model.DoesNotExist
        return matches[0]


class User(AbstractUser):
    class Role(models.TextChoices):
        OWNER = "owner", _("website owner")
        PROVIDER = "provider", _("access provider staff")
        BUREAU = "bureau", _("bureau staff")
        MINISTRY = "ministry", _("ministry administrator")

    class Origin(models.TextChoices):
        SELF = "self", _("self-registered")
        IMPORT = "import", _("imported by an access provider")
        STAFF = "staff", _("created by an administrator")

    STAFF_ROLES = (Role.BUREAU, Role.MINISTRY)

    email = models.EmailField(_("email address"))
    mobile = models.CharField(_("mobile number"), max_length=20)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OWNER)
    origin = models.CharField(
        _("created by"), max_length=8, choices=Origin.choices, default=Origin.SELF
    )
    # Bureau staff act for one province only.
    province = models.ForeignKey(
        "beian.Province",
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    # Provider staff belong to their provider; imported owners remember who imported them.
    provider = models.ForeignKey(
        AccessProvider,
        verbose_name=_("access provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    imported_by = models.ForeignKey(
        AccessProvider,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="imported_accounts",
    )
    mobile_verified_at = models.DateTimeField(_("mobile confirmed"), null=True, blank=True)
    email_verified_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)
    # An initial password (set by an import or a reset) must be changed at the next login.
    password_is_initial = models.BooleanField(_("initial password"), default=False)
    language = models.CharField(_("language"), max_length=16, default="zh-hans")
    # Raised by "sign out everywhere": every session and second-factor token issued before
    # no longer matches (see ``_get_session_auth_hash`` and ``accounts.services``).
    session_generation = models.PositiveIntegerField(_("sign-out generation"), default=0)

    objects = PortalUserManager()

    REQUIRED_FIELDS = ["email", "mobile"]

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        # A closed account (deactivated, as when its filing is revoked: Q21) is kept for the
        # record but no longer holds its mobile and email: its owner registers again with them.
        # Its username stays taken.
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(is_active=True),
                name="user_email_unique_ci_live",
            ),
            models.UniqueConstraint(
                fields=["mobile"],
                condition=models.Q(is_active=True),
                name="user_mobile_unique_live",
            ),
        ]
        indexes = [
            # Usernames are looked up whatever their case (sign-in hints, provider imports).
            models.Index(Lower("username"), name="user_username_lower_idx"),
        ]

    def _get_session_auth_hash(self, secret=None):
        # Django's hash of the password, with the sign-out generation: changing either ends
        # every session of the account.
        return salted_hmac(
            "accounts.User.session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def identity_verified(self) -> bool:
        return bool(self.mobile_verified_at and self.email_verified_at)

    @property
    def is_staff_role(self) -> bool:
        return self.role in self.STAFF_ROLES


class VerificationCode(models.Model):
    """A 6-digit code sent by SMS or email; only its keyed hash is stored.

    A code is bound to one account, one purpose and the address it was sent to; it is used
    once, expires, and allows a few wrong tries.
    """

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("confirm the account")
        RESET = "reset", _("reset the password")
        CHANGE_MOBILE = "change_mobile", _("change the mobile number")
        CHANGE_EMAIL = "change_email", _("change the email address")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("email")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    destination = models.CharField(_("sent to"), max_length=254)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        indexes = [models.Index(fields=["user", "purpose", "channel"], name="code_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.purpose} {self.channel} → {self.destination}"


class SignIn(models.Model):
    """A successful sign-in, shown to the account holder on the account page."""

    class Method(models.TextChoices):
        PASSWORD = "password", _("portal")
        TOKEN = "token", _("API token")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_ins")
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser or client"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M} {self.ip_address or ''}"
