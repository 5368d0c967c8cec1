"""Provider API (SPEC §10, §12): access gating, imports and the first review (初审), for
staff of an active provider."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from beian.limits import CountingScopedRateThrottle
from beian.normalforms.text import unreadable_text_message
from beian.parsers import JSONParser
from beian.replicas import ReplicaReadsMixin
from filings.api import ERRORS, STATE, FilingSchema
from filings.changes import AccessRequest, access_apply, access_cancel
from filings.errors import FilingError, FilingInvalid
from filings.models import Application, Filing
from filings.selectors import (
    FirstReviewRow,
    first_review_rows,
    provider_application,
    provider_review_queue,
)
from filings.serializers import (
    datetime_json,
    filing_as_json,
    filing_json_related,
    prefetched_filing_json,
)
from filings.stages import CHECKLIST_CODES, provider_decide

from .app_check import check_identifiers
from .gating import check_domains
from .gating_lane import remember_token
from .import_jobs import import_rows
from .models import ApiToken
from .permissions import IsActiveProviderStaff
from .selectors import approved_website, provider_access_website


class TokenScopedThrottle(CountingScopedRateThrottle):
    """The gating rate applies to each token separately (a session counts as one token). A
    call the hot path counted already (``providers.gating_lane``) is not counted again."""

    def count(self, key: str) -> tuple[int, int]:
        counted = getattr(self.request, "gating_counted", None)
        if counted is not None and key.endswith(f"providertoken-{self.token_pk}"):
            return counted
        return super().count(key)

    def allow_request(self, request, view) -> bool:
        self.request = request
        auth = getattr(request, "auth", None)
        self.token_pk = auth.pk if isinstance(auth, ApiToken) else None
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            ident = f"providertoken-{auth.pk}"
        elif getattr(auth, "key", None):
            ident = f"drftoken-{request.user.pk}"
        else:
            ident = f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class GatingAnswerSerializer(serializers.Serializer):
    domain = serializers.CharField()
    filed = serializers.BooleanField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    access = serializers.BooleanField(
        help_text="Whether the asking provider holds an approved access to the filed website "
        "(SPEC §12): a provider may serve only those."
    )


class _ProviderView(APIView):
    permission_classes = [IsActiveProviderStaff]


class DomainView(ReplicaReadsMixin, _ProviderView):
    throttle_classes = [TokenScopedThrottle]
    throttle_scope = "gating"

    @extend_schema(responses={200: GatingAnswerSerializer}, operation_id="provider_domain")
    def get(self, request, domain: str):
        # A control character (a NUL above all) is refused as the batch's JSON parser
        # refuses it (``beian.parsers``), on the field it concerns.
        message = unreadable_text_message(domain)
        if message:
            raise ValidationError({"domain": [message]})
        answers = check_domains([domain], provider_id=request.user.provider_id)
        if isinstance(request.auth, ApiToken):
            remember_token(request.auth)
        return Response(answers[0].as_json())


def _plain_text(value: str) -> bool:
    """Whether a string passes DRF's ``CharField`` checks unchanged: no NUL character and no
    surrogate code point (text that UTF-8 cannot encode)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class BatchOfStrings(serializers.ListField):
    """DRF's list of ``CharField``s (not trimmed, blanks allowed), checked in one pass when
    every item is a string DRF would keep as it is (the usual batch of 1,000), and item by
    item by DRF otherwise, so that a bad item gets DRF's own error under its index."""

    def run_child_validation(self, data):
        limit = self.child.max_length
        if all(
            type(item) is str and (limit is None or len(item) <= limit) and _plain_text(item)
            for item in data
        ):
            return list(data)
        return super().run_child_validation(data)


class DomainCheckSerializer(serializers.Serializer):
    domains = BatchOfStrings(
        child=serializers.CharField(max_length=300, trim_whitespace=False, allow_blank=True),
        allow_empty=False,
    )

    def validate_domains(self, domains):
        limit = settings.PROVIDER_GATING_MAX_DOMAINS
        if len(domains) > limit:
            raise serializers.ValidationError(
                _("Ask about at most %(count)s domains at a time.") % {"count": limit}
            )
        return domains


class DomainCheckView(ReplicaReadsMixin, _ProviderView):
    throttle_classes = [TokenScopedThrottle]
    throttle_scope = "gating"

    @extend_schema(
        request=DomainCheckSerializer,
        responses={
            200: inline_serializer(
                "GatingBatch", fields={"results": GatingAnswerSerializer(many=True)}
            )
        },
        operation_id="provider_domains_check",
    )
    def post(self, request):
        data = DomainCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = check_domains(
            data.validated_data["domains"], provider_id=request.user.provider_id
        )
        return Response({"results": [a.as_json() for a in answers]})


class AppCheckAnswerSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text="exactly as asked")
    filed = serializers.BooleanField()
    number = serializers.CharField(
        allow_null=True, help_text="the app's (…号-nA) or mini-program's (…号-nX) number"
    )
    status = serializers.CharField(allow_null=True, help_text="the filing's status")


