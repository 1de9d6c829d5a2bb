from yizhan.audit.services import audit_via


class AuditChannelMiddleware:
    """Audit events record whether a change came through the API or the web pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_via("api" if request.path.startswith("/api/") else "web"):
            return self.get_response(request)
