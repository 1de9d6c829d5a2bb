"""Coordinates: stored as WGS-84; GCJ-02 (Amap, Tencent) and BD-09 (Baidu) at the edges."""

import math

import prcoords
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CRS_CHOICES = ("wgs84", "gcj02", "bd09")

# Mainland China, Hong Kong, Macao and Taiwan inside a generous bounding box; this is a guard
# against swapped or mistyped coordinates, not a border.
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)


def validate_point(lat, lng, *, lat_field: str = "lat", lng_field: str = "lng") -> tuple[float, float]:
    """Return (lat, lng) as floats or raise a ValidationError naming the field at fault."""
    errors = {}
    values = {}
    for field, value, low, high, china in (
        (lat_field, lat, -90.0, 90.0, CHINA_LAT),
        (lng_field, lng, -180.0, 180.0, CHINA_LNG),
    ):
        try:
            number = float(value)
        except (TypeError, ValueError):
            errors[field] = _("Enter a number.")
            continue
        if not math.isfinite(number) or not (low <= number <= high):
            errors[field] = _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
        elif not (china[0] <= number <= china[1]):
            errors[field] = _("This position is outside China.")
        values[field] = number
    if errors:
        raise ValidationError(errors)
    return values[lat_field], values[lng_field]


def validate_crs(crs: str | None, field: str = "crs") -> str:
    crs = (crs or "wgs84").strip().lower()
    if crs not in CRS_CHOICES:
        raise ValidationError({field: _("Unknown coordinate system; use wgs84, gcj02 or bd09.")})
    return crs


def to_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return lat, lng
    # The "bored" variants iterate the inverse to centimetre precision instead of one step.
    c = prcoords.Coords(lat, lng)
    out = prcoords.gcj_wgs_bored(c) if crs == "gcj02" else prcoords.bd_wgs_bored(c)
    return out.lat, out.lon


def from_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return lat, lng
    c = prcoords.Coords(lat, lng)
    out = prcoords.wgs_gcj(c) if crs == "gcj02" else prcoords.wgs_bd(c)
    return out.lat, out.lon


def parse_point(lat, lng, crs="wgs84", *, lat_field="lat", lng_field="lng") -> tuple[float, float]:
    """Validate an input point in any supported CRS and return it in WGS-84."""
    crs = validate_crs(crs)
    lat, lng = validate_point(lat, lng, lat_field=lat_field, lng_field=lng_field)
    return to_wgs84(lat, lng, crs)


EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
