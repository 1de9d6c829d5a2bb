"""QR posters: one A4 SVG per station with its name, the 8 basic facilities and a QR code for its
check-in URL; a zip for a subtree."""

import io
import re
import xml.etree.ElementTree as ET
import zipfile

import pytest

from yizhan.stations.catalogue import BASIC_EIGHT
from yizhan.stations.models import Facility, Station
from yizhan.visits import posters

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def test_poster_is_an_a4_svg_with_name_icons_and_the_qr_for_the_checkin_url(client_for, settings):
    settings.YIZHAN_PUBLIC_BASE_URL = "https://yizhan.example.com/"
    response = client_for("sanxia_manager").get("/manage/visits/posters/CQ-SXGC.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert (root.get("width"), root.get("height")) == ("210mm", "297mm")
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    station = Station.objects.get(code="CQ-SXGC")
    assert station.name in texts
    assert "https://yizhan.example.com/c/CQ-SXGC" in texts
    for facility in Facility.objects.filter(code__in=BASIC_EIGHT):
        assert facility.name in texts
    path, modules = posters.qr_path("https://yizhan.example.com/c/CQ-SXGC")
    qr = [p for p in root.iter(f"{SVG}path") if p.get("d") == path]
    assert len(qr) == 1 and modules >= 21
    icons = [p for p in root.iter(f"{SVG}path") if p.get("d") in {f.icon for f in Facility.objects.all()}]
    assert len(icons) == 8


def test_qr_code_matches_segno_for_the_url():
    import segno

    path, modules = posters.qr_path("https://x.example/c/AB-1")
    matrix = [list(row) for row in segno.make("https://x.example/c/AB-1", error="m").matrix_iter(border=0)]
    dark = {(x, y) for y, row in enumerate(matrix) for x, v in enumerate(row) if v}
    drawn = set()
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        drawn |= {(int(x) + i, int(y)) for i in range(int(w))}
    assert drawn == dark and modules == len(matrix)


def test_station_name_is_escaped_in_the_svg(users):
    from yizhan.stations.services import update_station

    station = update_station(Station.objects.get(code="CQ-SXGC"), actor=users["hq_admin"], name="<b>&驿站")
    body = posters.poster_svg(station, "http://x")
    root = ET.fromstring(body.encode())  # still well-formed XML
    assert "<b>&驿站" in [t.text for t in root.iter(f"{SVG}text")]


def test_zip_holds_one_poster_per_station_of_the_subtree(client_for):
    response = client_for("cq_admin").get("/manage/visits/posters/unit/CQ-SPB.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    expected = set(
        Station.objects.filter(
            unit__path__startswith=Station.objects.get(code="CQ-SXGC").unit.parent.path
        ).values_list("code", flat=True)
    )
    assert {name.removesuffix(".svg") for name in archive.namelist()} == expected
    for name in archive.namelist():
        ET.fromstring(archive.read(name))
