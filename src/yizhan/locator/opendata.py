"""Open data for map platforms and the city's own apps: every public station as GeoJSON or CSV.

Rows are read from the database in chunks and streamed, so that a national feed never sits in
memory whole. The ETag is derived from the station data version (moved by every station write)
and the request's options, so a conditional request costs one indexed SELECT and a 304.
"""

import csv
import datetime
import hashlib
import io
import json
import os

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from yizhan.core.tabular import safe_cell

CHUNK = 2000
DEFAULT_LICENCE = (
    "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/) — attribute “工行驿站 Yizhan station data”."
)

FIELDS = [
    ("code", _("Stable station code; the station's page is /s/<code>.")),
    ("name", _("Name in Chinese.")),
    ("name_en", _("Name in English (may be empty).")),
    ("lat", _("Latitude, WGS-84 (GPS) degrees.")),
    ("lng", _("Longitude, WGS-84 (GPS) degrees.")),
    ("status", _("active, temporarily_closed or closed (closed only appears with updated_since).")),
    ("reopens_on", _("For a temporarily closed station: the announced reopening date, if any.")),
    ("notice", _("Public notice, e.g. why the station is closed.")),
    ("address", _("Street address.")),
    ("phone", _("Public telephone number of the outlet.")),
    ("themes", _("Themed-station codes (little_bee, new_citizen, elderly, medical_priority).")),
    (
        "facilities",
        _(
            "Each catalogue facility's state: yes, no, unknown or out_of_order (CSV: one column per "
            "facility, named facility:<code>)."
        ),
    ),
    ("updated_at", _("When the station's data last changed (ISO-8601).")),
    ("verified_at", _("When the data was last confirmed on site (ISO-8601), if ever.")),
]


def licence() -> str:
    """YIZHAN_OPEN_DATA_LICENCE (setting or environment variable), CC BY 4.0 by default."""
    return getattr(settings, "YIZHAN_OPEN_DATA_LICENCE", None) or os.environ.get(
        "YIZHAN_OPEN_DATA_LICENCE", DEFAULT_LICENCE
    )


def facility_codes() -> list[str]:
    from yizhan.stations.models import Facility

    return list(Facility.objects.order_by("sort_order", "code").values_list("code", flat=True))


def etag(fmt: str, updated_since: datetime.datetime | None, codes: list[str]) -> str:
    from yizhan.stations.services import data_version

    key = f"{data_version()}|{fmt}|{updated_since.isoformat() if updated_since else ''}|{','.join(codes)}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def stations(updated_since: datetime.datetime | None, codes: list[str]):
    """Dicts, one per station, in code order; chunked reads of stations, states and themes."""
    from yizhan.stations.models import Station, StationFacility

    queryset = Station.objects.all()
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    else:
        queryset = queryset.filter(status__in=["active", "temporarily_closed"])
    queryset = queryset.order_by("pk")
    through = Station.themes.through.objects
    last = 0
    while True:
        chunk = list(
            queryset.filter(pk__gt=last).values(
                "pk",
                "code",
                "name",
                "name_en",
                "lat",
                "lng",
                "status",
                "reopens_on",
                "public_notice",
                "address",
                "phone",
                "updated_at",
                "verified_at",
            )[:CHUNK]
        )
        if not chunk:
            return
        last = chunk[-1]["pk"]
        ids = [row["pk"] for row in chunk]
        states: dict[int, dict[str, str]] = {}
        for station_id, code, state, broken in StationFacility.objects.filter(station_id__in=ids).values_list(
            "station_id", "facility__code", "state", "out_of_order"
        ):
            states.setdefault(station_id, {})[code] = "out_of_order" if state == "yes" and broken else state
        themes: dict[int, list[str]] = {}
        for station_id, code in (
            through.filter(station_id__in=ids)
            .order_by("theme__sort_order")
            .values_list("station_id", "theme__code")
        ):
            themes.setdefault(station_id, []).append(code)
        for row in chunk:
            known = states.get(row["pk"], {})
            yield {
                "code": row["code"],
                "name": row["name"],
                "name_en": row["name_en"],
                "lat": round(row["lat"], 6),
                "lng": round(row["lng"], 6),
                "status": row["status"],
                "reopens_on": row["reopens_on"].isoformat() if row["reopens_on"] else None,
                "notice": row["public_notice"],
                "address": row["address"],
                "phone": row["phone"],
                "themes": themes.get(row["pk"], []),
                "facilities": {code: known.get(code, "unknown") for code in codes},
                "updated_at": row["updated_at"].isoformat(),
                "verified_at": row["verified_at"].isoformat() if row["verified_at"] else None,
            }


def geojson_chunks(updated_since, codes):
    head = {
        "type": "FeatureCollection",
        "name": "yizhan-stations",
        "license": licence(),
        "crs_note": "WGS-84 (RFC 7946): coordinates are [longitude, latitude].",
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    first = True
    for station in stations(updated_since, codes):
        feature = {
            "type": "Feature",
            "id": station["code"],
            "geometry": {"type": "Point", "coordinates": [station["lng"], station["lat"]]},
            "properties": station,
        }
        yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
        first = False
    yield "]}\n"


def csv_chunks(updated_since, codes):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    plain = [name for name, _help in FIELDS if name != "facilities"]
    # UTF-8 with BOM, so that Excel on a Chinese Windows opens it as it is.
    writer.writerow(plain + [f"facility:{code}" for code in codes])
    yield "\ufeff" + buffer.getvalue()
    for station in stations(updated_since, codes):
        buffer.seek(0)
        buffer.truncate()
        values = [";".join(station[name]) if name == "themes" else station[name] for name in plain]
        writer.writerow([safe_cell(v) for v in values] + [station["facilities"][code] for code in codes])
        yield buffer.getvalue()
