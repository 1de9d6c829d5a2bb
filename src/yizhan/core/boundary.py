"""The input boundary: every request is checked once, here, before any view or API endpoint
reads it, and bad input gets a clear 4xx naming the field instead of a 500 further in.

Refused everywhere (path, query string, form and multipart field names and values, file names,
JSON keys and strings): NUL characters (PostgreSQL cannot store them) and lone UTF-16 surrogates
("\\ud800" in JSON; nothing can encode them). Also refused: a body larger than
YIZHAN_MAX_REQUEST_BYTES (413), form data beyond Django's DATA_UPLOAD_MAX_* limits (413 / 400),
malformed multipart, JSON that does not parse and (to the API) a JSON body that is not an object.

The API (/api/) answers JSON — 422 `{"detail": [{"loc": [...], "msg", "type"}]}` for a field, or
`{"detail": "..."}` for the request as a whole; pages answer the site's own 400 / 413 page.
Whatever is echoed back (a field name, a bad value) is cut to a short prefix by `clip`.
"""

import datetime
import json
import re
from typing import Annotated

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Field
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from pydantic import BeforeValidator

ECHO_LIMIT = 80  # characters of a field name or value echoed back in an error answer
# Every string of an API error answer is cut to this length: longer than any message of ours,
# far shorter than what a client may send (a 5 MB column header once came back whole).
ANSWER_TEXT_LIMIT = 300
API_PREFIX = "/api/"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# The `offset` of every paged API list: negative or beyond any table is 422, not a database error.
Offset = Annotated[int, Field(ge=0, le=10**9, description="How many items to skip (0…1000000000).")]


def _iso_date_text(value):
    # pydantic alone reads "0" as 1970-01-01 (a Unix time): a date in a path is YYYY-MM-DD only.
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("Give a date as YYYY-MM-DD.")


# A date in an API path: anything but an existing YYYY-MM-DD date is 422 on that parameter.
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date_text)]


def clip(value, limit: int = ECHO_LIMIT):
    """A string cut to `limit` characters (with an ellipsis), printable whatever it held."""
    if not isinstance(value, str):
        return value
    if len(value) > limit:
        value = value[:limit] + "…"
    if not _is_clean(value):
        value = value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return value


def clip_all(data, limit: int = ANSWER_TEXT_LIMIT):
    """Every string inside `data` (dict keys included) clipped: for error answers."""
    if isinstance(data, str):
        return clip(data, limit)
    if isinstance(data, dict):
        return {clip(k, limit): clip_all(v, limit) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clip_all(v, limit) for v in data]
    return data


