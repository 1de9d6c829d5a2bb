from yizhan.audit.services import audit_via

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditChannelMiddleware:
    """Audit events record whether a change came through the API or the web pages.

    Reads change nothing, so they skip setting the channel: the public locator's hot path is all
    GETs and pays nothing for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        with audit_via("api" if request.path.startswith("/api/") else "web"):
            return self.get_response(request)
