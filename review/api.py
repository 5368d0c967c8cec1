"""Review API (SPEC §10): the queue, decisions, re-check and revocation, for OTP-verified staff.

The same services as the console pages; a filing outside the caller's province answers 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import IsVerifiedStaff
from beian.workdays import working_calendar
from filings.models import Filing
from filings.serializers import filing_as_json, filing_json_related, prefetched_filing_json

from . import selectors, services
from .forms import QueueFilterForm
from .scope import OutOfScope


class DecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


def _api_errors(exc: ValidationError) -> ApiValidationError:
    if hasattr(exc, "error_dict"):
        errors = exc.message_dict
        if "__all__" in errors:
            errors["non_field_errors"] = errors.pop("__all__")
        return ApiValidationError(errors)
    return ApiValidationError({"non_field_errors": exc.messages})


def filing_answer(filing: Filing, *, row: selectors.QueueRow | None = None) -> dict:
    if hasattr(filing, "open_conflicts") and hasattr(filing, "ordered_websites"):
        answer = prefetched_filing_json(filing)
    else:
        answer = filing_as_json(filing)
    answer["kind"] = filing.review_kind
    if row is not None:
        answer["working_days_left"] = row.days_left
        answer["overdue"] = row.overdue
    return answer


class _StaffView(GenericAPIView):
    permission_classes = [IsVerifiedStaff]

    def filing(self, pk: int) -> Filing:
        filing = selectors.filing_for_review(self.request.user, pk)
        if filing is None:
            raise NotFound
        return filing

    def act(self, action, filing: Filing, **kwargs) -> Response:
        try:
            action(filing=filing, by=self.request.user, **kwargs)
        except (OutOfScope, Http404) as exc:
            raise NotFound from exc
        except ValidationError as exc:
            raise _api_errors(exc) from exc
        return Response(filing_answer(self.filing(filing.pk)))


class QueueView(_StaffView):
    """This province's open items by deadline (the ministry: every province)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=["new", "amendment", "revocation"]),
            OpenApiParameter("conflicts", bool),
            OpenApiParameter("preapproval", bool),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("due_soon", bool),
            OpenApiParameter("province", str, description="ministry only"),
            OpenApiParameter("status", str, description="open (default), all, or a status"),
            OpenApiParameter("q", str, description="number, domain, account or sponsor name"),
            OpenApiParameter("page", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        form = QueueFilterForm(request.query_params or None, user=request.user)
        if form.is_bound and not form.is_valid():
            raise ApiValidationError(form.errors)
        on = selectors.today()
        qs = filing_json_related(selectors.queue_filings(request.user, form.filters(), on=on))
        page = self.paginate_queryset(qs)
        rows = selectors.queue_rows(page, on=on, calendar=working_calendar())
        return self.get_paginated_response([filing_answer(r.filing, row=r) for r in rows])


class FilingView(_StaffView):
    """One filing of the caller's province, with its kind and working days left."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        filing = self.filing(pk)
        row = selectors.queue_rows([filing])[0]
        return Response(filing_answer(filing, row=row))


class DecisionView(_StaffView):
    """approve or reject; on an application for revocation, grant (approve) or refuse."""

    @extend_schema(request=DecisionSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing = self.filing(pk)
        action = data.validated_data["action"]
        reason = data.validated_data.get("reason", "")
        if filing.status == Filing.Status.REVOCATION_PENDING:
            if action == "approve":
                return self.act(services.revocation_approve, filing, reason=reason)
            return self.act(services.revocation_refuse, filing, reason=reason)
        if action == "approve":
            return self.act(services.filing_approve, filing)
        return self.act(services.filing_reject, filing, reason=reason)


class RecheckView(_StaffView):
    """Recompute the conflicts of a filing under review."""

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        return self.act(services.filing_recheck, self.filing(pk))


class RevokeView(_StaffView):
    """Revoke an approved filing on the bureau's own motion (reason required)."""

    @extend_schema(request=ReasonSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        filing = self.filing(pk)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.act(services.filing_revoke, filing, reason=data.validated_data["reason"])
