"""The owner's pages: task list (Q24) and the filing wizard (sponsor → websites → documents →
check and submit) and private document downloads.

Every step saves the owner's changes through ``services.filing_save_data`` before anything
else, so leaving a page — or failing a rule — never loses what was typed. The rules are those
of submission (``selectors.check_data``); each page shows the ones about its own fields.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import account_required
from beian.models import Province
from beian.workdays import working_days_between

from . import selectors, services
from .models import Conflict, Document, Filing, FilingVersion, Website
from .responses import document_response
from .serializers import editable_data
from .validation import (
    INDIVIDUAL_ID_TYPES,
    OTHER,
    empty_data,
    empty_website,
    flatten_errors,
)

EDIT_CLOSED = (Filing.Status.REVOCATION_PENDING, Filing.Status.REVOKED)


def owner_page(func: Callable) -> Callable:
    """A page for a signed-in website owner."""

    @account_required
    @wraps(func)
    def wrapper(request, *args, **kwargs):
        if request.user.role != request.user.Role.OWNER:
            raise PermissionDenied
        return func(request, *args, **kwargs)

    return wrapper


def anchor(path) -> str:
    """The id of the input for the field at ``path`` on its wizard page.

    A website's page shows one website, so its fields are ``f-w-<field>`` whatever its index;
    the documents page lists every website's entries, so those keep the full path.
    """
    path = tuple(path)
    if len(path) >= 3 and path[0] == "websites" and path[2] != "preapprovals":
        return "f-w-" + "-".join(str(p) for p in path[2:])
    return "f-" + "-".join(str(p) for p in path)


def error_map(errors: dict, *, keep: Callable[[tuple], bool] = lambda p: True) -> dict:
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
    if len(path) >= 2 and path[0] == "websites" and isinstance(path[1], int):
        if len(path) >= 3 and path[2] == "preapprovals":
            return reverse("filings:documents")
        return reverse("filings:website", args=[path[1]])
    return reverse("filings:websites")


def summary(errors: dict, *, keep: Callable[[tuple], bool] = lambda p: True, here: bool = True):
    """The error summary's links, in page order."""
    items = []
    for path, message in flatten_errors(errors):
        if keep(path):
            target = f"#{anchor(path)}" if here else f"{step_url(path)}?check=1#{anchor(path)}"
            items.append({"href": target, "message": message})
    return items


def _choices(enum) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in enum.choices]


def _provinces() -> list[Province]:
    return list(Province.objects.order_by("code"))


def _province_choices(provinces: list[Province]) -> list[tuple[str, str]]:
    english = (get_language() or "").startswith("en")
    return [(p.code, p.name_en if english else p.name) for p in provinces]


def _editing(request) -> tuple[Filing | None, dict]:
    filing = selectors.owner_filing(request.user)
    return filing, (editable_data(filing) if filing else editable_data_empty())


def editable_data_empty() -> dict:
    return empty_data()


def _closed(request, filing: Filing | None):
    """Editing pages redirect to the task list when the filing cannot change."""
    if filing is not None and filing.status in EDIT_CLOSED:
        messages.info(
            request,
            _("A filing that is %(status)s cannot be changed.")
            % {"status": filing.get_status_display()},
        )
        return redirect("filings:tasks")
    return None


def _save(request, filing: Filing | None, data: dict) -> tuple[Filing | None, dict]:
    """Save ``data`` (creating the filing on the first step); structure errors if refused."""
    try:
        if filing is None:
            filing = services.filing_create(owner=request.user)
        services.filing_save_data(filing=filing, by=request.user, data=data)
    except services.FilingInvalid as exc:
        return filing, exc.errors
    except services.FilingError as exc:
        messages.error(request, exc.message)
        return filing, {"non_field_errors": [exc.message]}
    return filing, {}


# --- Task list ------------------------------------------------------------------------------


@owner_page
def tasks(request):
    filing = selectors.owner_filing(request.user)
    context: dict[str, Any] = {"filing": filing, "actions": selectors.allowed_actions(None)}
    if filing is not None:
        data = editable_data(filing)
        has_changes = selectors.has_unsubmitted_changes(filing)
        errors = selectors.check_data(filing, data)
        # A filed record with nothing changed is the version the bureau approved: nothing is
        # in progress, even where a rule tightened since (an amendment is checked in full).
        if not has_changes and filing.status in Filing.FILED_STATUSES:
            errors = {}
        context.update(
            {
                "data": data,
                "has_changes": has_changes,
                "sections": selectors.sections(data, errors),
                "actions": selectors.allowed_actions(filing, has_changes=has_changes),
                "conflicts": filing.conflicts.filter(
                    resolved_at__isnull=True, kind=Conflict.Kind.CONFLICT
                ).order_by("id"),
                "versions": selectors.versions(filing),
                "days_left": (
                    working_days_between(timezone.localdate(), filing.review_deadline)
                    if filing.review_deadline and filing.status in Filing.OPEN_STATUSES
                    else None
                ),
            }
        )
    return render(request, "filings/tasks.html", context)


