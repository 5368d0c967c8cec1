from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework.exceptions import NotFound

from .delivery import outbox
from .models import Province


def home(request):
    return render(request, "beian/home.html")


def bureau_directory(request):
    return render(request, "beian/bureaus.html", {"provinces": Province.objects.order_by("code")})


def health(request):
    return JsonResponse({"status": "ok"})


def dev_outbox(request):
    if not (settings.DEBUG and settings.OUTBOX_ENABLED):
        raise Http404
    to = request.GET.get("to") or None
    return render(request, "beian/outbox.html", {"messages_out": outbox(to=to), "to": to or ""})


def not_found(request, exception):
    """404: a JSON answer (``{"detail": ...}``, as the API's own 404s) under ``/api/``, where
    programs read the answer; the page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
