"""The wizard's form layer for apps and mini-programs (SPEC §13): what each of their pages
reads from a POST, the signed package an app's platforms page reads, and what each page's
template needs.

An app is answered on four pages, one question area each (``wizard.APP_PAGES``): its name and
services, its platforms (with the package upload), the domains it uses and its distribution
platforms, its accesses; a mini-program on two (``wizard.MINI_PROGRAM_PAGES``): its name and
services, its platform and AppID. Their pre-approvals are on the documents page with the
websites'. Data and errors have the SPEC §13 shape (``validation.coerce_app``,
``coerce_mini_program``); the views in ``app_views.py`` save and check, nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from beian.normalforms.apps import (
    ALIPAY,
    ANDROID,
    BAIDU,
    DOUYIN,
    HARMONYOS,
    IOS,
    OTHER_HOST,
    PLATFORMS,
    QQ,
    WECHAT,
    fingerprint_display,
    public_key_short,
)

from . import selectors
from .app_packages import package_mismatches, read_package
from .models import Access, Document, Identifier, Website
from .validation import MAX_PLATFORMS, OTHER, empty_platform
from .wizard import (
    APP_PAGES,
    MINI_PROGRAM_PAGES,
    accesses_context,
    accesses_from_post,
    anchor,
    as_lines,
    choices,
    error_map,
    provinces,
    summary,
)

APPS = "apps"
MINI_PROGRAMS = "mini_programs"
# The platforms page's buttons: add a platform, remove platform j.
ADD_PLATFORM = "add_platform"
REMOVE_PLATFORM = "remove_platform-"
# The domains page's button that searches the distribution platforms by name.
SEARCH_STORE = "search_store"
# The fields of a platform the package fills, in the order of the page.
PACKAGE_FIELDS = ("identifier", "public_key", "fingerprint")


def platform_input(j: int, name: str) -> str:
    """The name of the platforms page's input ``name`` of platform ``j``, like
    ``platform-0-identifier``."""
    return f"platform-{j}-{name}"


def page_fields(part: str, page: str) -> tuple[str, ...]:
    """The fields of an app (``part`` ``"apps"``) or mini-program (``"mini_programs"``) that
    its page ``page`` (a URL name of ``wizard.APP_PAGES`` or ``MINI_PROGRAM_PAGES``) asks."""
    return (APP_PAGES if part == APPS else MINI_PROGRAM_PAGES)[page]


def page_keep(part: str, index: int, page: str, show: bool = True) -> Callable[[tuple], bool]:
    """Whether an error's path is one of page ``page``'s fields for service ``index``."""
    fields = page_fields(part, page)

    def keep(path: tuple) -> bool:
        return show and len(path) >= 3 and path[:2] == (part, index) and path[2] in fields

    return keep


def page_errors(errors: dict, part: str, index: int, page: str) -> dict:
    """The errors of service ``index`` on page ``page``, ``{field: messages}``."""
    mine = selectors.service_errors(errors, part, index)
    return {k: v for k, v in mine.items() if k in page_fields(part, page)}


def first_page_to_fix(errors: dict, part: str, index: int) -> str | None:
    """The URL name of the first page of service ``index`` with something to fix, or None."""
    pages = APP_PAGES if part == APPS else MINI_PROGRAM_PAGES
    return next((page for page in pages if page_errors(errors, part, index, page)), None)


def _platform_labels() -> dict[str, str]:
    """Every platform's name in the reader's language: an app's and a mini-program's."""
    labels = {code: str(label) for code, label in Identifier.Platform.choices}
    labels.update({code: str(label) for code, label in PLATFORM_CHOICES})
    labels[OTHER_HOST] = _("Other platform")
    return labels


def in_page_order(items: list[dict[str, str]], order: list[str]) -> list[dict[str, str]]:
    """The error summary's ``items`` in the order of the page's inputs (``order``: their ids),
    those of inputs not listed last, each group as it came."""
    place = {key: n for n, key in enumerate(order)}
    return sorted(items, key=lambda item: place.get(item["href"].lstrip("#"), len(place)))


def _joined(items: list[str]) -> str:
    return ("、" if (get_language() or "").startswith("zh") else ", ").join(items)


# --- Lists ------------------------------------------------------------------------------------


def rows(part: str, data: dict, errors: dict) -> list[dict]:
    """The apps or mini-programs page's list: ``[{"index", "service", "state", "href",
    "platforms"}, …]``: ``state`` ``selectors.service_state``'s, ``href`` its first page with
    something to fix (its first page when complete), ``platforms`` its platforms as people
    read them (``"Android · cn.example.app"``)."""
    labels = _platform_labels()
    out = []
    for index, service in enumerate(data.get(part) or []):
        mine = selectors.service_errors(errors, part, index)
        page = first_page_to_fix(errors, part, index) or next(
            iter(APP_PAGES if part == APPS else MINI_PROGRAM_PAGES)
        )
        if part == APPS:
            platforms = [
                f"{labels.get(p.get('platform'), p.get('platform') or '—')} · "
                f"{p.get('identifier') or '—'}"
                for p in service.get("platforms") or []
            ]
        else:
            platforms = (
                [
                    f"{labels.get(service['platform'], service['platform'])} · "
                    f"{service.get('platform_id') or '—'}"
                ]
                if service.get("platform")
                else []
            )
        out.append(
            {
                "index": index,
                "service": service,
                "state": selectors.service_state(part, service, mine),
                "href": reverse(page, args=[index]),
                "platforms": platforms,
            }
        )
    return out


def incomplete_summary(part: str, rows_: list[dict]) -> list[dict[str, str]]:
    """The error summary of a list page whose services are not all complete: one link per
    service to its first page with something to fix."""
    message = (
        _("App %(n)d needs attention: open it to see what to fix.")
        if part == APPS
        else _("Mini-program %(n)d needs attention: open it to see what to fix.")
    )
    return [
        {"href": f"{row['href']}?check=1", "message": message % {"n": row["index"] + 1}}
        for row in rows_
        if row["state"] != "completed"
    ]


# --- Name and services (both kinds) ----------------------------------------------------------


def content_from_post(post, current: dict) -> dict:
    """``current`` with the name, services and commercial answer typed on its first page."""
    return {
        **current,
        "name": post.get("name", ""),
        "services": post.getlist("services"),
        "commercial": post.get("commercial") == "yes",
    }


def _page_context(
    part: str, index: int | None, page: str, errors: dict, show: bool, return_to_check: bool
) -> dict:
    keep = page_keep(part, -1 if index is None else index, page, show)
    return {
        "index": index,
        "part": part,
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "return_to_check": return_to_check,
    }


def content_context(
    part: str,
    index: int | None,
    service: dict,
    errors: dict,
    show: bool,
    *,
    return_to_check: bool = False,
) -> dict:
    """The first page of an app or a mini-program (``index`` None: a new one): its name,
    services and commercial answer; ``show`` shows its errors."""
    page = next(iter(APP_PAGES if part == APPS else MINI_PROGRAM_PAGES))
    return {
        **_page_context(part, index, page, errors, show, return_to_check),
        "service": service,
        "services_choices": choices(Website.Service),
        "preapproval_services": [str(s) for s in Website.PREAPPROVAL_SERVICES],
    }


# --- An app's platforms and its package ---------------------------------------------------------


def platforms_from_post(post, current: dict) -> dict:
    """``current`` (an app) with the platforms typed on its platforms page: each block sent
    answers its platform, one not sent is kept as it was. ``add_platform`` appends an empty
    one (up to ``MAX_PLATFORMS``), ``remove_platform-<j>`` drops platform j."""
    saved = current.get("platforms") or []
    platforms = []
    for j in range(max(len(saved), 1)):
        if platform_input(j, "identifier") not in post:
            if j < len(saved):
                platforms.append(saved[j])
            continue
        platforms.append(
            {
                "platform": post.get(platform_input(j, "platform"), ""),
                "identifier": post.get(platform_input(j, "identifier"), ""),
                "public_key": post.get(platform_input(j, "public_key"), ""),
                "fingerprint": post.get(platform_input(j, "fingerprint"), ""),
            }
        )
    action = post.get("action", "")
    if action.startswith(REMOVE_PLATFORM):
        place = action[len(REMOVE_PLATFORM) :]
        if place.isdigit() and int(place) < len(platforms):
            del platforms[int(place)]
    if action == ADD_PLATFORM and len(platforms) < MAX_PLATFORMS:
        platforms.append(empty_platform())
    return {**current, "platforms": platforms}


def changes_platforms(action: str) -> bool:
    """True when the platforms page's ``action`` adds or removes a platform."""
    return action == ADD_PLATFORM or (action or "").startswith(REMOVE_PLATFORM)