# --- Sponsor --------------------------------------------------------------------------------

SPONSOR_FIELDS = ("nature", "name", "id_type", "id_number", "province", "address")
PRINCIPAL_FIELDS = ("name", "id_type", "id_number", "mobile", "email")


def _sponsor_from_post(post) -> dict:
    sponsor = {key: post.get(key, "") for key in SPONSOR_FIELDS}
    sponsor["principal"] = {key: post.get(f"principal_{key}", "") for key in PRINCIPAL_FIELDS}
    return sponsor


def _sponsor_context(data: dict, errors: dict, show: bool) -> dict:
    keep = (lambda p: p[:1] == ("sponsor",)) if show else (lambda p: False)
    return {
        "sponsor": data["sponsor"],
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "natures": _choices(Filing.Nature),
        "id_types": _choices(Filing.IdType),
        "person_id_types": [(v, str(Filing.IdType(v).label)) for v in INDIVIDUAL_ID_TYPES],
        "province_choices": _province_choices(_provinces()),
    }


def _returning_to_check(request) -> bool:
    """The owner came from a "change" link on check-your-answers and goes back there."""
    return "check" in (request.POST.get("return"), request.GET.get("return"))


@owner_page
def sponsor(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if request.method == "POST":
        data["sponsor"] = _sponsor_from_post(request.POST)
        filing, structure = _save(request, filing, data)
        errors = structure or selectors.check_data(filing, data)
        if request.POST.get("action") == "later" and not structure:
            messages.success(request, _("Your answers are saved. Continue whenever you like."))
            return redirect("filings:tasks")
        back = _returning_to_check(request)
        if not errors.get("sponsor") and not structure:
            return redirect("filings:check" if back else "filings:websites")
        context = {**_sponsor_context(data, errors, show=True), "return_to_check": back}
        return render(request, "filings/sponsor.html", context, status=400)
    errors = selectors.check_data(filing, data) if filing and "check" in request.GET else {}
    context = _sponsor_context(data, errors, bool(errors))
    return render(
        request,
        "filings/sponsor.html",
        {**context, "return_to_check": _returning_to_check(request)},
    )


# --- Websites -------------------------------------------------------------------------------


def _website_rows(data: dict, errors: dict) -> list[dict]:
    website_errors = errors.get("websites") if isinstance(errors.get("websites"), list) else []
    rows = []
    for index, website in enumerate(data["websites"]):
        errs = website_errors[index] if index < len(website_errors) else {}
        content = {k: v for k, v in errs.items() if k != "preapprovals"}
        rows.append({"index": index, "website": website, "complete": not content})
    return rows


@owner_page
def websites(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    errors = selectors.check_data(filing, data)
    rows = _website_rows(data, errors)
    if request.method == "POST":
        if not rows:
            summary_items = [{"href": "#add-website", "message": _("Add at least one website.")}]
            return render(
                request,
                "filings/websites.html",
                {"rows": rows, "error_summary": summary_items},
                status=400,
            )
        incomplete = [r for r in rows if not r["complete"]]
        if incomplete:
            summary_items = [
                {
                    "href": reverse("filings:website", args=[r["index"]]) + "?check=1",
                    "message": _("Website %(n)d needs attention: open it to see what to fix.")
                    % {"n": r["index"] + 1},
                }
                for r in incomplete
            ]
            return render(
                request,
                "filings/websites.html",
                {"rows": rows, "error_summary": summary_items},
                status=400,
            )
        needs_documents = any(w["preapprovals"] for w in data["websites"])
        return redirect("filings:documents" if needs_documents else "filings:check")
    return render(request, "filings/websites.html", {"rows": rows})


def _website_from_post(post, current: dict) -> dict:
    website = {**current}
    website.update(
        {
            "name": post.get("name", ""),
            "homepage": post.get("homepage", ""),
            "domains": post.get("domains", ""),
            "ips": post.get("ips", ""),
            "services": post.getlist("services"),
            "commercial": post.get("commercial") == "yes",
            "server_location": post.get("server_location", ""),
            "access_provider": post.get("access_provider") or None,
        }
    )
    return website


def _as_lines(value) -> str:
    return "\n".join(value) if isinstance(value, list) else (value or "")


def _website_context(
    request, index: int | None, website: dict, errors: dict, show: bool, query: str = ""
) -> dict:
    position = index if index is not None else -1

    def keep(path):
        return (
            show
            and path[:2] == ("websites", position)
            and (len(path) < 3 or path[2] != "preapprovals")
        )

    provider = website.get("access_provider")
    chosen = (
        selectors.providers_by_id([provider]).get(provider) if isinstance(provider, int) else None
    )
    return {
        "index": index,
        "website": {
            **website,
            "domains_text": _as_lines(website.get("domains")),
            "ips_text": _as_lines(website.get("ips")),
        },
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "services_choices": _choices(Website.Service),
        "preapproval_services": [str(s) for s in Website.PREAPPROVAL_SERVICES],
        "province_choices": _province_choices(_provinces()),
        "chosen_provider": chosen,
        "provider_other": provider == OTHER,
        "provider_query": query,
        "candidates": selectors.provider_candidates(query) if query else None,
        "fragment": request.GET.get("fragment") == "1" or request.headers.get("HX-Request"),
        "return_to_check": _returning_to_check(request),
    }


def _website_page(request, filing: Filing | None, data: dict, index: int | None):
    if index is not None and not 0 <= index < len(data["websites"]):
        raise Http404
    current = data["websites"][index] if index is not None else empty_website()
    if request.method == "POST":
        website = _website_from_post(request.POST, current)
        if index is None:
            data["websites"].append(website)
            index = len(data["websites"]) - 1
        else:
            data["websites"][index] = website
        filing, structure = _save(request, filing, data)
        errors = structure or selectors.check_data(filing, data)
        action = request.POST.get("action")
        if action == "later" and not structure:
            messages.success(request, _("Your answers are saved. Continue whenever you like."))
            return redirect("filings:tasks")
        if action == "search":
            query = request.POST.get("provider_query", "")
            context = _website_context(request, index, website, errors, show=False, query=query)
            return render(request, "filings/website.html", context)
        website_errors = errors.get("websites")
        mine = (
            website_errors[index]
            if isinstance(website_errors, list) and index < len(website_errors)
            else {}
        )
        content = {k: v for k, v in mine.items() if k != "preapprovals"}
        if not content and not structure:
            messages.success(
                request,
                _("Website “%(name)s” is saved.") % {"name": website["name"] or index + 1},
            )
            return redirect("filings:check" if _returning_to_check(request) else "filings:websites")
        context = _website_context(request, index, website, errors, show=True)
        return render(request, "filings/website.html", context, status=400)
    errors = (
        selectors.check_data(filing, data)
        if filing and index is not None and "check" in request.GET
        else {}
    )
    context = _website_context(request, index, current, errors, show=bool(errors))
    template = "filings/_website_form.html" if context["fragment"] else "filings/website.html"
    return render(request, template, context)


@owner_page
def website_new(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    return _website_page(request, filing, data, None)


@owner_page
def website_edit(request, index: int):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    return _website_page(request, filing, data, index)


@owner_page
def website_remove(request, index: int):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None or not 0 <= index < len(data["websites"]):
        raise Http404
    website = data["websites"][index]
    if request.method == "POST":
        del data["websites"][index]
        _save(request, filing, data)
        messages.success(
            request,
            _("Website “%(name)s” is removed.") % {"name": website["name"] or index + 1},
        )
        return redirect("filings:websites")
    return render(request, "filings/website_remove.html", {"index": index, "website": website})


@owner_page
@require_GET
def provider_search(request):
    """Candidates by name as the owner types (Q13): an HTML fragment, or JSON on request."""
    query = request.GET.get("q") or request.GET.get("provider_query") or ""
    candidates = selectors.provider_candidates(query)
    if "json" in request.headers.get("Accept", "") or request.GET.get("format") == "json":
        return JsonResponse(
            {
                "results": [
                    {"id": p.pk, "name": p.name, "licence_number": p.licence_number}
                    for p in candidates
                ]
            }
        )
    return render(
        request,
        "filings/_provider_candidates.html",
        {"candidates": candidates, "provider_query": query},
    )


# --- Documents ------------------------------------------------------------------------------


def _documents_context(filing: Filing, data: dict, errors: dict, show: bool) -> dict:
    def keep(path):
        return show and len(path) >= 3 and path[0] == "websites" and path[2] == "preapprovals"

    documents = {d.pk: d for d in Document.objects.filter(filing=filing)} if filing else {}
    groups = []
    for index, website in enumerate(data["websites"]):
        if not website.get("preapprovals"):
            continue
        entries = [
            {
                "k": k,
                "entry": entry,
                "label": Website.Service(entry["category"]).label,
                "ids": {
                    field: anchor(("websites", index, "preapprovals", k, field))
                    for field in ("authority", "document_number", "document")
                },
                "names": {
                    field: f"w{index}-{entry['category']}-{field}"
                    for field in ("authority", "document_number", "file")
                },
                "document": documents.get(entry.get("document")),
            }
            for k, entry in enumerate(website["preapprovals"])
        ]
        groups.append({"index": index, "website": website, "entries": entries})
    return {
        "groups": groups,
        "errs": error_map(errors, keep=keep),
        "error_summary": summary(errors, keep=keep),
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
    }


@owner_page
def documents(request):
    filing, data = _editing(request)
    if (response := _closed(request, filing)) is not None:
        return response
    if filing is None:
        return redirect("filings:sponsor")
    if request.method == "POST":
        upload_errors: dict = {}
        for index, website in enumerate(data["websites"]):
            for k, entry in enumerate(website.get("preapprovals", [])):
                prefix = f"w{index}-{entry['category']}"
                entry["authority"] = request.POST.get(f"{prefix}-authority", "")
                entry["document_number"] = request.POST.get(f"{prefix}-document_number", "")
                upload = request.FILES.get(f"{prefix}-file")
                if upload is None:
                    continue
                try:
                    document = services.document_upload(filing=filing, by=request.user, file=upload)
                except services.FilingInvalid as exc:
                    upload_errors[(index, k)] = exc.errors.get("file", [exc.message])
                except services.FilingError as exc:
                    upload_errors[(index, k)] = [exc.message]
                else:
                    entry["document"] = document.pk
        filing, structure = _save(request, filing, data)
        errors = structure or selectors.check_data(filing, data)
        for (index, k), message in upload_errors.items():
            website_errors = errors.setdefault("websites", [{} for _w in data["websites"]])
            if not isinstance(website_errors, list):
                continue
            entry_errors = website_errors[index].setdefault(
                "preapprovals", [{} for _p in data["websites"][index]["preapprovals"]]
            )
            entry_errors[k]["document"] = message
        if request.POST.get("action") == "later" and not structure and not upload_errors:
            messages.success(request, _("Your answers are saved. Continue whenever you like."))
            return redirect("filings:tasks")
        has_document_errors = any(
            isinstance(e, dict) and e.get("preapprovals")
            for e in (errors.get("websites") if isinstance(errors.get("websites"), list) else [])
        )
        if not has_document_errors and not structure:
            return redirect("filings:check")
        context = _documents_context(filing, data, errors, show=True)
        return render(request, "filings/documents.html", context, status=400)
    errors = selectors.check_data(filing, data) if "check" in request.GET else {}
    return render(
        request, "filings/documents.html", _documents_context(filing, data, errors, bool(errors))
    )


@owner_page
@require_GET
def document_download(request, pk: int):
    document = selectors.document_for_user(user=request.user, document_id=pk)
    return document_response(document)


# --- Check and submit -----------------------------------------------------------------------


def _answers_context(filing: Filing, data: dict) -> dict:
    """What the summary template needs to show ``data`` with labels instead of codes."""
    provinces = {p.code: p for p in _provinces()}
    provider_ids = [w.get("access_provider") for w in data["websites"]]
    providers = selectors.providers_by_id([p for p in provider_ids if isinstance(p, int)])
    documents = {d.pk: d for d in Document.objects.filter(filing=filing)} if filing else {}
    sponsor = data["sponsor"]
    websites = []
    for index, website in enumerate(data["websites"]):
        provider = website.get("access_provider")
        websites.append(
            {
                "index": index,
                "website": website,
                "services": [
                    str(Website.Service(s).label) if s in Website.Service.values else s
                    for s in website.get("services", [])
                ],
                "location": (
                    _("Other (outside mainland China)")
                    if website.get("server_location") == OTHER
                    else getattr(provinces.get(website.get("server_location")), "display_name", "")
                ),
                "provider": (
                    _("Other")
                    if provider == OTHER
                    else getattr(providers.get(provider), "name", "")
                    if provider
                    else ""
                ),
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
        "nature_label": dict(_choices(Filing.Nature)).get(sponsor.get("nature"), ""),
        "id_type_label": dict(_choices(Filing.IdType)).get(sponsor.get("id_type"), ""),
        "principal_id_type_label": dict(_choices(Filing.IdType)).get(
            (sponsor.get("principal") or {}).get("id_type"), ""
        ),
        "province": provinces.get(sponsor.get("province")),
        "answer_websites": websites,
    }


@owner_page
def check(request):
    filing, data = _editing(request)
    if filing is None:
        return redirect("filings:sponsor")
    has_changes = selectors.has_unsubmitted_changes(filing)
    actions = selectors.allowed_actions(filing, has_changes=has_changes)
    status = 200
    if request.method == "POST":
        try:
            services.filing_submit(filing=filing, by=request.user)
        except services.FilingInvalid as exc:
            errors = exc.errors
            status = 400
        except services.FilingError as exc:
            errors = {}
            messages.error(request, exc.message)
            status = 409
        else:
            return redirect("filings:submitted")
    else:
        errors = selectors.check_data(filing, data)
    amendment = filing.status in (Filing.Status.APPROVED, Filing.Status.AMENDMENT_PENDING)
    context = {
        "filing": filing,
        "has_changes": has_changes,
        "can_submit": "submit" in actions,
        "amendment": amendment,
        # An amendment shows what it changes against the version the bureau approved.
        "amended": selectors.changes_since_approved(filing, data) if amendment else None,
        "error_summary": summary(errors, here=False),
        **_answers_context(filing, data),
    }
    return render(request, "filings/check.html", context, status=status)


@owner_page
def submitted(request):
    filing = selectors.owner_filing(request.user)
    if filing is None or filing.submitted_at is None:
        return redirect("filings:tasks")
    return render(request, "filings/submitted.html", {"filing": filing})


@owner_page
@require_POST
def discard(request):
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    services.filing_discard_changes(filing=filing, by=request.user)
    messages.success(request, _("Your unsubmitted changes are discarded."))
    return redirect("filings:tasks")


@owner_page
def revocation(request):
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    reason = ""
    errs: dict = {}
    status = 200
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            services.filing_apply_revocation(filing=filing, by=request.user, reason=reason)
        except services.FilingInvalid as exc:
            errs = {"f-reason": exc.errors.get("reason", [])}
            status = 400
        except services.FilingError as exc:
            messages.error(request, exc.message)
            return redirect("filings:tasks")
        else:
            messages.success(
                request,
                _("Your application for revocation is sent to the bureau of your province."),
            )
            return redirect("filings:tasks")
    elif filing.status != Filing.Status.APPROVED:
        messages.error(request, _("Only an approved filing can apply for revocation."))
        return redirect("filings:tasks")
    error_summary = [{"href": "#f-reason", "message": m} for m in errs.get("f-reason", [])]
    return render(
        request,
        "filings/revocation.html",
        {"filing": filing, "reason": reason, "errs": errs, "error_summary": error_summary},
        status=status,
    )


@owner_page
def withdraw(request):
    """Withdraw the amendment or the application for revocation (asks first, SPEC §12)."""
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    if filing.status not in services.WITHDRAWABLE_STATUSES:
        messages.error(
            request, _("There is no amendment or application for revocation to withdraw.")
        )
        return redirect("filings:tasks")
    amendment = filing.status == Filing.Status.AMENDMENT_PENDING
    if request.method == "POST":
        try:
            services.filing_withdraw(filing=filing, by=request.user)
        except services.FilingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _(
                    "The amendment is withdrawn. The approved filing is unchanged; the "
                    "amendment stays in the list of versions."
                )
                if amendment
                else _("The application for revocation is withdrawn. The filing stays approved."),
            )
        return redirect("filings:tasks")
    return render(request, "filings/withdraw.html", {"filing": filing, "amendment": amendment})


@owner_page
def version(request, seq: int):
    filing = selectors.owner_filing(request.user)
    if filing is None:
        raise Http404
    item = FilingVersion.objects.filter(filing=filing, seq=seq).select_related("created_by").first()
    if item is None:
        raise Http404
    data = {"sponsor": item.data.get("sponsor") or {}, "websites": item.data.get("websites") or []}
    context = {"filing": filing, "version": item, **_answers_context(filing, data)}
    return render(request, "filings/version.html", context)
