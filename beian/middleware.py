from django.utils.deprecation import MiddlewareMixin


class ChineseByDefaultMiddleware(MiddlewareMixin):
    """Pages open in Simplified Chinese whatever the browser asks for; the language switch
    (a cookie) turns them English. API clients keep Accept-Language for error messages."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
