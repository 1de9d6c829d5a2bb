"""Per-address limits on the public writes (counted in yizhan.core.ratelimit, every worker
together). Sign-ups come in bursts from a station's own Wi-Fi when an event is announced there,
so the limit stops a script, not a queue of people. Override with settings
YIZHAN_EVENTS_RATE_LIMITS = {"signup": (count, seconds), "ticket": (count, seconds)}."""

from django.conf import settings

from yizhan.core import ratelimit

DEFAULTS = {"signup": (30, 600), "ticket": (30, 600)}


def hit(request, kind: str) -> ratelimit.Usage:
    limit, window = getattr(settings, "YIZHAN_EVENTS_RATE_LIMITS", {}).get(kind, DEFAULTS[kind])
    return ratelimit.hit(request, f"events:{kind}", ratelimit.address_key(request), limit, window)