def _is_clean(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def find_bad_text(data, path: tuple = ()) -> tuple | None:
    """The path of the first string (value or key) in decoded JSON that is not clean text."""
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if not _is_clean(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _is_clean(key):
                    return (*where, clip(key))
                stack.append(((*where, key), item))
        elif isinstance(value, list):
            stack.extend(((*where, i), item) for i, item in enumerate(value))
    return None


BAD_TEXT = gettext_noop(
    "The text contains a NUL character or invalid Unicode (a lone surrogate), which is not allowed."
)


class BadInput(Exception):
    """The request as a whole (status, message) or one field (loc) is refused."""

    def __init__(self, status: int, message: str, loc: tuple | None = None):
        self.status, self.message, self.loc = status, message, loc


def check_request(request) -> None:
    """Raises BadInput for the first problem found; on the way it parses the body once (forms
    into request.POST/FILES, JSON into request.checked_json, which the API's parser reuses)."""
    limit = getattr(settings, "YIZHAN_MAX_REQUEST_BYTES", None)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadInput(400, _("The Content-Length header is not a number.")) from None
    if limit and length > limit:
        raise BadInput(413, _("The request is too large (at most %(mb)d MB).") % {"mb": limit // 2**20})
    if not _is_clean(request.path):
        raise BadInput(400, _(BAD_TEXT), ("path",))
    raw_query = request.META.get("QUERY_STRING", "")
    fields_limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    # Only a query string with %00 (or too many fields) is parsed here: the rest cannot hold a NUL
    # or a surrogate (Django decodes it with replacement characters), and the locator's hot path
    # reads it without building request.GET.
    if "%00" in raw_query or "\x00" in raw_query or (fields_limit and raw_query.count("&") >= fields_limit):
        _check_fields(request, lambda: request.GET, "query")
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "")
    if request.method not in BODY_METHODS or not (length or chunked):
        return
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES:
        _check_fields(request, lambda: request.POST, "form")
        _check_files(request)
    elif request.path.startswith(API_PREFIX) or content_type.endswith("json"):
        # ninja reads any other body as JSON, whatever its declared type.
        _check_json(request)


def _check_fields(request, get, source: str) -> None:
    try:
        data = get()
    except RequestDataTooBig:
        raise BadInput(
            413,
            _("The form data is too large (at most %(kb)d KB without files).")
            % {"kb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024},
        ) from None
    except TooManyFieldsSent:
        raise BadInput(
            400, _("Too many fields (at most %(n)d).") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
        ) from None
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise BadInput(400, _malformed_message(exc)) from None
    for name, values in data.lists():
        if not _is_clean(name):
            raise BadInput(422, _("A field name contains a NUL character or invalid Unicode."), (source,))
        for value in values:
            if isinstance(value, str) and not _is_clean(value):
                raise BadInput(422, _(BAD_TEXT), (source, name))


def _malformed_message(exc) -> str:
    if isinstance(exc, TooManyFilesSent):
        return _("Too many files (at most %(n)d).") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    if "header size" in str(exc):  # Django's "Request max total header size exceeded." (1 KB)
        return _("A part of the form data has too long a header (keep file names under 255 characters).")
    return _("The form data is malformed (a multipart body needs its boundary and a closing boundary).")


def _check_files(request) -> None:
    for name, files in request.FILES.lists():
        if not _is_clean(name):
            raise BadInput(422, _("A field name contains a NUL character or invalid Unicode."), ("file",))
        for upload in files:
            if not _is_clean(upload.name or ""):
                raise BadInput(
                    422, _("The file name contains a NUL character or invalid Unicode."), ("file", name)
                )


def _check_json(request) -> None:
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadInput(
            413,
            _("The request body is too large (at most %(kb)d KB).")
            % {"kb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024},
        ) from None
    if not body:
        return
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadInput(400, _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict) and request.path.startswith(API_PREFIX):
        # Every API body is an object; elsewhere (a browser's report, say) a list may be fine.
        raise BadInput(422, _("The request body must be a JSON object."), ("body",))
    where = find_bad_text(data)
    if where is not None:
        raise BadInput(422, _(BAD_TEXT), ("body", *where))
    request.checked_json = data


def refusal(request, exc: BadInput):
    """The answer to a refused request: JSON for the API, the site's page for everything else."""
    loc = [clip(part) if isinstance(part, str) else part for part in exc.loc or ()]
    if request.path.startswith(API_PREFIX):
        if exc.loc:
            payload = {"detail": [{"loc": loc, "msg": exc.message, "type": "value_error"}]}
        else:
            payload = {"detail": exc.message}
        return JsonResponse(payload, status=exc.status)
    field = loc[-1] if len(loc) > 1 else None
    # A page has no use for 422: a field it cannot read is a bad request like the rest.
    status = 400 if exc.status == 422 else exc.status
    return render(request, "400.html", {"message": exc.message, "field": field}, status=status)


class InputBoundaryMiddleware:
    """Runs check_request on every request (after authentication, so that the refusal page is in
    the visitor's language and layout; before any view reads the body)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except BadInput as exc:
            return refusal(request, exc)
        return self.get_response(request)


class CheckedParser(Parser):
    """ninja's JSON parser, reusing the body the boundary already parsed and checked."""

    def parse_body(self, request):
        data = getattr(request, "checked_json", None)
        if data is not None:
            return data
        data = super().parse_body(request)
        if find_bad_text(data) is not None:  # a multipart field parsed as JSON; already checked
            raise ValueError("bad text")
        return data


class ClippingRenderer(JSONRenderer):
    """Error answers (4xx) never echo more than a short prefix of any input."""

    def render(self, request, data, *, response_status):
        if response_status >= 400:
            data = clip_all(data)
        return super().render(request, data, response_status=response_status)
