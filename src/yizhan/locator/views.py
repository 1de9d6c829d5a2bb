"""Public pages: near me (list), map, station page. No login anywhere; views only translate HTTP."""

from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from yizhan.core.crossorigin import public_form
from yizhan.core.geo import from_wgs84, parse_point, to_wgs84
from yizhan.locator import busy, pagecache, sections, services, share
from yizhan.locator.signals import searched

PAGE_LIMIT = 20
WHEN_CHOICES = ("any", "now", "at")


def _filters(request, idx) -> dict:
    """The page's filter form as the shared nearby parameters, plus what the form shows."""
    params = request.GET
    when = params.get("when", "any")
    if when not in WHEN_CHOICES:
        when = "any"
    facilities = [c for c in params.getlist("facility") if c]
    themes = [c for c in params.getlist("theme") if c]
    return {
        "active": len(facilities) + len(themes) + (when != "any"),
        "when": when,
        "at": params.get("at", "") if when == "at" else "",
        "facilities": facilities,
        "themes": themes,
        "query": {
            "facility": facilities,
            "theme": themes,
            "open_now": "true" if when in ("now", "at") else "",
            "at": params.get("at", "") if when == "at" else "",
            "limit": str(PAGE_LIMIT),
        },
    }


def _labels(idx):
    facilities, themes = services.catalogue_labels()
    names = {f["code"]: services.localised_entry(f) for f in facilities}
    return facilities, themes, names


@require_GET
# The page reads the language and large-text cookies (no token: its forms are `public_form`s).
@vary_on_headers("HX-Request", "Cookie")
def index(request):
    """Near me: a list sorted by distance; the location comes from the browser (lat/lng), a typed
    place (q), or a picked city (city). Works without JavaScript; htmx swaps just the results."""
    idx = services.index()
    htmx = bool(request.headers.get("HX-Request"))
    key = _page_key(request, idx, htmx)
    if key is not None and (kept := pagecache.get(key)) is not None:
        if kept.demand:
            lat, lng, nearest = kept.demand
            searched.send(__name__, request=request, lat=lat, lng=lng, station_id=nearest)
        return _html(pagecache.body(kept))
    facilities, themes, names = _labels(idx)
    filters = _filters(request, idx)
    params = request.GET
    errors: dict[str, str] = {}
    certain = True  # the place is a position, a city or one exact landmark (a page that may be kept)
    places: list[dict] = []
    lat, lng, near = params.get("lat"), params.get("lng"), params.get("near", "")
    place_text = params.get("q", "").strip()
    if params.get("city"):
        picked = services.city(params["city"])
        if picked is None:
            errors["city"] = _("Unknown city; pick one from the list.")
        else:
            lat, lng, near = picked["lat"], picked["lng"], services.localised_entry(picked)
    elif place_text and not (lat and lng):
        places = services.search_places(place_text)
        exact = [p for p in places if p.get("exact")]
        if len(exact) > 1:
            places = exact  # one name in two cities: ask which
        elif exact or len(places) == 1:
            certain = bool(exact)
            chosen = exact[0] if exact else places[0]
            lat, lng, near = chosen["lat"], chosen["lng"], chosen["label"]
            places = []
        elif not places:
            errors["q"] = _("Nothing found for “%(text)s”. Try a district, a street or a station name.") % {
                "text": place_text
            }

    results, query = [], None
    if lat not in (None, "") or lng not in (None, ""):
        try:
            query = services.clean_nearby(
                {**filters["query"], "lat": lat, "lng": lng, "crs": params.get("crs", "wgs84")},
                catalogue=idx.catalogue,
            )
        except ValidationError as exc:
            errors.update({name: messages[0] for name, messages in exc.message_dict.items()})
        else:
            results = services.nearby(query, idx)

    rows = []
    station_ids = [result.station_id for result in results]
    demand = None
    if station_ids and not params.get("city") and not htmx:
        # A point the visitor typed or shared: demand, for the planner (rounded; nothing else).
        demand = (query.lat, query.lng, station_ids[0])
        searched.send(__name__, request=request, lat=query.lat, lng=query.lng, station_id=station_ids[0])
    keep = key is not None and certain and not errors and not places
    busy_levels = pagecache.busy_slots(station_ids) if keep else busy.busy_now(station_ids)
    for result, station_id in zip(results, station_ids, strict=True):
        kind, text = result.badge(query.at)
        rows.append(
            {
                "result": result,
                "badge_kind": kind,
                "badge": text,
                "distance": _distance(result.distance_m),
                "icons": [(code, names.get(code, code)) for code in result.usable],
                "busy": busy_levels[station_id],
            }
        )
    context = {
        "facility_groups": _groups(facilities, filters["facilities"]),
        "themes": [
            {**t, "label": services.localised_entry(t), "checked": t["code"] in filters["themes"]}
            for t in themes
        ],
        "filters": filters,
        "errors": errors,
        "places": places,
        "place_text": place_text,
        "cities": [{**c, "label": services.localised_entry(c)} for c in services.cities()],
        "located": query is not None,
        "lat": f"{query.lat:.5f}" if query else "",
        "lng": f"{query.lng:.5f}" if query else "",
        "near": near,
        "rows": rows,
        "query": query,
        "at_label": timezone.localtime(query.at).strftime("%m-%d %H:%M") if query and query.at_given else "",
        "icon_defs": facilities,
        "map_query": request.GET.urlencode(),
        "filter_qs": _filter_qs(filters),
        "filters_active": filters["active"],
        "filter_names": _active_names(filters, facilities, themes),
    }
    template = "locator/_results.html" if htmx else "locator/index.html"
    if not keep:
        return render(request, template, context)
    html = render_to_string(template, context, request)
    until = pagecache.valid_until(idx, results, query)
    entry = pagecache.put(key, html, until=until, station_ids=station_ids, demand=demand)
    return _html(pagecache.body(entry))


