"""Every route of the URL conf and every operation of the API, fed a corpus of bad input, as an
anonymous visitor and as a logged-in staff member (a session with its CSRF token, and a bearer
token): never a 5xx, never a write from a refused request, never an error answer that echoes a
long input whole, and what the boundary refuses is refused the same way on every route.

Each route is one test (xdist spreads them). The corpus is sampled per route, deterministically
(by the route's own text), so that the walk stays within seconds while every kind of bad input
reaches many routes. Each request runs in a savepoint that is rolled back afterwards; a write is
any INSERT / UPDATE / DELETE in the request's SQL that it did not itself roll back.
"""

import json
import random
import re
import zlib
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.crypto import get_random_string

from yizhan.api import api
from yizhan.audit.models import AuditEvent
from yizhan.core.boundary import ANSWER_TEXT_LIMIT

CSRF_SECRET = get_random_string(32)
LONG = "长" * 3000  # long, and not ASCII
LONG_MARK = "长" * (ANSWER_TEXT_LIMIT + 1)  # more than any error answer may quote

# --- the corpus -------------------------------------------------------------------------------------

# Text values that may or may not be valid for a given field: the answer must not be a 5xx, and a
# refusal must write nothing.
ODD_VALUES = {
    "negative": "-1",
    "huge_int": "99999999999999999999",
    "bad_date": "2026-13-01",
    "bad_time": "2026-02-30T25:61",
    "long": LONG,
    "replacement": "\ufffd\ufffd",
    "junk": "[]{}'\"<script>alert(1)</script>",
    "nan": "nan",
    "empty": "",
}
# Values the boundary refuses wherever they appear (400 on a page, 422 in the API).
NUL = "a\x00b"
JSON_SURROGATE = "\ud800"

GENERIC_QUERY = [
    "q", "page", "unit", "status", "kind", "start", "end", "by", "offset", "limit", "at", "crs",
    "lat", "lng", "facility", "theme", "show", "state", "object_type", "object_id", "actor",
    "action", "year", "next",
]  # fmt: skip
GENERIC_FORM = ["code", "name", "text", "note", "unit", "day", "date", "state", "kind", "file"]


def sample(route: str, items: list, k: int) -> list:
    """The same k items for the same route on every run."""
    rng = random.Random(zlib.crc32(route.encode()))
    return items if len(items) <= k else rng.sample(items, k)


# --- watching for writes ----------------------------------------------------------------------------

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# State that a refused request may rightly leave: a login's session, and counters of refusals
# themselves (rate limits, failed logins) wherever they are kept.
IGNORED_TABLES = ("django_session", "ratelimit", "core_ratecounter", "axes_")


def net_writes(queries: list[str]) -> list[str]:
    """Writes that a request left in place: those undone by ROLLBACK TO SAVEPOINT do not count."""
    stack: list[tuple[str, int]] = []
    writes: list[str] = []
    for sql in queries:
        text = sql.strip().upper()
        if text.startswith("SAVEPOINT "):
            stack.append((text.split()[1], len(writes)))
        elif text.startswith("ROLLBACK TO SAVEPOINT "):
            name = text.split()[3]
            while stack and stack[-1][0] != name:
                stack.pop()
            if stack:
                del writes[stack[-1][1] :]
        elif text.startswith("RELEASE SAVEPOINT "):
            name = text.split()[2]
            while stack and stack.pop()[0] != name:
                pass
        elif WRITE.match(sql) and not any(t in sql for t in IGNORED_TABLES):
            writes.append(sql[:200])
    return writes


