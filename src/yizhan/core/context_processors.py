from django.conf import settings

from yizhan.core import nav


def site(request):
    scope = getattr(request, "scope", None)
    return {
        "large_text": getattr(request, "large_text", False),
        "nav_items": nav.items_for(scope) if scope is not None and scope.is_staff else [],
        "debug": settings.DEBUG,
        # Called only by the back-office header that shows the bell.
        "inbox_unread": _unread(request) if scope is not None and scope.is_staff else None,
    }


def _unread(request):
    def count():
        from yizhan.notify.services import unread_count

        return unread_count(request.user)

    return count
