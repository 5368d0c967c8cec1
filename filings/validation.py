"""Every rule a filing must meet before it is submitted (SPEC §3), written once for the
browser wizard, the JSON API and provider imports.

Two passes over the SPEC §10 JSON shape:

``coerce_data`` checks the *structure* (types, lengths, list sizes) and returns the canonical
draft: every key present, strings trimmed, pre-approval entries lined up with the website's
pre-approval services. A draft is saved after this pass only, so nothing typed is lost.

``validate_filing_data`` checks the *content* and returns the normalised data (domains as
A-labels, IPs in their short form, ID numbers in capitals) together with every problem at
once, keyed like DRF's nested field errors: ``{"sponsor": {"id_number": [...]},
"websites": [{}, {"domains": [...]}]}``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import AccessProvider
from beian.models import Province
from beian.normalforms import apps as app_rules
from beian.normalforms import certificates
from beian.normalforms.addresses import normalize_ip
from beian.normalforms.certificates import (  # noqa: F401 - the filing rules' public names
    resident_id_check_digit,
    uscc_check_character,
    validate_certificate,
    validate_foreign_permanent_resident,
    validate_resident_id,
    validate_uscc,
)
from beian.normalforms.domains import (  # noqa: F401 - the filing rules' public names
    domain_unicode,
    homepage_url,
    normalize_domain,
    registrable_domain,
    split_domain,
    top_level_domain,
)
from beian.normalforms.emails import normalize_email
from beian.normalforms.mobiles import normalize_mobile
from beian.normalforms.names import clean_name
from beian.normalforms.text import folded, unreadable_text_message
from beian.tlds import approved_top_level_domains

from .models import Access, Application, Filing, FilingVersion, Website

# Structure limits: far above any real filing, low enough to keep one record small.
MAX_WEBSITES = 50
MAX_DOMAINS = 100
MAX_IPS = 100
MAX_TEXT = {
    "name": 128,
    "address": 255,
    "principal_name": 64,
    "id_number": 64,
    "website_name": 128,
    "homepage": 255,
    "authority": 128,
    "document_number": 128,
    "domain": 253,
    "ip": 64,
    "mobile": 20,
    "email": 254,
}

OTHER = "other"

# --- Certificates, domains, homepages, IP addresses -------------------------------------
# The normal forms and their checks live in ``beian.normalforms``; what follows applies them
# to a filing and words the problems.


def validate_domain(value: str, *, approved_tlds: frozenset[str] | None = None) -> str:
    """A registrable domain under a public suffix whose top-level domain the ministry
    approved for filing, returned as lower-case A-labels (RFC 5890); ``ValidationError``
    saying what is wrong and how to correct it.

    ``approved_tlds`` are A-labels (``beian.tlds.approved_top_level_domains``); read here
    when not given."""
    shown = folded(value)
    try:
        domain = normalize_domain(shown)
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not a domain name: use letters, digits, hyphens and dots.")
            % {"value": shown},
            code="domain_format",
        ) from None
    parts = split_domain(domain)
    if not parts.suffix:
        raise ValidationError(
            _("“%(value)s” does not end in a public suffix such as .cn, .com or .中国.")
            % {"value": shown},
            code="domain_suffix",
        )
    if parts.is_private and not parts.domain:
        raise ValidationError(
            _("“%(value)s” is a suffix run by a platform, not a domain you can file.")
            % {"value": shown},
            code="domain_private_suffix",
        )
    if parts.is_private:
        raise ValidationError(
            _(
                "“%(value)s” is under %(suffix)s, a suffix run by a platform: those domains "
                "belong to the platform and cannot be filed by you. File a domain registered "
                "in your own name."
            )
            % {"value": shown, "suffix": parts.suffix},
            code="domain_private_suffix",
        )
    if approved_tlds is None:
        approved_tlds = approved_top_level_domains()
    tld = top_level_domain(domain)
    if tld not in approved_tlds:
        raise ValidationError(
            _(
                "“%(value)s” is under .%(tld)s, which is not a top-level domain approved by the "
                "Ministry of Industry and Information Technology: under the Internet Domain "
                "Name Regulations (互联网域名管理办法) a website served in mainland China uses "
                "a domain under an approved top-level domain, such as .cn, .中国 or .com."
            )
            % {"value": shown, "tld": domain_unicode(tld)},
            code="domain_tld_not_approved",
        )
    if not parts.domain:
        raise ValidationError(
            _("“%(value)s” is a public suffix, not a domain: enter your domain under it.")
            % {"value": shown},
            code="domain_is_suffix",
        )
    registrable = f"{parts.domain}.{parts.suffix}"
    if parts.subdomain:
        raise ValidationError(
            _(
                "“%(value)s” is a subdomain: enter the registrable domain %(registrable)s "
                "instead; it covers its subdomains."
            )
            % {"value": shown, "registrable": domain_unicode(registrable)},
            code="domain_subdomain",
        )
    return registrable


def homepage_host(url: str) -> str | None:
    """The A-label host of an http(s) URL, or None when it is not one."""
    try:
        parts = urlsplit(homepage_url(url))
        port = parts.port  # noqa: F841 - raises ValueError for a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password:
        return None
    try:
        return normalize_domain(parts.hostname)
    except ValueError:
        return None


def validate_homepage(url: str, domains: Iterable[str] | None) -> str:
    """The homepage as a URL (``http://`` when no scheme was typed, RFC 3490 separators in
    the host made full stops). Its host must be one of ``domains`` or under one; with
    ``domains`` None (none of the website's domains is valid yet) that is not checked."""
    text = homepage_url(url)
    if not re.match(r"(?i)https?://", text):
        raise ValidationError(
            _("The homepage URL starts with http:// or https://, like http://www.example.cn/."),
            code="homepage_scheme",
        )
    host = homepage_host(text)
    if host is None:
        raise ValidationError(
            _("Enter the full homepage URL, like http://www.example.cn/."),
            code="homepage_format",
        )
    if domains is not None and not any(host == d or host.endswith("." + d) for d in domains):
        raise ValidationError(
            _(
                "The homepage's host %(host)s is not one of this website's domains or a "
                "subdomain of one: add its domain to the domain list or correct the URL."
            )
            % {"host": domain_unicode(host)},
            code="homepage_host",
        )
    return text


def validate_ip(value: str) -> str:
    """A public IPv4 or IPv6 address in its short form; an IPv4-mapped IPv6 address is the
    IPv4 address (``beian.normalforms.addresses``)."""
    shown = folded(value)
    try:
        address = normalize_ip(shown)
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not an IPv4 or IPv6 address.") % {"value": shown},
            code="ip_format",
        ) from None
    if not address.is_global or address.is_multicast:
        raise ValidationError(
            _(
                "“%(value)s” is a private, reserved or loopback address: enter the public "
                "address of the server."
            )
            % {"value": shown},
            code="ip_not_public",
        )
    return str(address)


# --- Structure ------------------------------------------------------------------------------


class StructureError(Exception):
    """The data is not the SPEC §10 shape; ``errors`` says where."""

    def __init__(self, errors: dict) -> None:
        super().__init__("malformed filing data")
        self.errors = errors


def empty_sponsor() -> dict[str, Any]:
    return {
        "nature": "",
        "name": "",
        "id_type": "",
        "id_number": "",
        "province": "",
        "address": "",
        "principal": {"name": "", "id_type": "", "id_number": "", "mobile": "", "email": ""},
    }


def empty_website() -> dict[str, Any]:
    return {
        "id": None,
        "name": "",
        "number": None,
        "homepage": "",
        "domains": [],
        "ips": [],
        "services": [],
        "commercial": False,
        "preapprovals": [],
        "server_location": "",
        "access_provider": None,
    }


