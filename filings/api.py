"""The owner's filing API [contract, SPEC §10]: ``/api/v1/filings/…``.

Every call goes through ``filings.services`` like the browser wizard, so the rules and their
messages are the same. Another owner's filing answers 404.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsVerifiedOwner
from accounts.services import CodeRateLimited
from beian.api_errors import Throttled
from beian.clientaddress import client_address_or_none
from beian.parsers import JSONParser

from . import changes, services, stages
from .models import Application
from .selectors import filing_for_owner_or_404, owner_filings
from .serializers import editable_data, filing_owner_json, merge_data

# --- Schema (documentation only: the services validate) -------------------------------------


class PrincipalSchema(serializers.Serializer):
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    mobile = serializers.CharField()
    email = serializers.CharField()


class SponsorSchema(serializers.Serializer):
    nature = serializers.CharField()
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    province = serializers.CharField(help_text="GB/T 2260 code, e.g. 11")
    address = serializers.CharField()
    principal = PrincipalSchema()


class PreApprovalSchema(serializers.Serializer):
    category = serializers.CharField()
    authority = serializers.CharField()
    document_number = serializers.CharField()
    document = serializers.IntegerField(allow_null=True, help_text="id of an uploaded document")


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["other"]}], "nullable": True}
)
class AccessProviderChoice(serializers.Field):
    """A registered provider's id, or "other" (Q10); answers give the id as a number."""


class WebsiteSchema(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text=(
            "the website's id, as the calls on one website name it (a new access, a "
            "cancellation); null for a website not submitted yet, which has no row until its "
            "filing is submitted: from then on it keeps this id in every later draft and "
            "version. On write, the id of the website of the record this one is; leave it "
            "out (or null) for a new website"
        ),
    )
    name = serializers.CharField()
    number = serializers.CharField(allow_null=True, read_only=True)
    homepage = serializers.CharField()
    domains = serializers.ListField(child=serializers.CharField())
    ips = serializers.ListField(child=serializers.CharField())
    services = serializers.ListField(child=serializers.CharField())
    commercial = serializers.BooleanField()
    preapprovals = PreApprovalSchema(many=True)
    server_location = serializers.CharField(
        allow_null=True, help_text="GB/T 2260 code, or “other”; null while not answered"
    )
    access_provider = AccessProviderChoice(
        help_text="access provider id, or “other”; null while not answered"
    )


class FilingDataSchema(serializers.Serializer):
    sponsor = SponsorSchema(required=False)
    websites = WebsiteSchema(many=True, required=False)


class ConflictSchema(serializers.Serializer):
    field = serializers.ChoiceField(choices=["domain", "homepage", "sponsor_name"])
    value = serializers.CharField()
    other_filing = serializers.IntegerField()


class ReturnSchema(serializers.Serializer):
    field = serializers.CharField(help_text="a dotted path into the filing, websites.0.homepage")
    reason = serializers.CharField()


class ApplicationSchema(serializers.Serializer):
    """The filing's open application (SPEC §12)."""

    kind = serializers.ChoiceField(choices=Application.Kind.values)
    status = serializers.CharField()
    provider = serializers.IntegerField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    verification_expires_at = serializers.DateTimeField(allow_null=True)
    returns = ReturnSchema(many=True)


class FilingSchema(FilingDataSchema):
    id = serializers.IntegerField()
    status = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    review_deadline = serializers.DateField(allow_null=True)
    conflicts = ConflictSchema(many=True)
    application = ApplicationSchema(allow_null=True)


