"""Login lock-out: failures counted per username and address together, with ceilings per username
and per address.

Colleagues behind one bank-branch address each have their own count, so one person's typos lock
out only that person on that address. The per-username ceiling stops a password guessed at from
many addresses (and locks that account for the rest of the window, everywhere: the price of
stopping it); the per-address ceiling stops one address trying many usernames. A success does not
clear the counts: each window ends by itself, at most YIZHAN_LOGIN_WINDOW_SECONDS later.

Why not django-axes: it compares one AXES_FAILURE_LIMIT with the largest count over all of its
AXES_LOCKOUT_PARAMETERS (handlers/database.py get_failures), so "5 per username and address, 20
per username, 50 per address" cannot be said; the ceilings would need a second counter anyway.
These three counters are the same django-ratelimit counters as every other limit.
"""

from django.conf import settings

from yizhan.core import ratelimit


def _counters(request, username: str) -> list[tuple[str, str, int]]:
    name = (username or "").strip().lower()[:150]
    address = ratelimit.address_key(request)
    return [
        ("login:user+address", f"{name}|{address}", settings.YIZHAN_LOGIN_MAX_FAILURES),
        ("login:user", name, settings.YIZHAN_LOGIN_MAX_FAILURES_PER_USER),
        ("login:address", address, settings.YIZHAN_LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def locked_for(request, username: str) -> int:
    """Seconds until this username may try again from this address; 0 if it may now."""
    window = settings.YIZHAN_LOGIN_WINDOW_SECONDS
    waits = [
        usage.retry_after
        for group, value, limit in _counters(request, username)
        if (usage := ratelimit.peek(request, group, value, limit, window)).count >= limit
    ]
    return max(waits, default=0)


def failed(request, username: str) -> None:
    """Count one failed attempt against all three."""
    window = settings.YIZHAN_LOGIN_WINDOW_SECONDS
    for group, value, limit in _counters(request, username):
        ratelimit.hit(request, group, value, limit, window)
