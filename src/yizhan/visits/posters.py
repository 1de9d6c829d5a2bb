"""Printable QR posters: an A4 SVG per station (its name, the 8 basic facilities' icons and a QR
code for its check-in URL), and a zip of them for a whole subtree, streamed as it is built so the
first bytes leave at once even for a province of 880 stations."""

import zipfile

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from yizhan.stations.catalogue import BASIC_EIGHT
from yizhan.stations.models import Facility, Station

QR_SIZE_MM = 120


def base_url(request=None) -> str:
    configured = getattr(settings, "YIZHAN_PUBLIC_BASE_URL", "")
    if configured:
        return configured.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return ""


def checkin_url(station: Station, base: str) -> str:
    return f"{base}{reverse('visits:checkin', args=[station.code])}"


def qr_path(data: str) -> tuple[str, int]:
    """SVG path data for the QR code (one unit per module) and its size in modules."""
    qr = segno.make(data, error="m", micro=False)
    parts = []
    size = 0
    for y, row in enumerate(qr.matrix_iter(border=0)):
        row = list(row)
        size = len(row)
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(parts), size


def basic_facilities() -> list[Facility]:
    order = {code: i for i, code in enumerate(BASIC_EIGHT)}
    return sorted(Facility.objects.filter(code__in=BASIC_EIGHT), key=lambda f: order[f.code])


def poster_svg(station: Station, base: str, facilities: list[Facility] | None = None) -> str:
    url = checkin_url(station, base)
    path, modules = qr_path(url)
    facilities = facilities if facilities is not None else basic_facilities()
    # Two rows of four icons, 45 mm apart, centred on the 210 mm page.
    icons = [
        {"facility": f, "x": 26 + (i % 4) * 45, "y": 214 + (i // 4) * 36} for i, f in enumerate(facilities)
    ]
    return render_to_string(
        "visits/poster.svg",
        {
            "station": station,
            "url": url,
            "qr_path": path,
            "qr_modules": modules,
            "qr_x": (210 - QR_SIZE_MM) / 2,
            "qr_size": QR_SIZE_MM,
            "icons": icons,
        },
    )


class _Sink:
    """A write-only target for ZipFile; without tell() zipfile writes streaming-style entries."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_stream(stations, base: str):
    """Yield a zip archive of one poster per station, piece by piece."""
    facilities = basic_facilities()
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for station in stations:
            archive.writestr(f"{station.code}.svg", poster_svg(station, base, facilities))
            chunk = sink.take()
            if chunk:
                yield chunk
    yield sink.take()