class FilingPageSchema(serializers.Serializer):
    """The list is paginated like every list of the API."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = FilingSchema(many=True)


ERRORS = OpenApiResponse(description="every problem, keyed like DRF field errors")
STATE = OpenApiResponse(description="not allowed in the filing's current status: {detail}")


def _refused(exc: services.FilingError) -> Response:
    if isinstance(exc, services.FilingInvalid):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)


class FilingListView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [JSONParser]

    @extend_schema(
        responses=FilingPageSchema, summary="The caller's filings", operation_id="v1_filings_list"
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(owner_filings(request.user), request, view=self)
        return paginator.get_paginated_response([filing_owner_json(f) for f in page])

    @extend_schema(
        request=FilingDataSchema,
        responses={201: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Create the caller's filing, in draft",
    )
    def post(self, request):
        try:
            filing = services.filing_create(owner=request.user, data=request.data or None)
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing), status=status.HTTP_201_CREATED)


class FilingDetailView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [JSONParser]

    @extend_schema(responses=FilingSchema, summary="The filing, with unsubmitted changes")
    def get(self, request, pk: int):
        return Response(filing_owner_json(filing_for_owner_or_404(request.user, pk)))

    def _save(self, request, pk: int, *, partial: bool) -> Response:
        filing = filing_for_owner_or_404(request.user, pk)
        if not isinstance(request.data, dict):
            return Response(
                {"non_field_errors": [_("Expected an object.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        data = merge_data(editable_data(filing), request.data) if partial else request.data
        try:
            services.filing_save_data(filing=filing, by=request.user, data=data)
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))

    @extend_schema(
        request=FilingDataSchema,
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Replace the unsubmitted data",
    )
    def put(self, request, pk: int):
        return self._save(request, pk, partial=False)

    @extend_schema(
        request=FilingDataSchema,
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Change part of the unsubmitted data (sponsor keys merge; websites replace)",
    )
    def patch(self, request, pk: int):
        return self._save(request, pk, partial=True)


class FilingDocumentView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "DocumentUpload", fields={"file": serializers.FileField()}
            )
        },
        responses={
            201: inline_serializer("DocumentId", fields={"id": serializers.IntegerField()}),
            400: ERRORS,
        },
        summary="Upload a pre-approval document (PDF, JPEG or PNG)",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        try:
            document = services.document_upload(
                filing=filing, by=request.user, file=request.FILES.get("file")
            )
        except services.FilingError as exc:
            return _refused(exc)
        return Response({"id": document.pk}, status=status.HTTP_201_CREATED)


class FilingSubmitView(APIView):
    permission_classes = [IsVerifiedOwner]

    @extend_schema(
        request=None,
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Submit for review (pending_review, or amendment_pending)",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        try:
            filing = services.filing_submit(filing=filing, by=request.user)
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))


class FilingRevocationView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=inline_serializer(
            "RevocationApplication", fields={"reason": serializers.CharField()}
        ),
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Apply for revocation of an approved filing",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        reason = request.data.get("reason") if isinstance(request.data, dict) else None
        if reason is not None and not isinstance(reason, str):
            return Response({"reason": [_("Enter text.")]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            filing = services.filing_apply_revocation(
                filing=filing, by=request.user, reason=reason or ""
            )
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))


class FilingVerificationResendView(APIView):
    permission_classes = [IsVerifiedOwner]

    @extend_schema(
        request=None,
        responses={
            200: FilingSchema,
            409: STATE,
            429: OpenApiResponse(description="too many codes sent: {detail}, Retry-After"),
        },
        summary="Send the responsible person a new SMS verification code (SPEC §12)",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        try:
            filing = stages.verification_resend(
                filing=filing, by=request.user, ip=client_address_or_none(request)
            )
        except CodeRateLimited as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.message) from exc
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))


class FilingWithdrawView(APIView):
    permission_classes = [IsVerifiedOwner]

    @extend_schema(
        request=None,
        responses={200: FilingSchema, 409: STATE},
        summary="Withdraw the open application, at whatever stage it is (SPEC §12)",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        try:
            filing = services.filing_withdraw(filing=filing, by=request.user)
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))


# Accesses and websites (SPEC §12) ------------------------------------------------------------


def _data(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class AccessApplicationSchema(serializers.Serializer):
    website = serializers.IntegerField(help_text="id of an approved website of this filing")
    provider = serializers.JSONField(help_text='id of a registered access provider, or "other"')
    method = serializers.ChoiceField(
        choices=["cloud", "hosting", "colocation", "dedicated_line", "other"]
    )
    server_location = serializers.CharField(help_text='GB/T 2260 province code, or "other"')
    ips = serializers.ListField(child=serializers.CharField())


class FilingAccessView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=AccessApplicationSchema,
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Apply for another access to an approved website (新增接入, SPEC §12)",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        body = _data(request)
        access = {k: body.get(k) for k in ("provider", "method", "server_location", "ips")}
        try:
            filing = changes.access_apply(
                filing=filing,
                by=request.user,
                request=changes.AccessRequest(website=body.get("website"), access=access),
            )
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))


class FilingAccessCancelView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=inline_serializer(
            "AccessCancellation",
            fields={
                "website": serializers.IntegerField(),
                "provider": serializers.JSONField(
                    help_text='the access\'s provider id, or "other"'
                ),
                "reason": serializers.CharField(),
            },
        ),
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Apply to cancel one access of an approved website (取消接入, SPEC §12)",
    )
    def post(self, request, pk: int):
        filing = filing_for_owner_or_404(request.user, pk)
        body = _data(request)
        try:
            filing = changes.access_cancel(
                filing=filing,
                by=request.user,
                website=body.get("website"),
                provider=body.get("provider"),
                reason=body.get("reason"),
            )
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))


class FilingWebsiteCancelView(APIView):
    permission_classes = [IsVerifiedOwner]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        request=inline_serializer(
            "WebsiteCancellation", fields={"reason": serializers.CharField()}
        ),
        responses={200: FilingSchema, 400: ERRORS, 409: STATE},
        summary="Apply to cancel one approved website (注销网站, SPEC §12)",
    )
    def post(self, request, pk: int, website: int):
        filing = filing_for_owner_or_404(request.user, pk)
        try:
            filing = changes.website_cancel(
                filing=filing,
                by=request.user,
                website=website,
                reason=_data(request).get("reason"),
            )
        except services.FilingError as exc:
            return _refused(exc)
        return Response(filing_owner_json(filing))
