"""Report photos are re-encoded: no EXIF (GPS, camera) survives, dimensions are bounded, nothing
appended to the image data is kept, and bombs, truncated files and non-images are refused with
the field named, in the public form and the API alike."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from yizhan.visits.models import Feedback

API = "/api/v1/stations/CQ-SXGC/reports"
FORM = "/s/CQ-SXGC/report"
GPS_IFD = 0x8825

pytestmark = pytest.mark.django_db
ORIENTATION = 0x0112


def jpeg(size=(64, 48), color=(10, 120, 200), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG", exif=exif or b"")
    return out.getvalue()


def gps_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (29.0, 33.0, 36.0), 3: "E", 4: (106.0, 27.0, 0.0)})
    return exif.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height, with a tiny data stream: a bomb's shape, cheap."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(content: bytes, name: str = "p.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post(client, content: bytes, url: str = API, **kwargs):
    return client.post(
        url, {"kind": "facility_broken", "facility": "seating", "photo": upload(content, **kwargs)}
    )


def stored(media, response) -> bytes:
    item = Feedback.objects.get(pk=response.json()["id"])
    assert item.photo_type == "image/jpeg" and item.photo.endswith(".jpg")
    return (media / item.photo).read_bytes()


def test_exif_with_gps_and_camera_is_dropped_and_orientation_applied(client, media):
    original = jpeg(size=(80, 40), exif=gps_exif(orientation=6))  # 6: rotate 90° to stand upright
    assert b"PhoneMaker" in original
    response = post(client, original)
    assert response.status_code == 201
    data = stored(media, response)
    assert b"PhoneMaker" not in data and b"Model X" not in data and b"Exif" not in data
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and not image.getexif() and GPS_IFD not in image.getexif()
    assert image.size == (40, 80)  # turned upright, then the orientation tag is gone with the rest


def test_oversized_dimensions_are_bounded_keeping_the_aspect(client, media, settings):
    settings.YIZHAN_REPORT_PHOTO_MAX_SIDE = 1600
    response = post(client, jpeg(size=(4000, 3000)))
    assert response.status_code == 201
    assert Image.open(io.BytesIO(stored(media, response))).size == (1600, 1200)


@pytest.mark.parametrize(
    "payload",
    [b"<html><script>alert(document.cookie)</script></html>", b"PK\x03\x04" + b"\x00" * 26 + b"evil.js"],
)
def test_a_polyglot_keeps_only_its_pixels(client, media, payload):
    response = post(client, jpeg() + payload)
    assert response.status_code == 201
    data = stored(media, response)
    assert payload[:8] not in data and b"evil" not in data and b"script" not in data
    Image.open(io.BytesIO(data)).verify()


def test_a_png_and_a_webp_are_accepted_and_stored_as_jpeg(client, media):
    for fmt in ("PNG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGBA", (30, 20), (0, 200, 0, 128)).save(out, format=fmt)
        response = post(client, out.getvalue(), name=f"p.{fmt.lower()}", content_type="image/png")
        assert response.status_code == 201
        assert Image.open(io.BytesIO(stored(media, response))).size == (30, 20)


def bomb_cases():
    return {
        "pillow's own limit": png_header_only(30_000, 30_000),  # 900 megapixels from a few bytes
        "the setting's limit": png_header_only(9_000, 9_000),  # 81 megapixels > 40
        "truncated": jpeg(size=(400, 300))[:600],
        "not an image": b"<html><script>alert(1)</script></html>",
        "a gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "a header and nothing": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
    }


@pytest.mark.parametrize("case", list(bomb_cases()))
def test_bad_photos_are_refused_with_the_field_named_and_nothing_written(client, media, case):
    content = bomb_cases()[case]
    before = Feedback.objects.count()
    api = post(client, content)
    assert api.status_code == 422
    assert [d["loc"][-1] for d in api.json()["detail"]] == ["photo"]
    page = post(client, content, url=FORM)
    assert page.status_code == 422 and "has-error" in page.content.decode()
    assert Feedback.objects.count() == before
    assert not [p for p in media.rglob("*") if p.is_file()] if media.exists() else True


def test_the_pixel_cap_is_a_setting(client, media, settings):
    settings.YIZHAN_REPORT_PHOTO_MAX_PIXELS = 100 * 100
    assert post(client, jpeg(size=(100, 100))).status_code == 201
    response = post(client, jpeg(size=(101, 100)))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "photo"
