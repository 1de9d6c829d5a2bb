"""Back-office pages for the station registry. They translate HTTP into service calls; every
object is fetched through the scoping chokepoint (outside the subtree 404, short role 403)."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.audit.services import events_for
from yizhan.core.concurrency import StaleEdit
from yizhan.core.forms import apply_errors, flash_errors
from yizhan.jobs.models import Job
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scoped, staff_view
from yizhan.stations import compliance, hours, imports, jobs, reports, services
from yizhan.stations.forms import (
    BulkFacilityForm,
    CloseForm,
    FacilitiesForm,
    HolidayForm,
    HolidayImportForm,
    HoursForm,
    ImportForm,
    StandardForm,
    StationForm,
    WaveForm,
)
from yizhan.stations.models import (
    Facility,
    FacilityState,
    HolidayDate,
    HolidayYear,
    RolloutWave,
    Standard,
    Station,
    StationFacility,
    StationStatus,
    Theme,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _calendar_warning() -> list[int]:
    return hours.missing_calendar_years()


def _download(data: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX if fmt == "xlsx" else CSV)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _filtered(request):
    """The station list's filters, shared by the page and its export."""
    stations = scoped(request.user, Station).select_related("unit")
    q = (request.GET.get("q") or "").strip()[:50]
    if q:
        stations = stations.filter(
            Q(code__iexact=q)
            | Q(code__istartswith=q)
            | Q(name__icontains=q)
            | Q(unit__pinyin__startswith=q.lower())
        )
    unit_code = (request.GET.get("unit") or "").strip()
    if unit_code:
        root = scoped(request.user, Unit).filter(code=unit_code).first()
        stations = stations.filter(unit__path__startswith=root.path) if root else stations.none()
    status = request.GET.get("status") or ""
    if status in StationStatus.values:
        stations = stations.filter(status=status)
    theme = request.GET.get("theme") or ""
    if theme:
        stations = stations.filter(themes__code=theme)
    lacking = request.GET.get("lacking") or ""
    if lacking:
        usable = StationFacility.objects.filter(
            facility__code=lacking, state=FacilityState.YES, out_of_order=False
        ).values("station_id")
        stations = stations.exclude(pk__in=usable)
    return stations.order_by("code"), {
        "q": q,
        "unit": unit_code,
        "status": status,
        "theme": theme,
        "lacking": lacking,
    }


@staff_view("read")
def station_list(request):
    stations, filters = _filtered(request)
    page = Paginator(stations, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "stations/station_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": StationStatus.choices,
            "themes": Theme.objects.all(),
            "facilities": Facility.objects.all(),
            "bulk_form": BulkFacilityForm() if request.scope.can("change") else None,
            "missing_years": _calendar_warning(),
            "query": request.GET.urlencode(),
        },
    )


@staff_view("read")
def station_export(request, fmt):
    stations, _filters = _filtered(request)
    stamp = timezone.localdate().isoformat()
    return _download(imports.export_stations(stations, fmt), f"stations-{stamp}", fmt)


@staff_view("read")
def import_template(request, fmt):
    return _download(imports.template_file(fmt), "stations-template", fmt)


def _station_context(request, station: Station) -> dict:
    calendar = hours.current_calendar()
    schedule = station.schedule()
    now = timezone.now()
    states = {r.facility_id: r for r in StationFacility.objects.filter(station=station)}
    groups: dict[str, list] = {}
    for facility in Facility.objects.all():
        groups.setdefault(facility.get_group_display(), []).append((facility, states.get(facility.pk)))
    week_start = timezone.localdate()
    week = [
        (day, hours.intervals_on(schedule, day, calendar), calendar.kind(day))
        for day in (week_start + datetime.timedelta(days=i) for i in range(7))
    ]
    return {
        "station": station,
        "groups": groups,
        "is_open": hours.open_at(schedule, now, calendar),
        "next_change": hours.next_change(schedule, now, calendar),
        "calendar_missing": hours.calendar_missing(schedule, timezone.localdate(), calendar),
        "week": [(d, [(hours.format_time(a), hours.format_time(b)) for a, b in iv], k) for d, iv, k in week],
        "hours_text": hours.describe_hours(station.opening_hours),
        "compliance": compliance.station_compliance(station),
        "events": events_for(request.user, station)[:10],
        "themes": list(station.themes.all()),
    }


