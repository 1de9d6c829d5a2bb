from django.conf import settings

from yizhan.core import nav


def site(request):
    scope = getattr(request, "scope", None)
    return {
        "large_text": getattr(request, "large_text", False),
        "nav_items": nav.items_for(scope) if scope is not None and scope.is_staff else [],
        "debug": settings.DEBUG,
        # What the user's role allows, by the names the views pass to scoping (Scope.can), so that
        # a page shows only the actions its user may take: {% if can.admin %}…{% endif %}.
        "can": _Can(scope),
        # Called only by the back-office header that shows the bell.
        "inbox_unread": _unread(request) if scope is not None and scope.is_staff else None,
    }


class _Can:
    def __init__(self, scope):
        self.scope = scope

    def __getitem__(self, perm: str) -> bool:
        if self.scope is None or perm not in ("read", "change", "admin", "hq_admin"):
            raise KeyError(perm)
        return self.scope.can(perm)


def _unread(request):
    def count():
        from yizhan.notify.services import unread_count

        return unread_count(request.user)

    return count
