from django.utils.deprecation import MiddlewareMixin

LARGE_TEXT_COOKIE = "yz_large"


class PreferencesMiddleware(MiddlewareMixin):
    """Reads display preferences the visitor chose (large text for the elderly) from a cookie."""

    def process_request(self, request):
        request.large_text = request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"
