"""The API at /api/v1/: public endpoints at the root, staff endpoints under /manage/.

Each app contributes a `router` (public) and/or a `manage_router` (staff) in its api.py.
"""

import importlib
import importlib.util

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router

from yizhan.core.boundary import ANSWER_TEXT_LIMIT, CheckedParser, ClippingRenderer, clip
from yizhan.orgs.auth import StaffSessionAuth, TokenAuth

API_APPS = ["orgs", "stations", "locator", "visits", "remittance"]


class RateLimited(Exception):
    def __init__(self, retry_after: int = 60):
        self.retry_after = retry_after


api = NinjaAPI(
    title="Yizhan API",
    version="1",
    description=_(
        "Public locator, check-ins and reports (no login) and the staff API under /manage/ "
        "(Authorization: Bearer <token>)."
    ),
    urls_namespace="api",
    parser=CheckedParser(),
    renderer=ClippingRenderer(),
)
manage = Router(auth=[TokenAuth(), StaffSessionAuth()], tags=["manage"])


def validation_detail(exc: ValidationError, location: str = "body") -> list[dict]:
    """Django's ValidationError in the shape ninja uses for its own 422 answers."""
    # Messages may quote the input ("Unknown facility: …"): clipped, like every error answer.
    if hasattr(exc, "error_dict"):
        return [
            {
                "loc": [location, clip(field)],
                "msg": clip(str(message), ANSWER_TEXT_LIMIT),
                "type": "value_error",
            }
            for field, errors in exc.message_dict.items()
            for message in errors
        ]
    return [
        {"loc": [location], "msg": clip(str(m), ANSWER_TEXT_LIMIT), "type": "value_error"}
        for m in exc.messages
    ]


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(request, {"detail": validation_detail(exc)}, status=422)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": _("Your role does not allow this.")}, status=403)


@api.exception_handler(RateLimited)
def on_rate_limited(request, exc):
    response = api.create_response(
        request, {"detail": _("Too many requests; try again shortly.")}, status=429
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


for app in API_APPS:
    module_name = f"yizhan.{app}.api"
    if importlib.util.find_spec(module_name) is None:
        continue
    module = importlib.import_module(module_name)
    if hasattr(module, "router"):
        api.add_router("/", module.router)
    if hasattr(module, "manage_router"):
        manage.add_router("/", module.manage_router)

api.add_router("/manage/", manage)
