"""The owner's pages for apps and mini-programs (SPEC §13): their lists, an app's four pages
(name and services; platforms, with the signed package read to fill them; the domains it uses
and its distribution platforms; its accesses), a mini-program's two (name and services; its
platform and AppID), removing one, and the search of distribution platforms by name.

As every wizard page (``views.py``), each saves what was typed before anything else, so
leaving a page or failing a rule never loses it, and shows the rules of submission about its
own fields. An approved record's owner adds an app or a mini-program on the same pages: it is
submitted as an amendment.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from . import app_wizard, selectors, wizard
from .app_wizard import APPS, MINI_PROGRAMS
from .validation import empty_app, empty_mini_program
from .views import _closed, _editing, _returning_to_check, _returns, _save, owner_page

EMPTY = {APPS: empty_app, MINI_PROGRAMS: empty_mini_program}
LISTS = {APPS: "filings:apps", MINI_PROGRAMS: "filings:mini-programs"}
FIRST_PAGES = {APPS: "filings:app", MINI_PROGRAMS: "filings:mini-program"}
# Each page's template and the page after it (None: the service is done, back to its list).
TEMPLATES = {
    "filings:app": "filings/service_content.html",
    "filings:app-platforms": "filings/app_platforms.html",
    "filings:app-domains": "filings/app_domains.html",
    "filings:app-accesses": "filings/app_accesses.html",
    "filings:mini-program": "filings/service_content.html",
    "filings:mini-program-platform": "filings/mini_program_platform.html",
}
NEXT_PAGES = {
    "filings:app": "filings:app-platforms",
    "filings:app-platforms": "filings:app-domains",
    "filings:app-domains": "filings:app-accesses",
    "filings:app-accesses": None,
    "filings:mini-program": "filings:mini-program-platform",
    "filings:mini-program-platform": None,
}


def _part_of(page: str) -> str:
    return MINI_PROGRAMS if page.startswith("filings:mini-program") else APPS


def _load(request, part: str, index: int | None):
    """``(filing, data, current)`` for a page of service ``index`` of ``part`` (None: a new
    one), or the response that sends the owner elsewhere (the record cannot change, or has
    no filing yet); 404 for a service the data does not hold."""
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    listed = data.setdefault(part, [])
    if index is not None and not 0 <= index < len(listed):
        raise Http404
    return filing, data, (listed[index] if index is not None else EMPTY[part]())


def _store(request, filing, data: dict, part: str, index: int | None, service: dict):
    """Save ``service`` (appended when ``index`` is None); ``(filing, index, structure
    errors, every problem of the data)``."""
    if index is None:
        data[part].append(service)
        index = len(data[part]) - 1
    else:
        data[part][index] = service
    filing, structure = _save(request, filing, data)
    return filing, index, structure, structure or selectors.check_data(filing, data)


# The pages of an app and of a mini-program as their navigation names them.
PAGE_LABELS = {
    "filings:app": gettext_lazy("1. Name and services"),
    "filings:app-platforms": gettext_lazy("2. Platforms"),
    "filings:app-domains": gettext_lazy("3. Domains and app stores"),
    "filings:app-accesses": gettext_lazy("4. Accesses"),
    "filings:mini-program": gettext_lazy("1. Name and services"),
    "filings:mini-program-platform": gettext_lazy("2. Platform and AppID"),
}


def _page(request, page: str, index: int | None, filing, data: dict, context: dict, status=200):
    """Render ``page`` of service ``index`` (None: a new one) with ``context``, the reasons
    of a return about its fields, and what every page of a service shows: its caption (kind,
    place and name) and the links to its other pages."""
    part = _part_of(page)
    pages = wizard.APP_PAGES if part == APPS else wizard.MINI_PROGRAM_PAGES
    if index is None:
        caption = _("A new app") if part == APPS else _("A new mini-program")
        links = []
    else:
        service = data[part][index]
        kind = _("App %(n)d") if part == APPS else _("Mini-program %(n)d")
        caption = kind % {"n": index + 1}
        if service.get("name"):
            caption = f"{caption} · {service['name']}"
        links = [
            {
                "label": PAGE_LABELS[name],
                "href": reverse(name, args=[index]),
                "current": name == page,
            }
            for name in pages
        ]
    context = {
        **context,
        "page": page,
        "part": part,
        "prefix": wizard.SERVICE_ANCHORS[part],
        "list_url": LISTS[part],
        "caption": caption,
        "page_links": links,
        **_returns(filing, data, app_wizard.page_keep(part, -1 if index is None else index, page)),
    }
    return render(request, TEMPLATES[page], context, status=status)


def _advance(request, page: str, index: int, service: dict, structure: dict, errors: dict):
    """Where a saved page goes: the task list on "come back later", the next page (or
    check-your-answers) when its own fields have nothing to fix; None to show it again."""
    part = _part_of(page)
    if request.POST.get("action") == "later" and not structure:
        messages.success(request, _("Your answers are saved. Continue whenever you like."))
        return redirect("filings:task_list")
    if structure or app_wizard.page_errors(errors, part, index, page):
        return None
    if _returning_to_check(request):
        return redirect("filings:check_answers")
    following = NEXT_PAGES[page]
    if following is not None:
        return redirect(following, index)
    name = service.get("name") or index + 1
    messages.success(
        request,
        (_("App “%(name)s” is saved.") if part == APPS else _("Mini-program “%(name)s” is saved."))
        % {"name": name},
    )
    return redirect(LISTS[part])


def _get_errors(request, filing, data: dict, index: int | None) -> dict:
    """Every problem of the data when the page was opened to fix it (``?check=1``)."""
    return (
        selectors.check_data(filing, data) if index is not None and "check" in request.GET else {}
    )


# --- Lists ------------------------------------------------------------------------------------


def _list_page(request, part: str):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    errors = selectors.check_data(filing, data)
    rows = app_wizard.rows(part, data, errors)

    def listed(path: tuple) -> bool:
        return path[0] == part

    context = {"part": part, "rows": rows, **_returns(filing, data, _nowhere, listed)}
    if request.method == "POST":
        if not any(data.get(p) for p in wizard.SERVICE_PARTS):
            context["error_summary"] = [
                {
                    "href": "#add-service",
                    "message": _("Add at least one website, app or mini-program."),
                }
            ]
            return render(request, "filings/services.html", context, status=400)
        incomplete = app_wizard.incomplete_summary(part, rows)
        if incomplete:
            context["error_summary"] = incomplete
            return render(request, "filings/services.html", context, status=400)
        return redirect(
            "filings:documents" if wizard.needs_documents(data) else "filings:check_answers"
        )
    return render(request, "filings/services.html", context)


def _nowhere(path: tuple) -> bool:
    return False


@owner_page
def apps(request):
    """The record's apps, each with its state, and the way to add, change or remove one."""
    return _list_page(request, APPS)


