from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.conf import settings
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin

LARGE_TEXT_COOKIE = "yz_large"


def set_cookie(response, name: str, value: str, *, max_age: int, httponly: bool = False) -> None:
    """The app's own cookies, Secure whenever Django's session cookie is (in production)."""
    response.set_cookie(
        name, value, max_age=max_age, httponly=httponly, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
    )


def tile_origin(url: str) -> str:
    """The CSP source for a Leaflet tile URL template: `https://webrd0{s}.is.autonavi.com/…`
    becomes `https://*.is.autonavi.com` (a placeholder in the host stands for any first label)."""
    parts = urlsplit(url)
    host = parts.netloc
    if "{" in host:
        host = "*." + host.split(".", 1)[1] if "." in host else ""
    return f"{parts.scheme}://{host}" if parts.scheme in ("http", "https") and host else ""


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY), plus the map tiles' origin when
    YIZHAN_TILE_URL is configured (read per request, so a changed setting needs no restart)."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        origin = tile_origin(settings.YIZHAN_TILE_URL) if settings.YIZHAN_TILE_URL else ""
        if origin and not report_only:
            update = dict(parts.update or {})
            update["img-src"] = [*update.get("img-src", ()), origin]
            parts.update = update
        return parts


class PreferencesMiddleware(MiddlewareMixin):
    """Reads display preferences the visitor chose (large text for the elderly) from a cookie."""

    def process_request(self, request):
        request.large_text = request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"


class StaffNoStoreMiddleware:
    """`Cache-Control: no-store` on every back-office answer (pages, exports, photos, the staff
    API): they show personal data (reporters' contacts, remitters' names) that must not stay in
    a shared computer's browser cache or a proxy. By path, so that no view can forget it."""

    PREFIXES = ("/manage/", "/api/v1/manage/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(self.PREFIXES):
            add_never_cache_headers(response)
        return response
