"""JSON API: download ``bazs.cert`` and verify a certificate file (SPEC §10)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsSignedInPastSecondFactor
from beian.limits import CountingScopedRateThrottle
from beian.replicas import ReplicaReadsMixin

from . import format as cert_format
from .models import Certificate
from .selectors import downloadable_certificate, verify_certificate_file
from .views import certificate_response


class RawCertificateParser(BaseParser):
    """Any other body is the certificate file itself."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(cert_format.MAX_FILE_BYTES + 1) if stream else b""


class FilingCertificateView(APIView):
    permission_classes = [IsSignedInPastSecondFactor]

    @extend_schema(
        summary="Download the bazs.cert of a filing",
        description=(
            "Only the account that submitted the filing and, for imported clients, the staff "
            "of its access provider; 404 for everyone else."
        ),
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            404: OpenApiResponse(description="No certificate this account may download."),
        },
    )
    def get(self, request, pk: int) -> HttpResponse:
        try:
            certificate = downloadable_certificate(user=request.user, filing_id=pk)
        except Certificate.DoesNotExist as exc:
            raise Http404 from exc
        return certificate_response(certificate)


VerificationSerializer = inline_serializer(
    "CertificateVerification",
    {
        "status": serializers.ChoiceField(["valid", "superseded", "revoked", "invalid"]),
        "number": serializers.CharField(allow_null=True),
        "domains": serializers.ListField(child=serializers.CharField()),
        "apps": inline_serializer(
            "CertificateApp",
            {
                "name": serializers.CharField(),
                "number": serializers.CharField(help_text="…号-nA"),
                "platforms": inline_serializer(
                    "CertificateAppPlatform",
                    {
                        "platform": serializers.CharField(help_text="android, ios, harmonyos"),
                        "identifier": serializers.CharField(
                            help_text="package name, bundle ID or bundle name"
                        ),
                    },
                    many=True,
                ),
            },
            many=True,
            help_text="The apps the certificate lists (format bazs-cert/3; none before).",
        ),
        "mini_programs": inline_serializer(
            "CertificateMiniProgram",
            {
                "name": serializers.CharField(),
                "number": serializers.CharField(help_text="…号-nX"),
                "platform": serializers.CharField(
                    help_text="wechat, alipay, baidu, douyin, qq or other"
                ),
                "platform_id": serializers.CharField(help_text="its id on that platform"),
            },
            many=True,
            help_text="The mini-programs the certificate lists (format bazs-cert/3; none before).",
        ),
    },
)


class VerifyCertificateView(ReplicaReadsMixin, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CountingScopedRateThrottle]
    throttle_scope = "public"
    parser_classes = [MultiPartParser, RawCertificateParser]

    @extend_schema(
        summary="Verify a bazs.cert",
        description=(
            "The body is the certificate file, raw or as the multipart field `file`. "
            "`invalid` means altered, malformed, or signed by an unknown key."
        ),
        request={
            "application/octet-stream": OpenApiTypes.BINARY,
            "multipart/form-data": inline_serializer(
                "CertificateUpload", {"file": serializers.FileField()}
            ),
        },
        responses={200: VerificationSerializer},
    )
    def post(self, request) -> Response:
        data = request.data
        if hasattr(data, "get"):
            upload = request.FILES.get("file")
            if upload is None:
                raise serializers.ValidationError(
                    {"file": ["Send the certificate file as the field `file`, or as the body."]}
                )
            data = upload.read(cert_format.MAX_FILE_BYTES + 1)
        if not data:
            raise serializers.ValidationError(
                {"file": ["The body is empty: send the certificate file."]}
            )
        return Response(verify_certificate_file(bytes(data)).as_json())
