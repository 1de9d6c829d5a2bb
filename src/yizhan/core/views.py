from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yizhan.core.crossorigin import public_form
from yizhan.core.middleware import LARGE_TEXT_COOKIE, set_cookie


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return "/"
    return target


@public_form
@require_POST
def large_text(request):
    """Large, high-contrast text for the elderly, remembered for a year."""
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("on") == "1":
        set_cookie(response, LARGE_TEXT_COOKIE, "1", max_age=365 * 24 * 3600)
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, samesite="Lax")
    return response


def _error_page(request, template: str, status: int):
    """The site's own error page with the navigation of the side the visitor is on: the back
    office's bar for a logged-in staff member under /manage/, the locator's header elsewhere."""
    staff = request.path.startswith("/manage/") and getattr(request, "user", None) is not None
    staff = staff and request.user.is_authenticated
    context = {"staff_page": staff, "site_base": "manage/base.html" if staff else "base.html"}
    response = render(request, template, context, status=status)
    response.site_page = True
    return response


def not_found(request, exception=None):
    return _error_page(request, "404.html", 404)


def forbidden(request, exception=None):
    return _error_page(request, "403.html", 403)


def csrf_failure(request, reason=""):
    """A form sent from a page kept open too long (or without cookies): say so in the reader's
    language, not with Django's technical CSRF page."""
    staff = request.path.startswith("/manage/") and request.user.is_authenticated
    context = {"staff_page": staff, "site_base": "manage/base.html" if staff else "base.html", "csrf": True}
    return render(request, "403.html", context, status=403)


class SiteErrorPagesMiddleware:
    """With YIZHAN_DEBUG=1 Django answers a 404 with its technical page (every URL pattern);
    the demo must show what a visitor sees. In debug, an HTML 404 that is not the site's own
    page is replaced by it (production already uses handler404). JSON answers stay as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "site_page", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return not_found(request)
        return response
