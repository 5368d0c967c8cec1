from django.conf import settings


def portal(request):
    return {"PORTAL_URL": settings.PORTAL_URL, "OUTBOX_ENABLED": settings.OUTBOX_ENABLED}