@owner_page
def mini_programs(request):
    """The record's mini-programs, each with its state, and the way to add, change or remove
    one."""
    return _list_page(request, MINI_PROGRAMS)


# --- Name and services ------------------------------------------------------------------------


def _content_page(request, part: str, index: int | None):
    loaded = _load(request, part, index)
    if not isinstance(loaded, tuple):
        return loaded
    filing, data, current = loaded
    page = FIRST_PAGES[part]
    back = _returning_to_check(request)
    if request.method == "POST":
        service = app_wizard.content_from_post(request.POST, current)
        filing, index, structure, errors = _store(request, filing, data, part, index, service)
        response = _advance(request, page, index, service, structure, errors)
        if response is not None:
            return response
        context = app_wizard.content_context(
            part, index, service, errors, True, return_to_check=back
        )
        return _page(request, page, index, filing, data, context, status=400)
    errors = _get_errors(request, filing, data, index)
    context = app_wizard.content_context(
        part, index, current, errors, bool(errors), return_to_check=back
    )
    return _page(request, page, index, filing, data, context)


@owner_page
def app_new(request):
    return _content_page(request, APPS, None)


@owner_page
def app_edit(request, index: int):
    return _content_page(request, APPS, index)


@owner_page
def mini_program_new(request):
    return _content_page(request, MINI_PROGRAMS, None)


