from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yizhan.core.middleware import LARGE_TEXT_COOKIE, set_cookie


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return "/"
    return target


@require_POST
def large_text(request):
    """Large, high-contrast text for the elderly, remembered for a year."""
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("on") == "1":
        set_cookie(response, LARGE_TEXT_COOKIE, "1", max_age=365 * 24 * 3600)
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, samesite="Lax")
    return response