def _page_key(request, idx, htmx: bool) -> tuple | None:
    """What the list page is made of, bar the clock and the busy levels (see pagecache)."""
    if request.COOKIES.get("messages") or request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return None  # a message may wait to be shown (messages live in the cookie or session)
    places = 0
    if request.GET.get("q"):
        from yizhan.locator import gazetteer

        places = gazetteer.current().version
    return (
        request.get_full_path(),
        request.LANGUAGE_CODE,
        getattr(request, "large_text", False),
        htmx,
        idx.version,
        places,
    )


def _html(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="text/html; charset=utf-8")


def _active_names(filters: dict, facilities: list[dict], themes: list[dict]) -> str:
    """The filters in force by name ("饮用水、开放中"), so that a shared link says what it filters."""
    labels = {f["code"]: services.localised_entry(f) for f in facilities}
    theme_labels = {t["code"]: services.localised_entry(t) for t in themes}
    names = [labels.get(c, c) for c in filters["facilities"] if c in labels]
    names += [theme_labels[c] for c in filters["themes"] if c in theme_labels]
    if filters["when"] == "now":
        names.append(_("Open now"))
    elif filters["when"] == "at" and filters["at"]:
        names.append(_("Open at %(time)s") % {"time": filters["at"].replace("T", " ")})
    return pgettext("list separator", ", ").join(names)


def _filter_qs(filters: dict) -> str:
    """The filters alone, to carry them over a change of place."""
    pairs = [("facility", c) for c in filters["facilities"]] + [("theme", c) for c in filters["themes"]]
    if filters["when"] != "any":
        pairs.append(("when", filters["when"]))
    if filters["at"]:
        pairs.append(("at", filters["at"]))
    return urlencode(pairs)


def _distance(metres: float) -> str:
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m"
    return f"{metres / 1000:.1f} km"


def _groups(facilities: list[dict], checked: list[str]) -> list[dict]:
    from yizhan.stations.catalogue import GROUP_LABELS

    groups: dict[str, dict] = {}
    for entry in facilities:
        group = groups.setdefault(entry["group"], {"label": GROUP_LABELS.get(entry["group"]), "items": []})
        group["items"].append(
            {**entry, "label": services.localised_entry(entry), "checked": entry["code"] in checked}
        )
    return list(groups.values())


