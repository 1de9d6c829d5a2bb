"""GCJ-02 and BD-09 for many points at once: the same formulas as `prcoords` (which core.geo uses
for single points), over numpy arrays, so that the index can hold every station's position in
the systems the map apps use and no request converts coordinates one by one."""

import numpy as np

GCJ_A = 6378245.0
GCJ_EE = 0.00669342162296594323
BD_DLAT = 0.0060
BD_DLON = 0.0065


def wgs_to_gcj(lat, lng) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(lat, dtype=np.float64)
    lng = np.asarray(lng, dtype=np.float64)
    x, y = lng - 105.0, lat - 35.0
    pi = np.pi
    d_lat_m = (
        -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (
            2 * np.sin(x * 6 * pi) + 2 * np.sin(x * 2 * pi) + 2 * np.sin(y * pi) + 4 * np.sin(y / 3 * pi)
            + 16 * np.sin(y / 12 * pi) + 32 * np.sin(y / 30 * pi)
        ) * 20 / 3
    )  # fmt: skip
    d_lng_m = (
        300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (
            2 * np.sin(x * 6 * pi) + 2 * np.sin(x * 2 * pi) + 2 * np.sin(x * pi) + 4 * np.sin(x / 3 * pi)
            + 15 * np.sin(x / 12 * pi) + 30 * np.sin(x / 30 * pi)
        ) * 20 / 3
    )  # fmt: skip
    rad_lat = np.radians(lat)
    magic = 1 - GCJ_EE * np.sin(rad_lat) ** 2
    lat_deg_arclen = np.radians((GCJ_A * (1 - GCJ_EE)) / magic**1.5)
    lng_deg_arclen = np.radians(GCJ_A * np.cos(rad_lat) / np.sqrt(magic))
    # Outside China the shift does not apply (prcoords returns such points as they are).
    inside = (lat >= 0.8293) & (lat <= 55.8271) & (lng >= 72.004) & (lng <= 137.8347)
    return (
        np.where(inside, lat + d_lat_m / lat_deg_arclen, lat),
        np.where(inside, lng + d_lng_m / lng_deg_arclen, lng),
    )


def gcj_to_bd(lat, lng) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(lat, dtype=np.float64)
    x = np.asarray(lng, dtype=np.float64)
    r = np.sqrt(x * x + y * y) + 0.00002 * np.sin(np.radians(y) * 3000)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(np.radians(x) * 3000)
    return r * np.sin(theta) + BD_DLAT, r * np.cos(theta) + BD_DLON