@staff_view("read")
def station_detail(request, code):
    station = get_for_user(request.user, Station.objects.select_related("unit", "verified_by"), code=code)
    return render(request, "stations/station_detail.html", _station_context(request, station))


def _station_data(form: StationForm) -> dict:
    data = dict(form.cleaned_data)
    data["themes"] = list(data.get("themes") or [])
    return data


@staff_view("change")
def station_create(request):
    initial = {"unit": request.GET.get("unit", ""), "crs": "wgs84", "access_policy": "open"}
    if initial["unit"]:
        initial["code"] = initial["unit"]
    form = StationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            station = services.register_station(
                actor=request.user, scope=request.scope, **_station_data(form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Station registered."))
            return redirect("stations:detail", code=station.code)
    return render(request, "stations/station_form.html", {"form": form, "title": _("Register a station")})


@staff_view()
def station_edit(request, code):
    station = get_for_user(request.user, Station.objects.select_related("unit"), "change", code=code)
    initial = {
        "code": station.code,
        "name": station.name,
        "name_en": station.name_en,
        "unit": station.unit.code,
        "address": station.address,
        "lat": station.lat,
        "lng": station.lng,
        "crs": "wgs84",
        "phone": station.phone,
        "sign_installed_on": station.sign_installed_on,
        "themes": list(station.themes.values_list("code", flat=True)),
        "seats": station.seats,
        "access_policy": station.access_policy,
        "external_ids": "; ".join(f"{k}={v}" for k, v in (station.external_ids or {}).items()),
        "revision": station.revision,
    }
    form = StationForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = _station_data(form)
        data.pop("code", None)
        try:
            services.update_station(station, actor=request.user, scope=request.scope, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("stations:detail", code=station.code)
    return render(
        request, "stations/station_form.html", {"form": form, "station": station, "title": _("Edit station")}
    )


@staff_view()
def station_facilities(request, code):
    station = get_for_user(request.user, Station, "change", code=code)
    facilities = list(Facility.objects.all())
    rows = {r.facility_id: r for r in StationFacility.objects.filter(station=station)}
    initial = {"revision": station.revision}
    for f in facilities:
        row = rows.get(f.pk)
        if row:
            initial.update(
                {
                    f"{f.code}__state": row.state,
                    f"{f.code}__out_of_order": row.out_of_order,
                    f"{f.code}__out_of_order_since": row.out_of_order_since,
                    f"{f.code}__note": row.note,
                }
            )
    form = FacilitiesForm(request.POST or None, initial=initial, facilities=facilities)
    if request.method == "POST" and form.is_valid():
        changes = []
        for f in facilities:
            values = {
                part: form.cleaned_data[f"{f.code}__{part}"]
                for part in ("state", "out_of_order", "out_of_order_since", "note")
            }
            changes.append((f, values))
        try:
            services.set_facility_states(
                station, changes, actor=request.user, revision=form.cleaned_data["revision"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("stations:detail", code=station.code)
    return render(request, "stations/station_facilities.html", {"form": form, "station": station})


@staff_view()
def station_hours(request, code):
    station = get_for_user(request.user, Station, "change", code=code)
    initial = {**HoursForm.initial_for(station.opening_hours), "revision": station.revision}
    form = HoursForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_schedule(
                station, form.to_schedule(), actor=request.user, revision=form.cleaned_data["revision"]
            )
        except StaleEdit as exc:
            apply_errors(form, exc)
        except ValidationError as exc:
            for key, messages_ in exc.message_dict.items():
                for message in messages_:
                    form.add_error(HoursForm.field_for(key), message)
        else:
            messages.success(request, _("Opening hours saved."))
            return redirect("stations:detail", code=station.code)
    return render(
        request,
        "stations/station_hours.html",
        {"form": form, "station": station, "missing_years": _calendar_warning()},
    )


@staff_view()
def station_close(request, code):
    station = get_for_user(request.user, Station, "change", code=code)
    form = CloseForm(
        request.POST or None, initial={"public_notice": station.public_notice, "revision": station.revision}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.close_station(
                station,
                actor=request.user,
                notice=data["public_notice"],
                temporary=data["temporary"],
                reopens_on=data["reopens_on"],
                revision=data["revision"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Station closed."))
            return redirect("stations:detail", code=station.code)
    return render(request, "stations/station_close.html", {"form": form, "station": station})


@require_POST
@staff_view()
def station_reopen(request, code):
    station = get_for_user(request.user, Station, "change", code=code)
    services.reopen_station(station, actor=request.user)
    messages.success(request, _("Station reopened."))
    return redirect("stations:detail", code=station.code)


@require_POST
@staff_view()
def station_verify(request, code):
    station = get_for_user(request.user, Station, "change", code=code)
    services.verify_station(station, actor=request.user)
    messages.success(request, _("Recorded that you checked this station's data."))
    return redirect("stations:detail", code=station.code)


@require_POST
@staff_view("change")
def bulk_facility(request):
    form = BulkFacilityForm(request.POST)
    codes = request.POST.getlist("stations")[:2000]
    back = reverse("stations:list") + (
        "?" + request.POST.get("query", "") if request.POST.get("query") else ""
    )
    if not form.is_valid():
        flash_errors(request, form)
        return redirect(back)
    stations = list(scoped(request.user, Station).filter(code__in=codes))
    try:
        changed = services.bulk_set_facility(stations, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        flash_errors(request, exc, form)
    else:
        messages.success(
            request,
            _("%(facility)s set on %(n)s of %(total)s selected stations.")
            % {
                "facility": Facility.objects.get(code=form.cleaned_data["facility"]).display_name,
                "n": changed,
                "total": len(stations),
            },  # fmt: skip
        )
    return redirect(back)


# --- import ---------------------------------------------------------------------------------


@staff_view("change")
def station_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    token = ""
    if request.method == "POST" and request.POST.get("token"):
        # Commit a file that passed its dry run, without uploading it again.
        token = request.POST["token"]
        upload = jobs.load_upload(request.user, token)
        if upload is None:
            messages.error(request, _("That upload has expired; upload the file again."))
            return redirect("stations:import")
        return _run_import(request, upload[0], upload[1], dry_run=False, token=token)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        token = jobs.save_upload(request.user, upload.name, data)
        return _run_import(request, upload.name, data, dry_run=form.cleaned_data["dry_run"], token=token)
    return render(request, "stations/import.html", {"form": form, "result": result, "token": token})


def _run_import(request, name, data, *, dry_run, token):
    if len(data) > jobs.SYNC_LIMIT_BYTES:
        unit = Unit.objects.get(pk=request.scope.unit_id)
        job = jobs.start(request.user, unit, name, data, dry_run=dry_run, token=token)
        return redirect("stations:import_job", job=job.pk)
    result = imports.import_stations(name, data, actor=request.user, scope=request.scope, dry_run=dry_run)
    if result.committed:
        messages.success(
            request,
            _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % result.as_dict(),
        )
    return render(
        request,
        "stations/import.html",
        {"form": ImportForm(), "result": result.as_dict(), "token": token},
    )


@staff_view("change")
def import_job(request, job):
    job = get_for_user(request.user, Job, "read", pk=job, kind="station_import")
    return render(request, "stations/import_job.html", {"job": job, "result": job.result})


# --- reports and waves ---------------------------------------------------------------------------


@staff_view("read")
def report(request):
    code = request.GET.get("unit") or Unit.objects.get(pk=request.scope.unit_id).code
    root = get_for_user(request.user, Unit, code=code)
    data = reports.coverage_report(root, with_stations=root.is_outlet or root.children.count() == 0)
    waves = [
        reports.wave_progress(w)
        for w in scoped(request.user, RolloutWave).filter(unit__path__startswith=root.path)
    ]
    ancestors = [a for a in root.ancestors() if request.scope.covers(a.path)]
    # A themed standard with no station of its theme in the subtree would only add empty columns.
    rules = [r for r in data.rules if data.totals.per_standard.get(r.id, (0, 0))[0]]
    return render(
        request,
        "stations/report.html",
        {
            "report": data,
            "rules": rules,
            "rows": [(row, row.standard_cells(rules)) for row in data.rows],
            "totals_cells": [
                (rule, *cell) for rule, cell in zip(rules, data.totals.standard_cells(rules), strict=True)
            ],
            "waves": waves,
            "ancestors": ancestors,
            "root": root,
        },
    )


@staff_view("read")
def report_export(request):
    code = request.GET.get("unit") or Unit.objects.get(pk=request.scope.unit_id).code
    root = get_for_user(request.user, Unit, code=code)
    data = reports.coverage_report(root, with_stations=True)
    waves = [
        reports.wave_progress(w)
        for w in scoped(request.user, RolloutWave).filter(unit__path__startswith=root.path)
    ]
    return _download(reports.report_workbook(data, waves), f"station-report-{root.code}", "xlsx")


@staff_view("read")
def wave_list(request):
    waves = [
        reports.wave_progress(w, pending_limit=0)
        for w in scoped(request.user, RolloutWave).select_related("unit", "standard")
    ]
    return render(request, "stations/wave_list.html", {"waves": waves})


@staff_view("read")
def wave_detail(request, pk):
    wave = get_for_user(request.user, RolloutWave.objects.select_related("unit", "standard"), pk=pk)
    return render(request, "stations/wave_detail.html", {"p": reports.wave_progress(wave, pending_limit=200)})


def _wave_save(request, form, instance=None):
    data = dict(form.cleaned_data)
    unit = scoped(request.user, Unit).filter(code=data.pop("unit")).first()
    if unit is None:
        form.add_error("unit", _("No unit with this code in your part of the network."))
        return None
    data["outlets"] = "all" if data.pop("all_outlets") else data["outlets"]
    try:
        return services.save_wave(actor=request.user, unit=unit, instance=instance, **data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return None


@staff_view("admin")
def wave_create(request):
    form = WaveForm(request.POST or None, initial={"unit": Unit.objects.get(pk=request.scope.unit_id).code})
    if request.method == "POST" and form.is_valid():
        wave = _wave_save(request, form)
        if wave:
            messages.success(request, _("Roll-out wave saved."))
            return redirect("stations:wave_detail", pk=wave.pk)
    return render(request, "stations/wave_form.html", {"form": form, "title": _("New roll-out wave")})


@staff_view()
def wave_edit(request, pk):
    wave = get_for_user(request.user, RolloutWave.objects.select_related("unit"), "admin", pk=pk)
    initial = {
        "name": wave.name,
        "name_en": wave.name_en,
        "unit": wave.unit.code,
        "standard": wave.standard_id,
        "target_date": wave.target_date,
        "outlets": " ".join(wave.outlets.order_by("code").values_list("code", flat=True)),
        "note": wave.note,
        "revision": wave.revision,
    }
    form = WaveForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        saved = _wave_save(request, form, instance=wave)
        if saved:
            messages.success(request, _("Roll-out wave saved."))
            return redirect("stations:wave_detail", pk=wave.pk)
    return render(
        request, "stations/wave_form.html", {"form": form, "title": _("Edit roll-out wave"), "wave": wave}
    )


# --- standards -------------------------------------------------------------------------------------


@staff_view("read")
def standard_list(request):
    standards = Standard.objects.select_related("theme").prefetch_related("facilities")
    current = set(Standard.objects.current().values_list("pk", flat=True))
    return render(request, "stations/standard_list.html", {"standards": standards, "current": current})


def _standard_form_view(request, instance=None):
    initial = {}
    if instance is not None:
        initial = {
            "code": instance.code,
            "version": instance.version,
            "name": instance.name,
            "name_en": instance.name_en,
            "theme": instance.theme.code if instance.theme else "",
            "facilities": list(instance.facilities.values_list("code", flat=True)),
            "is_active": instance.is_active,
            "revision": instance.revision,
        }
    elif request.GET.get("from"):
        base = (
            Standard.objects.filter(pk=request.GET["from"]).first() if request.GET["from"].isdigit() else None
        )
        if base:
            initial = {
                "code": base.code,
                "name": base.name,
                "name_en": base.name_en,
                "theme": base.theme.code if base.theme else "",
                "facilities": list(base.facilities.values_list("code", flat=True)),
                "is_active": True,
            }
    form = StandardForm(request.POST or None, initial=initial, editing=instance is not None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_standard(actor=request.user, instance=instance, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Standard saved."))
            return redirect("stations:standards")
    title = _("Edit standard") if instance else _("New standard or version")
    return render(request, "stations/standard_form.html", {"form": form, "title": title})


@staff_view("hq_admin")
def standard_create(request):
    return _standard_form_view(request)


@staff_view("hq_admin")
def standard_edit(request, pk):
    standard = Standard.objects.filter(pk=pk).first()
    if standard is None:
        raise Http404
    return _standard_form_view(request, standard)


# --- the holiday calendar ------------------------------------------------------------------------


@staff_view("read")
def holiday_list(request):
    years = HolidayYear.objects.all().order_by("-year")
    counts: dict[int, dict[str, int]] = {}
    for day, kind in HolidayDate.objects.values_list("date", "kind"):
        counts.setdefault(day.year, {"off": 0, "work": 0})[kind] += 1
    rows = [(y, counts.get(y.year, {"off": 0, "work": 0})) for y in years]
    return render(
        request,
        "stations/holiday_list.html",
        {
            "rows": rows,
            "missing_years": _calendar_warning(),
            "import_form": HolidayImportForm() if request.scope.can("hq_admin") else None,
        },
    )


@staff_view("read")
def holiday_year(request, year):
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:  # /holidays/0/ is no calendar year
        raise Http404
    form = None
    if request.scope.can("hq_admin"):
        form = HolidayForm(request.POST or None, initial={"date": datetime.date(year, 1, 1)})
        if request.method == "POST":
            if request.POST.get("remove"):
                try:
                    services.remove_holiday(
                        datetime.date.fromisoformat(request.POST["remove"]), actor=request.user
                    )
                except (ValueError, ValidationError):
                    messages.error(request, _("That date is not in the calendar."))
                else:
                    messages.success(request, _("Removed."))
                return redirect("stations:holiday_year", year=year)
            if form.is_valid():
                try:
                    services.set_holiday(actor=request.user, **form.cleaned_data)
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("Saved."))
                    return redirect("stations:holiday_year", year=year)
    elif request.method == "POST":
        raise PermissionDenied
    days = HolidayDate.objects.filter(date__year=year).order_by("date")
    covered = HolidayYear.objects.filter(year=year).first()
    return render(
        request, "stations/holiday_year.html", {"year": year, "days": days, "covered": covered, "form": form}
    )


@require_POST
@staff_view("hq_admin")
def holiday_import(request):
    form = HolidayImportForm(request.POST, request.FILES)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("stations:holidays")
    year = form.cleaned_data["year"]
    upload = form.cleaned_data["file"]
    unit = Unit.objects.get(pk=request.scope.unit_id)
    if upload is None:
        job = jobs.start_holiday_import(request.user, unit, year)
    else:
        job = jobs.start_holiday_import(request.user, unit, year, name=upload.name, data=upload.read())
    return redirect("stations:holiday_import_job", job=job.pk)


@staff_view("hq_admin")
def holiday_import_job(request, job):
    job = get_for_user(request.user, Job, "read", pk=job, kind="holiday_import")
    return render(request, "stations/holiday_import_job.html", {"job": job, "year": job.params["year"]})