class IdentifierField(serializers.CharField):
    """A string as sent: a number or another JSON value is refused, not turned into text."""

    default_error_messages = {"invalid": _lazy("Give each identifier as a string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class AppCheckSerializer(serializers.Serializer):
    identifiers = BatchOfStrings(
        child=IdentifierField(max_length=300, trim_whitespace=False, allow_blank=True),
        allow_empty=False,
        help_text="Android package names, iOS bundle IDs, HarmonyOS bundle names and "
        "mini-program ids, mixed as you like",
    )

    def validate_identifiers(self, identifiers):
        limit = settings.PROVIDER_APP_CHECK_MAX_IDENTIFIERS
        if len(identifiers) > limit:
            raise serializers.ValidationError(
                _("Ask about at most %(count)s identifiers at a time.") % {"count": limit}
            )
        return identifiers


class AppCheckView(ReplicaReadsMixin, _ProviderView):
    """Are these apps and mini-programs filed? (SPEC §13: for distribution platforms, open to
    every provider's token.)"""

    throttle_classes = [TokenScopedThrottle]
    throttle_scope = "gating"

    @extend_schema(
        request=AppCheckSerializer,
        responses={
            200: inline_serializer(
                "AppCheckBatch", fields={"results": AppCheckAnswerSerializer(many=True)}
            ),
            400: OpenApiResponse(description="not a list, empty, over the limit, not strings"),
        },
        operation_id="provider_apps_check",
    )
    def post(self, request):
        data = AppCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = check_identifiers(data.validated_data["identifiers"])
        return Response({"results": [a.as_json() for a in answers]})


class ImportSerializer(serializers.Serializer):
    # Each row is checked by the import itself, so that one bad row is that row's error.
    rows = serializers.ListField(child=serializers.JSONField(), allow_empty=False)

    def validate_rows(self, rows):
        limit = settings.PROVIDER_IMPORT_MAX_API_ROWS
        if len(rows) > limit:
            raise serializers.ValidationError(
                _("Send at most %(count)s rows a call, or upload a CSV file in the console.")
                % {"count": limit}
            )
        return rows


class ImportView(_ProviderView):
    @extend_schema(
        request=ImportSerializer,
        responses={
            200: inline_serializer(
                "ImportResults",
                fields={
                    "results": inline_serializer(
                        "ImportRowResult",
                        fields={
                            "row": serializers.IntegerField(),
                            "status": serializers.ChoiceField(["created", "exists", "error"]),
                            "username": serializers.CharField(),
                            "initial_password": serializers.CharField(required=False),
                            "filing": serializers.JSONField(allow_null=True),
                            "errors": serializers.JSONField(),
                        },
                        many=True,
                    )
                },
            ),
            400: OpenApiResponse(description="no rows, or more than the limit"),
        },
        operation_id="provider_imports",
    )
    def post(self, request):
        data = ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = import_rows(
            provider=request.user.provider, by=request.user, rows=data.validated_data["rows"]
        )
        body = []
        for result in results:
            item = {
                "row": result.row,
                "status": result.status,
                "username": result.username,
                "filing": filing_as_json(result.filing) if result.filing is not None else None,
                "errors": result.errors,
            }
            if result.initial_password:
                item["initial_password"] = result.initial_password
            body.append(item)
        return Response({"results": body})


# The first review (初审, SPEC §12) ------------------------------------------------------------


class ProviderReviewItemSchema(FilingSchema):
    """A queue item: the filing (SPEC §10 shape) and its application's first-review clock."""

    kind = serializers.ChoiceField(choices=Application.Kind.values)
    waiting_since = serializers.DateTimeField(allow_null=True)
    provider_deadline = serializers.DateField(allow_null=True)
    working_days_left = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()


class ProviderReviewPageSchema(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProviderReviewItemSchema(many=True)


class ReturnItemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="a dotted path into the filing, websites.0.homepage")
    reason = serializers.CharField()


class ProviderDecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["pass", "return"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    # Checked by the service, so that every problem of a return is named at once; in a
    # multipart body it is a JSON text.
    returns = serializers.JSONField(required=False)
    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHECKLIST_CODES)), required=False
    )
    record = serializers.FileField(required=False, allow_empty_file=True)


class ProviderDecisionSchema(serializers.Serializer):
    action = serializers.ChoiceField(choices=["pass", "return"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    returns = ReturnItemSerializer(many=True, required=False)
    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHECKLIST_CODES)), required=False
    )


class ProviderDecisionUploadSchema(ProviderDecisionSchema):
    returns = serializers.CharField(
        required=False, help_text='JSON text: [{"field": …, "reason": …}]'
    )
    record = serializers.FileField(required=False, help_text="the verification record (核验单)")


def first_review_item(row: FirstReviewRow, filing: Filing) -> dict:
    """A queue item: ``filing`` (read with ``filing_json_related``) in the SPEC §10 shape, with
    ``kind``, ``waiting_since``, ``provider_deadline``, ``working_days_left`` and ``overdue``."""
    answer = prefetched_filing_json(filing)
    answer["kind"] = row.kind
    answer["waiting_since"] = datetime_json(row.waiting_since)
    answer["provider_deadline"] = row.deadline.isoformat() if row.deadline else None
    answer["working_days_left"] = row.days_left
    answer["overdue"] = row.overdue
    return answer