@dataclass
class PackageReading:
    """What the packages uploaded on an app's platforms page said (SPEC §13): ``errs``, the
    messages beside the page's inputs (``{anchor: [messages]}``: a package that could not be
    read on its upload input, each typed value it contradicts on that value's input);
    ``notes``, what was read and filled in, for the owner to check; ``filled``, whether an
    empty field was filled (the owner then sees the values before going on)."""

    errs: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    filled: bool = False


_FIELD_NAMES = {
    "identifier": gettext_lazy("the identifier"),
    "public_key": gettext_lazy("the public key"),
    "fingerprint": gettext_lazy("the fingerprint"),
}


def read_packages(files, app: dict, index: int) -> PackageReading:
    """Read each package uploaded on app ``index``'s platforms page (``files``: the request's,
    ``platform-<j>-package``) with ``app_packages.read_package`` and fill platform j of
    ``app`` (as ``platforms_from_post`` gave it) from it: its platform when none was chosen,
    and each of its identifier, public key and fingerprint left empty. A value typed already
    is kept and checked against the package (``package_mismatches``). Each upload is closed
    once read: nothing of it is kept but what fills the fields."""
    reading = PackageReading()
    platforms = app.get("platforms") or []
    for j, entry in enumerate(platforms):
        upload = files.get(platform_input(j, "package"))
        if upload is None:
            continue
        upload_anchor = anchor((APPS, index, "platforms", j, "package"))
        try:
            identity = read_package(upload)
        except ValidationError as exc:
            reading.errs[upload_anchor] = list(exc.messages)
            continue
        finally:
            upload.close()
        if entry.get("platform") not in PLATFORMS:
            entry["platform"] = identity.platform
        mismatches = package_mismatches(
            identity,
            platform=entry["platform"],
            identifier=(entry.get("identifier") or "").strip(),
            public_key=(entry.get("public_key") or "").strip(),
            fingerprint=(entry.get("fingerprint") or "").strip(),
        )
        if "package" in mismatches:
            reading.errs[upload_anchor] = mismatches["package"]
            continue
        for name, messages in mismatches.items():
            reading.errs[anchor((APPS, index, "platforms", j, name))] = messages
        filled = []
        for name in PACKAGE_FIELDS:
            value = getattr(identity, name)
            if value and not (entry.get(name) or "").strip():
                entry[name] = value
                filled.append(str(_FIELD_NAMES[name]))
        reading.filled = reading.filled or bool(filled)
        values = {"file": upload.name, "fields": _joined(filled)}
        if filled:
            note = _(
                "“%(file)s” is read and not kept. Filled in from its signature: %(fields)s. "
                "Check them before you continue."
            )
        elif mismatches:
            note = _("“%(file)s” is read and not kept: what differs is shown on each field.")
        else:
            note = _("“%(file)s” is read and not kept: it agrees with what you typed.")
        reading.notes.append(note % values)
        if not identity.identifier:
            reading.notes.append(
                _(
                    "This provisioning profile is a wildcard one and names no app: type the "
                    "bundle ID (Xcode, target, General, Bundle Identifier)."
                )
            )
    return reading