@owner_page
def mini_program_edit(request, index: int):
    return _content_page(request, MINI_PROGRAMS, index)


# --- An app's platforms -----------------------------------------------------------------------


@owner_page
def app_platforms(request, index: int):
    """An app's platforms, each with its identifier, public key and fingerprint, filled from
    the signed package when one is uploaded (read, checked against what was typed, and not
    kept: ``app_wizard.read_packages``)."""
    loaded = _load(request, APPS, index)
    if not isinstance(loaded, tuple):
        return loaded
    filing, data, current = loaded
    page = "filings:app-platforms"
    back = _returning_to_check(request)
    if request.method != "POST":
        errors = _get_errors(request, filing, data, index)
        context = app_wizard.platforms_context(
            index, current, errors, bool(errors), return_to_check=back
        )
        return _page(request, page, index, filing, data, context)
    app = app_wizard.platforms_from_post(request.POST, current)
    reading = app_wizard.read_packages(request.FILES, app, index)
    filing, index, structure, errors = _store(request, filing, data, APPS, index, app)
    for note in reading.notes:
        messages.info(request, note)
    action = request.POST.get("action", "")
    if action == "later" and not structure and not reading.errs:
        return _advance(request, page, index, app, structure, errors)
    if app_wizard.changes_platforms(action) or action == "read_package":
        # The page again with the platforms as they now are; only what a package said is
        # flagged yet.
        focus = len(app["platforms"]) - 1 if action == app_wizard.ADD_PLATFORM else None
        context = app_wizard.platforms_context(
            index, app, errors, False, extra=reading.errs, focus=focus, return_to_check=back
        )
        status = 400 if reading.errs else 200
        return _page(request, page, index, filing, data, context, status=status)
    if reading.filled and not reading.errs:
        # What the package filled in is shown for the owner to check before going on.
        context = app_wizard.platforms_context(index, app, errors, False, return_to_check=back)
        return _page(request, page, index, filing, data, context)
    if not reading.errs:
        response = _advance(request, page, index, app, structure, errors)
        if response is not None:
            return response
    context = app_wizard.platforms_context(
        index, app, errors, True, extra=reading.errs, return_to_check=back
    )
    return _page(request, page, index, filing, data, context, status=400)


# --- An app's domains and distribution platforms ----------------------------------------------


@owner_page
def app_domains(request, index: int):
    """The domains an app uses and the distribution platforms (app stores) it is offered on,
    found by name among the registered ones, or "other"."""
    loaded = _load(request, APPS, index)
    if not isinstance(loaded, tuple):
        return loaded
    filing, data, current = loaded
    page = "filings:app-domains"
    back = _returning_to_check(request)
    if request.method != "POST":
        errors = _get_errors(request, filing, data, index)
        context = app_wizard.domains_context(
            index, current, errors, bool(errors), return_to_check=back
        )
        return _page(request, page, index, filing, data, context)
    app = app_wizard.domains_from_post(request.POST, current)
    filing, index, structure, errors = _store(request, filing, data, APPS, index, app)
    if request.POST.get("action") == app_wizard.SEARCH_STORE:
        context = app_wizard.domains_context(
            index,
            app,
            errors,
            False,
            query=request.POST.get("store_query", ""),
            return_to_check=back,
        )
        return _page(request, page, index, filing, data, context)
    response = _advance(request, page, index, app, structure, errors)
    if response is not None:
        return response
    context = app_wizard.domains_context(index, app, errors, True, return_to_check=back)
    return _page(request, page, index, filing, data, context, status=400)


