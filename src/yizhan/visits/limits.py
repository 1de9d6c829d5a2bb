"""Per-address limits on the public writes (counted in yizhan.core.ratelimit: every worker together).

A station's own Wi-Fi puts every worker there behind one address, so the check-in limit is
generous: it stops a script, not a lunch-time crowd. Override in settings as (count, seconds), or
with YIZHAN_VISITS_RATE_LIMITS="checkin=120/600,report=10/3600".
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


def hit(request, kind: str) -> ratelimit.Usage:
    """Count this request against its address's limit; `.over` once it is past it."""
    limit, window = limit_for(kind)
    return ratelimit.hit(request, f"visits:{kind}", ratelimit.address_key(request), limit, window)
