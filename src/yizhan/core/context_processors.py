from django.conf import settings

from yizhan.core import nav


def site(request):
    scope = getattr(request, "scope", None)
    return {
        "large_text": getattr(request, "large_text", False),
        "nav_items": nav.items_for(scope) if scope is not None and scope.is_staff else [],
        "debug": settings.DEBUG,
    }