class ProviderReviewQueueView(_ProviderView):
    """Applications waiting for this provider's first review, oldest first."""

    @extend_schema(
        parameters=[OpenApiParameter("page", int)],
        responses={200: ProviderReviewPageSchema},
        operation_id="provider_reviews",
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            provider_review_queue(request.user.provider_id), request, view=self
        )
        rows = first_review_rows(page)
        filings = {
            f.pk: f
            for f in filing_json_related(
                Filing.objects.select_related("province").filter(
                    pk__in=[row.filing.pk for row in rows]
                )
            )
        }
        return paginator.get_paginated_response(
            [
                first_review_item(row, filings[row.filing.pk])
                for row in rows
                if row.filing.pk in filings
            ]
        )


class ProviderDecisionView(_ProviderView):
    """Pass an application on, or return it to the owner, after the first review."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={
            "application/json": ProviderDecisionSchema,
            "multipart/form-data": ProviderDecisionUploadSchema,
        },
        responses={
            200: FilingSchema,
            400: ERRORS,
            404: OpenApiResponse(description="no application of this provider for the filing"),
            409: STATE,
        },
        operation_id="provider_review_decision",
    )
    def post(self, request, pk: int):
        if provider_application(request.user.provider_id, pk) is None:
            raise NotFound
        data = ProviderDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            filing = provider_decide(
                filing_id=pk,
                by=request.user,
                action=values["action"],
                reason=values.get("reason", ""),
                returns=values.get("returns"),
                checklist=values.get("checklist"),
                record=values.get("record"),
            )
        except PermissionDenied as exc:
            raise NotFound from exc
        except FilingInvalid as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        except FilingError as exc:
            return Response(
                {"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT
            )
        return Response(filing_as_json(filing))


# Accesses (SPEC §12) --------------------------------------------------------------------------


def _body(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


def _answer(call) -> Response:
    """The filing's JSON after ``call``, or its refusal as the filing API words it."""
    try:
        filing = call()
    except FilingInvalid as exc:
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    except FilingError as exc:
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    return Response(filing_as_json(filing))


def _website_missing(*, reason=...) -> Response:
    """400 naming the missing website, with the missing reason too when one is asked."""
    errors = {"website": [_("Give the website's id, or its website number (…号-n).")]}
    if reason is not ... and not (isinstance(reason, str) and reason.strip()):
        errors["reason"] = [_("Say why.")]
    return Response(errors, status=status.HTTP_400_BAD_REQUEST)


class ProviderAccessSchema(serializers.Serializer):
    website = serializers.IntegerField(required=False, help_text="id of the approved website")
    website_number = serializers.CharField(
        required=False, help_text="or its website number (…号-n), as the public query shows it"
    )
    method = serializers.ChoiceField(
        choices=["cloud", "hosting", "colocation", "dedicated_line", "other"]
    )
    server_location = serializers.CharField(help_text='GB/T 2260 province code, or "other"')
    ips = serializers.ListField(child=serializers.CharField())


class ProviderAccessView(_ProviderView):
    """The provider applies for its own access to an approved website (新增接入)."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=ProviderAccessSchema,
        responses={
            200: FilingSchema,
            400: ERRORS,
            404: OpenApiResponse(description="no approved website with this id or number"),
            409: STATE,
        },
        operation_id="provider_access_apply",
        summary="Apply for this provider's access to an approved website (SPEC §12)",
    )
    def post(self, request):
        body = _body(request)
        if body.get("website") in (None, "") and not body.get("website_number"):
            return _website_missing()
        website = approved_website(website=body.get("website"), number=body.get("website_number"))
        if website is None:
            raise NotFound
        access = {
            "provider": request.user.provider_id,
            **{k: body.get(k) for k in ("method", "server_location", "ips")},
        }
        return _answer(
            lambda: access_apply(
                filing=website.filing,
                by=request.user,
                request=AccessRequest(website=website.pk, access=access),
            )
        )


class ProviderAccessCancelView(_ProviderView):
    """The provider withdraws its own access to a website (取消接入)."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=inline_serializer(
            "ProviderAccessCancellation",
            fields={
                "website": serializers.IntegerField(help_text="id of the website"),
                "reason": serializers.CharField(),
            },
        ),
        responses={
            200: FilingSchema,
            400: ERRORS,
            404: OpenApiResponse(description="no access of this provider to that website"),
            409: STATE,
        },
        operation_id="provider_access_cancel",
        summary="Withdraw this provider's access to a website (SPEC §12)",
    )
    def post(self, request):
        body = _body(request)
        if body.get("website") in (None, ""):
            return _website_missing(reason=body.get("reason"))
        website = provider_access_website(request.user.provider_id, body.get("website"))
        if website is None:
            raise NotFound
        return _answer(
            lambda: access_cancel(
                filing=website.filing,
                by=request.user,
                website=website.pk,
                reason=body.get("reason"),
            )
        )
