"""Bad input found by fuzzing the API and by a corpus of hostile requests (issue 10 §2), each
answered with a clear 4xx naming the field, nothing written; the walk over every route is in
test_every_route.py."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yizhan.audit.models import AuditEvent
from yizhan.orgs.services import create_api_token
from yizhan.remittance.models import Alias, AllowEntry, Batch, Exclusion, Instruction, Rule
from yizhan.stations.models import Station, StationFacility
from yizhan.visits.models import CheckIn, Feedback, Tally

SURROGATE = "\ud800"
M = "/api/v1/manage"


@pytest.fixture
def bearer(users):
    _token, raw = create_api_token(user=users["hq_admin"], name="test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
    client.get(f"{M}/me")  # the token's once-a-minute "last used" write, out of the way
    return client


def counts():
    return [
        m.objects.count()
        for m in (AuditEvent, Station, StationFacility, CheckIn, Feedback, Tally, Batch, Rule, Alias)
    ] + [Exclusion.objects.count(), AllowEntry.objects.count()]


def first_pk(model):
    return model.objects.order_by("pk").values_list("pk", flat=True).first()


# Every staff write with a JSON body that once answered 500 UnicodeEncodeError.
SURROGATE_WRITES = [
    ("post", "/stations", {"code": "CQ-NEW-1", "name": SURROGATE, "unit": "CQ-SXGC"}, "name"),
    ("patch", "/stations/CQ-SXGC", {"public_notice": SURROGATE}, "public_notice"),
    ("post", "/stations/CQ-SXGC/close", {"notice": SURROGATE}, "notice"),
    ("put", "/stations/CQ-SXGC/facilities/seating", {"state": "yes", "note": SURROGATE}, "note"),
    ("post", "/feedback/{feedback}/acknowledge", {"note": SURROGATE}, "note"),
    ("post", "/remittance/batches", {"name": SURROGATE, "deadline": "2030-01-01 00:00"}, "name"),
    ("post", "/remittance/instructions/{instruction}/callbacks", {"outcome": "confirmed", "note": SURROGATE}, "note"),
    ("post", "/remittance/instructions/{instruction}/decision", {"decision": "process_now", "note": SURROGATE}, "note"),
    ("post", "/remittance/rules", {"field": "payee", "term": SURROGATE}, "term"),
    ("post", "/remittance/rules/aliases", {"term_a": "红会", "term_b": SURROGATE}, "term_b"),
    ("post", "/remittance/rules/exclusions", {"term": SURROGATE}, "term"),
    ("post", "/remittance/rules/allow", {"field": "payee_name", "value": SURROGATE, "reason": "x"}, "value"),
    ("put", "/stations/CQ-SXGC/tallies/2026-11-30", {"counts": {SURROGATE: 1}}, "counts"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "field"), SURROGATE_WRITES)
def test_a_lone_surrogate_in_any_field_is_422_naming_it_and_writes_nothing(bearer, method, path, body, field):
    url = M + path.format(feedback=first_pk(Feedback), instruction=first_pk(Instruction))
    before = counts()
    response = getattr(bearer, method)(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert counts() == before


def test_a_surrogate_as_raw_bytes_in_a_public_check_in_is_422(client, db):
    before = counts()
    response = client.post(
        "/api/v1/stations/CQ-SXGC/checkins", b'{"group": "courier", "device": "\xed\xa0\x80"}',
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "device"]
    assert counts() == before


def test_a_valid_surrogate_pair_is_not_refused(client, db):
    response = client.post(
        "/api/v1/stations/CQ-SXGC/checkins", '{"group": "courier", "device": "\\ud83d\\ude00"}',
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422  # refused by the device rule, not by the boundary
    assert "Unicode" not in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("request_kwargs", "loc"),
    [
        ({"path": "/api/v1/manage/stations", "data": {"q": "a\x00b"}}, ["query", "q"]),
        ({"path": "/api/v1/stations/CQ-SXGC/reports", "data": {"kind": "praise", "text": "a\x00"}, "method": "post"},
         ["form", "text"]),
    ],
)  # fmt: skip
def test_nul_in_the_query_or_a_form_is_422_in_the_api(bearer, request_kwargs, loc):
    method = request_kwargs.pop("method", "get")
    response = getattr(bearer, method)(**request_kwargs)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_nul_in_a_page_form_is_the_sites_400_page_naming_the_field(client_for):
    response = client_for("cq_admin").post("/manage/stations/CQ-SXGC/edit/", {"name": "a\x00b"})
    assert response.status_code == 400
    assert "400.html" in [t.name for t in response.templates]
    assert "name" in response.content.decode()


# --- malformed requests on the public report endpoint (no login) ------------------------------------

FIELDS_1001 = "&".join(f"f{i}=1" for i in range(1001))
UNCLOSED = b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\n' + b"x" * (20 * 1024 * 1024)
LONG_NAME = (
    b'--B\r\nContent-Disposition: form-data; name="photo"; filename="' + b"a" * 1100 + b'.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0\r\n--B--\r\n"
)
MALFORMED = [
    ("no boundary", b"--x\r\n\r\n", "multipart/form-data", 400),
    ("1,100-character file name", LONG_NAME, "multipart/form-data; boundary=B", 400),
    ("1,001 fields", FIELDS_1001, "application/x-www-form-urlencoded", 400),
    ("20 MB without its closing boundary", UNCLOSED, "multipart/form-data; boundary=B", 413),
]


@pytest.mark.parametrize(("case", "body", "content_type", "status"), MALFORMED)
def test_a_malformed_report_is_a_clear_json_4xx_from_the_api(client, db, case, body, content_type, status):
    before = counts()
    response = client.generic("POST", "/api/v1/stations/CQ-SXGC/reports", body, content_type=content_type)
    assert response.status_code == status, case
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert counts() == before


@pytest.mark.parametrize(("case", "body", "content_type", "status"), MALFORMED)
def test_a_malformed_report_form_is_the_sites_own_page(client, db, case, body, content_type, status):
    response = client.generic("POST", "/s/CQ-SXGC/report", body, content_type=content_type)
    assert response.status_code == status, case
    assert "400.html" in [t.name for t in response.templates]
    assert "Bad Request (400)" not in response.content.decode()


def test_a_request_over_the_size_limit_is_413_before_it_is_read(client, db, settings):
    settings.YIZHAN_MAX_REQUEST_BYTES = 1024
    response = client.post("/api/v1/stations/CQ-SXGC/reports", {"kind": "suggestion", "text": "x" * 2000})
    assert response.status_code == 413


# --- paging, dates in paths, facilities ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"{M}/units?offset=-1",
        f"{M}/stations?offset=-1",
        f"{M}/feedback?offset=-1",
        f"{M}/units?offset=99999999999999999999",
        f"{M}/remittance/batches/{{batch}}/worklist?offset=99999999999999999999",
    ],
)
def test_an_offset_out_of_range_is_422_on_offset(bearer, url):
    response = bearer.get(url.format(batch=first_pk(Batch)))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]


@pytest.mark.parametrize("day", ["0", "2026-13-01", "2026-02-30", "20261130", "1"])
def test_an_impossible_tally_day_in_the_path_is_422_on_day(bearer, day):
    before = counts()
    response = bearer.put(
        f"{M}/stations/CQ-SXGC/tallies/{day}",
        json.dumps({"counts": {}, "revision": 1}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "day"]
    assert counts() == before


def test_a_tally_on_a_real_day_still_saves(bearer):
    revision = Station.objects.get(code="CQ-SXGC").revision
    response = bearer.put(
        f"{M}/stations/CQ-SXGC/tallies/2026-11-30",
        json.dumps({"counts": {"elderly": 3}, "revision": revision}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "station": "CQ-SXGC", "day": "2026-11-30", "counts": {"elderly": 3}, "revision": revision + 1,
    }  # fmt: skip


def test_setting_unknown_where_no_row_exists_answers_unknown_and_stores_nothing(bearer):
    station = Station.objects.get(code="CQ-SXGC")
    StationFacility.objects.filter(station=station, facility__code="restroom").delete()
    response = bearer.put(
        f"{M}/stations/CQ-SXGC/facilities/restroom",
        json.dumps({"state": "unknown", "revision": Station.objects.get(pk=station.pk).revision}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["state"] == "unknown"
    assert not StationFacility.objects.filter(station=station, facility__code="restroom").exists()


# --- bodies that are not objects; writes without credentials -----------------------------------------


@pytest.mark.parametrize("body", ["null", "[]", '"x"', "1", "true"])
def test_a_json_body_that_is_not_an_object_is_422(bearer, client, body):
    before = counts()
    checkin = client.post("/api/v1/stations/CQ-SXGC/checkins", body, content_type="application/json")
    patch = bearer.patch(f"{M}/stations/CQ-SXGC", body, content_type="application/json")
    for response in (checkin, patch):
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body"]
    assert counts() == before


def test_a_body_that_is_not_json_is_400_whatever_its_declared_type(client, db):
    for content_type in ("application/json", "text/plain"):
        response = client.post("/api/v1/stations/CQ-SXGC/checkins", "{", content_type=content_type)
        assert response.status_code == 400
        assert response.json()["detail"]


@pytest.mark.parametrize("authorization", [None, "Bearer yz_not-a-token", "Bearer ", "Basic abc"])
def test_a_staff_write_without_valid_credentials_is_401_like_a_read(db, authorization):
    client = Client(enforce_csrf_checks=True)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    write = client.post(f"{M}/stations", "{}", content_type="application/json", **headers)
    read = client.get(f"{M}/stations", **headers)
    assert (write.status_code, read.status_code) == (401, 401)


def test_a_session_write_without_its_csrf_token_is_still_403(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["cq_admin"])
    response = client.post(f"{M}/stations/CQ-SXGC/verify", "{}", content_type="application/json")
    assert response.status_code == 403


# --- answers echo only a prefix ------------------------------------------------------------------


def test_an_unknown_column_header_of_a_megabyte_comes_back_cut_short(bearer):
    header = "未知" * 500_000
    upload = SimpleUploadedFile("s.csv", f"驿站编码,{header}\r\nCQ-X,1\r\n".encode())
    response = bearer.post(f"{M}/stations/import", {"file": upload, "dry_run": "true"})
    assert response.status_code == 422
    assert len(response.content) < 10_000
    # The reader's cell cap refuses it, naming the row, before any header is compared.
    (error,) = response.json()["errors"]
    assert error["row"] == 1 and "characters" in error["message"]


def test_ninjas_own_422_does_not_echo_a_huge_key(bearer):
    key = "k" * 500_000
    response = bearer.put(
        f"{M}/stations/CQ-SXGC/tallies/2026-11-30", json.dumps({"counts": {key: [1]}}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert len(response.content) < 5_000


# --- found by the walk ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["0", "99999999999999999999"])
def test_a_holiday_year_outside_the_calendar_is_404(client_for, year):
    assert client_for("hq_admin").get(f"/manage/stations/holidays/{year}/").status_code == 404


def test_a_csv_with_a_utf8_mark_but_other_bytes_is_a_clear_error(bearer):
    upload = SimpleUploadedFile("s.csv", b"\xef\xbb\xbf\xe9\xa9\xbf\xff\xfe,x\r\n")
    response = bearer.post(f"{M}/stations/import", {"file": upload, "dry_run": "true"})
    assert response.status_code == 422
    assert "UTF-8" in response.json()["errors"][0]["message"]


def test_an_unknown_facility_in_the_nearby_query_is_quoted_short(client, db):
    response = client.get("/api/v1/stations/nearby", {"lat": "29.5", "lng": "106.5", "facility": "长" * 3000})
    assert response.status_code == 422
    assert len(response.content) < 1_000


def test_more_files_than_the_limit_is_400_naming_the_limit(client, db):
    files = {f"photo{i}": SimpleUploadedFile(f"p{i}.png", b"x") for i in range(11)}
    response = client.post("/api/v1/stations/CQ-SXGC/reports", {"kind": "suggestion", **files})
    assert response.status_code == 400
    assert "10" in response.json()["detail"]


def test_a_json_list_outside_the_api_is_not_refused_for_its_shape(client, db):
    # Browsers send reports (CSP, say) as JSON arrays; only the API insists on an object.
    response = client.post("/", "[{}]", content_type="application/reports+json")
    assert response.status_code != 422


def test_flashed_errors_name_the_field_by_its_label_and_leave_the_rest_plain(rf):
    """A POST that redirects shows its refusal as messages: "label: message" for a field, the
    plain message for the form's own errors and for a field without a label (the revision)."""
    from django import forms
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
    from django.utils import translation

    from yizhan.core.forms import RevisionField, flash_errors, submit

    translation.activate("en")  # the site's language comes back for the next test (conftest)

    class NoteForm(forms.Form):
        note = forms.CharField(label="note", max_length=3)
        revision = RevisionField()

    def request():
        made = rf.post("/")
        made.session = {}
        made._messages = FallbackStorage(made)
        return made

    bad = request()
    assert submit(bad, NoteForm({"note": "long"}), lambda **data: None, "done") is False
    assert [str(m) for m in get_messages(bad)] == [
        "note: Ensure this value has at most 3 characters (it has 4).",
        str(NoteForm.base_fields["revision"].error_messages["required"]),
    ]

    def refuse(**data):
        raise ValidationError({"note": "taken", "elsewhere": "plain", NON_FIELD_ERRORS: ["stale", "again"]})

    refused = request()
    assert submit(refused, NoteForm({"note": "ok", "revision": "1"}), refuse, "done") is False
    assert [str(m) for m in get_messages(refused)] == ["note: taken", "plain", "stale", "again"]

    plain = request()
    flash_errors(plain, ValidationError(["one", "two"]))
    assert [str(m) for m in get_messages(plain)] == ["one", "two"]

    good, seen = request(), {}
    assert submit(good, NoteForm({"note": "ok", "revision": "1"}), lambda **data: seen.update(data), "done")
    assert seen == {"note": "ok", "revision": 1} and [str(m) for m in get_messages(good)] == ["done"]