PLATFORM_CHOICES = [
    (ANDROID, gettext_lazy("Android")),
    (IOS, "iOS"),
    (HARMONYOS, gettext_lazy("HarmonyOS")),
]


def platforms_context(
    index: int,
    app: dict,
    errors: dict,
    show: bool,
    *,
    extra: dict[str, list[str]] | None = None,
    focus: int | None = None,
    return_to_check: bool = False,
) -> dict:
    """An app's platforms page: one block per platform (one empty block when it has none),
    ``[{"j", "number", "entry", "ids", "names"}, …]``; ``show`` shows its errors,
    ``extra`` adds messages beside inputs (``PackageReading.errs``), ``focus`` puts focus on
    block j (one just added)."""
    context = _page_context(APPS, index, "filings:app-platforms", errors, show, return_to_check)
    for key, messages in (extra or {}).items():
        known = context["errs"].setdefault(key, [])
        for message in messages:
            if message not in known:
                known.append(message)
                context["error_summary"].append({"href": f"#{key}", "message": message})
    platforms = app.get("platforms") or [empty_platform()]
    # The page's inputs, in the order it shows them.
    names = ("platform", "package", *PACKAGE_FIELDS)
    order = [anchor((APPS, index, "platforms"))] + [
        anchor((APPS, index, "platforms", j, name)) for j in range(len(platforms)) for name in names
    ]
    context["error_summary"] = in_page_order(context["error_summary"], order)
    blocks = []
    for j, entry in enumerate(platforms):
        blocks.append(
            {
                "j": j,
                "number": j + 1,
                "entry": entry,
                "ids": {name: anchor((APPS, index, "platforms", j, name)) for name in names},
                "names": {name: platform_input(j, name) for name in names},
                "focus": j == focus,
            }
        )
    context.update(
        {
            "service": app,
            "blocks": blocks,
            "platform_choices": PLATFORM_CHOICES,
            "platforms_anchor": anchor((APPS, index, "platforms")),
            "can_add_platform": len(platforms) < MAX_PLATFORMS,
            "max_package": filesizeformat(settings.APP_PACKAGE_MAX_BYTES),
        }
    )
    return context