@owner_page
@require_GET
def store_candidates(request):
    """Registered distribution platforms by name as the owner types on an app's domains page
    (SPEC §13): a fragment of checkboxes for the page, or on request JSON ``{"results":
    [{"id", "name", "licence_number"}]}``; the ``stores`` chosen already are left out."""
    context = app_wizard.store_search_context(request.GET)
    if "json" in request.headers.get("Accept", "") or request.GET.get("format") == "json":
        return JsonResponse(
            {
                "results": [
                    {"id": p.pk, "name": p.name, "licence_number": p.licence_number}
                    for p in context["store_candidates"] or []
                ]
            }
        )
    return render(request, "filings/_store_candidates.html", context)


# --- An app's accesses ------------------------------------------------------------------------


@owner_page
def app_accesses(request, index: int):
    """An app's accesses (SPEC §12, §13): the website page's access inputs."""
    loaded = _load(request, APPS, index)
    if not isinstance(loaded, tuple):
        return loaded
    filing, data, current = loaded
    page = "filings:app-accesses"
    back = _returning_to_check(request)
    if request.method != "POST":
        errors = _get_errors(request, filing, data, index)
        context = app_wizard.app_accesses_context(
            index, current, errors, bool(errors), return_to_check=back
        )
        return _page(request, page, index, filing, data, context)
    app = app_wizard.app_accesses_from_post(request.POST, current)
    filing, index, structure, errors = _store(request, filing, data, APPS, index, app)
    action = request.POST.get("action", "")
    if action == "search" or wizard.changes_accesses(action):
        options = wizard.access_focus(request.POST, app)
        if action == "search":
            options = {"query": request.POST.get("provider_query", "")}
        context = app_wizard.app_accesses_context(
            index, app, errors, False, return_to_check=back, **options
        )
        return _page(request, page, index, filing, data, context)
    response = _advance(request, page, index, app, structure, errors)
    if response is not None:
        return response
    context = app_wizard.app_accesses_context(index, app, errors, True, return_to_check=back)
    return _page(request, page, index, filing, data, context, status=400)


# --- A mini-program's platform ------------------------------------------------------------------


@owner_page
def mini_program_platform(request, index: int):
    """The platform a mini-program runs on and its AppID there, with the form of each
    platform's AppID."""
    loaded = _load(request, MINI_PROGRAMS, index)
    if not isinstance(loaded, tuple):
        return loaded
    filing, data, current = loaded
    page = "filings:mini-program-platform"
    back = _returning_to_check(request)
    if request.method != "POST":
        errors = _get_errors(request, filing, data, index)
        context = app_wizard.mini_program_platform_context(
            index, current, errors, bool(errors), return_to_check=back
        )
        return _page(request, page, index, filing, data, context)
    program = app_wizard.mini_program_platform_from_post(request.POST, current)
    filing, index, structure, errors = _store(request, filing, data, MINI_PROGRAMS, index, program)
    response = _advance(request, page, index, program, structure, errors)
    if response is not None:
        return response
    context = app_wizard.mini_program_platform_context(
        index, program, errors, True, return_to_check=back
    )
    return _page(request, page, index, filing, data, context, status=400)


# --- Removing one -------------------------------------------------------------------------------


def _remove(request, part: str, index: int):
    loaded = _load(request, part, index)
    if not isinstance(loaded, tuple):
        return loaded
    filing, data, service = loaded
    if request.method == "POST":
        del data[part][index]
        _save(request, filing, data)
        name = service.get("name") or index + 1
        messages.success(
            request,
            (
                _("App “%(name)s” is removed.")
                if part == APPS
                else _("Mini-program “%(name)s” is removed.")
            )
            % {"name": name},
        )
        return redirect(LISTS[part])
    return render(
        request,
        "filings/service_remove.html",
        {
            "part": part,
            "index": index,
            "service": service,
            "title": wizard.service_title(part, index, service),
        },
    )


@owner_page
def app_remove(request, index: int):
    return _remove(request, APPS, index)


@owner_page
def mini_program_remove(request, index: int):
    return _remove(request, MINI_PROGRAMS, index)
