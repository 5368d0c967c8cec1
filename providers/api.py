"""Provider API (SPEC §10): access gating and imports, for staff of an active provider."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from beian.limits import CountingScopedRateThrottle
from filings.serializers import filing_as_json

from .gating import check_domains
from .import_jobs import import_rows
from .models import ApiToken
from .permissions import IsActiveProviderStaff


class TokenScopedThrottle(CountingScopedRateThrottle):
    """The gating rate applies to each token separately (a session counts as one token)."""

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


class _ProviderView(APIView):
    permission_classes = [IsActiveProviderStaff]


class DomainView(_ProviderView):
    throttle_classes = [TokenScopedThrottle]
    throttle_scope = "gating"

    @extend_schema(responses={200: GatingAnswerSerializer}, operation_id="provider_domain")
    def get(self, request, domain: str):
        return Response(check_domains([domain])[0].as_json())


class DomainCheckSerializer(serializers.Serializer):
    domains = serializers.ListField(
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


class DomainCheckView(_ProviderView):
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
        answers = check_domains(data.validated_data["domains"])
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