# --- An app's domains and distribution platforms --------------------------------------------


def domains_from_post(post, current: dict) -> dict:
    """``current`` (an app) with the domains and the distribution platforms (ids, or
    ``"other"``) chosen on its domains page, in the order ticked."""
    stores = [
        value
        for value in dict.fromkeys(post.getlist("stores"))
        if value == OTHER or value.isdigit()
    ]
    return {**current, "domains": post.get("domains", ""), "stores": stores}


def _store_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def store_candidates(query: str, *, chosen: set[int] = frozenset()) -> list:
    """The registered distribution platforms whose name holds ``query`` (none for a blank
    one), without those ``chosen`` already."""
    return [p for p in selectors.distribution_platform_candidates(query) if p.pk not in chosen]


def domains_context(
    index: int,
    app: dict,
    errors: dict,
    show: bool,
    *,
    query: str = "",
    return_to_check: bool = False,
) -> dict:
    """An app's domains page: ``domains_text``, ``chosen_stores`` (the registered platforms
    chosen, ``[provider, …]``), ``store_other``, and with ``query`` the ``store_candidates``
    not chosen yet (``None`` without a search)."""
    context = _page_context(APPS, index, "filings:app-domains", errors, show, return_to_check)
    ids = [_store_id(s) for s in app.get("stores") or []]
    known = selectors.providers_by_id(ids)
    chosen = [known[i] for i in ids if i in known]
    context.update(
        {
            "service": app,
            "domains_text": as_lines(app.get("domains")),
            "chosen_stores": chosen,
            "store_other": OTHER in (app.get("stores") or []),
            "store_query": query,
            "store_candidates": (
                store_candidates(query, chosen={p.pk for p in chosen}) if query else None
            ),
        }
    )
    return context


# --- An app's accesses ----------------------------------------------------------------------


def app_accesses_from_post(post, current: dict) -> dict:
    """``current`` (an app) with the accesses typed on its accesses page, which shows the
    website page's access inputs (``wizard.accesses_from_post``)."""
    return {**current, "accesses": accesses_from_post(post, current.get("accesses") or [])}


