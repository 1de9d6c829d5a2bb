import pytest


@pytest.fixture
def station(db):
    from yizhan.stations.models import Station

    return lambda code: Station.objects.select_related("unit").get(code=code)


@pytest.fixture
def media(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT for the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# A small valid image of an accepted type, and an impostor.
def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (4, 3), (200, 30, 30, 255)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
NOT_AN_IMAGE = b"<html><script>alert(1)</script></html>"
