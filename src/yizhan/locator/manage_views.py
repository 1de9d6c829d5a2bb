"""Back office of the gazetteer: list, add, edit, remove and import places. Scoped: staff see the
places of the cities in their part of the network; only admins change them."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core.forms import apply_errors, flash_errors, submit
from yizhan.locator import places
from yizhan.locator.forms import DeleteForm, PlaceForm, PlaceImportForm
from yizhan.locator.models import Place
from yizhan.orgs.scoping import get_for_user, scoped, staff_view


@staff_view("read")
def place_list(request):
    rows = scoped(request.user, Place).select_related("unit")
    cities = list(places.city_units(request.scope).order_by("path"))
    city = request.GET.get("city", "")
    if city:
        rows = rows.filter(unit__code=city)
    text = request.GET.get("q", "").strip()[:60]
    if text:
        rows = rows.filter(
            Q(name__icontains=text) | Q(aliases__icontains=text) | Q(pinyin__icontains=text.lower())
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "locator/manage/place_list.html",
        {"page": page, "cities": cities, "city": city, "q": text, "import_form": PlaceImportForm()},
    )


def _form_data(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("revision", None)
    return data


@staff_view("admin")
def place_create(request):
    cities = places.city_units(request.scope).order_by("path")
    form = PlaceForm(request.POST or None, cities=cities)
    if request.method == "POST" and form.is_valid():
        try:
            place = places.create_place(actor=request.user, **_form_data(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is in the gazetteer.") % {"name": place.name})
            return redirect("locator:places")
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": _("Add a place"), "cancel_url": reverse("locator:places")},
    )


@staff_view()
def place_edit(request, pk):
    place = get_for_user(request.user, Place.objects.select_related("unit"), "admin", pk=pk)
    initial = {
        "city": place.unit.code,
        "name": place.name,
        "aliases": place.aliases,
        "kind": place.kind,
        "lat": f"{place.lat:.6f}",
        "lng": f"{place.lng:.6f}",
        "crs": "wgs84",
        "revision": place.revision,
    }
    cities = places.city_units(request.scope).order_by("path")
    form = PlaceForm(request.POST or None, initial=initial, cities=cities, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            places.update_place(
                place, actor=request.user, revision=form.cleaned_data["revision"], **_form_data(form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": form.cleaned_data["name"]})
            return redirect("locator:places")
    return render(
        request,
        "locator/manage/place_form.html",
        {"form": form, "title": _("Edit place"), "place": place, "delete_form": DeleteForm(initial=initial)},
    )


@require_POST
@staff_view()
def place_delete(request, pk):
    place = get_for_user(request.user, Place, "admin", pk=pk)
    done = _("%(name)s is removed from the gazetteer.") % {"name": place.name}
    if submit(
        request, DeleteForm(request.POST), partial(places.delete_place, place, actor=request.user), done
    ):
        return redirect("locator:places")
    return redirect("locator:place_edit", pk=place.pk)


@require_POST
@staff_view("admin")
def place_import(request):
    form = PlaceImportForm(request.POST, request.FILES)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("locator:places")
    upload = form.cleaned_data["file"]
    try:
        counts = places.import_places(places.place_rows(upload.name, upload.read()), actor=request.user)
    except ValidationError as exc:
        problems = places.describe_errors(exc)
        messages.error(request, _("Nothing was imported: %(n)s problems.") % {"n": len(problems)})
        for message in problems[:50]:
            messages.error(request, message)
        return redirect("locator:places")
    messages.success(
        request,
        _("Imported: %(created)s new places, %(updated)s changed, %(unchanged)s unchanged.") % counts,
    )
    return redirect("locator:places")


# --- busy now ---------------------------------------------------------------------------------------


@staff_view("read")
def busy_board(request):
    """The stations in scope by how busy they are now, the busiest first; staff of a station can
    mark it full for an hour."""
    from yizhan.locator import busy
    from yizhan.stations.models import Station

    stations = list(
        scoped(request.user, Station.objects.public())
        .filter(status="active")
        .order_by("code")
        .only("pk", "code", "name", "name_en")
    )
    levels = busy.busy_now([s.pk for s in stations])
    order = {busy.CROWDED: 0, busy.BUSY_LEVEL: 1, busy.QUIET: 2}
    rows = sorted(
        ((s, levels[s.pk]) for s in stations),
        key=lambda pair: (order[pair[1].level], -pair[1].recent, pair[0].code),
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "locator/manage/busy_board.html", {"page": page})


@require_POST
@staff_view()
def busy_full(request, code, action):
    from django.http import Http404

    from yizhan.locator import busy
    from yizhan.stations.models import Station

    if action not in ("full", "clear"):
        raise Http404
    station = get_for_user(request.user, Station.objects.public(), "change", code=code)
    if action == "full":
        mark = busy.mark_full(station, actor=request.user)
        messages.success(
            request,
            _("%(name)s shows as full until %(time)s.")
            % {"name": station.display_name, "time": timezone.localtime(mark.until).strftime("%H:%M")},
        )
    elif busy.clear_full(station, actor=request.user):
        messages.success(request, _("%(name)s no longer shows as full.") % {"name": station.display_name})
    return redirect("locator:busy")