def app_accesses_context(
    index: int,
    app: dict,
    errors: dict,
    show: bool,
    *,
    return_to_check: bool = False,
    **access_options,
) -> dict:
    """An app's accesses page: ``wizard.accesses_context`` for its accesses
    (``access_options``: its ``query``, ``access_query``, ``focus_access``)."""
    context = _page_context(APPS, index, "filings:app-accesses", errors, show, return_to_check)
    accesses = app.get("accesses") or []
    context.update(accesses_context(accesses, **access_options))
    context["service"] = app
    # The page's inputs, in the order it shows them: the first access's, then each further
    # block's.
    order = [
        anchor((APPS, index, "accesses", 0, name))
        for name in ("method", "server_location", "provider", "ips")
    ] + [
        anchor((APPS, index, "accesses", n, name))
        for n in range(1, len(accesses))
        for name in ("provider", "method", "server_location", "ips")
    ]
    context["error_summary"] = in_page_order(context["error_summary"], order)
    return context


# --- A mini-program's platform ------------------------------------------------------------------


def mini_program_platform_from_post(post, current: dict) -> dict:
    """``current`` (a mini-program) with the platform and AppID chosen on its platform page."""
    return {
        **current,
        "platform": post.get("platform", ""),
        "platform_id": post.get("platform_id", ""),
    }


# Each host's AppID as its developer console shows it (``validate_mini_program_id``).
MINI_PROGRAM_ID_HINTS = {
    WECHAT: gettext_lazy(
        "“wx” and 16 hexadecimal digits, like wx0123456789abcdef (WeChat Official Accounts "
        "Platform: Development, Development settings)"
    ),
    ALIPAY: gettext_lazy(
        "16 digits starting with 20, like 2021001234567890 (Alipay Open Platform: the "
        "mini-program's APPID)"
    ),
    BAIDU: gettext_lazy(
        "the AppKey of the Baidu smart mini-program: letters and digits, as its developer "
        "platform shows it"
    ),
    DOUYIN: gettext_lazy(
        "“tt” and 16 hexadecimal digits, like tt0123456789abcdef (Douyin Open Platform)"
    ),
    QQ: gettext_lazy("6 to 12 digits, like 1112345678 (QQ mini-program developer console)"),
    OTHER_HOST: gettext_lazy(
        "2 to 64 letters, digits, “_” and “-”, as the platform's console shows it"
    ),
}
MINI_PROGRAM_PLATFORMS = (WECHAT, ALIPAY, BAIDU, DOUYIN, QQ, OTHER_HOST)


def mini_program_platform_context(
    index: int, program: dict, errors: dict, show: bool, *, return_to_check: bool = False
) -> dict:
    """A mini-program's platform page: the platforms (``[{"code", "label", "hint"}, …]``:
    each with the form of its AppID) and its AppID."""
    context = _page_context(
        MINI_PROGRAMS, index, "filings:mini-program-platform", errors, show, return_to_check
    )
    labels = _platform_labels()
    context.update(
        {
            "service": program,
            "platforms": [
                {
                    "code": code,
                    "label": labels[code],
                    "hint": str(MINI_PROGRAM_ID_HINTS[code]),
                }
                for code in MINI_PROGRAM_PLATFORMS
            ],
        }
    )
    return context


# --- Check your answers -------------------------------------------------------------------------


def _access_answers(index: int, app: dict, by_code: dict, providers: dict) -> list[dict]:
    methods = dict(choices(Access.Method))
    answers = []
    for n, access in enumerate(app.get("accesses") or []):
        provider = access.get("provider")
        location = access.get("server_location")
        provider_id = _store_id(provider)
        answers.append(
            {
                "n": n,
                "number": n + 1,
                "provider": (
                    _("Other")
                    if provider == OTHER
                    else getattr(providers.get(provider_id), "name", "")
                ),
                "method": methods.get(access.get("method") or "", ""),
                "location": (
                    _("Other (outside mainland China)")
                    if location == OTHER
                    else getattr(by_code.get(location), "display_name", "")
                ),
                "ips": access.get("ips") or [],
                "anchor": {
                    name: anchor((APPS, index, "accesses", n, name))
                    for name in ("provider", "method", "server_location", "ips")
                },
            }
        )
    return answers