def _tile_crs() -> str:
    return "gcj02" if settings.YIZHAN_TILE_CRS.lower() == "gcj02" and settings.YIZHAN_TILE_URL else "wgs84"


@require_GET
def map_view(request):
    """Leaflet map with clustered markers; markers come from map_stations for the visible box,
    in the tiles' coordinate system (GCJ-02 for Amap / Tencent tiles)."""
    idx = services.index()
    facilities, themes, _names = _labels(idx)
    filters = _filters(request, idx)
    crs = _tile_crs()
    centre, zoom, you, bounds = (35.0, 105.0), 4, None, None
    try:
        lat, lng = parse_point(request.GET.get("lat"), request.GET.get("lng"), request.GET.get("crs"))
    except ValidationError:
        city = services.city(request.GET.get("city", ""))
        if city:
            centre, zoom = from_wgs84(city["lat"], city["lng"], crs), 11
        elif len(idx.lat):
            # The first view shows every station (the whole network, not a fixed box that cut
            # off Liaoning and Shandong).
            bounds = [
                from_wgs84(float(idx.lat.min()), float(idx.lng.min()), crs),
                from_wgs84(float(idx.lat.max()), float(idx.lng.max()), crs),
            ]
    else:
        centre = you = from_wgs84(lat, lng, crs)
        zoom = 14
    config = {
        "center": centre,
        "zoom": zoom,
        "you": you,
        "bounds": bounds,
        "tileUrl": settings.YIZHAN_TILE_URL,
        "basemapUrl": static("locator/basemap/"),
        "attribution": settings.YIZHAN_TILE_ATTRIBUTION,
        "crs": crs,
        "dataUrl": "/map/stations.json",
        "filters": {k: v for k, v in filters["query"].items() if k != "limit" and v},
    }
    context = {
        "config": config,
        "filters": filters,
        "facility_groups": _groups(facilities, filters["facilities"]),
        "themes": [
            {**t, "label": services.localised_entry(t), "checked": t["code"] in filters["themes"]}
            for t in themes
        ],
        "list_query": request.GET.urlencode(),
        "filters_active": filters["active"],
        "filter_names": _active_names(filters, facilities, themes),
    }
    return render(request, "locator/map.html", context)


@require_GET
def map_stations(request):
    """Markers inside the map's box (south, west, north, east in the tiles' CRS), with the
    page's filters: {"markers": [[code, name, lat, lng, open], ...], "total": n}."""
    idx = services.index()
    crs = _tile_crs()
    try:
        box = [float(request.GET[k]) for k in ("south", "west", "north", "east")]
    except (KeyError, ValueError):
        return JsonResponse({"detail": _("Give south, west, north and east as numbers.")}, status=422)
    if not all(abs(v) < 400 for v in box):
        return JsonResponse({"detail": _("Give south, west, north and east as numbers.")}, status=422)
    south, west = to_wgs84(max(box[0], -89.9), box[1], crs) if crs != "wgs84" else (box[0], box[1])
    north, east = to_wgs84(min(box[2], 89.9), box[3], crs) if crs != "wgs84" else (box[2], box[3])
    filters = _filters(request, idx)["query"]
    try:
        query = services.clean_nearby({**filters, "lat": "35", "lng": "105"}, catalogue=idx.catalogue)
    except ValidationError as exc:
        return JsonResponse({"detail": {k: v[0] for k, v in exc.message_dict.items()}}, status=422)
    rows, total = idx.in_box(
        south,
        west,
        north,
        east,
        facilities=idx.catalogue.facility_mask(query.facilities) if query.facilities else None,
        themes=idx.catalogue.theme_mask(query.themes) if query.themes else 0,
        open_at=query.at if query.open_now else None,
    )
    open_flags = idx.open_rows(rows, query.at).tolist()
    english = request.LANGUAGE_CODE.startswith("en")
    markers = []
    for row, is_open in zip(rows.tolist(), open_flags, strict=True):
        lat, lng = from_wgs84(float(idx.lat[row]), float(idx.lng[row]), crs)
        name = (english and idx.text("name_en", row)) or idx.text("name", row)
        markers.append([idx.text("code", row), name, round(lat, 6), round(lng, 6), bool(is_open)])
    if idx.mobile is not None and idx.mobile.n_visits:
        # Mobile stations where they are now or later today, named with their visit.
        for visit in idx.mobile.in_box(
            query.at,
            south,
            west,
            north,
            east,
            idx.catalogue.facility_mask(query.facilities) if query.facilities else None,
            idx.catalogue.theme_mask(query.themes) if query.themes else 0,
            query.open_now,
        ):
            found = services.mobile_result(idx, idx.n + visit, 0.0, query.at)
            lat, lng = from_wgs84(found.lat, found.lng, crs)
            label = f"{found.display_name} · {found.visit.text(query.at)}"
            markers.append([found.code, label, round(lat, 6), round(lng, 6), found.open])
            total += 1
    return JsonResponse({"markers": markers, "total": total})


