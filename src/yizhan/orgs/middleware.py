from django.utils.functional import SimpleLazyObject

from yizhan.orgs.scoping import scope_for


class ScopeMiddleware:
    """Resolves the staff scope once per request (lazily: public pages never pay for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.scope = SimpleLazyObject(lambda: scope_for(request.user))
        return self.get_response(request)
