"""Production smoke test: fetch what visitors and staff fetch from a running server (gunicorn with
the production settings) and fail on any 5xx, a wrong status or missing content.

    python .ci/smoke.py http://127.0.0.1:8123 USERNAME PASSWORD

Standard library only. Every request carries `X-Forwarded-Proto: https`, as the TLS proxy in
front of a real deployment sends it, so Django treats the requests as secure and its Secure
cookies come back in the cookie jar although CI itself speaks plain HTTP.
"""

import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

STATION = "CQ-SXGC"  # in the small demo network
HASHED = re.compile(r"/static/[^\"'?#]+\.[0-9a-f]{12}\.(?:css|js|png|svg)")

base, username, password = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(secure_protocols=("http", "https")))
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
failures: list[str] = []
assets: set[str] = set()


def fetch(path: str, data: dict | None = None, referer: str | None = None):
    request = urllib.request.Request(  # noqa: S310 (base is the http URL CI passes)
        base + path, data=urllib.parse.urlencode(data).encode() if data is not None else None
    )
    request.add_header("X-Forwarded-Proto", "https")
    request.add_header("Accept-Language", "zh-CN")
    if referer:  # Django's CSRF check wants a same-origin Referer on a secure request
        request.add_header("Referer", "https://" + urllib.parse.urlsplit(base).netloc + referer)
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, response.headers, response.read().decode("utf-8", "replace"), response.url


def check(path: str, *expected: str, status: int = 200, data=None, referer=None) -> str:
    got, headers, body, url = fetch(path, data, referer)
    problems = []
    if got != status:
        problems.append(f"status {got}, expected {status}")
    problems += [f"missing {text!r}" for text in expected if text not in body]
    if headers.get_content_type() == "text/html":
        if "default-src 'self'" not in headers.get("Content-Security-Policy", ""):
            problems.append("no Content-Security-Policy")
        assets.update(HASHED.findall(body))
        if "/static/" in body and not HASHED.search(body):
            problems.append("static files are not named by their hashed names")
    if path.startswith("/manage/") and got == 200 and "no-store" not in headers.get("Cache-Control", ""):
        problems.append("a staff page without Cache-Control: no-store")
    print(f"{got} {path} -> {urllib.parse.urlsplit(url).path}" + (f"  FAIL: {problems}" if problems else ""))
    if problems:
        failures.append(f"{path}: {'; '.join(problems)}")
    return body


def csrf_token(body: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    return found.group(1) if found else ""


# The public side.
check("/", 'id="filters"')
check("/?lat=29.5566&lng=106.4569", 'class="stations', STATION)
check("/map/?lat=29.5566&lng=106.4569", 'id="map"', "leaflet")
check(f"/s/{STATION}", STATION)
check(f"/api/v1/stations/{STATION}", f'"{STATION}"')
page = check(f"/c/{STATION}", f'action="/c/{STATION}"', "csrfmiddlewaretoken")
check(
    f"/c/{STATION}",
    "<h1",
    data={"csrfmiddlewaretoken": csrf_token(page), "go": "1"},
    referer=f"/c/{STATION}",
)
check(f"/s/{STATION}/report", "csrfmiddlewaretoken")
check("/api/v1/docs", 'id="swagger-ui"')
check("/api/v1/openapi.json", '"openapi"')
check("/no-such-page", "<h1", 'href="/"', status=404)

# The back office, logged in through the real form.
login = check("/manage/login/", 'name="username"', 'name="password"')
check(
    "/manage/login/",
    'action="/manage/logout/"',
    data={"csrfmiddlewaretoken": csrf_token(login), "username": username, "password": password, "next": ""},
    referer="/manage/login/",
)
insecure = [c.name for c in jar if not c.secure]
if insecure:
    failures.append(f"cookies without Secure: {insecure}")
check("/manage/stations/", STATION)
check(f"/manage/stations/{STATION}/", STATION)
check("/manage/feedback/", "<h1")
check("/manage/visits/", "visits/stats")
check("/manage/jobs/", "<h1")
check("/manage/inbox/", "<h1")

# Every asset the pages named, by its hashed name, served with a far-future cache lifetime.
for asset in sorted(assets):
    status, headers, _, _ = fetch(asset)
    if status != 200 or "immutable" not in headers.get("Cache-Control", ""):
        failures.append(f"{asset}: {status} {headers.get('Cache-Control')}")
print(f"{len(assets)} hashed assets fetched")

if failures:
    print("\nsmoke test FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("smoke test passed")
