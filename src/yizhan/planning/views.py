"""Back office: coverage gaps and which outlets to equip next (admins of a city and above)."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yizhan.core.crossorigin import public_form
from yizhan.core.forms import apply_errors, flash_errors, submit
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.planning import services
from yizhan.planning.forms import RemoveForm, SiteForm, WaveFromPlanForm
from yizhan.planning.models import DemandPoint, DemandSource


def _unit(request) -> Unit:
    code = request.GET.get("unit") or request.POST.get("unit")
    if code:
        return get_for_user(request.user, Unit, code=code)
    return Unit.objects.get(pk=request.scope.unit_id)


@staff_view("admin")
def index(request):
    services.require_planner(request.user)
    unit = _unit(request)
    errors: dict[str, str] = {}
    try:
        radius = services.clean_radius(request.GET.get("radius"))
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        radius = services.DEFAULT_RADIUS
    weak = request.GET.get("weak") == "1"
    weak_ids = services.weak_stations() if weak else frozenset()
    gaps = services.gaps(unit, radius, weak=weak_ids, limit=MAP_CELLS)
    plan = wave_form = None
    k_text = request.GET.get("k", "").strip()
    if k_text and not errors:
        try:
            plan = services.plan(unit, k=k_text, radius=radius, weak=weak)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        else:
            wave_form = WaveFromPlanForm(
                initial={
                    "unit": unit.code,
                    "outlets": " ".join(u.code for u in plan.outlets),
                    "name": _("Next %(k)s outlets, %(unit)s") % {"k": plan.k, "unit": unit.display_name},
                }
            )
    sites = scoped(request.user, DemandPoint).filter(
        source=DemandSource.SITE, unit__path__startswith=unit.path
    )
    context = {
        "unit": unit,
        "radius": radius,
        "map_config": _map_config(gaps, plan),
        "table_cells": gaps.cells[:TABLE_CELLS],
        "k": k_text,
        "errors": errors,
        "gaps": gaps,
        "plan": plan,
        "rows": list(zip(plan.outlets, plan.covered, strict=True)) if plan else [],
        "wave_form": wave_form,
        "sites": sites.select_related("unit")[:100],
        "site_form": SiteForm(initial={"unit": unit.code}),
        "radius_choices": services.RADIUS_CHOICES,
        "candidates": len(services.candidates(unit, weak_ids)),
        "weak": weak,
    }
    return render(request, "planning/index.html", context)


# The map shows more of the uncovered demand than the table lists.
MAP_CELLS, TABLE_CELLS = 500, 50


def _map_config(gaps, plan) -> dict:
    """The gap map's data, in the tiles' coordinate system (as the public map: GCJ-02 for Amap /
    Tencent tiles, else WGS-84 on the vendored outlines)."""
    from django.conf import settings
    from django.templatetags.static import static

    from yizhan.core.geo import from_wgs84
    from yizhan.locator.views import _tile_crs

    crs = _tile_crs()

    def point(lat, lng):
        return [round(v, 6) for v in from_wgs84(lat, lng, crs)]

    return {
        "tileUrl": settings.YIZHAN_TILE_URL,
        "attribution": settings.YIZHAN_TILE_ATTRIBUTION,
        "basemapUrl": static("locator/basemap/"),
        "iconPath": static("vendor/leaflet/images/"),
        "radius": gaps.radius,
        "cells": [[*point(c["lat"], c["lng"]), c["weight"], c["nearest_m"]] for c in gaps.cells],
        "outlets": [
            [*point(u.lat, u.lng), u.display_name, round(covered)]
            for u, covered in (zip(plan.outlets, plan.covered, strict=True) if plan else [])
        ],
        "list": reverse("locator:index"),
    }


@require_POST
@staff_view("admin")
def make_wave(request):
    services.require_planner(request.user)
    unit = _unit(request)
    form = WaveFromPlanForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            wave = services.plan_to_wave(
                actor=request.user,
                unit=unit,
                outlets=data["outlets"],
                name=data["name"],
                standard=data["standard"],
                target_date=data["target_date"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The plan is a roll-out wave now."))
            return redirect("stations:wave_detail", pk=wave.pk)
    flash_errors(request, form)
    return redirect(f"{reverse('planning:index')}?unit={unit.code}")


@staff_view("admin")
def site_create(request):
    services.require_planner(request.user)
    form = SiteForm(request.POST or None, initial={"unit": Unit.objects.get(pk=request.scope.unit_id).code})
    if request.method == "POST" and form.is_valid():
        try:
            site = services.add_site(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is marked as a worker site.") % {"name": site.name})
            return redirect(f"{reverse('planning:index')}?unit={site.unit.code}")
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": _("Mark a worker site"), "cancel_url": reverse("planning:index")},
    )


@require_POST
@staff_view("admin")
def site_delete(request, pk):
    services.require_planner(request.user)
    site = get_for_user(request.user, DemandPoint.objects.filter(source=DemandSource.SITE), "admin", pk=pk)
    done = _("%(name)s is no longer a worker site.") % {"name": site.name}
    submit(request, RemoveForm(request.POST), partial(services.remove_site, site, actor=request.user), done)
    return redirect("planning:index")


# --- public: "no station here" -------------------------------------------------------------------

REPORTS_PER_HOUR = 5


@public_form
@require_POST
def no_station(request):
    """A visitor says they need a station where they are (the list's point): counted as demand,
    rounded, nothing else. Rate-limited per address."""
    from yizhan.core import ratelimit

    usage = ratelimit.hit(request, "planning.report", ratelimit.address_key(request), REPORTS_PER_HOUR, 3600)
    if usage.over:
        return ratelimit.too_many_requests(request, usage.retry_after)
    try:
        counted = services.report_no_station(
            request.POST.get("lat"), request.POST.get("lng"), request.POST.get("crs")
        )
    except ValidationError as exc:
        return render(
            request,
            "planning/no_station.html",
            {"error": next(iter(exc.message_dict.values()))[0]},
            status=422,
        )
    return render(
        request, "planning/no_station.html", {"counted": counted, "back": request.POST.get("back", "")}
    )


@require_GET
def no_station_queued(request):
    """What the offline page says when "no station here" was tapped with no network: the service
    worker keeps a copy of this page and shows it while the report waits in the phone's queue."""
    return render(request, "planning/no_station.html", {"queued": True})