class Walk:
    """Sends requests, each in a rolled-back savepoint, and collects what went wrong."""

    def __init__(self, route: str):
        self.route = route
        self.problems: list[str] = []
        self.answers: list[tuple[str, int]] = []

    def send(self, client, method, url, *, kind, boundary=False, refusal=None, **kwargs):
        events = AuditEvent.objects.count()
        sid = transaction.savepoint()
        try:
            with CaptureQueriesContext(connection) as captured:
                response = getattr(client, method)(url, **kwargs)
            writes = net_writes([q["sql"] for q in captured.captured_queries])
            new_events = AuditEvent.objects.count() - events
        finally:
            transaction.savepoint_rollback(sid)
        status = response.status_code
        label = f"{method.upper()} {url[:120]} [{kind}] -> {status}"
        self.answers.append((label, status))
        if status >= 500:
            self.problems.append(label)
        if status >= 400 and (writes or new_events):
            self.problems.append(f"{label}: refused but wrote {writes[:2]} ({new_events} audit events)")
        if boundary and status not in (400, 413, 422):
            self.problems.append(f"{label}: the boundary should refuse this")
        if refusal is not None and status != refusal:
            self.problems.append(f"{label}: expected {refusal}")
        # Error answers (JSON, and the boundary's page) echo at most a prefix of the input. A form
        # page that shows its errors re-displays what was typed, as every form does.
        content = b"" if response.streaming else response.content
        is_json = response.get("Content-Type", "").startswith("application/json")
        if (status >= 400 and is_json or status in (400, 413)) and LONG_MARK.encode() in content:
            self.problems.append(f"{label}: echoes a long input whole")
        if is_json and status >= 400 and len(content) > 64 * 1024:
            self.problems.append(f"{label}: an error answer of {len(content)} bytes")
        return response


# --- clients ----------------------------------------------------------------------------------------


def session_client(user) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def anonymous_client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def staff(users, settings):
    # The walk sends many public writes from one address: the limits would answer 429 to most.
    settings.YIZHAN_VISITS_RATE_LIMITS = dict.fromkeys(("checkin", "report", "confirm"), (100000, 60))
    from yizhan.orgs.services import create_api_token

    user = users["hq_admin"]
    _token, raw = create_api_token(user=user, name="walker")
    bearer = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
    bearer.get("/api/v1/manage/me")  # the once-a-minute "last used" write, out of the way
    return {"user": user, "session": session_client(user), "bearer": bearer, "token": _token}


# --- routes of the URL conf -------------------------------------------------------------------------

CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def url_patterns(patterns=None, prefix=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


API_PREFIX = "api/v1/"
ROUTES = sorted({r for r in url_patterns() if not r.startswith(API_PREFIX)})
OPENAPI = api.get_openapi_schema(path_prefix="/api/v1/")
OPERATIONS = sorted(
    (method, path)
    for path, item in OPENAPI["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
)


def _first(model, **filters):
    row = model.objects.filter(**filters).order_by("pk").first()
    return str(row.pk) if row else "1"


def valid_value(route: str, name: str, staff) -> str:
    """A value that leads to an object the staff member can see, so the view reads its input."""
    from yizhan.remittance.models import Alias, Batch, ImportRun, Instruction, Rule
    from yizhan.stations.models import RolloutWave, Standard
    from yizhan.visits.models import Feedback

    if name == "code":
        return "CQ-SXGC"  # both an outlet and its station
    if name in ("fmt",):
        return "csv"
    if name == "year":
        return "2026"
    if name == "day":
        return "2026-11-30"
    if name == "facility":
        return "restroom"
    if name == "action":
        return "acknowledge"
    if name == "part":
        return "aliases"
    if name == "job":
        return "no-such-job"
    if name == "user_id":
        return _first(type(staff["user"]), username="sanxia_manager")
    if name == "run":
        return _first(ImportRun)
    if name in ("rule_pk", "rule_id"):
        return _first(Rule)
    if name == "item_pk" or (name == "item_id" and "rules" in route):
        return _first(Alias)
    if name == "item_id" or "feedback" in route:
        return _first(Feedback)
    if "instructions" in route or "remittance/i/" in route:
        return _first(Instruction)
    if "remittance" in route:
        return _first(Batch)
    if "waves" in route:
        return _first(RolloutWave)
    if "standards" in route:
        return _first(Standard)
    if "tokens" in route:
        return str(staff["token"].pk)
    return "1"


INVALID_PATH_VALUES = {
    "str": ["%00", "%ED%A0%80", "x" * 300, "2026-13-01", "..%2F..%2Fetc"],
    "int": ["0", "99999999999999999999"],
    None: ["%00", "%ED%A0%80", "x" * 300, "0", "2026-13-01", "99999999999999999999"],
}


def fill(route: str, staff, invalid: dict | None = None) -> str:
    def one(match):
        name = match.group(2)
        if invalid and name in invalid:
            return invalid[name]
        return quote(valid_value(route, name, staff), safe="")

    return "/" + CONVERTER.sub(one, route.lstrip("/"))


def form_fields(html: str) -> tuple[list[str], list[str]]:
    """The names of a page's form fields, and which of them take files."""
    names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', html)
    files = re.findall(r'<input\b[^>]*\btype="file"[^>]*\bname="([^"]+)"', html)
    files += re.findall(r'<input\b[^>]*\bname="([^"]+)"[^>]*\btype="file"', html)
    names = [n for n in dict.fromkeys(names) if n != "csrfmiddlewaretoken"]
    return names, list(dict.fromkeys(files))


def multipart(parts: list[tuple[str, bytes]], boundary: bytes = b"WALK") -> bytes:
    out = b""
    for header, content in parts:
        out += b"--" + boundary + b"\r\nContent-Disposition: form-data; " + header + b"\r\n\r\n"
        out += content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


MULTIPART = "multipart/form-data; boundary=WALK"


def boundary_bodies(names: list[str]) -> list[tuple[str, dict]]:
    """Bodies every route must refuse before any view reads them."""
    name = (names or ["text"])[0].encode()
    return [
        ("form_nul", {"data": dict.fromkeys(names or ["text"], NUL)}),
        ("too_many_fields", {"data": "&".join(f"f{i}=1" for i in range(1001)),
                             "content_type": "application/x-www-form-urlencoded"}),
        ("too_large", {"data": "text=" + "x" * (1024 * 1024 + 10),
                       "content_type": "application/x-www-form-urlencoded"}),
        ("multipart_no_boundary", {"data": b"--x\r\n\r\n", "content_type": "multipart/form-data"}),
        ("multipart_unclosed", {"data": b"--WALK\r\nContent-Disposition: form-data; name=\"" + name
                                + b"\"\r\n\r\n" + b"x" * (2 * 1024 * 1024), "content_type": MULTIPART}),
        ("multipart_long_filename", {"data": multipart([(b'name="file"; filename="' + b"a" * 1100
                                     + b'.csv"', b"a,b\r\n")]), "content_type": MULTIPART}),
        ("multipart_nul_field", {"data": multipart([(b'name="te\x00xt"', b"1")]), "content_type": MULTIPART}),
        ("multipart_nul_value", {"data": multipart([(b'name="' + name + b'"', b"a\x00b")]),
                                 "content_type": MULTIPART}),
    ]  # fmt: skip


def odd_bodies(route, names, files, csrf: bool) -> list[tuple[str, dict]]:
    token = {"csrfmiddlewaretoken": CSRF_SECRET} if csrf else {}
    out = [(kind, {"data": {**dict.fromkeys(names, value), **token}}) for kind, value in ODD_VALUES.items()]
    for field in files:
        garbage = [
            ("file_nul_text", b"\xef\xbb\xbf\xe9\xa9\xbf\x00\xff\xfe,\x00\r\n" * 50),
            ("file_not_utf8", "驿站编码,名称\r\n坏,文件\r\n".encode("utf-16")),
            ("file_zip_junk", b"PK\x03\x04" + b"\x00" * 200),
            ("file_empty", b""),
        ]
        parts = [(f'name="{field}"; filename="a\x00\x01&#xd800;.csv"'.encode(), b"a,b\r\n")]
        out.append(("file_nul_name", {"data": multipart(parts), "content_type": MULTIPART}))
        for kind, content in garbage:
            parts = [(f'name="{n}"'.encode(), b"1") for n in names if n not in files]
            parts.append((f'name="{field}"; filename="walk.csv"'.encode(), content))
            parts += [(b'name="csrfmiddlewaretoken"', CSRF_SECRET.encode())] if csrf else []
            out.append((kind, {"data": multipart(parts), "content_type": MULTIPART}))
    return sample(route, out, 6)


def query_string(names: list[str], value: str) -> str:
    return "&".join(f"{quote(n)}={quote(value)}" for n in names)


@pytest.mark.parametrize("route", ROUTES)
def test_every_page_route_refuses_bad_input_cleanly(route, staff):
    walk = Walk(route)
    anonymous, session = anonymous_client(), staff["session"]
    url = fill(route, staff)
    page = session.get(url)
    html = "" if page.streaming or page.status_code != 200 else page.content.decode(errors="replace")
    names, files = form_fields(html)
    query_names = sample(route, GENERIC_QUERY, 8) + [n for n in names if n not in files][:8]

    for converter_value in sample(route, INVALID_PATH_VALUES["str"] + INVALID_PATH_VALUES["int"], 3):
        for name in [m.group(2) for m in CONVERTER.finditer(route)][:2]:
            bad_url = fill(route, staff, {name: converter_value})
            walk.send(session, "get", bad_url, kind=f"path {name}={converter_value[:12]}")
            walk.send(
                session, "post", bad_url, kind=f"path {name}", data={"csrfmiddlewaretoken": CSRF_SECRET}
            )

    for client, who in ((anonymous, "anonymous"), (session, "staff")):
        walk.send(client, "get", f"{url}?{query_string(query_names, NUL)}", kind=f"{who} query nul",
                  boundary=True)  # fmt: skip
        walk.send(client, "get", f"{url}?{'&'.join(f'f{i}=1' for i in range(1001))}",
                  kind=f"{who} too many query fields", boundary=True)  # fmt: skip
        for kind, kwargs in sample(route, boundary_bodies(names), 4):
            walk.send(client, "post", url, kind=f"{who} {kind}", boundary=True, **kwargs)

    for kind, value in sample(route, list(ODD_VALUES.items()), 3):
        walk.send(session, "get", f"{url}?{query_string(query_names, value)}", kind=f"query {kind}")
    broken_utf8 = "&".join(f"{quote(n)}=%ED%A0%80" for n in query_names[:3])  # a surrogate's bytes
    walk.send(session, "get", f"{url}?{broken_utf8}", kind="query bad utf-8")
    for kind, kwargs in odd_bodies(route, names, files, csrf=True):
        walk.send(session, "post", url, kind=f"form {kind}", **kwargs)
    # Without its CSRF token a staff form post is refused (and writes nothing).
    if names:
        walk.send(session, "post", url, kind="no csrf token", data=dict.fromkeys(names, "1"), refusal=403)
    for kind, kwargs in sample(route, odd_bodies(route, names, files, csrf=False), 2):
        walk.send(anonymous, "post", url, kind=f"anonymous form {kind}", **kwargs)

    assert not walk.problems, "\n".join(walk.problems)


# --- operations of the API --------------------------------------------------------------------------


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def body_fields(operation: dict) -> tuple[str | None, list[str]]:
    content = operation.get("requestBody", {}).get("content", {})
    for media, spec in content.items():
        return media, list(resolve(spec.get("schema", {})).get("properties", {}))
    return None, []


def wrong_types(names: list[str]) -> list[dict]:
    return [{n: [[]] for n in names}, {n: {"x": {"y": [1]}} for n in names}]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_api_operation_refuses_bad_input_cleanly(method, path, staff):
    operation = OPENAPI["paths"][path][method]
    route = f"{method} {path}"
    walk = Walk(route)
    staff_only = bool(operation.get("security"))
    template = path.lstrip("/").replace("{", "<").replace("}", ">")
    url = fill(template, staff)
    params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    path_params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    media, names = body_fields(operation)
    bearer, session, anonymous = staff["bearer"], staff["session"], anonymous_client()
    csrf = {"HTTP_X_CSRFTOKEN": CSRF_SECRET}
    json_body = media == "application/json"

    def send(client, kind, *, query="", body=None, content_type="application/json", **kw):
        target = f"{url}?{query}" if query else url
        extra = {} if body is None or method == "get" else {"data": body, "content_type": content_type}
        return walk.send(client, method, target, kind=kind, **extra, **kw)

    # Who may call it: no credentials and a bad token are 401 on every staff operation, read or write.
    if staff_only:
        send(anonymous, "anonymous", body="{}", refusal=401)
        bad_token = Client(raise_request_exception=False, HTTP_AUTHORIZATION="Bearer yz_not-a-token")
        send(bad_token, "bad token", body="{}", refusal=401)
        if method != "get":
            send(session, "session without csrf token", body="{}", refusal=403)

    callers = (
        [(bearer, "bearer", {}), (session, "session", csrf)] if staff_only else [(anonymous, "anon", {})]
    )
    for client, who, headers in callers:
        full = who != "session"  # the session sees a sample; the bearer token and the public everything
        # Path parameters: impossible dates, huge numbers, NUL and broken UTF-8 are 4xx, never 5xx.
        for name in path_params:
            for value in sample(route + name, INVALID_PATH_VALUES[None], 6 if full else 2):
                bad = fill(template, staff, {name: value})
                body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
                walk.send(client, method, bad, kind=f"{who} path {name}={value[:12]}", **body, **headers)
        # Query parameters, each kind in every one at once.
        kinds = list(ODD_VALUES.items()) if full else sample(route, list(ODD_VALUES.items()), 2)
        for kind, value in kinds:
            if params:
                send(client, f"{who} query {kind}", query=query_string(params, value), **headers)
        send(client, f"{who} query nul", query=query_string(params or ["q"], NUL), boundary=True,
             **headers)  # fmt: skip
        if method == "get":
            continue
        if json_body or media is None:
            # Bodies: not JSON, not an object, bad text in a value or a key, wrong types.
            shapes = [("null", "null"), ("list", "[]"), ("string", '"x"'), ("number", "1")]
            for kind, body in shapes if full else sample(route, shapes, 1):
                send(client, f"{who} body {kind}", body=body, refusal=422, **headers)
            for kind, body in [("not json", "{"), ("deep", "[" * 50_000), ("not utf-8", b'{"a": "\xff"}')]:
                send(client, f"{who} body {kind}", body=body, boundary=True, **headers)
            fields = names or ["name"]
            text_attacks = [
                ("surrogate", json.dumps(dict.fromkeys(fields, JSON_SURROGATE))),
                ("surrogate raw", b"{" + b", ".join(f'"{n}": "'.encode() + b"\xed\xa0\x80\"" for n in fields) + b"}"),
                ("surrogate key", json.dumps({JSON_SURROGATE: "x", **dict.fromkeys(fields, "x")})),
                ("nul", json.dumps(dict.fromkeys(fields, NUL))),
                ("nested surrogate", json.dumps({n: {"k": [JSON_SURROGATE]} for n in fields})),
            ]  # fmt: skip
            for kind, body in text_attacks if full else sample(route, text_attacks, 2):
                send(client, f"{who} body {kind}", body=body, refusal=422, **headers)
            for i, body in enumerate(wrong_types(names) if names else []):
                send(client, f"{who} body wrong types {i}", body=json.dumps(body), refusal=422, **headers)
            for kind, value in kinds:
                body = dict.fromkeys(names, value)
                send(client, f"{who} body {kind}", body=json.dumps(body), **headers)
                numbers = {n: int(value) if value.lstrip("-").isdigit() else value for n in names}
                if numbers != body:
                    send(client, f"{who} body {kind} as numbers", body=json.dumps(numbers), **headers)
        else:
            # Multipart operations (uploads and the public report).
            for kind, kwargs in boundary_bodies(names) if full else sample(route, boundary_bodies(names), 3):
                walk.send(client, method, url, kind=f"{who} {kind}", boundary=True, **kwargs, **headers)
            for kind, kwargs in odd_bodies(route, names, [n for n in names if n in ("file", "photo")], False):
                walk.send(client, method, url, kind=f"{who} form {kind}", **kwargs, **headers)

    # Every answer the walk got is declared in the OpenAPI document.
    declared = {int(status) for status in operation["responses"]}
    walk.problems += [f"{label}: not declared" for label, status in walk.answers if status not in declared]
    assert not walk.problems, "\n".join(walk.problems)


def test_the_walk_covers_every_api_route():
    """Every URL pattern under /api/v1/ is an operation of the OpenAPI document (walked above),
    apart from the document and its docs page."""
    documented = {path.lstrip("/") for path in OPENAPI["paths"]}
    ninja_style = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r) for r in url_patterns() if r.startswith(API_PREFIX)
    }
    undocumented = {
        r
        for r in ninja_style
        if r not in documented and re.sub(r"\{int:(\w+)\}", r"{\1}", r) not in documented
        and not r.endswith(("openapi.json", "docs")) and r != API_PREFIX  # the API's root: 404
    }  # fmt: skip
    assert not undocumented


def test_the_write_detector_sees_a_write_and_ignores_one_rolled_back(db):
    walk = Walk("detector")
    with CaptureQueriesContext(connection) as captured:
        anonymous_client().post("/api/v1/stations/CQ-SXGC/checkins", "{}", content_type="application/json")
    assert net_writes([q["sql"] for q in captured.captured_queries])
    sid = transaction.savepoint()
    with CaptureQueriesContext(connection) as captured:
        inner = transaction.savepoint()
        AuditEvent.objects.filter(pk=-1).delete()
        connection.cursor().execute("UPDATE orgs_unit SET name = name WHERE id = -1")
        transaction.savepoint_rollback(inner)
    transaction.savepoint_rollback(sid)
    assert not net_writes([q["sql"] for q in captured.captured_queries])
    walk.send(anonymous_client(), "get", "/", kind="home")
    assert not walk.problems