# An access (SPEC §12) in the filing JSON, and the website keys of the one-access shorthand
# that stand for its fields (``access_provider``, ``server_location``, ``ips``).
ACCESS_FIELDS = ("provider", "method", "server_location", "ips")
SHORTHAND = {"provider": "access_provider", "server_location": "server_location", "ips": "ips"}
SHORTHAND_METHOD = Access.Method.OTHER.value


def empty_access() -> dict[str, Any]:
    return {"provider": None, "method": "", "server_location": "", "ips": []}


def website_accesses(website: dict[str, Any]) -> list[dict[str, Any]]:
    """The accesses of a website in the filing JSON (SPEC §12): its ``accesses``, or the one
    access its shorthand keys give (``access_provider``, ``server_location``, ``ips``; the
    method then ``other``), as JSON written before accesses had a list of their own is."""
    accesses = website.get("accesses")
    if isinstance(accesses, list):
        return accesses
    return [
        {
            "provider": website.get("access_provider"),
            "method": SHORTHAND_METHOD,
            "server_location": website.get("server_location") or "",
            "ips": website.get("ips") or [],
        }
    ]


def _shorthand_of(access: Any) -> tuple:
    access = access if isinstance(access, dict) else {}
    return (access.get("provider"), access.get("server_location") or "", access.get("ips") or [])


def shorthand_edits(data: Any, current: dict[str, Any]) -> Any:
    """``data`` (SPEC §10 JSON as written) where a website gives both ``accesses`` and the
    shorthand keys and they disagree: when its ``accesses`` are those of the same website in
    ``current`` (the data saved before, by ``id``, else by place) and the shorthand keys are
    not, the shorthand keys are the edit, and its first access takes them. So a client that
    reads a filing, changes ``ips`` and writes it all back is heard (SPEC §12: the shorthand
    shows the first access); otherwise ``accesses`` rule, as written."""
    if not isinstance(data, dict) or not isinstance(data.get("websites"), list):
        return data
    before = [w for w in (current or {}).get("websites") or [] if isinstance(w, dict)]
    by_id = {w.get("id"): w for w in before if w.get("id") is not None}
    websites = []
    for place, website in enumerate(data["websites"]):
        if (
            not isinstance(website, dict)
            or not isinstance(website.get("accesses"), list)
            or not website["accesses"]
            or not any(key in website for key in SHORTHAND.values())
        ):
            websites.append(website)
            continue
        was = by_id.get(website.get("id")) or (before[place] if place < len(before) else {})
        written = (
            website.get("access_provider"),
            website.get("server_location") or "",
            website.get("ips") or [],
        )
        first = website["accesses"][0]
        accesses_kept = bool(was) and website["accesses"] == website_accesses(was)
        if written != _shorthand_of(first) and accesses_kept:
            first = {
                **(first if isinstance(first, dict) else {}),
                "provider": written[0],
                "server_location": written[1],
                "ips": written[2],
            }
            website = {**website, "accesses": [first, *website["accesses"][1:]]}
        websites.append(website)
    return {**data, "websites": websites}


def with_shorthand(website: dict[str, Any]) -> dict[str, Any]:
    """``website`` (with ``accesses``) whose shorthand keys show its first access, as SPEC §12
    has them read; empty without one."""
    first = (website.get("accesses") or [None])[0] or {}
    website["ips"] = list(first.get("ips") or [])
    website["server_location"] = first.get("server_location") or ""
    website["access_provider"] = first.get("provider")
    return website


def empty_data() -> dict[str, Any]:
    return {"sponsor": empty_sponsor(), "websites": [], "apps": [], "mini_programs": []}


