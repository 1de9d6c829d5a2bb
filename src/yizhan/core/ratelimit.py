"""The client's address and the rate limits, one place for every limit in the project.

Counting is django-ratelimit's `get_usage` (fixed windows, each key's window staggered, the time
left in it) in the "ratelimit" cache: Redis where YIZHAN_REDIS_URL is set, else
`yizhan.core.counters.CounterCache` (a table with atomic add/incr) — so every worker process and
every server counts together, and twenty requests racing a limit of ten let exactly ten through.
"""

import datetime
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit.core import get_usage

# X-Forwarded-For is bounded by the server's header limit (gunicorn: 8 KB); an entry is an address.
MAX_ENTRY = 64


def _address(text: str) -> str | None:
    """`text` as a canonical IP address (a port or brackets stripped), or None if it is not one."""
    text = text.strip()[:MAX_ENTRY]
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request) -> str:
    """The visitor's address.

    With YIZHAN_TRUSTED_PROXIES = N > 0 it is the Nth X-Forwarded-For entry from the right: each
    of our N proxies appends the address its connection came from, so those N entries are facts
    and everything to their left is whatever the client chose to send. A header shorter than N
    entries, or an entry that is not an address, falls back to REMOTE_ADDR (the proxy's address:
    such requests share one count rather than escape it).
    """
    remote = _address(request.META.get("REMOTE_ADDR", "")) or "unknown"
    proxies = settings.YIZHAN_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    entries = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if not entries[-1].strip() or len(entries) < proxies:
        return remote
    return _address(entries[-proxies]) or remote


def address_key(request) -> str:
    """What a per-address limit counts: the address, or for IPv6 its /64 (one subscriber's
    network, whose other 2^64 addresses cost an attacker nothing)."""
    ip = client_ip(request)
    if ":" in ip:
        return f"{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return ip


@dataclass(frozen=True)
class Usage:
    count: int  # hits in the current window, this one included when counted
    limit: int
    retry_after: int  # seconds until the window ends: the Retry-After of a 429

    @property
    def over(self) -> bool:
        return self.count > self.limit


def _usage(request, group: str, value: str, limit: int, window: int, increment: bool) -> Usage:
    usage = get_usage(
        request,
        group=group,
        key=lambda _group, _request: value,
        rate=(limit, window),
        increment=increment,
    )
    if usage is None:  # RATELIMIT_ENABLE = False
        return Usage(0, limit, 0)
    if usage["limit"] == 0 and usage["time_left"] < 0:
        # django-ratelimit's answer when the counter could not be read (it vanished between add()
        # and incr()): fail closed. A real count carries the rate's limit.
        return Usage(limit + 1, limit, window)
    # django-ratelimit's window still holds through the whole second numbered `window end`, so
    # it turns over one second after time_left reaches 0: that is the wait to announce. A hit
    # that began in that last second and finished in the next reads -1: its window is over.
    return Usage(usage["count"], limit, max(usage["time_left"], 0) + 1)


def hit(request, group: str, value: str, limit: int, window: int) -> Usage:
    """Count one hit for `value` in `group`; `.over` once the window's count passes `limit`."""
    return _usage(request, group, value, limit, window, increment=True)


def peek(request, group: str, value: str, limit: int, window: int) -> Usage:
    """The current window's count for `value`, without counting."""
    return _usage(request, group, value, limit, window, increment=False)


def until(retry_after: int) -> datetime.datetime:
    """When a wait of `retry_after` seconds ends, for the page that asks a person to wait."""
    return timezone.localtime() + datetime.timedelta(seconds=retry_after)


def too_many_requests(request, retry_after: int, template: str = "429.html", context=None):
    """The site's 429 page with an exact Retry-After (seconds until the window or lock-out ends)."""
    response = render(request, template, {"retry_until": until(retry_after), **(context or {})}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
