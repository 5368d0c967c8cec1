"""Account actions (SPEC §2). Each write runs in a transaction; side effects start after commit.

Every message goes through ``beian.delivery`` inside the transaction that causes it. Services
raise ``ValidationError`` keyed by the field at fault (forms and serializers show it beside the
field) and ``CodeRateLimited`` when a code may not be sent yet.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from beian import limits
from beian.delivery import queue_email, queue_sms
from beian.models import Province
from beian.normalforms.filing_numbers import parse_filing_number

from .models import AccessProvider, SignIn, User, VerificationCode
from .notifications import notify_owner
from .permissions import has_confirmed_device, needs_otp
from .validators import (
    code_normal_form,
    validate_mainland_mobile,
    validate_real_email,
    validate_username,
)

Purpose = VerificationCode.Purpose
Channel = VerificationCode.Channel


class CodeRateLimited(limits.RateLimited):
    """A code may not be sent to this recipient, or from this address, yet."""

    @property
    def message(self) -> str:
        minutes = max(1, (self.retry_after + 59) // 60)
        return ngettext(
            "Too many codes were sent. Try again in %(minutes)d minute.",
            "Too many codes were sent. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


# Verification codes ---------------------------------------------------------------------------


def _code_hash(*, user: User, purpose: str, channel: str, destination: str, code: str) -> str:
    # Keyed with SECRET_KEY and bound to the account, purpose and address: a stolen table is
    # useless without the key, and a code for one purpose never works for another.
    value = f"{user.pk}:{purpose}:{channel}:{destination}:{code}"
    return salted_hmac("accounts.VerificationCode", value, algorithm="sha256").hexdigest()


def _code_lifetime(purpose: str, channel: str) -> dt.timedelta:
    if purpose == Purpose.VERIFY and channel == Channel.EMAIL:
        return dt.timedelta(seconds=settings.ACCOUNTS_REGISTRATION_EMAIL_CODE_TTL_SECONDS)
    return dt.timedelta(seconds=settings.ACCOUNTS_CODE_TTL_SECONDS)


def code_send_take(
    *, destinations: list[str], ip: str | None, also: tuple[limits.Charge, ...] = ()
) -> None:
    """Count one code to each destination (and as many from ``ip``) in one atomic step, or
    raise ``CodeRateLimited`` and count nothing (``ACCOUNTS_CODE_RATE_PER_RECIPIENT``,
    ``ACCOUNTS_CODE_RATE_PER_IP``), with the charges ``also`` given in the same step. Call it
    right before sending: parallel requests for one recipient then send exactly as many codes
    as the limit allows."""
    charges = [limits.Charge("code-to", destination.lower()) for destination in destinations]
    charges.extend(also)
    if ip:
        charges.append(limits.Charge("code-from", ip, cost=len(destinations)))
    try:
        limits.take(*charges)
    except limits.RateLimited as exc:
        raise CodeRateLimited(exc.retry_after) from exc


def _send_code(*, user: User, purpose: str, channel: str, destination: str, ip: str | None) -> None:
    """Replace any live code of this purpose and channel with a new one and send it.

    The caller has counted it under the rate limits (``code_send_take``). The account row is
    locked first, so two requests at once leave one live code, never two.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    VerificationCode.objects.filter(
        user=user, purpose=purpose, channel=channel, used_at__isnull=True
    ).update(used_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    lifetime = _code_lifetime(purpose, channel)
    VerificationCode.objects.create(
        user=user,
        purpose=purpose,
        channel=channel,
        destination=destination,
        code_hash=_code_hash(
            user=user, purpose=purpose, channel=channel, destination=destination, code=code
        ),
        expires_at=now + lifetime,
    )
    minutes = int(lifetime.total_seconds() // 60)
    context = {
        "code": code,
        "purpose": purpose,
        "username": user.username,
        "minutes": minutes,
        "hours": minutes // 60 if minutes >= 120 else None,
    }
    if channel == Channel.SMS:
        queue_sms(to=destination, template="account_code", context=context, language=user.language)
    else:
        queue_email(
            to=destination, template="account_code", context=context, language=user.language
        )


def _live_code(*, user: User, purpose: str, channel: str) -> VerificationCode | None:
    return (
        VerificationCode.objects.select_for_update()
        .filter(user=user, purpose=purpose, channel=channel, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def _check_code(
    *, user: User, purpose: str, channel: str, code: str, count_try: bool = True
) -> str | None:
    """Use the live code if ``code`` matches it; otherwise count a wrong try on the code
    (unless ``count_try`` is False: the anonymous API counts its tries per address instead).

    Returns ``None`` on success, else the message to show beside the field. The caller runs
    this inside a transaction that it commits either way, so wrong tries are kept.
    """
    record = _live_code(user=user, purpose=purpose, channel=channel)
    code = code_normal_form(code)
    if record is None:
        return _("No code is waiting for this. Request a new code.")
    if record.expires_at <= timezone.now():
        return _("This code has expired. Request a new code.")
    max_tries = settings.ACCOUNTS_CODE_MAX_TRIES
    if record.attempts >= max_tries:
        return _("Too many wrong tries. Request a new code.")
    expected = _code_hash(
        user=user, purpose=purpose, channel=channel, destination=record.destination, code=code
    )
    if len(code) == 6 and code.isdigit() and constant_time_compare(expected, record.code_hash):
        record.used_at = timezone.now()
        record.save(update_fields=["used_at"])
        return None
    if not count_try:
        return _("The code is not correct.")
    record.attempts += 1
    record.save(update_fields=["attempts"])
    left = max_tries - record.attempts
    if left <= 0:
        return _("The code is not correct, and that was the last try. Request a new code.")
    return ngettext(
        "The code is not correct. %(left)d try left.",
        "The code is not correct. %(left)d tries left.",
        left,
    ) % {"left": left}


def _live_code_exists(*, user: User, purpose: str, channel: str) -> bool:
    return VerificationCode.objects.filter(
        user=user,
        purpose=purpose,
        channel=channel,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
        attempts__lt=settings.ACCOUNTS_CODE_MAX_TRIES,
    ).exists()


# Registration and identity verification -------------------------------------------------------


def _clean_identity(
    *,
    username: str | None,
    email: str | None,
    mobile: str | None,
    exclude: User | None = None,
    staff: bool = False,
) -> dict[str, str]:
    """Validate and normalise the given fields, and refuse those another account holds: a
    username any account, a mobile or email a live (not closed) account."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    others = User.objects.all()
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    checks = [
        # Staff usernames are given by the ministry (e.g. a short code); only owners' follow
        # the registration rule.
        ("username", username, _stripped if staff else validate_username, "username__iexact"),
        ("email", email, validate_real_email, "email__iexact"),
        ("mobile", mobile, validate_mainland_mobile, "mobile"),
    ]
    taken = {
        "username": _("This username is taken. Choose another one."),
        "email": _("This email address is used by another account."),
        "mobile": _("This mobile number is used by another account."),
    }
    for name, value, validator, lookup in checks:
        if value is None:
            continue
        try:
            cleaned[name] = validator(value)
        except ValidationError as exc:
            errors[name] = exc.messages
            continue
        # A closed account keeps its username but frees its mobile and email (Q21).
        holders = others if name == "username" else others.filter(is_active=True)
        if holders.filter(**{lookup: cleaned[name]}).exists():
            errors[name] = [taken[name]]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _stripped(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("This field is required."), code="required")
    return value


def identity_check(
    *,
    username: str | None,
    email: str | None,
    mobile: str | None,
    exclude: User | None = None,
    staff: bool = False,
) -> dict[str, str]:
    """The username, email and mobile an account may take, in normal form: the checks every
    form that creates or changes an account makes (registration, staff accounts, the admin).

    Raises ``ValidationError`` keyed by field (``username``, ``email``, ``mobile``) for a value
    that is malformed or held by another account (``exclude``: the account being changed); a
    closed account (deactivated, as with its revoked filing, Q21) holds only its username.
    ``None`` skips a field; ``staff`` accepts any username the ministry gives (owners' follow
    ``validate_username``).
    """
    return _clean_identity(
        username=username, email=email, mobile=mobile, exclude=exclude, staff=staff
    )


def account_registration_problems(
    *,
    username: str | None = None,
    email: str | None = None,
    mobile: str | None = None,
    password: str | None = None,
) -> dict[str, list[str]]:
    """Every problem of the registration fields given (None: not checked), by field, without
    creating anything: identity fields in their normal form and not held by another account,
    the password by the password validators."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    try:
        cleaned = _clean_identity(username=username, email=email, mobile=mobile)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if password:
        probe = User(
            username=cleaned.get("username", username or ""),
            email=cleaned.get("email", email or ""),
            mobile=cleaned.get("mobile", mobile or ""),
        )
        try:
            _validate_new_password(password, probe)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    return errors


def _validate_new_password(password: str, user: User, field_name: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field_name: exc.messages}) from exc


@transaction.atomic
def account_register(
    *, username: str, password: str, email: str, mobile: str, language: str, ip: str | None
) -> User:
    """Create a self-registered owner account and send its SMS and email codes (Q18).

    ``ValidationError`` keyed by field with every problem of the fields at once."""
    problems = account_registration_problems(
        username=username, email=email, mobile=mobile, password=password
    )
    if problems:
        raise ValidationError(problems)
    cleaned = _clean_identity(username=username, email=email, mobile=mobile)
    user = User(
        username=cleaned["username"],
        email=cleaned["email"],
        mobile=cleaned["mobile"],
        role=User.Role.OWNER,
        origin=User.Origin.SELF,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
    )
    code_send_take(destinations=[user.mobile, user.email], ip=ip)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Another registration took the same name or address a moment ago.
        _clean_identity(username=username, email=email, mobile=mobile)
        raise ValidationError(
            {"username": [_("This username is taken. Choose another one.")]}
        ) from exc
    _send_code(
        user=user, purpose=Purpose.VERIFY, channel=Channel.SMS, destination=user.mobile, ip=ip
    )
    _send_code(
        user=user, purpose=Purpose.VERIFY, channel=Channel.EMAIL, destination=user.email, ip=ip
    )
    return user


def identity_codes_send_missing(*, user: User, ip: str | None) -> list[str]:
    """At sign-in, send a code for each unconfirmed channel that has no live code.

    Returns the channels sent. A rate limit is not an error here: the codes sent before are
    still waiting, and the page offers to send new ones.
    """
    sent = []
    with transaction.atomic():
        for channel, done, destination in (
            (Channel.SMS, user.mobile_verified_at, user.mobile),
            (Channel.EMAIL, user.email_verified_at, user.email),
        ):
            if done or _live_code_exists(user=user, purpose=Purpose.VERIFY, channel=channel):
                continue
            try:
                code_send_take(destinations=[destination], ip=ip)
            except CodeRateLimited:
                continue
            _send_code(
                user=user, purpose=Purpose.VERIFY, channel=channel, destination=destination, ip=ip
            )
            sent.append(channel)
    return sent


@dataclass
class VerifyResult:
    verified: bool
    errors: dict[str, str] = field(default_factory=dict)


def account_verify(
    *, user: User, sms_code: str | None, email_code: str | None, count_tries: bool = True
) -> VerifyResult:
    """Confirm the mobile and/or the email with their codes.

    Each correct code confirms its channel on its own, so a user whose email never arrived
    keeps the confirmed mobile (Q16). The account is usable once both are confirmed. With
    ``count_tries`` False a wrong code does not use up the code's own tries.
    """
    errors: dict[str, str] = {}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        for channel, value, attr, field_name in (
            (Channel.SMS, sms_code, "mobile_verified_at", "sms_code"),
            (Channel.EMAIL, email_code, "email_verified_at", "email_code"),
        ):
            if getattr(user, attr):
                continue
            if not value:
                errors[field_name] = _("Enter the 6-digit code.")
                continue
            problem = _check_code(
                user=user,
                purpose=Purpose.VERIFY,
                channel=channel,
                code=value,
                count_try=count_tries,
            )
            if problem:
                errors[field_name] = problem
            else:
                setattr(user, attr, now)
        user.save(update_fields=["mobile_verified_at", "email_verified_at"])
    return VerifyResult(verified=user.identity_verified, errors=errors)


def account_verify_anonymous(
    *, username: str, sms_code: str, email_code: str, ip: str | None
) -> tuple[User | None, VerifyResult]:
    """``POST /api/v1/accounts/verify/`` (SPEC §10), which anyone may call with a username.

    A confirmed account answers exactly as an unknown one (no code is waiting), so the call
    does not tell which accounts exist. Every try counts per client address
    (``ACCOUNTS_VERIFY_FAILURES_PER_IP``) and per live code over every address
    (``ACCOUNTS_VERIFY_FAILURES_PER_CODE``) and never uses up the code's own tries, which
    belong to its holder signing in: a stranger's guesses lock out the stranger's address,
    not the new user. Raises ``limits.RateLimited`` past either limit.
    """
    missing = _("No code is waiting for this. Request a new code.")
    nothing = VerifyResult(verified=False, errors={"sms_code": missing, "email_code": missing})
    user = User.objects.filter(username__iexact=(username or "").strip(), is_active=True).first()
    tried = {Channel.SMS: bool(sms_code), Channel.EMAIL: bool(email_code)}
    charges = [limits.Charge("verify-wrong-from", ip or "unknown")]
    if user is not None and not user.identity_verified:
        codes = VerificationCode.objects.filter(
            user=user, purpose=Purpose.VERIFY, used_at__isnull=True, expires_at__gt=timezone.now()
        ).values_list("pk", "channel")
        charges += [limits.Charge("verify-wrong-code", str(pk)) for pk, ch in codes if tried[ch]]
    limits.take(*charges)
    if user is None or user.identity_verified:
        return None, nothing
    result = account_verify(user=user, sms_code=sms_code, email_code=email_code, count_tries=False)
    return user, result


def verification_code_resend(
    *, user: User, channel: str, ip: str | None, new_email: str | None = None
) -> None:
    """Send a new confirmation code; with ``new_email``, move an unconfirmed email first (Q16)."""
    if user.identity_verified:
        return
    if new_email:
        unverified_email_change(user=user, new_email=new_email, ip=ip)
        return
    if channel == Channel.SMS:
        if user.mobile_verified_at:
            return
        destination = user.mobile
    else:
        if user.email_verified_at:
            return
        destination = user.email
    with transaction.atomic():
        code_send_take(destinations=[destination], ip=ip)
        _send_code(
            user=user, purpose=Purpose.VERIFY, channel=channel, destination=destination, ip=ip
        )


@transaction.atomic
def unverified_email_change(*, user: User, new_email: str, ip: str | None) -> User:
    """The email never arrived (Q16): after the mobile is confirmed, use another address.

    The mobile's owner is told by SMS, so a change they did not make does not go unnoticed.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.mobile_verified_at:
        raise ValidationError(
            {"new_email": [_("Confirm your mobile number first; then you can change the email.")]}
        )
    if user.email_verified_at:
        raise ValidationError(
            {
                "new_email": [
                    _("This email address is confirmed already; change it on your account page.")
                ]
            }
        )
    try:
        cleaned = _clean_identity(username=None, email=new_email, mobile=None, exclude=user)
    except ValidationError as exc:
        raise ValidationError({"new_email": exc.message_dict["email"]}) from exc
    # Anyone who knows the username may ask for this, and each change is an SMS to the same
    # phone: so few a day per account, whichever addresses and client addresses are used.
    code_send_take(
        destinations=[cleaned["email"]], ip=ip, also=(limits.Charge("email-change", str(user.pk)),)
    )
    user.email = cleaned["email"]
    user.save(update_fields=["email"])
    _send_code(
        user=user, purpose=Purpose.VERIFY, channel=Channel.EMAIL, destination=user.email, ip=ip
    )
    queue_sms(
        to=user.mobile,
        template="email_changed",
        context={"username": user.username, "email": user.email},
        language=user.language,
    )
    return user


# Passwords ------------------------------------------------------------------------------------


@transaction.atomic
def password_set(*, user: User, new_password: str, field_name: str = "new_password1") -> User:
    """Set a new password chosen by the account holder; it is no longer an initial one."""
    _validate_new_password(new_password, user, field_name)
    user.set_password(new_password)
    user.password_is_initial = False
    user.save(update_fields=["password", "password_is_initial"])
    Token.objects.filter(user=user).delete()
    queue_sms(
        to=user.mobile,
        template="password_changed",
        context={"username": user.username},
        language=user.language,
    )
    return user


@dataclass
class ResetAnswer:
    """What the forgotten-password page may say; ``provider`` only for imported accounts."""

    provider: AccessProvider | None = None


def password_reset_request(*, username: str, ip: str | None) -> ResetAnswer:
    """Send reset codes to a self-registered, confirmed account (Q11, Q12).

    The answer is the same whether or not the account exists, except that a client imported
    by an access provider and still on its initial password is told which provider resets it.
    """
    user = User.objects.filter(username__iexact=(username or "").strip(), is_active=True).first()
    if user is None:
        return ResetAnswer()
    if user.origin == User.Origin.IMPORT and user.password_is_initial and user.imported_by:
        return ResetAnswer(provider=user.imported_by)
    if user.origin != User.Origin.SELF or not user.identity_verified:
        return ResetAnswer()
    try:
        with transaction.atomic():
            code_send_take(destinations=[user.mobile, user.email], ip=ip)
            for channel, destination in ((Channel.SMS, user.mobile), (Channel.EMAIL, user.email)):
                _send_code(
                    user=user,
                    purpose=Purpose.RESET,
                    channel=channel,
                    destination=destination,
                    ip=ip,
                )
    except CodeRateLimited:
        # Saying so would tell that the account exists; the codes sent before still work.
        pass
    return ResetAnswer()


def password_reset_complete(
    *, username: str, sms_code: str, email_code: str, new_password: str
) -> User:
    """Set a new password once both reset codes match; raises ``ValidationError``."""
    user = User.objects.filter(username__iexact=(username or "").strip(), is_active=True).first()
    if user is None or user.origin != User.Origin.SELF or not user.identity_verified:
        # The same answer as a wrong code, so the form tells nothing about the account.
        raise ValidationError({"sms_code": [_("No code is waiting for this. Request a new code.")]})
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        for channel, value, field_name in (
            (Channel.SMS, sms_code, "sms_code"),
            (Channel.EMAIL, email_code, "email_code"),
        ):
            # Peek first so that a right SMS code is not spent when the email code is wrong.
            problem = _check_code_peek(
                user=user, purpose=Purpose.RESET, channel=channel, code=value
            )
            if problem:
                errors[field_name] = [problem]
    if errors:
        raise ValidationError(errors)
    _validate_new_password(new_password, user, "new_password1")
    with transaction.atomic():
        for channel, value in ((Channel.SMS, sms_code), (Channel.EMAIL, email_code)):
            if _check_code(user=user, purpose=Purpose.RESET, channel=channel, code=value):
                raise ValidationError(
                    {"sms_code": [_("This code has expired. Request a new code.")]}
                )
        password_set(user=user, new_password=new_password)
    # Whoever proved both codes may sign in again at once, even after a lockout.
    axes_reset(username=user.username.lower())
    return user


def _check_code_peek(*, user: User, purpose: str, channel: str, code: str) -> str | None:
    """Like ``_check_code`` but leaves a matching code unused (a wrong one still counts)."""
    record = _live_code(user=user, purpose=purpose, channel=channel)
    code = code_normal_form(code)
    if record is None:
        return _("No code is waiting for this. Request a new code.")
    if record.expires_at <= timezone.now():
        return _("This code has expired. Request a new code.")
    if record.attempts >= settings.ACCOUNTS_CODE_MAX_TRIES:
        return _("Too many wrong tries. Request a new code.")
    expected = _code_hash(
        user=user, purpose=purpose, channel=channel, destination=record.destination, code=code
    )
    if len(code) == 6 and code.isdigit() and constant_time_compare(expected, record.code_hash):
        return None
    return _check_code(user=user, purpose=purpose, channel=channel, code=code)


# Changing the mobile or email of a confirmed account -------------------------------------------


@transaction.atomic
def contact_change_request(*, user: User, channel: str, new_value: str, ip: str | None) -> str:
    """Send a code to the new mobile or email; returns the normalised new address."""
    if channel == Channel.SMS:
        cleaned = _clean_identity(username=None, email=None, mobile=new_value, exclude=user)
        destination, purpose = cleaned["mobile"], Purpose.CHANGE_MOBILE
        if destination == user.mobile:
            raise ValidationError({"mobile": [_("This is your current mobile number.")]})
    else:
        cleaned = _clean_identity(username=None, email=new_value, mobile=None, exclude=user)
        destination, purpose = cleaned["email"], Purpose.CHANGE_EMAIL
        if destination.lower() == user.email.lower():
            raise ValidationError({"email": [_("This is your current email address.")]})
    code_send_take(destinations=[destination], ip=ip)
    _send_code(user=user, purpose=purpose, channel=channel, destination=destination, ip=ip)
    return destination


def contact_change_confirm(*, user: User, channel: str, code: str) -> User:
    """Move the account to the address the code was sent to; raises ``ValidationError``."""
    purpose = Purpose.CHANGE_MOBILE if channel == Channel.SMS else Purpose.CHANGE_EMAIL
    with transaction.atomic():
        record = _live_code(user=user, purpose=purpose, channel=channel)
        problem = _check_code(user=user, purpose=purpose, channel=channel, code=code)
    if problem:
        raise ValidationError({"code": [problem]})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old_mobile = user.mobile
        now = timezone.now()
        if channel == Channel.SMS:
            _clean_identity(username=None, email=None, mobile=record.destination, exclude=user)
            user.mobile, user.mobile_verified_at = record.destination, now
        else:
            _clean_identity(username=None, email=record.destination, mobile=None, exclude=user)
            user.email, user.email_verified_at = record.destination, now
        user.save(update_fields=["mobile", "mobile_verified_at", "email", "email_verified_at"])
        queue_sms(
            to=old_mobile,
            template="contact_changed",
            context={"username": user.username},
            language=user.language,
        )
    return user


# Staff ----------------------------------------------------------------------------------------


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

    The device becomes usable once the staff member confirms a first code from it. Raises
    ``ValidationError`` keyed by field for a malformed or taken username, email or mobile
    (``identity_check``).
    """
    if role not in {User.Role.BUREAU, User.Role.MINISTRY, User.Role.PROVIDER}:
        raise ValueError(f"not a staff role: {role}")
    if role == User.Role.BUREAU and province is None:
        raise ValueError("bureau staff need a province")
    if role == User.Role.PROVIDER and provider is None:
        raise ValueError("provider staff need a provider")
    # The same checks as registration: malformed or taken values answer on their field.
    clean = _clean_identity(username=username, email=email, mobile=mobile, staff=True)
    username, email, mobile = clean["username"], clean["email"], clean["mobile"]
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


# Sign-in, tokens and staff second factor -------------------------------------------------------


class SignInSlowed(limits.RateLimited):
    """This username had too many failed sign-ins: it may try again in ``retry_after`` s."""

    @property
    def message(self) -> str:
        return ngettext(
            "This username had many failed sign-ins, so it may try only now and then. Try again "
            "in %(seconds)d second.",
            "This username had many failed sign-ins, so it may try only now and then. Try again "
            "in %(seconds)d seconds.",
            self.retry_after,
        ) % {"seconds": self.retry_after}


class SignInStep(StrEnum):
    """What an account that gave its right password does next (SPEC §2, Q22), in this order."""

    CONFIRM_IDENTITY = "confirm_identity"  # type the SMS and email codes
    INITIAL_PASSWORD = "initial_password"  # choose its own password
    SECOND_FACTOR_SETUP = "second_factor_setup"  # staff: enrol an authenticator app
    SECOND_FACTOR = "second_factor"  # type the current code of the enrolled authenticator
    DONE = "done"


# The steps taken before the account is signed in (on a pending sign-in, SPEC §2 Q22).
SIGN_IN_STEPS_BEFORE_LOGIN = (SignInStep.CONFIRM_IDENTITY, SignInStep.INITIAL_PASSWORD)


def sign_in_next_step(user: User) -> SignInStep:
    """The first step ``user`` (whose password was right) still owes before it is signed in:
    confirmed mobile and email, then a password of its own instead of an initial one, then the
    second factor (bureau and ministry staff always; anyone once they enrolled a device, SPEC
    §2 Login, Q22). The sign-in page and the token API both follow it. The second factor is
    proved per session or per token request, so ``SECOND_FACTOR`` is returned whether or not
    this session already passed it. Reads the account's TOTP devices; raises nothing.
    """
    if not user.identity_verified:
        return SignInStep.CONFIRM_IDENTITY
    if user.password_is_initial:
        return SignInStep.INITIAL_PASSWORD
    if needs_otp(user):
        if has_confirmed_device(user):
            return SignInStep.SECOND_FACTOR
        return SignInStep.SECOND_FACTOR_SETUP
    return SignInStep.DONE


def _failure_window() -> tuple[int, int]:
    rates = limits.rates_of("sign-in-failures")
    rate = min(rates, key=lambda r: r.count) if rates else limits.Rate(0, 0)
    return rate.count, rate.seconds


def sign_in_gate(*, username: str) -> None:
    """Before a password is checked (sign-in page and token API alike): past
    ``ACCOUNTS_USERNAME_FAILURE_RATE`` failures of this username from any addresses, one try
    per ``ACCOUNTS_USERNAME_SLOW_RATE``, whoever asks; raises ``SignInSlowed`` otherwise.

    Guesses spread over many addresses thus slow down to that pace, while no address (nor
    any number of them) can lock the account holder out: they wait seconds, not hours. The
    lockout of one username and address pair is django-axes' (``AXES_FAILURE_LIMIT``).
    """
    ident = limits.key_part(username)
    threshold, _seconds = _failure_window()
    if not ident or not threshold or limits.current(f"sign-in-failures:{ident}") < threshold:
        return
    try:
        limits.take(limits.Charge("sign-in-slow", ident))
    except limits.RateLimited as exc:
        raise SignInSlowed(exc.retry_after) from exc


def sign_in_failure_count(*, username: str) -> int:
    """Count a failed sign-in (wrong password or second-factor code) of ``username`` over every
    address; the count in the current window."""
    ident = limits.key_part(username)
    threshold, seconds = _failure_window()
    if not ident or not seconds:
        return 0
    return limits.count(f"sign-in-failures:{ident}", seconds)[0]


def sign_in_record(*, user: User, method: str, ip: str | None, user_agent: str = "") -> SignIn:
    """Record one successful sign-in (登录记录) of ``user``: ``method`` names the way in
    (page, token API), ``ip`` the client's address from ``beian.clientaddress`` (None when
    unknown), ``user_agent`` cut to 255 characters. Raises nothing of its own."""
    return SignIn.objects.create(
        user=user, method=method, ip_address=ip or None, user_agent=(user_agent or "")[:255]
    )


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed device to enrol (the one ``createstaff`` printed), made if missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by(
        "-id"
    ).first() or TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a device with a first code from it; other devices of the account are removed."""
    if not device.verify_token(code_normal_form(token)):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    return True


def totp_code_already_used(*, device: TOTPDevice, token: str) -> bool:
    """Whether ``token``, just refused by ``device.verify_token``, is a right code of the
    current window (RFC 6238 time steps within the device's tolerance) that was used already:
    a TOTP code works once, so the person must wait for the next one (动态码已使用)."""
    try:
        value = int(code_normal_form(token))
    except ValueError:
        return False
    if device.last_t < 0:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return bool(totp.verify(value, device.tolerance))


def totp_code_used_message() -> str:
    """What a person who typed an authenticator code a second time is told."""
    return _(
        "This code was used already. Wait for your authenticator app to show the next code "
        "(a new one every 30 seconds) and type that."
    )


def _credentials_fingerprint(user: User) -> str:
    """16 hex digits bound to the password, the confirmed TOTP devices and the sign-out
    generation of ``user``: any change of them changes it."""
    devices = (
        TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").values_list("pk", "key")
    )
    value = ":".join(
        [str(user.pk), user.password, str(user.session_generation)]
        + [f"{pk}={key}" for pk, key in devices]
    )
    return salted_hmac("accounts.api-token", value, algorithm="sha256").hexdigest()[:16]


def api_token_issue(*, user: User) -> Token:
    """The API token (SPEC §10 ``POST /api/v1/auth/token/``) for an account that proved its
    password and, where it has one, its second factor.

    An account with a second factor (bureau and ministry staff always) gets a new key on
    every call, bound to its credentials (``api_token_valid``): a password change, a new or
    removed TOTP device, or "sign out everywhere" revokes it. Other accounts keep one key.
    """
    if needs_otp(user):
        Token.objects.filter(user=user).delete()
        key = secrets.token_hex(12) + _credentials_fingerprint(user)
        return Token.objects.create(user=user, key=key)
    token, _created = Token.objects.get_or_create(user=user)
    return token


def api_token_valid(*, token: Token) -> bool:
    """False for a token that no longer stands for its account's credentials: of an account
    with a second factor, issued before a change of password, TOTP device or sign-out
    generation (or not bound to them at all); of bureau and ministry staff, also older than
    ``STAFF_TOKEN_HOURS``."""
    user = token.user
    if user.is_staff_role:
        age = timezone.now() - token.created
        if age > dt.timedelta(hours=settings.STAFF_TOKEN_HOURS):
            return False
    if needs_otp(user):
        return constant_time_compare(token.key[24:], _credentials_fingerprint(user))
    return True


@transaction.atomic
def account_sign_out_everywhere(*, user: User) -> None:
    """End every session and revoke the API token of ``user`` (the account page's button).
    Provider console tokens are named and revoked one by one in the console."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    Token.objects.filter(user=user).delete()
    user.refresh_from_db(fields=["session_generation"])


# --- Forgotten username (Q11) ---------------------------------------------------------------


def username_reminder_send(*, number: str) -> None:
    """Send the username of the account that holds filing ``number`` (a sponsor's or a
    website's filing number, in any writing ``parse_filing_number`` reads) to its verified
    contacts, by email and SMS.

    Answers nothing and raises nothing: the caller tells everyone the same, whether or not the
    number exists. For an account imported by an access provider the message also names that
    provider. The account is found through its filing (``User.filing``) and that filing's
    websites, so accounts needs nothing of the filings app.
    """
    parsed = parse_filing_number(number)
    if parsed is None:
        return
    number = parsed.text
    accounts = User.objects.select_related("imported_by", "filing__filed_by_provider")
    owner = accounts.filter(filing__number=number).first()
    if owner is None:
        owner = accounts.filter(filing__websites__number=number).first()
    if owner is None or not owner.is_active:
        return
    provider = owner.imported_by or (
        owner.filing.filed_by_provider if owner.origin == owner.Origin.IMPORT else None
    )
    context = {"username": owner.username, "number": number, "provider": provider}
    with transaction.atomic():
        notify_owner(owner, "username_reminder", context, confirmed_only=True)
