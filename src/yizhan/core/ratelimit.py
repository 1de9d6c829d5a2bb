"""Fixed-window rate limits kept in the shared cache, so every worker process counts together."""

import time

from django.core.cache import caches


def client_ip(request) -> str:
    # Behind a trusted proxy set YIZHAN_TRUST_X_FORWARDED_FOR; otherwise the socket address is the truth.
    from django.conf import settings

    if getattr(settings, "YIZHAN_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; True while the count in the current window is within `limit`."""
    return count(key, window_seconds, add=1) <= limit


def count(key: str, window_seconds: int, *, add: int = 0) -> int:
    cache = caches["shared"]
    window = int(time.time() // window_seconds)
    cache_key = f"rl:{key}:{window}"
    if add:
        if cache.add(cache_key, add, timeout=window_seconds + 1):
            return add
        try:
            return cache.incr(cache_key, add)
        except ValueError:  # expired between add() and incr()
            cache.set(cache_key, add, timeout=window_seconds + 1)
            return add
    return cache.get(cache_key, 0)


def reset(key: str, window_seconds: int) -> None:
    window = int(time.time() // window_seconds)
    caches["shared"].delete(f"rl:{key}:{window}")
