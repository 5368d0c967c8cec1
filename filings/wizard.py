"""The filing wizard's form layer (SPEC §3, Q24): what each page reads from a POST, where each
rule's message is shown, and what each page's template needs.

Filing data has the shape of ``validation.empty_data()``: ``{"sponsor": {…, "principal":
{…}}, "websites": [{…, "preapprovals": [{…}]}]}``; errors have the same shape with lists of
messages at the leaves (``selectors.check_data``). A field's *path* is the tuple of keys down
to it, like ``("websites", 0, "domains")``; ``flatten_errors`` lists ``(path, message)`` pairs
in page order. The views in ``views.py`` save and check; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from beian.models import Province

from . import selectors
from .models import Access, Document, Filing, Website
from .reasons import reason_in_language
from .validation import (
    ACCESS_FIELDS,
    INDIVIDUAL_ID_TYPES,
    MAX_ACCESSES,
    OTHER,
    SHORTHAND,
    empty_access,
    flatten_errors,
    website_accesses,
)

SPONSOR_FIELDS = ("nature", "name", "id_type", "id_number", "province", "address")
PRINCIPAL_FIELDS = ("name", "id_type", "id_number", "mobile", "email")
PREAPPROVAL_INPUTS = ("authority", "document_number", "file")
WEBSITE_INPUTS = (
    "name",
    "domains",
    "homepage",
    "ips",
    "services",
    "commercial",
    "server_location",
    "access_provider",
)
PREAPPROVAL_FIELDS = ("authority", "document_number", "document")
# An access's fields in the filing JSON and the website page's inputs that show them (the
# first access, SPEC §12). A further access n (1, 2, … its place in ``accesses``) has its own
# block of inputs, ``access_input(n, field)``.
ACCESS_INPUTS = {
    "provider": "access_provider",
    "method": "access_method",
    "ips": "ips",
    "server_location": "server_location",
}
# The website page's buttons that add a further access, or remove or search further access n.
ADD_ACCESS = "add_access"
REMOVE_ACCESS = "remove_access-"
SEARCH_ACCESS = "search_access-"


def access_input(n: int, field: str) -> str:
    """The name of the website page's input for ``field`` of further access ``n`` (n ≥ 1;
    ``field`` one of ``ACCESS_FIELDS`` or ``provider_query``), like ``access-1-ips``."""
    return f"access-{n}-{field}"


def access_action(action: str, prefix: str) -> int | None:
    """The access of a further block's button (``remove_access-2`` → 2), or None when
    ``action`` is not a ``prefix`` button or names no further access."""
    if not (action or "").startswith(prefix):
        return None
    return further_access_number(action[len(prefix) :])


def further_access_number(text: str) -> int | None:
    """``text`` as the place of a further access (1 to ``MAX_ACCESSES`` - 1), else None."""
    return int(text) if text.isdigit() and 1 <= int(text) < MAX_ACCESSES else None


def _everywhere(path: tuple) -> bool:
    return True


# The parts of the filing JSON that list services (SPEC §10, §13), the prefix of the ids of
# their pages' inputs, and of their pre-approval inputs on the documents page.
SERVICE_ANCHORS = {"websites": "f-w-", "apps": "f-a-", "mini_programs": "f-m-"}
SERVICE_PARTS = ("websites", "apps", "mini_programs")
PREAPPROVAL_PREFIXES = {"websites": "w", "apps": "a", "mini_programs": "m"}
# The fields of an app each of its pages asks (SPEC §13), by the name of the page's URL.
APP_PAGES = {
    "filings:app": ("name", "services", "commercial"),
    "filings:app-platforms": ("platforms",),
    "filings:app-domains": ("domains", "stores"),
    "filings:app-accesses": ("accesses",),
}
MINI_PROGRAM_PAGES = {
    "filings:mini-program": ("name", "services", "commercial"),
    "filings:mini-program-platform": ("platform", "platform_id"),
}


def service_page(part: str, field: str) -> str:
    """The URL name of the page of an app (``part`` ``"apps"``) or a mini-program
    (``"mini_programs"``) that asks ``field``; its first page for any other."""
    pages = APP_PAGES if part == "apps" else MINI_PROGRAM_PAGES
    return next((name for name, fields in pages.items() if field in fields), next(iter(pages)))


# --- Errors on the pages ----------------------------------------------------------------------


def anchor(path: Iterable) -> str:
    """The id of the input for the field at ``path`` on its wizard page.

    A website's page shows one website, so its fields are ``f-w-<field>`` whatever its index
    (its first access's, ``f-w-`` and its ``ACCESS_INPUTS``; further access n's,
    ``f-w-accesses-<n>-<field>``). An app's pages and a mini-program's show one each too:
    ``f-a-<field>`` (a platform's ``f-a-platforms-<j>-<field>``) and ``f-m-<field>``; an
    app's accesses page shows the website page's access inputs, so its accesses have the
    website's ids (SPEC §13). The documents page lists every service's entries, so those keep
    the full path.
    """
    path = tuple(path)
    if len(path) >= 3 and path[0] in ("websites", "apps") and path[2] == "accesses":
        if len(path) == 3 and path[0] == "apps":
            # "Add at least one access": the page's first access is where it starts.
            return "f-w-access_provider"
        if len(path) == 5 and path[3] == 0:
            # The first access is answered by the page's own access inputs.
            return "f-w-" + ACCESS_INPUTS.get(path[4], "accesses")
        return "f-w-" + "-".join(str(p) for p in path[2:])
    if len(path) >= 3 and path[0] in SERVICE_ANCHORS and path[2] != "preapprovals":
        return SERVICE_ANCHORS[path[0]] + "-".join(str(p) for p in path[2:])
    return "f-" + "-".join(str(p) for p in path)


def error_map(errors: dict, *, keep: Callable[[tuple], bool] = _everywhere) -> dict:
    """``{anchor: [messages]}`` of the errors whose path ``keep`` accepts."""
    out: dict[str, list[str]] = {}
    for path, message in flatten_errors(errors):
        if keep(path):
            out.setdefault(anchor(path), []).append(message)
    return out


def step_url(path: tuple) -> str:
    """The wizard page where the field at ``path`` is answered."""
    if path and path[0] == "sponsor":
        return reverse("filings:sponsor")
    if len(path) >= 2 and path[0] in SERVICE_PARTS and isinstance(path[1], int):
        if len(path) >= 3 and path[2] == "preapprovals":
            return reverse("filings:documents")
        if path[0] == "websites":
            return reverse("filings:website", args=[path[1]])
        field = path[2] if len(path) >= 3 else ""
        return reverse(service_page(path[0], field), args=[path[1]])
    if path and path[0] == "apps":
        return reverse("filings:apps")
    if path and path[0] == "mini_programs":
        return reverse("filings:mini-programs")
    return reverse("filings:websites")


def summary(
    errors: dict, *, keep: Callable[[tuple], bool] = _everywhere, here: bool = True
) -> list[dict[str, str]]:
    """The error summary's links, in page order: ``[{"href": …, "message": …}, …]``.

    ``here`` links to the fields of this page; otherwise each link opens the field's own page
    and comes back to check-your-answers."""
    items = []
    for path, message in flatten_errors(errors):
        if keep(path):
            target = f"#{anchor(path)}" if here else f"{step_url(path)}?check=1#{anchor(path)}"
            items.append({"href": target, "message": message})
    return items


def website_content_errors(errors: dict, index: int) -> dict:
    """The errors of website ``index`` that its own page shows (its documents have theirs)."""
    website_errors = errors.get("websites")
    mine = (
        website_errors[index]
        if isinstance(website_errors, list) and index < len(website_errors)
        else {}
    )
    return {k: v for k, v in mine.items() if k != "preapprovals"}


def has_document_errors(errors: dict) -> bool:
    """True when any website's, app's or mini-program's pre-approval documents have a
    problem."""
    return any(
        isinstance(e, dict) and e.get("preapprovals")
        for part in SERVICE_PARTS
        for e in (errors.get(part) if isinstance(errors.get(part), list) else [])
    )


def needs_documents(data: dict) -> bool:
    """True when a website, app or mini-program of ``data`` needs a pre-approval."""
    return any(s.get("preapprovals") for part in SERVICE_PARTS for s in data.get(part) or [])


# --- Choices ----------------------------------------------------------------------------------


def choices(enum) -> list[tuple[str, str]]:
    """``[(value, label), …]`` of a model's choices, the labels in the reader's language."""
    return [(value, str(label)) for value, label in enum.choices]


def provinces() -> list[Province]:
    return list(Province.objects.order_by("code"))


def province_choices(provinces: list[Province]) -> list[tuple[str, str]]:
    """``[(code, name), …]``: English names for an English reader, Chinese otherwise."""
    english = (get_language() or "").startswith("en")
    return [(p.code, p.name_en if english else p.name) for p in provinces]


# --- Sponsor ----------------------------------------------------------------------------------


def sponsor_from_post(post) -> dict:
    """The sponsor as typed on its page, in the shape of ``data["sponsor"]``."""
    sponsor = {key: post.get(key, "") for key in SPONSOR_FIELDS}
    sponsor["principal"] = {key: post.get(f"principal_{key}", "") for key in PRINCIPAL_FIELDS}
    return sponsor


def sponsor_context(data: dict, errors: dict, show: bool) -> dict:
    """The sponsor page's context; ``show`` shows the sponsor's errors."""
    keep = (lambda p: p[:1] == ("sponsor",)) if show else (lambda p: False)
    return {
        "sponsor": data["sponsor"],
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "natures": choices(Filing.Nature),
        "id_types": choices(Filing.IdType),
        "person_id_types": [(v, str(Filing.IdType(v).label)) for v in INDIVIDUAL_ID_TYPES],
        "province_choices": province_choices(provinces()),
    }


# --- Websites ---------------------------------------------------------------------------------


def website_rows(data: dict, errors: dict) -> list[dict]:
    """The websites page's list: ``[{"index", "website", "complete", "state"}, …]``, where a
    website is complete when its own page has nothing to fix, and ``state`` is
    ``selectors.website_state``'s (``completed``, ``in_progress``, ``needs_attention``)."""
    rows = []
    for index, website in enumerate(data["websites"]):
        mine = website_content_errors(errors, index)
        rows.append(
            {
                "index": index,
                "website": website,
                "complete": not mine,
                "state": selectors.website_state(website, mine),
            }
        )
    return rows


def changes_accesses(action: str) -> bool:
    """True when the website page's ``action`` is a further access's button or adds one."""
    return action == ADD_ACCESS or any(
        access_action(action, prefix) is not None for prefix in (REMOVE_ACCESS, SEARCH_ACCESS)
    )


def access_focus(post, website: dict) -> dict:
    """``website_context``'s ``access_query`` and ``focus_access`` after the website page's
    access buttons (``website`` as ``website_from_post`` gave it): the last block after one
    was added, or the block searched with its query."""
    action = post.get("action", "")
    if action == ADD_ACCESS:
        return {"focus_access": len(website_accesses(website)) - 1}
    searched = access_action(action, SEARCH_ACCESS)
    if searched is None:
        return {}
    query = post.get(access_input(searched, "provider_query"), "")
    return {"access_query": (searched, query), "focus_access": searched}


def provider_search_context(params) -> dict:
    """The candidates fragment's context for the provider search (Q13) with ``params`` (a
    query dict): ``q`` or ``provider_query``, the first access's; with ``access=<n>``, further
    access n's query and radios (SPEC §12)."""
    further = further_access_number(params.get("access", ""))
    query = params.get("q") or params.get(
        access_input(further, "provider_query") if further else "provider_query"
    )
    context = {
        "candidates": selectors.provider_candidates(query or ""),
        "provider_query": query or "",
    }
    if further:
        context["candidate_name"] = access_input(further, "provider")
        context["candidate_id"] = anchor(("websites", 0, "accesses", further, "provider"))
    return context


def accesses_from_post(post, current: list[dict]) -> list[dict]:
    """The accesses (SPEC §12) typed on a page that shows the website page's access inputs,
    ``current`` the accesses saved before: the page's own inputs answer the first access,
    each further block its further access; a further access whose block was not sent is kept
    as it was.

    The page's buttons change the list: ``add_access`` appends an empty access (up to
    ``MAX_ACCESSES``), ``remove_access-<n>`` drops further access n."""
    first = {
        "provider": post.get("access_provider") or None,
        # The page's choice; "other" when a form without it is sent.
        "method": post.get("access_method") or Access.Method.OTHER.value,
        "server_location": post.get("server_location", ""),
        "ips": post.get("ips", ""),
    }
    further = []
    for n, access in enumerate(current[1:], start=1):
        if access_input(n, "method") not in post:
            further.append(access)
            continue
        further.append(
            {
                "provider": post.get(access_input(n, "provider")) or None,
                "method": post.get(access_input(n, "method")) or Access.Method.OTHER.value,
                "server_location": post.get(access_input(n, "server_location"), ""),
                "ips": post.get(access_input(n, "ips"), ""),
            }
        )
    action = post.get("action", "")
    removed = access_action(action, REMOVE_ACCESS)
    if removed is not None and removed <= len(further):
        del further[removed - 1]
    if action == ADD_ACCESS and len(further) + 1 < MAX_ACCESSES:
        further.append(empty_access())
    return [first, *further]


def website_from_post(post, current: dict) -> dict:
    """``current`` with the answers typed on the website's page (its documents are kept),
    its accesses as ``accesses_from_post`` reads them."""
    website = {**current}
    website.update(
        {
            "name": post.get("name", ""),
            "homepage": post.get("homepage", ""),
            "domains": post.get("domains", ""),
            "services": post.getlist("services"),
            "commercial": post.get("commercial") == "yes",
            "accesses": accesses_from_post(post, website_accesses(current)),
        }
    )
    return website


def as_lines(value: list[str] | str | None) -> str:
    """A list of domains or addresses as the lines of a text area."""
    return "\n".join(value) if isinstance(value, list) else (value or "")


def _further_access(
    position: int,
    n: int,
    access: dict,
    providers: dict,
    *,
    query: str,
    focus: bool,
) -> dict:
    provider = access.get("provider")
    provider_id = _provider_id(provider)
    return {
        "n": n,
        "number": n + 1,
        "ids": {
            field: anchor(("websites", position, "accesses", n, field)) for field in ACCESS_FIELDS
        },
        "names": {field: access_input(n, field) for field in (*ACCESS_FIELDS, "provider_query")},
        "method": access.get("method") or "",
        "server_location": access.get("server_location") or "",
        "ips_text": as_lines(access.get("ips")),
        "chosen_provider": providers.get(provider_id),
        "provider_other": provider == OTHER,
        "provider_query": query,
        "candidates": selectors.provider_candidates(query) if query else None,
        "focus": focus,
    }


def _provider_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def accesses_context(
    accesses: list[dict],
    *,
    query: str = "",
    access_query: tuple[int, str] | None = None,
    focus_access: int | None = None,
) -> dict:
    """What the access inputs of the website page (``_access_fields.html``,
    ``_further_accesses.html``) need to show ``accesses`` (SPEC §12; an empty first access
    when there is none): ``first_access`` (``{"method", "server_location", "ips_text"}``),
    ``chosen_provider``, ``provider_other``, ``provider_query``, ``candidates`` (the access
    providers whose name holds ``query``, Q13), ``further_accesses`` (``access_query`` ``(n,
    query)`` lists the candidates of further access n, ``focus_access`` puts focus on its
    block), ``can_add_access``, ``method_choices`` and ``province_choices``.

    ``further_accesses`` lists the blocks of the accesses after the first:
    ``[{"n", "number", "ids", "names", "method", "server_location", "ips_text",
    "chosen_provider", "provider_other", "provider_query", "candidates", "focus"}, …]``."""
    accesses = accesses or [empty_access()]
    first = accesses[0]
    provider = first.get("provider")
    providers = selectors.providers_by_id([_provider_id(a.get("provider")) for a in accesses])
    searched, further_query = access_query or (None, "")
    further = [
        _further_access(
            0,
            n,
            access,
            providers,
            query=further_query if n == searched else "",
            focus=n == focus_access,
        )
        for n, access in enumerate(accesses[1:], start=1)
    ]
    return {
        "first_access": {
            "ips_text": as_lines(first.get("ips")),
            "server_location": first.get("server_location") or "",
            "access_method": first.get("method") or "",
        },
        "method_choices": choices(Access.Method),
        "province_choices": province_choices(provinces()),
        "chosen_provider": providers.get(_provider_id(provider)),
        "provider_other": provider == OTHER,
        "provider_query": query,
        "candidates": selectors.provider_candidates(query) if query else None,
        "further_accesses": further,
        "can_add_access": len(accesses) < MAX_ACCESSES,
    }


def website_context(
    index: int | None,
    website: dict,
    errors: dict,
    show: bool,
    *,
    query: str = "",
    access_query: tuple[int, str] | None = None,
    focus_access: int | None = None,
    fragment: bool = False,
    return_to_check: bool = False,
) -> dict:
    """A website page's context (``index`` None: a new website); ``show`` shows its errors,
    ``query``, ``access_query`` and ``focus_access`` as ``accesses_context`` has them,
    ``fragment`` renders the form alone for htmx."""
    position = index if index is not None else -1

    def keep(path):
        return (
            show
            and path[:2] == ("websites", position)
            and (len(path) < 3 or path[2] != "preapprovals")
        )

    access_context = accesses_context(
        website_accesses(website),
        query=query,
        access_query=access_query,
        focus_access=focus_access,
    )
    return {
        "index": index,
        "website": {
            **website,
            "domains_text": as_lines(website.get("domains")),
            **access_context.pop("first_access"),
        },
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "services_choices": choices(Website.Service),
        "preapproval_services": [str(s) for s in Website.PREAPPROVAL_SERVICES],
        **access_context,
        "fragment": fragment,
        "return_to_check": return_to_check,
    }


# --- Documents --------------------------------------------------------------------------------


def _preapproval_input(part: str, index: int, entry: dict, field: str) -> str:
    return f"{PREAPPROVAL_PREFIXES[part]}{index}-{entry['category']}-{field}"


def documents_from_post(post, files, data: dict) -> list[tuple[str, int, int, Any]]:
    """Write the authorities and document numbers typed on the documents page into ``data``
    (every website's, app's and mini-program's entries); the files chosen, as ``[(part,
    index, entry index, upload), …]`` (``part`` ``"websites"``, ``"apps"`` or
    ``"mini_programs"``) for the caller to upload and record in each entry's ``document``."""
    uploads = []
    for part in SERVICE_PARTS:
        for index, service in enumerate(data.get(part) or []):
            for k, entry in enumerate(service.get("preapprovals", [])):
                entry["authority"] = post.get(
                    _preapproval_input(part, index, entry, "authority"), ""
                )
                entry["document_number"] = post.get(
                    _preapproval_input(part, index, entry, "document_number"), ""
                )
                upload = files.get(_preapproval_input(part, index, entry, "file"))
                if upload is not None:
                    uploads.append((part, index, k, upload))
    return uploads


def add_upload_errors(errors: dict, data: dict, upload_errors: dict) -> None:
    """Put the uploads' refusals, ``{(part, index, entry index): [messages]}``, on their
    entries' ``document`` field in ``errors``."""
    for (part, index, k), message in upload_errors.items():
        part_errors = errors.setdefault(part, [{} for _s in data[part]])
        if not isinstance(part_errors, list) or not isinstance(part_errors[index], dict):
            continue
        entry_errors = part_errors[index].setdefault(
            "preapprovals", [{} for _p in data[part][index]["preapprovals"]]
        )
        entry_errors[k]["document"] = message


def service_title(part: str, index: int, service: dict) -> str:
    """A website, app or mini-program as the pages name it in a heading: its name (a
    website's homepage without one), else its kind and place, like "App 2"."""
    if service.get("name"):
        return service["name"]
    if part == "websites" and service.get("homepage"):
        return service["homepage"]
    if part == "apps":
        return _("App %(n)d") % {"n": index + 1}
    if part == "mini_programs":
        return _("Mini-program %(n)d") % {"n": index + 1}
    return _("Website %(n)d") % {"n": index + 1}


def documents_context(filing: Filing, data: dict, errors: dict, show: bool) -> dict:
    """The documents page's context: one group per website, app or mini-program that needs
    pre-approvals, ``[{"part", "index", "website", "title", "entries"}, …]`` (``website``: the
    service, whatever its kind)."""

    def keep(path):
        return show and len(path) >= 3 and path[0] in SERVICE_PARTS and path[2] == "preapprovals"

    documents = {d.pk: d for d in Document.objects.filter(filing=filing)} if filing else {}
    groups = []
    for part in SERVICE_PARTS:
        for index, service in enumerate(data.get(part) or []):
            if not service.get("preapprovals"):
                continue
            entries = [
                {
                    "k": k,
                    "entry": entry,
                    "label": Website.Service(entry["category"]).label,
                    "ids": {
                        field: anchor((part, index, "preapprovals", k, field))
                        for field in ("authority", "document_number", "document")
                    },
                    "names": {
                        field: _preapproval_input(part, index, entry, field)
                        for field in PREAPPROVAL_INPUTS
                    },
                    "document": documents.get(entry.get("document")),
                }
                for k, entry in enumerate(service["preapprovals"])
            ]
            groups.append(
                {
                    "part": part,
                    "index": index,
                    "website": service,
                    "title": service_title(part, index, service),
                    "entries": entries,
                }
            )
    return {
        "groups": groups,
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
    }


# --- Reasons of a return (SPEC §12) ------------------------------------------------------------


# The fields of an app's and a mini-program's pages a return may name (SPEC §13).
APP_INPUTS = ("name", "services", "commercial", "domains", "stores")
PLATFORM_INPUTS = ("platform", "identifier", "public_key", "fingerprint")
MINI_PROGRAM_INPUTS = ("name", "services", "commercial", "platform", "platform_id")


def return_path(field: str, data: dict) -> tuple | None:
    """The wizard path of a return's ``field`` (a dotted path into the filing JSON, like
    ``websites.0.homepage``, ``apps.0.platforms.1.fingerprint`` or
    ``sponsor.principal.mobile``), or None when it names no input of ``data``'s pages (an
    empty field: the whole application)."""
    parts: list[Any] = [int(p) if p.isdigit() else p for p in (field or "").split(".")]
    if len(parts) == 2 and parts[0] == "sponsor" and parts[1] in SPONSOR_FIELDS:
        return tuple(parts)
    if len(parts) == 3 and parts[:2] == ["sponsor", "principal"] and parts[2] in PRINCIPAL_FIELDS:
        return tuple(parts)
    if len(parts) < 3 or parts[0] not in SERVICE_PARTS or not isinstance(parts[1], int):
        return None
    part, index = parts[0], parts[1]
    services = data.get(part) or []
    if index >= len(services):
        return None
    service = services[index]
    if len(parts) == 3:
        inputs = {
            "websites": WEBSITE_INPUTS,
            "apps": APP_INPUTS,
            "mini_programs": MINI_PROGRAM_INPUTS,
        }[part]
        return tuple(parts) if parts[2] in inputs else None
    if len(parts) != 5 or not isinstance(parts[3], int):
        return None
    if parts[2] == "accesses" and part in ("websites", "apps") and parts[4] in ACCESS_INPUTS:
        if part == "websites" and parts[3] == 0:
            return ("websites", index, ACCESS_INPUTS[parts[4]])
        if parts[3] < len(website_accesses(service)):
            return tuple(parts)
        return None
    if parts[2] == "platforms" and part == "apps" and parts[4] in PLATFORM_INPUTS:
        return tuple(parts) if parts[3] < len(service.get("platforms") or []) else None
    entries = service.get("preapprovals") or []
    if parts[2] == "preapprovals" and parts[4] in PREAPPROVAL_FIELDS and parts[3] < len(entries):
        return tuple(parts)
    return None


def new_access_anchor(
    field: str, website_index: int, access_index: int, part: str = "websites"
) -> str | None:
    """The input of the new-access page (the website page's first-access inputs) that
    answers a return's ``field`` when it is about access ``access_index`` of website (or app:
    ``part``) ``website_index`` (``websites.0.accesses.1.ips``, ``apps.0.accesses.1.ips``;
    for a website's first access, the shorthand ``websites.0.ips`` too); None for any other
    field."""
    parts = (field or "").split(".")
    if len(parts) < 3 or parts[0] != part or parts[1] != str(website_index):
        return None
    if len(parts) == 5 and parts[2] == "accesses" and parts[3] == str(access_index):
        name = parts[4]
    elif len(parts) == 3 and access_index == 0:
        name = {v: k for k, v in SHORTHAND.items()}.get(parts[2], "")
    else:
        return None
    return "f-w-" + ACCESS_INPUTS[name] if name in ACCESS_INPUTS else None


def _field_label(path: tuple, data: dict) -> str:
    labels = {
        "nature": _("Nature of the sponsor"),
        "name": _("Full name"),
        "id_type": _("Certificate type"),
        "id_number": _("Certificate number"),
        "province": _("Residence province"),
        "address": _("Address"),
        "mobile": _("Mobile number"),
        "email": _("Email address"),
        "domains": _("Domains"),
        "homepage": _("Homepage URL"),
        "ips": _("IP addresses"),
        "services": _("Service content"),
        "commercial": _("Commercial service"),
        "server_location": _("Server location"),
        "access_provider": _("Access provider"),
        "provider": _("Access provider"),
        "access_method": _("Access method"),
        "method": _("Access method"),
        "authority": _("Approving authority"),
        "document_number": _("Approval document number"),
        "document": _("Approval document"),
        "stores": _("Distribution platforms"),
        "platform": _("Platform"),
        "identifier": _("Identifier"),
        "public_key": _("Public key"),
        "fingerprint": _("Fingerprint"),
        "platform_id": _("AppID"),
    }
    if path[:2] == ("sponsor", "principal"):
        part = _("Responsible person")
        label = _("Name of the person") if path[2] == "name" else labels[path[2]]
    elif path[0] == "sponsor":
        part, label = _("Sponsor"), labels[path[1]]
    else:
        service = data[path[0]][path[1]]
        part = {
            "websites": _("Website %(n)d"),
            "apps": _("App %(n)d"),
            "mini_programs": _("Mini-program %(n)d"),
        }[path[0]] % {"n": path[1] + 1}
        if service.get("name"):
            part = f"{part} “{service['name']}”"
        names = {
            "websites": _("Website name"),
            "apps": _("App name"),
            "mini_programs": _("Mini-program name"),
        }
        label = names[path[0]] if path[2] == "name" else labels[path[-1]]
        if path[2] == "accesses":
            label = _("Access %(n)d") % {"n": path[3] + 1} + f" · {label}"
        elif path[2] == "platforms":
            label = _("Platform %(n)d") % {"n": path[3] + 1} + f" · {label}"
    return f"{part} · {label}"


def return_items(returns: list[dict], data: dict) -> list[dict[str, Any]]:
    """The reasons of a return as the owner's pages list them, in the order given:
    ``[{"reason", "label", "href", "anchor", "path"}]``, where a reason about the whole
    application (or a field no page shows) has ``path`` None and no link."""
    items = []
    for item in returns or []:
        path = return_path(str(item.get("field") or ""), data)
        items.append(
            {
                "reason": reason_in_language(str(item.get("reason") or "")),
                "path": path,
                "label": _field_label(path, data) if path else "",
                "anchor": anchor(path) if path else "",
                "href": f"{step_url(path)}#{anchor(path)}" if path else "",
            }
        )
    return items


def _nowhere(path: tuple) -> bool:
    return False


def returns_context(
    returns: list[dict],
    data: dict,
    *,
    keep: Callable[[tuple], bool] = _everywhere,
    listed: Callable[[tuple], bool] = _nowhere,
) -> dict:
    """What a wizard page shows of a return: ``returned``, ``{anchor: [reasons]}`` beside the
    fields ``keep`` accepts; ``returned_general``, the reasons about no field, shown at the
    top of every page; ``return_items``, the reasons about the fields ``listed`` accepts, listed
    at the top with a link to their page (``return_items``)."""
    returned: dict[str, list[str]] = {}
    general = []
    items = return_items(returns, data)
    for item in items:
        if item["path"] is None:
            general.append(item["reason"])
        elif keep(item["path"]):
            returned.setdefault(item["anchor"], []).append(item["reason"])
    return {
        "returned": returned,
        "returned_general": general,
        "return_items": [i for i in items if i["path"] is not None and listed(i["path"])],
        "was_returned": bool(returns),
    }


# --- Check your answers -----------------------------------------------------------------------


def _access_answers(index: int, website: dict, by_code: dict, providers: dict) -> list[dict]:
    methods = dict(choices(Access.Method))
    answers = []
    for n, access in enumerate(website_accesses(website)):
        provider = access.get("provider")
        location = access.get("server_location")
        answers.append(
            {
                "n": n,
                "number": n + 1,
                "provider": (
                    _("Other")
                    if provider == OTHER
                    else getattr(providers.get(_provider_id(provider)), "name", "")
                ),
                "method": methods.get(access.get("method") or "", ""),
                "location": (
                    _("Other (outside mainland China)")
                    if location == OTHER
                    else getattr(by_code.get(location), "display_name", "")
                ),
                "ips": access.get("ips") or [],
                "anchors": {
                    field: anchor(("websites", index, "accesses", n, field))
                    for field in ACCESS_FIELDS
                },
            }
        )
    return answers


def answers_context(filing: Filing | None, data: dict) -> dict:
    """What the summary template needs to show ``data`` with labels instead of codes; each
    website's ``accesses`` as ``[{"n", "number", "provider", "method", "location", "ips",
    "anchors"}, …]`` (SPEC §12), ``anchors`` the ids of their inputs on the website page."""
    by_code = {p.code: p for p in provinces()}
    providers = selectors.providers_by_id(
        [_provider_id(a.get("provider")) for w in data["websites"] for a in website_accesses(w)]
    )
    documents = {d.pk: d for d in Document.objects.filter(filing=filing)} if filing else {}
    sponsor = data["sponsor"]
    websites = []
    for index, website in enumerate(data["websites"]):
        websites.append(
            {
                "index": index,
                "website": website,
                "services": [
                    str(Website.Service(s).label) if s in Website.Service.values else s
                    for s in website.get("services", [])
                ],
                "accesses": _access_answers(index, website, by_code, providers),
                "preapprovals": [
                    {
                        **p,
                        "label": Website.Service(p["category"]).label,
                        "doc": documents.get(p.get("document")),
                    }
                    for p in website.get("preapprovals", [])
                ],
            }
        )
    return {
        "sponsor": sponsor,
        "nature_label": dict(choices(Filing.Nature)).get(sponsor.get("nature"), ""),
        "id_type_label": dict(choices(Filing.IdType)).get(sponsor.get("id_type"), ""),
        "principal_id_type_label": dict(choices(Filing.IdType)).get(
            (sponsor.get("principal") or {}).get("id_type"), ""
        ),
        "province": by_code.get(sponsor.get("province")),
        "answer_websites": websites,
    }
