"""The API at /api/v1/: public endpoints at the root, staff endpoints under /manage/.

Each app contributes a `router` (public) and/or a `manage_router` (staff) in its api.py.
"""

import importlib
import importlib.util

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Router

from yizhan.core.boundary import ANSWER_TEXT_LIMIT, CheckedParser, ClippingRenderer, clip
from yizhan.core.concurrency import StaleEdit
from yizhan.orgs.auth import StaffSessionAuth, TokenAuth

API_APPS = [
    "orgs",
    "stations",
    "locator",
    "visits",
    "remittance",
    "operations",
    "cases",
    "jobs",
    "notify",
    "supplies",
    "events",
    "planning",
    "training",
    "mobile",
]


class RateLimited(Exception):
    def __init__(self, retry_after: int = 60):
        self.retry_after = retry_after


# What any operation may answer besides its own responses: the input boundary (400, 413, 422),
# the staff authentication (401, 403) and the scope (404). Declared for every operation they
# apply to, so that the document lists every status a client can get (a test checks the walk).
STANDARD_RESPONSES = {
    400: (
        "Message",
        gettext_lazy("Malformed request: a body that is not JSON, broken multipart, too many fields."),
    ),
    401: ("Message", gettext_lazy("No valid bearer token or staff session.")),
    403: (
        "Message",
        gettext_lazy("Your role does not allow this (or a session write without its CSRF token)."),
    ),
    404: ("Message", gettext_lazy("Not found, or outside your subtree.")),
    413: ("Message", gettext_lazy("The request is too large.")),
    422: ("FieldErrors", gettext_lazy("Invalid input; each error's `loc` names the field.")),
}
ERROR_SCHEMAS = {
    "Message": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
    "FieldErrors": {
        "type": "object",
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        },
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                    "required": ["loc", "msg", "type"],
                },
            }
        },
        "required": ["detail"],
    },
}


def standard_statuses(operation: dict) -> list[int]:
    """The statuses of STANDARD_RESPONSES that can answer this operation."""
    parameters = operation.get("parameters", [])
    statuses = [400, 422]  # 422 also for a NUL in a query parameter the operation does not read
    if operation.get("requestBody"):
        statuses.append(413)
    if operation.get("security"):
        statuses += [401, 403]
    if any(p["in"] == "path" for p in parameters) or operation.get("security"):
        statuses.append(404)
    return statuses


class YizhanAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, spec in ERROR_SCHEMAS.items():
            components.setdefault(f"Yizhan{name}", spec)
        for item in schema["paths"].values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status in (429, "429"):
                    if status in responses:
                        # The RateLimited handler always sets it: the seconds until the window ends.
                        responses[status].setdefault("headers", {})["Retry-After"] = {
                            "description": _("Seconds until the limit's window ends."),
                            "schema": {"type": "integer", "minimum": 1},
                        }
                for status in standard_statuses(operation):
                    if status not in responses and str(status) not in responses:
                        name, description = STANDARD_RESPONSES[status]
                        responses[status] = {
                            "description": str(description),
                            "content": {
                                "application/json": {"schema": {"$ref": f"#/components/schemas/Yizhan{name}"}}
                            },
                        }
        return schema


api = YizhanAPI(
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


@api.exception_handler(StaleEdit)
def on_stale_edit(request, exc):
    # Looked up before ValidationError's handler: ninja walks the exception's classes in order.
    return api.create_response(request, exc.as_json(), status=409)


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
