"""Per-address limits on the public writes, counted in the shared cache (every worker together).

A station's own Wi-Fi puts every worker there behind one address, so the check-in limit is
generous: it stops a script, not a lunch-time crowd. Override in settings as (count, seconds).
"""

from django.conf import settings

from yizhan.core import ratelimit

DEFAULTS = {
    "checkin": (120, 600),
    "report": (10, 3600),
    "confirm": (10, 3600),
}


def limit_for(kind: str) -> tuple[int, int]:
    return getattr(settings, "YIZHAN_VISITS_RATE_LIMITS", {}).get(kind, DEFAULTS[kind])


def allow(request, kind: str) -> bool:
    """Count this request against the address's limit; False once it is over."""
    limit, window = limit_for(kind)
    return ratelimit.hit(f"visits:{kind}:{ratelimit.client_ip(request)}", limit, window)


def retry_after(kind: str) -> int:
    return limit_for(kind)[1]