@require_GET
def station(request, code: str):
    """A station's public page: facilities, this week's hours, notice, call, navigate, report."""
    found = services.public_station(code)
    if found is None:
        raise Http404
    try:
        at = services.clean_at(request.GET.get("at"))
    except ValidationError:
        at = None
    view = services.station_view(found, at)
    kind, text = view.badge
    visits = []
    if found.kind == "mobile":
        visits = services.next_visits(found, view.at)
        kind, text = services.mobile_badge(visits, view.at)
    context = {
        "view": view,
        "station": found,
        "badge_kind": kind,
        "badge": text,
        "sections": sections.for_station(found, request),
        "visits": visits,
        "share_url": _absolute(request, reverse("locator:station", args=[found.code])),
    }
    return render(request, "locator/station.html", context)


SERVICE_WORKER = Path(__file__).parent / "static" / "locator" / "sw.js"


@require_GET
def service_worker(request):
    """The service worker, from the root so that its scope is the whole public side."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request):
    """The web app manifest: "add to home screen" opens the list, in the visitor's language."""
    data = {
        "name": _("Worker stations near you"),
        "short_name": _("Yizhan"),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f6f43",
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": static("locator/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}
        ],
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


# --- sharing ----------------------------------------------------------------------------------


def _absolute(request, path: str) -> str:
    from yizhan.visits.posters import base_url

    return base_url(request) + path


@public_form
@require_POST
def share_list(request):
    """Make the short link of the list in the form (the list's own query), then show it with its
    QR code. A public write: rate-limited per address."""
    from yizhan.core import ratelimit

    usage = ratelimit.hit(
        request, "locator.share", ratelimit.address_key(request), share.SHARES_PER_HOUR, 3600
    )
    if usage.over:
        return ratelimit.too_many_requests(request, usage.retry_after)
    try:
        link = share.shorten(request.POST)
    except ValidationError as exc:
        return render(
            request,
            "locator/share.html",
            {"error": next(iter(exc.message_dict.values()))[0]},
            status=422,
        )
    response = redirect("locator:short_link_share", code=link.code)
    response.status_code = 303
    return response


def _link(code: str):
    from yizhan.locator.models import ShortLink

    link = ShortLink.objects.filter(code=code).first()
    if link is None:
        raise Http404
    return link


@require_GET
def short_link(request, code: str):
    return redirect(f"{reverse('locator:index')}?{_link(code).query}")


@require_GET
def short_link_share(request, code: str):
    link = _link(code)
    url = _absolute(request, reverse("locator:short_link", args=[link.code]))
    return render(
        request,
        "locator/share.html",
        {"url": url, "qr": reverse("locator:short_link_qr", args=[link.code]), "list": f"/?{link.query}"},
    )


def _svg(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def short_link_qr(request, code: str):
    link = _link(code)
    return _svg(share.qr_svg(_absolute(request, reverse("locator:short_link", args=[link.code]))))


@require_GET
def station_qr(request, code: str):
    found = services.public_station(code)
    if found is None:
        raise Http404
    return _svg(share.qr_svg(_absolute(request, reverse("locator:station", args=[found.code]))))