def _text(value: Any, limit: int, errors: dict, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[key] = [_("Enter text.")]
        return ""
    text = str(value)
    if message := unreadable_text_message(text):
        errors[key] = [message]
        return ""
    text = text.strip()
    if len(text) > limit:
        errors[key] = [
            _("Use at most %(limit)d characters (now %(count)d).")
            % {"limit": limit, "count": len(text)}
        ]
        return text[:limit]
    return text


def _text_list(value: Any, limit: int, max_items: int, errors: dict, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # A convenience of forms and hand-written JSON: one item per line or comma.
        value = [v for v in re.split(r"[\s,，;；]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[key] = [_("Enter a list of text values.")]
        return []
    unreadable = [m for v in value if (m := unreadable_text_message(v))]
    if unreadable:
        errors[key] = [unreadable[0]]
        return []
    items = [v.strip() for v in value if v.strip()]
    if len(items) > max_items:
        errors[key] = [_("Enter at most %(limit)d items.") % {"limit": max_items}]
        return items[:max_items]
    too_long = [v for v in items if len(v) > limit]
    if too_long:
        errors[key] = [
            _("Use at most %(limit)d characters for each item.") % {"limit": limit},
        ]
        return [v[:limit] for v in items]
    return items


def _dict(value: Any, errors: dict, key: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors[key] = [_("Expected an object.")]
        return {}
    return value


def coerce_sponsor(raw: Any, errors: dict) -> dict[str, Any]:
    raw = _dict(raw, errors, "sponsor")
    sponsor_errors: dict = {}
    principal_errors: dict = {}
    sponsor = {
        "nature": _text(raw.get("nature"), 32, sponsor_errors, "nature"),
        "name": _text(raw.get("name"), MAX_TEXT["name"], sponsor_errors, "name"),
        "id_type": _text(raw.get("id_type"), 32, sponsor_errors, "id_type"),
        "id_number": _text(
            raw.get("id_number"), MAX_TEXT["id_number"], sponsor_errors, "id_number"
        ),
        "province": _text(raw.get("province"), 8, sponsor_errors, "province"),
        "address": _text(raw.get("address"), MAX_TEXT["address"], sponsor_errors, "address"),
    }
    principal = _dict(raw.get("principal"), sponsor_errors, "principal")
    sponsor["principal"] = {
        "name": _text(principal.get("name"), MAX_TEXT["principal_name"], principal_errors, "name"),
        "id_type": _text(principal.get("id_type"), 32, principal_errors, "id_type"),
        "id_number": _text(
            principal.get("id_number"), MAX_TEXT["id_number"], principal_errors, "id_number"
        ),
        "mobile": _text(principal.get("mobile"), MAX_TEXT["mobile"], principal_errors, "mobile"),
        "email": _text(principal.get("email"), MAX_TEXT["email"], principal_errors, "email"),
    }
    if principal_errors:
        sponsor_errors["principal"] = principal_errors
    if sponsor_errors:
        errors["sponsor"] = sponsor_errors
    return sponsor


def _document_id(value: Any, errors: dict) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        errors["document"] = [_("Give the id of an uploaded document.")]
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors["document"] = [_("Give the id of an uploaded document.")]
        return None


def _provider_value(value: Any, errors: dict, key: str = "access_provider") -> int | str | None:
    if value in (None, ""):
        return None
    if value == OTHER:
        return OTHER
    if isinstance(value, bool):
        errors[key] = [_("Give the id of an access provider, or “other”.")]
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[key] = [_("Give the id of an access provider, or “other”.")]
        return None


def _id_value(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


MAX_ACCESSES = 10


def coerce_access(raw: Any) -> tuple[dict[str, Any], dict]:
    """One access of a website's ``accesses`` (SPEC §12), canonical, and its structure
    errors keyed by its fields."""
    if not isinstance(raw, dict):
        return empty_access(), {"non_field_errors": [_("Expected an object.")]}
    errors: dict = {}
    access = {
        "provider": _provider_value(raw.get("provider"), errors, "provider"),
        "method": _text(raw.get("method"), 16, errors, "method"),
        "server_location": _text(raw.get("server_location"), 8, errors, "server_location"),
        "ips": _text_list(raw.get("ips"), MAX_TEXT["ip"], MAX_IPS, errors, "ips"),
    }
    return access, errors


def _coerce_accesses(raw: dict, website: dict, errors: dict) -> None:
    """Set ``website``'s accesses from ``raw``: its ``accesses`` when given (then the
    shorthand keys follow the first), else the shorthand keys alone, as they were written."""
    given = raw.get("accesses")
    if given is None:
        website["ips"] = _text_list(raw.get("ips"), MAX_TEXT["ip"], MAX_IPS, errors, "ips")
        website["server_location"] = _text(raw.get("server_location"), 8, errors, "server_location")
        website["access_provider"] = _provider_value(raw.get("access_provider"), errors)
        return
    if not isinstance(given, list):
        errors["accesses"] = [_("Expected a list.")]
        given = []
    elif len(given) > MAX_ACCESSES:
        errors["accesses"] = [
            _("A website has at most %(limit)d accesses.") % {"limit": MAX_ACCESSES}
        ]
        given = given[:MAX_ACCESSES]
    accesses, access_errors = [], []
    for entry in given:
        access, errs = coerce_access(entry)
        accesses.append(access)
        access_errors.append(errs)
    if any(access_errors):
        errors["accesses"] = access_errors
    website["accesses"] = accesses
    with_shorthand(website)


def _bool(value: Any, errors: dict, key: str) -> bool:
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.lower() in ("true", "yes", "1")
    errors[key] = [_("Answer true or false.")]
    return False


def coerce_website(raw: Any) -> tuple[dict[str, Any], dict]:
    errors: dict = {}
    if not isinstance(raw, dict):
        return empty_website(), {"non_field_errors": [_("Expected an object.")]}
    website = {
        "id": _id_value(raw.get("id")),
        "name": _text(raw.get("name"), MAX_TEXT["website_name"], errors, "name"),
        "number": raw.get("number") if isinstance(raw.get("number"), str) else None,
        "homepage": _text(raw.get("homepage"), MAX_TEXT["homepage"], errors, "homepage"),
        "domains": _text_list(
            raw.get("domains"), MAX_TEXT["domain"], MAX_DOMAINS, errors, "domains"
        ),
        "services": list(
            dict.fromkeys(_text_list(raw.get("services"), 32, 20, errors, "services"))
        ),
        "commercial": _bool(raw.get("commercial"), errors, "commercial"),
    }
    _coerce_accesses(raw, website, errors)
    _coerce_preapprovals(raw, website, errors)
    return website, errors


def _coerce_preapprovals(raw: dict, service: dict, errors: dict) -> None:
    """Set ``service``'s ``preapprovals`` from ``raw``: one entry per pre-approval service it
    ticked (``service["services"]``), in a fixed order: entries for services no longer ticked
    are dropped, missing ones start empty."""
    website = service
    given: dict[str, dict] = {}
    raw_entries = raw.get("preapprovals") or []
    if not isinstance(raw_entries, list):
        errors["preapprovals"] = [_("Expected a list.")]
        raw_entries = []
    for entry in raw_entries:
        if isinstance(entry, dict) and isinstance(entry.get("category"), str):
            given.setdefault(entry["category"], entry)
    entries, entry_errors = [], []
    for category in Website.PREAPPROVAL_SERVICES:
        if category not in website["services"]:
            continue
        entry = given.get(category, {})
        errs: dict = {}
        entries.append(
            {
                "category": str(category),
                "authority": _text(
                    entry.get("authority"), MAX_TEXT["authority"], errs, "authority"
                ),
                "document_number": _text(
                    entry.get("document_number"),
                    MAX_TEXT["document_number"],
                    errs,
                    "document_number",
                ),
                "document": _document_id(entry.get("document"), errs),
            }
        )
        entry_errors.append(errs)
    website["preapprovals"] = entries
    if any(entry_errors):
        errors["preapprovals"] = entry_errors


def coerce_data(raw: Any) -> dict[str, Any]:
    """The canonical draft of ``raw``; ``StructureError`` when it is not the SPEC shape."""
    errors: dict = {}
    if not isinstance(raw, dict):
        raise StructureError({"non_field_errors": [_("Expected an object.")]})
    sponsor = coerce_sponsor(raw.get("sponsor"), errors)
    raw_websites = raw.get("websites")
    websites = []
    if raw_websites is not None and not isinstance(raw_websites, list):
        errors["websites"] = [_("Expected a list of websites.")]
    elif raw_websites:
        if len(raw_websites) > MAX_WEBSITES:
            errors["websites"] = [
                _("A filing holds at most %(limit)d websites.") % {"limit": MAX_WEBSITES}
            ]
        else:
            website_errors = []
            for item in raw_websites:
                website, errs = coerce_website(item)
                websites.append(website)
                website_errors.append(errs)
            if any(website_errors):
                errors["websites"] = website_errors
    apps = _coerce_list(raw.get("apps"), coerce_app, MAX_APPS, errors, "apps")
    mini_programs = _coerce_list(
        raw.get("mini_programs"), coerce_mini_program, MAX_MINI_PROGRAMS, errors, "mini_programs"
    )
    if errors:
        raise StructureError(errors)
    return {"sponsor": sponsor, "websites": websites, "apps": apps, "mini_programs": mini_programs}


# Apps and mini-programs (SPEC §13): their structure.

MAX_APPS = 50
MAX_MINI_PROGRAMS = 50
MAX_PLATFORMS = 3
MAX_STORES = 20
MAX_IDENTIFIER = 255
MAX_PUBLIC_KEY_TEXT = 16384
MAX_FINGERPRINT_TEXT = 200


def _coerce_list(raw: Any, coerce, limit: int, errors: dict, key: str) -> list[dict[str, Any]]:
    """The canonical items of the list ``raw`` (``coerce`` one by one: ``(item, errors)``),
    at most ``limit``; structure problems under ``errors[key]`` (one dict per item)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors[key] = [_("Expected a list.")]
        return []
    if len(raw) > limit:
        errors[key] = [_("Enter at most %(limit)d items.") % {"limit": limit}]
        return []
    items, item_errors = [], []
    for entry in raw:
        item, errs = coerce(entry)
        items.append(item)
        item_errors.append(errs)
    if any(item_errors):
        errors[key] = item_errors
    return items


def empty_app() -> dict[str, Any]:
    return {
        "id": None,
        "name": "",
        "number": None,
        "platforms": [],
        "domains": [],
        "stores": [],
        "services": [],
        "commercial": False,
        "preapprovals": [],
        "accesses": [],
    }


def empty_platform() -> dict[str, Any]:
    return {"platform": "", "identifier": "", "public_key": "", "fingerprint": ""}


def empty_mini_program() -> dict[str, Any]:
    return {
        "id": None,
        "name": "",
        "number": None,
        "platform": "",
        "platform_id": "",
        "services": [],
        "commercial": False,
        "preapprovals": [],
    }


def coerce_platform(raw: Any) -> tuple[dict[str, Any], dict]:
    """One entry of an app's ``platforms`` (SPEC §13), canonical, and its structure errors."""
    if not isinstance(raw, dict):
        return empty_platform(), {"non_field_errors": [_("Expected an object.")]}
    errors: dict = {}
    return {
        "platform": _text(raw.get("platform"), 16, errors, "platform"),
        "identifier": _text(raw.get("identifier"), MAX_IDENTIFIER, errors, "identifier"),
        "public_key": _text(raw.get("public_key"), MAX_PUBLIC_KEY_TEXT, errors, "public_key"),
        "fingerprint": _text(raw.get("fingerprint"), MAX_FINGERPRINT_TEXT, errors, "fingerprint"),
    }, errors


def _common_service(raw: dict, errors: dict) -> dict[str, Any]:
    return {
        "id": _id_value(raw.get("id")),
        "name": _text(raw.get("name"), MAX_TEXT["website_name"], errors, "name"),
        "number": raw.get("number") if isinstance(raw.get("number"), str) else None,
    }


def _common_content(raw: dict, service: dict, errors: dict) -> None:
    service["services"] = list(
        dict.fromkeys(_text_list(raw.get("services"), 32, 20, errors, "services"))
    )
    service["commercial"] = _bool(raw.get("commercial"), errors, "commercial")
    _coerce_preapprovals(raw, service, errors)


def coerce_app(raw: Any) -> tuple[dict[str, Any], dict]:
    """One app of a filing's ``apps`` (SPEC §13), canonical, and its structure errors."""
    if not isinstance(raw, dict):
        return empty_app(), {"non_field_errors": [_("Expected an object.")]}
    errors: dict = {}
    app = _common_service(raw, errors)
    app["platforms"] = _coerce_list(
        raw.get("platforms"), coerce_platform, MAX_PLATFORMS, errors, "platforms"
    )
    app["domains"] = _text_list(
        raw.get("domains"), MAX_TEXT["domain"], MAX_DOMAINS, errors, "domains"
    )
    stores = raw.get("stores")
    if stores is None:
        app["stores"] = []
    elif not isinstance(stores, list) or len(stores) > MAX_STORES:
        errors["stores"] = [
            _("Give a list of at most %(limit)d distribution platforms.") % {"limit": MAX_STORES}
        ]
        app["stores"] = []
    else:
        values = [_provider_value(v, errors, "stores") for v in stores]
        app["stores"] = list(dict.fromkeys(v for v in values if v is not None))
    _common_content(raw, app, errors)
    accesses = raw.get("accesses")
    app["accesses"] = _coerce_list(accesses, coerce_access, MAX_ACCESSES, errors, "accesses")
    return app, errors


def coerce_mini_program(raw: Any) -> tuple[dict[str, Any], dict]:
    """One mini-program of a filing's ``mini_programs`` (SPEC §13), canonical, and its
    structure errors."""
    if not isinstance(raw, dict):
        return empty_mini_program(), {"non_field_errors": [_("Expected an object.")]}
    errors: dict = {}
    program = _common_service(raw, errors)
    program["platform"] = _text(raw.get("platform"), 16, errors, "platform")
    program["platform_id"] = _text(raw.get("platform_id"), 64, errors, "platform_id")
    _common_content(raw, program, errors)
    return program, errors


# --- Content --------------------------------------------------------------------------------

INDIVIDUAL_ID_TYPES = (
    Filing.IdType.RESIDENT_ID,
    Filing.IdType.PASSPORT,
    Filing.IdType.HK_MACAO_PERMIT,
    Filing.IdType.TAIWAN_PERMIT,
    Filing.IdType.FOREIGN_PERMANENT_RESIDENT,
    Filing.IdType.OTHER,
)
ORGANISATION_ID_TYPES = (Filing.IdType.USCC, Filing.IdType.OTHER)


def _message(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _required(value: str, message: str, errors: dict, key: str) -> bool:
    if not value:
        errors[key] = [message]
        return False
    return True


def _check_certificate(
    id_type: str, number: str, errors: dict, type_key: str, number_key: str, allowed
) -> str:
    if not id_type:
        errors[type_key] = [_("Choose the certificate type.")]
    elif id_type not in allowed:
        errors[type_key] = [_("Choose one of the certificate types in the list.")]
    if not number:
        errors[number_key] = [_("Enter the certificate number.")]
        return number
    if id_type in allowed:
        try:
            return validate_certificate(id_type, number)
        except ValidationError as exc:
            errors[number_key] = _message(exc)
    return number


def validate_sponsor(sponsor: dict[str, Any], *, province_codes: set[str]) -> tuple[dict, dict]:
    errors: dict = {}
    out = {**sponsor, "principal": {**sponsor["principal"]}}
    out["name"] = clean_name(sponsor["name"])
    out["principal"]["name"] = clean_name(sponsor["principal"]["name"])
    nature = sponsor["nature"]
    if (
        _required(nature, _("Choose the nature of the sponsor."), errors, "nature")
        and nature not in Filing.Nature.values
    ):
        errors["nature"] = [_("Choose one of the natures in the list.")]
    _required(
        out["name"],
        _("Enter the sponsor's full name as on its certificate (a person's name for individuals)."),
        errors,
        "name",
    )
    allowed = (
        INDIVIDUAL_ID_TYPES
        if nature == Filing.Nature.INDIVIDUAL
        else ORGANISATION_ID_TYPES
        if nature in Filing.Nature.values
        else Filing.IdType.values
    )
    if (
        sponsor["id_type"]
        and sponsor["id_type"] in Filing.IdType.values
        and sponsor["id_type"] not in allowed
    ):
        errors["id_type"] = [
            _("An individual files with a personal certificate, not a credit code.")
            if nature == Filing.Nature.INDIVIDUAL
            else _("An organisation files with its unified social credit code (or “other”).")
        ]
        out["id_number"] = certificates.compact(sponsor["id_number"])
        if not sponsor["id_number"]:
            errors["id_number"] = [_("Enter the certificate number.")]
    else:
        out["id_number"] = _check_certificate(
            sponsor["id_type"], sponsor["id_number"], errors, "id_type", "id_number", allowed
        )
    if (
        _required(
            sponsor["province"],
            _("Choose the province of the sponsor's residence."),
            errors,
            "province",
        )
        and sponsor["province"] not in province_codes
    ):
        errors["province"] = [_("Choose one of the provinces in the list.")]
    _required(sponsor["address"], _("Enter the sponsor's address."), errors, "address")

    principal = sponsor["principal"]
    p_errors: dict = {}
    _required(out["principal"]["name"], _("Enter the responsible person's name."), p_errors, "name")
    out["principal"]["id_number"] = _check_certificate(
        principal["id_type"],
        principal["id_number"],
        p_errors,
        "id_type",
        "id_number",
        INDIVIDUAL_ID_TYPES,
    )
    if _required(
        principal["mobile"], _("Enter the responsible person's mobile number."), p_errors, "mobile"
    ):
        try:
            out["principal"]["mobile"] = normalize_mobile(principal["mobile"])
        except ValidationError as exc:
            p_errors["mobile"] = _message(exc)
    if _required(
        principal["email"], _("Enter the responsible person's email address."), p_errors, "email"
    ):
        try:
            out["principal"]["email"] = normalize_email(principal["email"])
        except ValidationError as exc:
            p_errors["email"] = _message(exc)
    if p_errors:
        errors["principal"] = p_errors
    return out, errors


# A website's rules, one per field: each returns its messages (an empty list when the field
# is right) and, where the field has a normal form, the normalised value.


def _required_message(value: Any, message: str) -> list[str]:
    return [] if value else [message]


def website_name_errors(name: str) -> list[str]:
    """The website's name (already cleaned) is required."""
    return _required_message(name, _("Enter the website's name."))


def website_domains_check(
    values: list[str],
    *,
    seen_domains: dict[str, int],
    approved_tlds: frozenset[str] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """``(domains, typed, messages)`` of the domains as typed: the valid ones as A-labels,
    each once and not another website's of this filing (``seen_domains``: domain → website
    index); every value that reads as a domain, valid or not; and one message per problem,
    in the order typed."""
    domains: list[str] = []
    messages: list[str] = []
    # Every domain typed that reads as one, valid or not: the homepage's host is checked
    # against these too, so that its problem is reported with the domains' own.
    typed: list[str] = []
    for value in values:
        with contextlib.suppress(ValueError):
            typed.append(normalize_domain(value))
        try:
            domain = validate_domain(value, approved_tlds=approved_tlds)
        except ValidationError as exc:
            messages.extend(_message(exc))
            continue
        if domain in domains:
            messages.append(_("“%(value)s” is listed twice.") % {"value": value})
        elif domain in seen_domains:
            messages.append(
                _("“%(value)s” is already listed under website %(n)d of this filing.")
                % {"value": value, "n": seen_domains[domain] + 1}
            )
        else:
            domains.append(domain)
    if not values:
        messages.append(_("Enter at least one domain, like example.cn."))
    return domains, typed, messages


def website_homepage_check(url: str, domains: list[str]) -> tuple[str, list[str]]:
    """``(homepage, messages)``: the normalised URL when it is on one of ``domains``, else the
    URL as typed with what is wrong with it."""
    if not url:
        return url, [_("Enter the homepage URL, like http://www.example.cn/.")]
    try:
        return validate_homepage(url, domains), []
    except ValidationError as exc:
        return url, _message(exc)


def website_ips_check(values: list[str]) -> tuple[list[str], list[str]]:
    """``(ips, messages)``: the valid addresses in their short form, each once, and one message
    per problem in the order typed."""
    ips: list[str] = []
    messages: list[str] = []
    for value in values:
        try:
            ip = validate_ip(value)
        except ValidationError as exc:
            messages.extend(_message(exc))
            continue
        if ip in ips:
            messages.append(_("“%(value)s” is listed twice.") % {"value": value})
        else:
            ips.append(ip)
    if not values:
        messages.append(_("Enter at least one IP address of the server."))
    return ips, messages


def website_services_errors(services: list[str]) -> list[str]:
    """At least one kind of service content, each one of ``Website.Service``."""
    if not services:
        return [_("Choose at least one kind of service content.")]
    unknown = [s for s in services if s not in Website.Service.values]
    if unknown:
        return [_("Unknown service content: %(values)s.") % {"values": ", ".join(unknown)}]
    return []


def website_commercial_errors(commercial: bool) -> list[str]:
    """A filing is for non-commercial services only (SPEC §3)."""
    if not commercial:
        return []
    return [
        _(
            "Filing is for non-commercial services only. A commercial internet information "
            "service needs a value-added telecommunications business licence "
            "(增值电信业务经营许可证) from the communications administration of your "
            "province instead of a filing."
        )
    ]


def website_server_location_errors(location: str, *, province_codes: set[str]) -> list[str]:
    """A province code, or ``OTHER`` outside mainland China."""
    if not location:
        return [_("Choose the province where the server is, or “other” outside mainland China.")]
    if location != OTHER and location not in province_codes:
        return [_("Choose one of the provinces in the list, or “other”.")]
    return []


def website_access_provider_errors(
    provider: int | str | None, *, provider_ids: set[int]
) -> list[str]:
    """An active access provider's id (``provider_ids``), or ``OTHER`` when it is not listed."""
    if provider is None:
        return [
            _(
                "Choose the access provider (search by its name), or “other” when it is not "
                "in the list."
            )
        ]
    if provider != OTHER and provider not in provider_ids:
        return [_("This access provider is not registered: search again, or choose “other”.")]
    return []


def preapproval_errors(entry: dict[str, Any], *, document_ids: set[int]) -> dict:
    """``{field: [message]}`` of one pre-approval entry: its authority, document number and a
    document uploaded to this filing (``document_ids``)."""
    errors: dict = {}
    label = Website.Service(entry["category"]).label
    _required(
        entry["authority"],
        _("Enter the authority that approved the %(category)s service.") % {"category": label},
        errors,
        "authority",
    )
    _required(
        entry["document_number"],
        _("Enter the number of the %(category)s approval document.") % {"category": label},
        errors,
        "document_number",
    )
    if entry["document"] is None:
        errors["document"] = [
            _("Upload the %(category)s approval document (PDF, JPEG or PNG).") % {"category": label}
        ]
    elif entry["document"] not in document_ids:
        errors["document"] = [_("This document was not uploaded to this filing: upload it again.")]
    return errors


def validate_website(
    website: dict[str, Any],
    *,
    seen_domains: dict[str, int],
    index: int,
    province_codes: set[str],
    provider_ids: set[int],
    document_ids: set[int],
    approved_tlds: frozenset[str] | None = None,
) -> tuple[dict, dict]:
    """``(website, errors)``: one canonical website (``coerce_website``) normalised, and
    ``{field: [messages]}`` in the order of its page (``preapprovals``: one dict per entry).

    ``seen_domains`` (domain → website index) holds the domains of the filing's earlier
    websites; this website's valid domains are added to it under ``index``."""
    out = {**website}
    out["name"] = clean_name(website["name"])
    domains, typed, domain_errors = website_domains_check(
        website["domains"], seen_domains=seen_domains, approved_tlds=approved_tlds
    )
    for domain in domains:
        seen_domains.setdefault(domain, index)
    out["domains"] = domains
    homepage, homepage_errors = website_homepage_check(website["homepage"], [*domains, *typed])
    out["homepage"] = homepage
    entry_errors = [
        preapproval_errors(e, document_ids=document_ids) for e in website["preapprovals"]
    ]
    accesses, access_errors = [], []
    for access in website_accesses(website):
        cleaned, errs = validate_access(
            access, province_codes=province_codes, provider_ids=provider_ids
        )
        accesses.append(cleaned)
        access_errors.append(errs)
    found = {
        "name": website_name_errors(out["name"]),
        "domains": domain_errors,
        "homepage": homepage_errors,
        "services": website_services_errors(website["services"]),
        "commercial": website_commercial_errors(website["commercial"]),
        "preapprovals": entry_errors if any(entry_errors) else [],
    }
    if "accesses" not in website:
        # Written in the one-access shorthand: its problems are on those keys.
        for field, key in SHORTHAND.items():
            found[key] = access_errors[0].get(field, [])
    elif not accesses:
        found["accesses"] = [_("Add at least one access: who serves the website, and where.")]
    elif any(access_errors):
        found["accesses"] = access_errors
    out["accesses"] = accesses
    with_shorthand(out)
    return out, {field: messages for field, messages in found.items() if messages}


def website_access_method_errors(method: str) -> list[str]:
    """One of ``Access.Method`` (SPEC §12)."""
    if not method:
        return [_("Choose how the access provider serves the website.")]
    if method not in Access.Method.values:
        return [_("Choose one of the access methods in the list.")]
    return []


def validate_access(
    access: dict[str, Any], *, province_codes: set[str], provider_ids: set[int]
) -> tuple[dict, dict]:
    """``(access, errors)``: one access (SPEC §12: provider, method, server location, IPs)
    normalised, and ``{field: [messages]}``."""
    ips, ip_errors = website_ips_check(access["ips"])
    out = {**access, "ips": ips}
    found = {
        "provider": website_access_provider_errors(access["provider"], provider_ids=provider_ids),
        "method": website_access_method_errors(access["method"]),
        "server_location": website_server_location_errors(
            access["server_location"], province_codes=province_codes
        ),
        "ips": ip_errors,
    }
    return out, {field: messages for field, messages in found.items() if messages}


# Apps and mini-programs (SPEC §13): their content.


def app_domain_check(value: str, *, approved_tlds: frozenset[str] | None) -> str:
    """A domain an app uses: as a website's (``validate_domain``), but a subdomain is kept as
    it is (an app names the hosts it calls, ``api.example.cn``), as lower-case A-labels."""
    try:
        return validate_domain(value, approved_tlds=approved_tlds)
    except ValidationError as exc:
        if exc.code != "domain_subdomain":
            raise
    return normalize_domain(folded(value))


def _service_name_errors(name: str, kind: str) -> list[str]:
    if kind == Website.Kind.APP:
        return _required_message(name, _("Enter the app's name, as its users see it."))
    return _required_message(name, _("Enter the mini-program's name, as its users see it."))


def app_platform_errors(
    entry: dict[str, Any], *, seen: dict[tuple[str, str], str], label: str
) -> tuple[dict[str, Any], dict]:
    """``(platform entry, errors)``: one platform of an app normalised (identifier by its
    platform's rule, public key and fingerprint in their stored form,
    ``beian.normalforms.apps``) and ``{field: [messages]}``. ``seen`` maps the identifiers
    (``(platform, identifier_key)``) of the filing's apps met so far to the app they are
    under (``label``)."""
    out = {**entry}
    errors: dict = {}
    platform = entry["platform"]
    if not platform:
        errors["platform"] = [_("Choose the platform: Android, iOS or HarmonyOS.")]
        return out, errors
    if platform not in app_rules.PLATFORMS:
        errors["platform"] = [_("Choose Android, iOS or HarmonyOS.")]
        return out, errors
    try:
        out["identifier"] = app_rules.validate_identifier(platform, entry["identifier"])
    except ValidationError as exc:
        errors["identifier"] = _message(exc)
    else:
        key = (platform, app_rules.identifier_key(platform, out["identifier"]))
        if key in seen:
            errors["identifier"] = [
                _("“%(value)s” is already listed under %(app)s in this filing.")
                % {"value": out["identifier"], "app": seen[key]}
            ]
        else:
            seen[key] = label
    try:
        out["public_key"] = app_rules.normalize_public_key(entry["public_key"])
    except ValidationError as exc:
        errors["public_key"] = _message(exc)
    try:
        out["fingerprint"] = app_rules.normalize_fingerprint(platform, entry["fingerprint"])
    except ValidationError as exc:
        errors["fingerprint"] = _message(exc)
    return out, errors


def _service_content_errors(service: dict[str, Any], *, document_ids: set[int]) -> dict[str, list]:
    entry_errors = [
        preapproval_errors(e, document_ids=document_ids) for e in service["preapprovals"]
    ]
    return {
        "services": website_services_errors(service["services"]),
        "commercial": website_commercial_errors(service["commercial"]),
        "preapprovals": entry_errors if any(entry_errors) else [],
    }


def validate_app(
    app: dict[str, Any],
    *,
    index: int,
    seen: dict[tuple[str, str], str],
    reference: ReferenceData,
) -> tuple[dict, dict]:
    """``(app, errors)``: one canonical app (``coerce_app``) normalised and
    ``{field: [messages]}`` (``platforms`` and ``accesses``: one dict per entry), SPEC §13:
    a name; one to three platforms, each once, with its identifier, public key and
    fingerprint; the domains it uses (optional, subdomains allowed); at least one
    distribution platform (a registered one, or ``"other"``); services, commercial and
    pre-approvals as a website's; at least one access."""
    out = {**app}
    out["name"] = clean_name(app["name"])
    label = out["name"] or _("app %(n)d") % {"n": index + 1}
    found: dict[str, Any] = {"name": _service_name_errors(out["name"], Website.Kind.APP)}
    platforms, platform_errors, used = [], [], set()
    for entry in app["platforms"]:
        cleaned, errs = app_platform_errors(entry, seen=seen, label=label)
        if entry["platform"] in used and "platform" not in errs:
            errs["platform"] = [_("Each platform is listed once: remove this one.")]
        used.add(entry["platform"])
        platforms.append(cleaned)
        platform_errors.append(errs)
    out["platforms"] = platforms
    if not platforms:
        found["platforms"] = [
            _("Add at least one platform with the app's identifier, public key and fingerprint.")
        ]
    elif any(platform_errors):
        found["platforms"] = platform_errors
    domains, domain_errors = [], []
    for value in app["domains"]:
        try:
            domain = app_domain_check(value, approved_tlds=reference.approved_tlds)
        except ValidationError as exc:
            domain_errors.extend(_message(exc))
            continue
        if domain in domains:
            domain_errors.append(_("“%(value)s” is listed twice.") % {"value": value})
        else:
            domains.append(domain)
    out["domains"] = domains
    found["domains"] = domain_errors
    store_errors = []
    for store in app["stores"]:
        if store != OTHER and store not in reference.store_ids:
            store_errors.append(
                _("This distribution platform is not registered: search again, or choose “other”.")
            )
            break
    if not app["stores"]:
        store_errors.append(
            _(
                "Choose at least one distribution platform (app store) the app is offered on, "
                "or “other”."
            )
        )
    found["stores"] = store_errors
    found.update(_service_content_errors(app, document_ids=reference.document_ids))
    accesses, access_errors = [], []
    for access in app["accesses"]:
        cleaned, errs = validate_access(
            access,
            province_codes=reference.province_codes,
            provider_ids=reference.provider_ids,
        )
        accesses.append(cleaned)
        access_errors.append(errs)
    out["accesses"] = accesses
    if not accesses:
        found["accesses"] = [_("Add at least one access: who serves the app, and where.")]
    elif any(access_errors):
        found["accesses"] = access_errors
    return out, {field: messages for field, messages in found.items() if messages}


def validate_mini_program(
    program: dict[str, Any],
    *,
    seen: dict[tuple[str, str], str],
    index: int,
    reference: ReferenceData,
) -> tuple[dict, dict]:
    """``(mini-program, errors)``: one canonical mini-program (``coerce_mini_program``)
    normalised and ``{field: [messages]}``, SPEC §13: a name, its host platform and its id
    there (``validate_mini_program_id``; each id once in a filing), services, commercial and
    pre-approvals as a website's."""
    out = {**program}
    out["name"] = clean_name(program["name"])
    found: dict[str, Any] = {"name": _service_name_errors(out["name"], Website.Kind.MINI_PROGRAM)}
    platform = program["platform"]
    if not platform:
        found["platform"] = [_("Choose the platform the mini-program runs on.")]
    elif platform not in app_rules.MINI_PROGRAM_PLATFORMS:
        found["platform"] = [_("Choose one of the platforms in the list, or “other”.")]
    else:
        try:
            out["platform_id"] = app_rules.validate_mini_program_id(
                platform, program["platform_id"]
            )
        except ValidationError as exc:
            found["platform_id"] = _message(exc)
        else:
            key = (platform, out["platform_id"])
            if key in seen:
                found["platform_id"] = [
                    _("“%(value)s” is already listed under %(app)s in this filing.")
                    % {"value": out["platform_id"], "app": seen[key]}
                ]
            else:
                seen[key] = out["name"] or _("mini-program %(n)d") % {"n": index + 1}
    found.update(_service_content_errors(program, document_ids=reference.document_ids))
    return out, {field: messages for field, messages in found.items() if messages}


@dataclass(frozen=True)
class ReferenceData:
    """What filing data points at: province codes, active access providers (at least those
    the data names) and the filing's uploaded documents."""

    province_codes: frozenset[str]
    provider_ids: frozenset[int]
    document_ids: frozenset[int]
    approved_tlds: frozenset[str] = frozenset()
    # Active registered distribution platforms (SPEC §13), at least those the data names.
    store_ids: frozenset[int] = frozenset()


def load_reference_data(
    datas: Iterable[dict[str, Any]], *, filing: Filing | None = None
) -> ReferenceData:
    """The reference data of one or more canonical filings in three queries (two when
    ``filing`` is new, which holds no documents yet)."""
    datas = list(datas)
    wanted_providers = {
        a["provider"]
        for data in datas
        for w in [*data["websites"], *data.get("apps", [])]
        for a in website_accesses(w)
        if isinstance(a["provider"], int)
    }
    wanted_stores = {
        store
        for data in datas
        for app in data.get("apps", [])
        for store in app["stores"]
        if isinstance(store, int)
    }
    provider_ids: set[int] = set()
    store_ids: set[int] = set()
    if wanted_providers or wanted_stores:
        for pk, serves, distributes in AccessProvider.objects.filter(
            pk__in=wanted_providers | wanted_stores, is_active=True
        ).values_list("pk", "is_access_provider", "is_distribution_platform"):
            if pk in wanted_providers and serves:
                provider_ids.add(pk)
            if distributes:
                store_ids.add(pk)
    document_ids = (
        filing.documents.values_list("pk", flat=True)
        if filing is not None and filing.pk is not None
        else []
    )
    return ReferenceData(
        province_codes=frozenset(Province.objects.values_list("code", flat=True)),
        provider_ids=frozenset(provider_ids),
        document_ids=frozenset(document_ids),
        approved_tlds=approved_top_level_domains(),
        store_ids=frozenset(store_ids),
    )


def approved_websites(filing: Filing | None) -> list[dict[str, Any]] | None:
    """The websites of the filing's last approved version (SPEC §10 shape), or None (never
    approved, or a filing not saved yet)."""
    if filing is None or filing.pk is None:
        return None
    approved = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return approved.get("websites") if approved else None


def approved_services(filing: Filing | None) -> list[dict[str, Any]] | None:
    """The websites and then the apps of the filing's last approved version (SPEC §10, §13
    shape): every service that has accesses; None as ``approved_websites``."""
    if filing is None or filing.pk is None:
        return None
    approved = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    if not approved:
        return None
    return [*(approved.get("websites") or []), *(approved.get("apps") or [])]


def _access_error(written: dict[str, Any], errors: dict, position: int, message: str) -> None:
    """Add ``message`` to ``errors`` (one website's) on its access ``position``'s provider,
    where the website wrote it: ``accesses.<n>.provider``, or ``access_provider`` for one
    written in the shorthand (``written``: the website as given, canonical)."""
    if "accesses" not in written:
        errors.setdefault("access_provider", []).append(message)
        return
    slots = errors.setdefault("accesses", [{} for _ in written["accesses"]])
    if position < len(slots) and isinstance(slots[position], dict):
        slots[position].setdefault("provider", []).append(message)
    else:
        errors.setdefault("access_provider", []).append(message)


def foreign_access_errors(
    written: list[dict[str, Any]],
    websites: list[dict[str, Any]],
    website_errors: list[dict],
    *,
    acting_provider: int,
    approved: list[dict[str, Any]] | None,
) -> None:
    """Add to ``website_errors`` (one dict per website, in order) a problem on each access of
    ``websites`` (normalised; ``written`` as given) that names another registered provider
    than ``acting_provider`` and is not an access already approved (``approved``: the websites
    of the last approved version): a provider files accesses at itself only (SPEC §12, a row
    of its import as its staff's submission for a client). The accesses of other providers
    are filed by the owner or by them."""
    before: dict[str, list] = {}
    for website in approved or []:
        if website.get("number"):
            before[website["number"]] = website_accesses(website)
    message = _(
        "You can file only your own accesses: this one names another registered access "
        "provider, which files it itself (or the owner does)."
    )
    for index, website in enumerate(websites):
        kept = before.get(website.get("number") or "", [])
        for position, access in enumerate(website["accesses"]):
            # "other" is no provider's: the provider may file it for its client (Q10).
            if access["provider"] in (acting_provider, OTHER) or access in kept:
                continue
            _access_error(written[index], website_errors[index], position, message)


def other_provider_errors(
    written: list[dict[str, Any]],
    websites: list[dict[str, Any]],
    website_errors: list[dict],
    *,
    kind: str,
    approved: list[dict[str, Any]] | None,
    provider_ids: frozenset[int],
    website_count: int | None = None,
) -> None:
    """Add to ``website_errors`` (one dict per service, in order) a problem on each access of
    ``websites`` (the services with accesses, normalised: the websites, then the apps from
    ``website_count`` on, SPEC §13; ``written`` as given) that a ``kind`` application may not
    file because it names a registered provider other than the one that first-reviews it
    (``other_provider_accesses``, SPEC §12). The message names the service
    (``service_label``) and both providers (one query when there is one), and offers both
    ways out: move the access to the provider the application goes to, or take it out and
    file it once this application is approved. A provider that is not an active registered
    one (``provider_ids``) has its own problem on the field already."""
    found = [
        f
        for f in other_provider_accesses(kind, websites, approved)
        if f.first in provider_ids and f.provider in provider_ids
    ]
    if not found:
        return
    names = dict(
        AccessProvider.objects.filter(
            pk__in={f.provider for f in found} | {found[0].first}
        ).values_list("pk", "name")
    )
    for problem in found:
        values = {
            "first": names.get(problem.first, problem.first),
            "provider": names.get(problem.provider, problem.provider),
            "service": service_label(
                websites[problem.website],
                written[problem.website],
                problem.website,
                website_count=website_count,
            ),
        }
        if problem.held:
            message = _(
                "This application goes to the first review of %(first)s, and an application "
                "goes to one access provider only. On %(service)s, either change this access "
                "to %(first)s, or leave it at %(provider)s as it was approved and change it "
                "once this application is approved, in an application of its own."
            )
        elif problem.alone:
            message = _(
                "This application goes to the first review of %(first)s, and an application "
                "goes to one access provider only. Only %(provider)s serves %(service)s: "
                "either change its access to %(first)s, or take it out of this application "
                "and, once this application is approved, add it in an amendment (变更), "
                "which goes to %(provider)s."
            )
        else:
            message = _(
                "This application goes to the first review of %(first)s, and an application "
                "goes to one access provider only. On %(service)s, either change this access "
                "at %(provider)s to %(first)s, or take it out and, once this application is "
                "approved, apply for a new access (新增接入) at %(provider)s."
            )
        _access_error(
            written[problem.website],
            website_errors[problem.website],
            problem.access,
            message % values,
        )


def service_label(
    cleaned: dict[str, Any],
    written: dict[str, Any],
    index: int,
    *,
    website_count: int | None = None,
) -> str:
    """How a message names a website or an app: the website (or app) by its name, a website
    without one by its homepage (``cleaned`` as validated, else ``written`` as typed), else
    by its place among its kind (``index`` from 0 in a list of the websites, then the apps
    from ``website_count`` on; None: websites only)."""
    app = website_count is not None and index >= website_count
    keys = ("name",) if app else ("name", "homepage")
    for key in keys:
        value = cleaned.get(key) or str(written.get(key) or "").strip()
        if value:
            if app:
                return _("the app “%(name)s”") % {"name": value}
            return _("the website “%(name)s”") % {"name": value}
    if app:
        return _("app %(n)d") % {"n": index - website_count + 1}
    return _("website %(n)d") % {"n": index + 1}


def validate_filing_data(
    data: dict[str, Any],
    *,
    filing: Filing,
    reference: ReferenceData | None = None,
    acting_provider: int | None = None,
    approved: list[dict[str, Any]] | None = None,
    kind: str | None = None,
) -> tuple[dict, dict]:
    """The normalised data and every problem in it (an empty dict when it may be submitted).

    ``data`` is canonical (from ``coerce_data``); the reference data it points at — provinces,
    access providers, the filing's documents — is loaded here in three queries unless the
    caller, validating many filings at once, passes it in ``reference``. ``acting_provider``:
    the id of the provider whose staff submits (an import's row, or a client's filing), which
    may name no other provider's new access (``foreign_access_errors``). Otherwise the new or
    changed accesses may name one registered provider only, the one the application goes to
    (``other_provider_errors``, SPEC §12). ``kind``: the application's, ``new`` or
    ``amendment`` (by default, from whether ``filing`` was approved before); ``approved``:
    the websites of the last approved version (read here for a filing approved before when
    not given).
    """
    if reference is None:
        reference = load_reference_data([data], filing=filing)
    province_codes = reference.province_codes
    provider_ids = reference.provider_ids
    document_ids = reference.document_ids
    errors: dict = {}
    sponsor, sponsor_errors = validate_sponsor(data["sponsor"], province_codes=province_codes)
    if sponsor_errors:
        errors["sponsor"] = sponsor_errors
    websites, website_errors = [], []
    seen: dict[str, int] = {}
    for index, website in enumerate(data["websites"]):
        cleaned, errs = validate_website(
            website,
            seen_domains=seen,
            index=index,
            province_codes=province_codes,
            provider_ids=provider_ids,
            document_ids=document_ids,
            approved_tlds=reference.approved_tlds,
        )
        websites.append(cleaned)
        website_errors.append(errs)
    apps, app_errors = [], []
    seen_identifiers: dict[tuple[str, str], str] = {}
    for index, app in enumerate(data.get("apps", [])):
        cleaned, errs = validate_app(app, index=index, seen=seen_identifiers, reference=reference)
        apps.append(cleaned)
        app_errors.append(errs)
    mini_programs, mini_program_errors = [], []
    seen_ids: dict[tuple[str, str], str] = {}
    for index, program in enumerate(data.get("mini_programs", [])):
        cleaned, errs = validate_mini_program(
            program, seen=seen_ids, index=index, reference=reference
        )
        mini_programs.append(cleaned)
        mini_program_errors.append(errs)
    approved_before = filing is not None and filing.first_approved_at is not None
    if kind is None:
        kind = "amendment" if approved_before else "new"
    if approved is None and approved_before:
        approved = approved_services(filing)
    # Websites and apps have accesses: one application goes to one provider for both.
    written = [*data["websites"], *data.get("apps", [])]
    served = [*websites, *apps]
    served_errors = [*website_errors, *app_errors]
    if acting_provider is not None:
        foreign_access_errors(
            written, served, served_errors, acting_provider=acting_provider, approved=approved
        )
    else:
        other_provider_errors(
            written,
            served,
            served_errors,
            kind=kind,
            approved=approved,
            provider_ids=provider_ids,
            website_count=len(websites),
        )
    if not (data["websites"] or data.get("apps") or data.get("mini_programs")):
        errors["websites"] = [_("Add at least one website, app or mini-program.")]
    elif any(website_errors):
        errors["websites"] = website_errors
    if any(app_errors):
        errors["apps"] = app_errors
    if any(mini_program_errors):
        errors["mini_programs"] = mini_program_errors
    return {
        "sponsor": sponsor,
        "websites": websites,
        "apps": apps,
        "mini_programs": mini_programs,
    }, errors


def flatten_errors(errors: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """``[(("sponsor", "id_number"), "message"), …]`` in document order, for error summaries."""
    out: list[tuple[tuple, str]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            out.extend(flatten_errors(value, (*path, key)))
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                out.extend(flatten_errors(value, (*path, index)))
            else:
                out.append((path, str(value)))
    return out


# The first review of an application (初审, SPEC §12): which provider it goes to, and the
# accesses it may not file.

Kind = Application.Kind


def _access_key(access: dict[str, Any]) -> tuple:
    return (
        access.get("provider"),
        access.get("method"),
        access.get("server_location"),
        tuple(sorted(access.get("ips") or [])),
    )


def _changed(
    websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None
) -> list[tuple[int, int, dict[str, Any]]]:
    """``(website index, access index, access)`` of each access of ``websites`` that the
    websites of ``approved`` do not hold as it is, in order (``changed_accesses``)."""
    before: dict[str, set[tuple]] = {}
    for website in approved or []:
        if website.get("number"):
            before[website["number"]] = {_access_key(a) for a in website_accesses(website)}
    return [
        (index, position, access)
        for index, website in enumerate(websites)
        for position, access in enumerate(website_accesses(website))
        if _access_key(access) not in before.get(website.get("number") or "", set())
    ]


def changed_accesses(
    websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """The accesses of ``websites`` (SPEC §10/§12 shape) that the websites of the last
    approved version (``approved``; None: nothing approved) do not hold as they are, in
    order: every access of a new website, and a new or changed access of an approved one."""
    return [access for _index, _position, access in _changed(websites, approved)]


def _registered(provider: Any) -> bool:
    return isinstance(provider, int) and not isinstance(provider, bool)


def _reviewed(
    kind: str, websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None
) -> list[tuple[int, int, dict[str, Any]]]:
    """The accesses an application of ``kind`` files, which its first review vouches for:
    every access of a ``new`` one; the new or changed ones of an ``amendment`` or a
    ``new_access`` (``approved``: the websites of the last approved version)."""
    if kind in (Kind.AMENDMENT, Kind.NEW_ACCESS) and approved is not None:
        return _changed(websites, approved)
    return [
        (index, position, access)
        for index, website in enumerate(websites)
        for position, access in enumerate(website_accesses(website))
    ]


def first_review_provider(
    kind: str, websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None = None
) -> int | None:
    """The id of the registered access provider that first-reviews an application of ``kind``
    (SPEC §12), or None when every access it names is ``"other"`` (Q10).

    ``websites`` are the submitted websites in the SPEC §10 shape; for an ``amendment`` or a
    ``new_access``, ``approved`` the websites of the last approved version. The provider is
    that of the first access that is new or changed (``changed_accesses``); an amendment that
    changes no access (the sponsor's details, say) goes to the provider of the first access
    naming one, which serves the record. A ``revocation``, a ``cancel_access`` and a
    ``cancel_website`` name none: they go to the bureau. An application files the accesses
    of this one provider only (``other_provider_accesses``).
    """
    if kind in (Kind.REVOCATION, Kind.CANCEL_ACCESS, Kind.CANCEL_WEBSITE):
        return None
    candidates = [access for _i, _n, access in _reviewed(kind, websites, approved)]
    if kind == Kind.AMENDMENT and approved is not None:
        candidates += [a for w in websites for a in website_accesses(w)]
    for access in candidates:
        if _registered(access.get("provider")):
            return access["provider"]
    return None


@dataclass(frozen=True)
class OtherProvider:
    """An access an application may not file (``other_provider_accesses``): where it is
    (website and access index), the registered provider it names and the one the
    application goes to; ``held`` when the approved website holds an access at that provider
    already (the access changes it), ``alone`` when the website, new, is served by no
    access this application may file."""

    website: int
    access: int
    provider: int
    first: int
    held: bool
    alone: bool


def other_provider_accesses(
    kind: str, websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None = None
) -> list[OtherProvider]:
    """The accesses a ``new`` or ``amendment`` application may not file, in order: each new
    or changed access naming a registered provider other than the one that first-reviews it
    (``first_review_provider``). An application goes to one provider's first review (SPEC
    §12) and a filing is submitted through that provider's system; another provider's access
    is filed by a new access (新增接入, ``new_access``) once the application is approved.
    ``websites`` and ``approved`` as for ``first_review_provider``; empty for other kinds."""
    if kind not in (Kind.NEW, Kind.AMENDMENT):
        return []
    first = first_review_provider(kind, websites, approved)
    if first is None:
        return []
    flagged = [
        (index, position, access)
        for index, position, access in _reviewed(kind, websites, approved)
        if _registered(access.get("provider")) and access["provider"] != first
    ]
    held: dict[str, set] = {}
    for website in approved or []:
        if website.get("number"):
            held[website["number"]] = {a.get("provider") for a in website_accesses(website)}
    places = {(index, position) for index, position, _access in flagged}
    out = []
    for index, position, access in flagged:
        website = websites[index]
        number = website.get("number") or ""
        others = [n for n in range(len(website_accesses(website))) if (index, n) not in places]
        out.append(
            OtherProvider(
                website=index,
                access=position,
                provider=access["provider"],
                first=first,
                held=access["provider"] in held.get(number, set()),
                alone=not number and not others,
            )
        )
    return out
