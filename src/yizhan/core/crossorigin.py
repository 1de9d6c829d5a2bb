"""The public forms' protection against cross-site requests, without a token.

Django's CSRF token gives every visitor without its cookie a new secret, a masked token and a
cookie on every page that carries a form. The public list page carries four forms (share this
list, "no station here", language, large text): the token made the page differ for every
visitor and was a tenth of a kept page's cost (bench/search.py). Those four forms are anonymous
and reach nobody's account: the two that write (a short link, a demand point) are rate-limited
per address, the other two only set a cookie in the visitor's own browser. For them the
browser's own word on where a request comes from is enough, as Go's net/http CrossOriginProtection and OWASP's
cheat sheet describe it: `Sec-Fetch-Site` (every browser since 2023), else `Origin` (since
2020). A request with neither comes from no browser (a script can post anyway, and the rate
limits count it) or from a very old one.

Everything else — staff pages, check-ins, feedback, sign-ups — keeps Django's token.
"""

from functools import wraps

from django.conf import settings
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def is_cross_origin(request) -> bool:
    """Whether the browser says this request comes from another site than ours."""
    site = request.META.get("HTTP_SEC_FETCH_SITE")
    origin = request.META.get("HTTP_ORIGIN")
    if site in ("same-origin", "none"):  # our own page, or typed in the address bar
        return False
    if origin is None:
        return site is not None  # cross-site or same-site without an origin to trust
    own = f"{request.scheme}://{request.get_host()}"
    return origin != own and origin not in settings.CSRF_TRUSTED_ORIGINS


def public_form(view):
    """The view takes posts from our own pages only, by the browser's headers, not by a token."""

    @csrf_exempt
    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.method not in SAFE_METHODS and is_cross_origin(request):
            from yizhan.core.views import csrf_failure

            return csrf_failure(request, reason="cross-origin request")
        return view(request, *args, **kwargs)

    return checked