def _preapproval_answers(service: dict, documents: dict) -> list[dict]:
    return [
        {
            **p,
            "label": Website.Service(p["category"]).label,
            "doc": documents.get(p.get("document")),
        }
        for p in service.get("preapprovals") or []
    ]


def _service_labels(codes: list[str]) -> list[str]:
    return [str(Website.Service(s).label) if s in Website.Service.values else s for s in codes]


def answers_context(filing, data: dict) -> dict:
    """What check-your-answers (and a version's page) shows of the apps and mini-programs of
    ``data``, with labels instead of codes: ``answer_apps`` ``[{"index", "heading", "app",
    "services", "platforms", "domains", "stores", "accesses", "preapprovals"}, …]`` and
    ``answer_mini_programs`` ``[{"index", "heading", "program", "services", "platform",
    "preapprovals"}, …]``."""
    apps = data.get(APPS) or []
    programs = data.get(MINI_PROGRAMS) or []
    if not apps and not programs:
        return {"answer_apps": [], "answer_mini_programs": []}
    labels = _platform_labels()
    by_code = {p.code: p for p in provinces()} if apps else {}
    providers = selectors.providers_by_id(
        [_store_id(s) for app in apps for s in app.get("stores") or []]
        + [_store_id(a.get("provider")) for app in apps for a in app.get("accesses") or []]
    )
    documents = {d.pk: d for d in Document.objects.filter(filing=filing)} if filing else {}
    answer_apps = []
    for index, app in enumerate(apps):
        stores = [
            _("Other") if s == OTHER else getattr(providers.get(_store_id(s)), "name", str(s))
            for s in app.get("stores") or []
        ]
        answer_apps.append(
            {
                "index": index,
                "heading": _("App %(n)d") % {"n": index + 1},
                "app": app,
                "services": _service_labels(app.get("services") or []),
                "platforms": [
                    {
                        "j": j,
                        "label": labels.get(p.get("platform"), p.get("platform") or ""),
                        "identifier": p.get("identifier") or "",
                        "public_key": public_key_short((p.get("public_key") or "").strip()),
                        "fingerprint": _fingerprint_shown(p.get("fingerprint") or ""),
                        "anchor": anchor((APPS, index, "platforms", j, "identifier")),
                    }
                    for j, p in enumerate(app.get("platforms") or [])
                ],
                "domains": app.get("domains") or [],
                "stores": stores,
                "accesses": _access_answers(index, app, by_code, providers),
                "preapprovals": _preapproval_answers(app, documents),
            }
        )
    answer_programs = [
        {
            "index": index,
            "heading": _("Mini-program %(n)d") % {"n": index + 1},
            "program": program,
            "services": _service_labels(program.get("services") or []),
            "platform": labels.get(program.get("platform"), program.get("platform") or ""),
            "preapprovals": _preapproval_answers(program, documents),
        }
        for index, program in enumerate(programs)
    ]
    return {"answer_apps": answer_apps, "answer_mini_programs": answer_programs}


def _fingerprint_shown(value: str) -> str:
    """A fingerprint in the colon notation when it is stored hexadecimal, else as typed."""
    compact = value.strip()
    if compact and all(c in "0123456789ABCDEF" for c in compact):
        return fingerprint_display(compact)
    return compact


def store_search_context(params) -> dict:
    """The candidates fragment of the distribution-platform search: ``store_query`` (or
    ``q``) and, to leave out, the ``stores`` chosen already."""
    query = params.get("store_query") or params.get("q") or ""
    chosen = {int(v) for v in params.getlist("stores") if v.isdigit()}
    return {
        "store_candidates": store_candidates(query, chosen=chosen) if query else None,
        "store_query": query,
    }
