"""GET /api/v1/public/filings/?q=… — the is-it-filed query for programs [contract]; POST
/api/v1/verification/ — the SMS verification of an application (SPEC §12) [contract]."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from beian import limits
from beian.api_errors import Throttled
from beian.clientaddress import client_address_or_none
from beian.hotpaths import hot_read
from beian.parsers import JSONParser
from beian.replicas import ReplicaReadsMixin
from filings import stages
from filings.models import Identifier, PublishedWebsite, Website

from .answer_cache import (
    ANSWER_PREFIX,
    NUMBER_KINDS,
    answer_suffix,
    answer_version_for,
    cache_answer_body,
)
from .selectors import ParsedQuery, QueryInvalid, cached_search, filing_search, parse_query

PUBLIC_QUERY_PATH = "/api/v1/public/filings/"


class PublicQueryThrottle(limits.CountingRateThrottle):
    """The ``public`` rate (``THROTTLE_PUBLIC``) per client address, for the query API. The
    same Redis round trip that counts the request reads the version of the published data and
    the cached answer to the query the view is about to search for (see
    ``public.answer_cache`` and ``public.selectors.cached_search``)."""

    scope = "public"
    cache_format = "throttle_public_query_%(ident)s"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"ident": self.get_ident(request)}

    def count(self, key: str) -> tuple[int, int]:
        query = self.query
        found, seconds_left, self.version, self.answer = limits.count_and_get_stamped(
            key,
            self.duration,
            answer_version_for(query if query is not None else ParsedQuery("name", "")),
            ANSWER_PREFIX,
            answer_suffix(query) if query is not None else ":",
        )
        if query is None:
            self.answer = None
        return found, seconds_left

    def allow_request(self, request, view) -> bool:
        # The view may have counted this request already, before DRF took it up.
        counted = getattr(request, "public_throttle", None)
        if counted is not None:
            allowed, self.seconds_left = counted
            return allowed
        params = getattr(request, "query_params", None) or request.GET
        try:
            self.query = parse_query(params.get("q"))
        except QueryInvalid:
            self.query = None
        allowed = super().allow_request(request, view)
        request.public_query = (
            self.query,
            getattr(self, "version", None),
            getattr(self, "answer", None),
        )
        request.public_throttle = (allowed, getattr(self, "seconds_left", self.duration))
        return allowed


class PublicIdentifierSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(
        choices=Identifier.Platform.values,
        help_text="An app's platform (android, ios, harmonyos) or a mini-program's host.",
    )
    identifier = serializers.CharField(
        help_text="The package name, bundle ID or bundle name, or the mini-program's id on "
        "its host."
    )


class PublicFilingSerializer(serializers.Serializer):
    """Public fields only: never an ID number, an address or a contact, nor an app's public
    key or fingerprint."""

    number = serializers.CharField(help_text="The sponsor's filing number.")
    sponsor_name = serializers.CharField()
    sponsor_nature = serializers.CharField()
    website_name = serializers.CharField(
        help_text="The website's name, or the app's or mini-program's."
    )
    website_number = serializers.CharField(
        help_text="The service's number: …号-n for a website, -nA for an app, -nX for a "
        "mini-program."
    )
    homepage = serializers.CharField(help_text="A website's homepage; empty for the others.")
    domains = serializers.ListField(
        child=serializers.CharField(),
        help_text="A website's domains, or the domains an app uses; none for a mini-program.",
    )
    approved_at = serializers.DateTimeField()
    service_type = serializers.ChoiceField(
        choices=Website.Kind.values, help_text="website, app or mini_program (SPEC §13)."
    )
    identifiers = PublicIdentifierSerializer(
        many=True,
        help_text="An app's platforms with its identifier on each, or a mini-program's host "
        "with its id there; none for a website.",
    )


_approved_at = serializers.DateTimeField()


def _time_text(value):
    return _approved_at.to_representation(value) if value is not None else None


class PublicQueryPagination(PageNumberPagination):
    page_size = 50


def one_page_body(result) -> bytes:
    """The JSON of a result that fits on one page, as the paginated view renders its first
    page (``{"count", "next", "previous", "results"}``): the same bytes for everyone who asks."""
    rows = result.rows_for(result.ids)
    # The rows hold the serializer's fields already; only the time needs its text form.
    return JSONRenderer().render(
        {
            "count": result.count,
            "next": None,
            "previous": None,
            "results": [{**row, "approved_at": _time_text(row["approved_at"])} for row in rows],
        }
    )


# Questions that find a few services at most, which the hot path may search for.
_FEW_ANSWERS = frozenset({"domain", *NUMBER_KINDS})


def kept_answer(request) -> HttpResponse | None:
    """The public query's hot path (``beian.hotpaths``): a question in JSON whose answer fits
    on one page, answered before the middleware and DRF: with the bytes kept when it was
    asked before, else searched (a domain, a filing number; one indexed read) and rendered
    as the view renders it. The rate limit is counted here, once (the view reads the count if
    the request goes on); None for anything else, which goes on to the view as usual."""
    if (
        request.method != "GET"
        or request.path_info != PUBLIC_QUERY_PATH
        or set(request.GET) != {"q"}
        or request.META.get("HTTP_ACCEPT", "*/*") not in ("*/*", "application/json")
    ):
        return None
    throttle = PublicQueryThrottle()
    if throttle.rate is None or not throttle.allow_request(request, None):
        return None
    query, version, answer = request.public_query
    if query is None or version is None:
        return None
    if answer and answer.get("body"):
        body = answer["body"]
    elif answer or query.kind in _FEW_ANSWERS:
        result = hot_read(cached_search, query, version, answer)
        if result is None or result.count > PublicQueryPagination.page_size:
            return None
        body = result.body or one_page_body(result)
        if result.body is None and not result.fresh:  # asked again: worth keeping
            cache_answer_body(result, body)
    else:
        return None
    response = HttpResponse(body, content_type="application/json")
    response["Vary"] = "Accept"
    response["Allow"] = "GET, HEAD, OPTIONS"
    return response


class PublicFilingSearchView(ReplicaReadsMixin, ListAPIView):
    """Approved websites, apps and mini-programs matching a domain (any subdomain), a filing
    number, an app identifier or mini-program id, or part of a name."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicQueryThrottle]
    pagination_class = PublicQueryPagination
    serializer_class = PublicFilingSerializer
    # Only for the schema: answers come from the cached search, never from this queryset.
    queryset = PublishedWebsite.objects.none()

    @extend_schema(
        operation_id="public_filings_search",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description="A domain or URL, a sponsor's filing number or a website's, app's "
                "or mini-program's (…号-1, -1A, -1X), an app's package name or bundle ID or a "
                "mini-program's id, or at least two characters of the sponsor's or service's "
                "name.",
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        try:
            parsed = parse_query(request.query_params.get("q"))
        except QueryInvalid as exc:
            raise ValidationError({"q": [exc.message]}) from exc
        query, version, answer = getattr(request, "public_query", (None, None, None))
        if query == parsed and version is not None:
            result = cached_search(parsed, version, answer)
        else:
            result = filing_search(parsed)
        # An answer that fits on one page has no links to other pages, so the same bytes
        # answer everyone: they are kept with the cached answer.
        whole = (
            result.count <= self.pagination_class.page_size
            and not request.query_params.get("page")
            and request.accepted_renderer.format == "json"
        )
        if whole:
            body = result.body or one_page_body(result)
            if result.body is None and not result.fresh:  # asked again: worth keeping
                cache_answer_body(result, body)
            return HttpResponse(body, content_type="application/json")
        ids = self.paginate_queryset(result.ids)
        rows = result.rows_for(list(ids))
        # The rows hold the serializer's fields already; only the time needs its text form.
        return self.get_paginated_response(
            [{**row, "approved_at": _time_text(row["approved_at"])} for row in rows]
        )


class VerificationRequestSchema(serializers.Serializer):
    mobile = serializers.CharField(help_text="the responsible person's mobile, e.g. 13800138000")
    code = serializers.CharField(help_text="the 6 digits of the SMS")
    id_last6 = serializers.CharField(
        help_text="the last 6 characters of the responsible person's certificate number"
    )


class VerificationResultSchema(serializers.Serializer):
    status = serializers.CharField(help_text="the filing's status now, at the bureau")
    review_deadline = serializers.DateField(
        allow_null=True,
        help_text="the bureau's deadline: 20 working days from today, the day the application "
        "reached the bureau",
    )


class VerificationView(APIView):
    """短信核验 (SPEC §12): anyone holding the SMS confirms the application; it then reaches
    the bureau. The answer names no person; every try counts against the client address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="verification_confirm",
        request=VerificationRequestSchema,
        responses={
            200: VerificationResultSchema,
            400: OpenApiResponse(description="field errors: {mobile|code|id_last6: [message]}"),
            429: OpenApiResponse(description="too many tries from this address: {detail}"),
        },
        summary="Confirm an application with the code of its SMS verification",
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        values: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        for name in ("mobile", "code", "id_last6"):
            value = body.get(name)
            if value is None:
                value = ""  # missing or null: the service says what to enter
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                errors[name] = [_('Give this as text, e.g. "13800138000" or "123456".')]
            elif len(value) > 32:
                errors[name] = [_("Enter text of at most 32 characters.")]
            else:
                values[name] = value
        if errors:
            # Every problem at once: the values that are text are checked as the service does.
            try:
                stages.verification_values_clean(**{**dict.fromkeys(errors, ""), **values})
            except stages.VerificationProblem as exc:
                errors = {**exc.errors, **errors}
            raise ValidationError(errors)
        try:
            filing = stages.verification_confirm(**values, ip=client_address_or_none(request))
        except stages.VerificationProblem as exc:
            raise ValidationError(exc.errors) from exc
        except stages.VerificationLimited as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.message) from exc
        deadline = filing.review_deadline
        return Response(
            {"status": filing.status, "review_deadline": deadline.isoformat() if deadline else None}
        )
