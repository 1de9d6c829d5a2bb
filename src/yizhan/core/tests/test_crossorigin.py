"""The public forms (core.crossorigin.public_form): a post from our own page needs no token; one
that the browser says comes from another site is refused with the site's own page, and nothing
is written. Django's token still guards every other form."""

import pytest
from django.test import Client, override_settings

from yizhan.locator.models import ShortLink
from yizhan.planning.models import DemandPoint, DemandSource

LIST = {"lat": "29.5566", "lng": "106.4569"}
EVIL = "https://evil.example"


def _share(client, **headers):
    before = ShortLink.objects.count()
    response = client.post("/share/", LIST, **headers)
    return response.status_code, ShortLink.objects.count() - before


def _no_station(client, **headers):
    reports = DemandPoint.objects.filter(source=DemandSource.REPORT)
    before = sum(reports.values_list("weight", flat=True))
    response = client.post("/no-station/", {**LIST, "back": "/"}, **headers)
    return response.status_code, sum(reports.values_list("weight", flat=True)) - before


def _language(client, **headers):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, **headers)
    return response.status_code, int("django_language" in response.cookies)


def _large_text(client, **headers):
    response = client.post("/prefs/large-text/", {"on": "1", "next": "/"}, **headers)
    return response.status_code, int("yz_large" in response.cookies)


FORMS = {"share": (_share, 303), "no station": (_no_station, 200), "language": (_language, 302)}
FORMS["large text"] = (_large_text, 302)

# (what the browser sends, whether the post is taken)
HEADERS = {
    "our page": ({"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"}, True),
    "typed or bookmarked": ({"HTTP_SEC_FETCH_SITE": "none"}, True),
    "an old browser on our page": ({"HTTP_ORIGIN": "http://testserver"}, True),
    "no browser": ({}, True),
    "another site": ({"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": EVIL}, False),
    "a sibling subdomain": (
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "http://x.testserver"},
        False,
    ),
    "cross-site without an origin": ({"HTTP_SEC_FETCH_SITE": "cross-site"}, False),
    "an old browser on another site": ({"HTTP_ORIGIN": EVIL}, False),
    "an opaque origin": ({"HTTP_ORIGIN": "null"}, False),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("sender", HEADERS)
def test_a_public_form_takes_our_pages_posts_only(db, form, sender):
    send, ok_status = FORMS[form]
    headers, taken = HEADERS[sender]
    # Django's token check on, as in production: the form carries no token.
    status, written = send(Client(enforce_csrf_checks=True), **headers)
    if taken:
        assert (status, written) == (ok_status, 1)
    else:
        assert (status, written) == (403, 0)


def test_the_refusal_is_the_sites_own_page(db):
    response = Client().post("/share/", LIST, HTTP_SEC_FETCH_SITE="cross-site", HTTP_ORIGIN=EVIL)
    html = response.content.decode()
    assert response.status_code == 403 and "表单已过期" in html and "CSRF" not in html
    assert EVIL not in html


@override_settings(CSRF_TRUSTED_ORIGINS=["https://m.example.cn"])
def test_a_trusted_origin_is_taken(db):
    headers = {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "https://m.example.cn"}
    assert _share(Client(enforce_csrf_checks=True), **headers) == (303, 1)


def test_other_forms_still_need_the_token(db):
    # A check-in is a public form with a token (it counts a visit): without one it is refused,
    # even when the browser says the post is from our own page.
    response = Client(enforce_csrf_checks=True).post(
        "/c/CQ-SXGC", {"go": "1"}, HTTP_SEC_FETCH_SITE="same-origin"
    )
    assert response.status_code == 403
