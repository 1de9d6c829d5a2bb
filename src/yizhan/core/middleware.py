from django.utils.deprecation import MiddlewareMixin

LARGE_TEXT_COOKIE = "yz_large"


class PreferencesMiddleware(MiddlewareMixin):
    """Reads display preferences the visitor chose (large text for the elderly) from a cookie."""

    def process_request(self, request):
        request.large_text = request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"


class RejectNulMiddleware:
    """NUL characters are never valid input, and PostgreSQL refuses to store them: answer 400
    with a clear message instead of letting one reach a query and turn into a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            from django.http import HttpResponseBadRequest
            from django.utils.translation import gettext as _

            return HttpResponseBadRequest(_("The request contains a NUL character, which is not allowed."))
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        # In the query string a NUL can only arrive as %00: checking the raw text spares every
        # request that never reads request.GET from parsing it.
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method in ("POST", "PUT", "PATCH") and content_type.startswith("application/json"):
            body = request.body
            return b"\\u0000" in body or b"\x00" in body
        return False
