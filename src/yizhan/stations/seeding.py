"""Idempotent seeding run after every `migrate` (and after the test runner's flushes): the facility
and theme catalogue, the version counters, and the holiday calendar for every year that
`chinesecalendar` covers and the table does not hold yet. Admin edits to a seeded year are kept:
a year is seeded once, when its HolidayYear row is missing."""

import datetime

from django.db import transaction

from yizhan.stations import catalogue

CHINESECALENDAR_SOURCE = "chinesecalendar"


def chinesecalendar_years() -> list[int]:
    from chinese_calendar.constants import holidays, workdays

    return sorted({d.year for d in holidays} | {d.year for d in workdays})


def chinesecalendar_days(year: int) -> list[tuple[datetime.date, str, str]]:
    """(date, "off"|"work", Chinese name) for one year of the package's arrangement."""
    from chinese_calendar.constants import Holiday, holidays, workdays

    chinese = {h.value: h.chinese for h in Holiday}
    out = [(d, "off", chinese.get(name, name)) for d, name in holidays.items() if d.year == year]
    out += [(d, "work", chinese.get(name, name)) for d, name in workdays.items() if d.year == year]
    return sorted(out)


def seed_catalogue() -> None:
    from yizhan.stations.models import Facility, Theme

    existing = {f.code: f for f in Facility.objects.all()}
    new, changed = [], []
    for order, (code, group, name, name_en, icon) in enumerate(catalogue.FACILITIES):
        values = {"group": group, "name": name, "name_en": name_en, "icon": icon, "sort_order": order}
        row = existing.get(code)
        if row is None:
            new.append(Facility(code=code, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed.append(row)
    Facility.objects.bulk_create(new)
    if changed:
        Facility.objects.bulk_update(changed, ["group", "name", "name_en", "icon", "sort_order"])

    themes = {t.code: t for t in Theme.objects.all()}
    for order, (code, name, name_en) in enumerate(catalogue.THEMES):
        row = themes.get(code)
        if row is None:
            Theme.objects.create(code=code, name=name, name_en=name_en, sort_order=order)
        elif (row.name, row.name_en, row.sort_order) != (name, name_en, order):
            Theme.objects.filter(pk=row.pk).update(name=name, name_en=name_en, sort_order=order)


def seed_standards() -> None:
    """The standards head office starts from; a (code, version) already present is left as edited."""
    from yizhan.stations.models import Facility, Standard, Theme

    facilities = {f.code: f for f in Facility.objects.all()}
    themes = {t.code: t for t in Theme.objects.all()}
    have = set(Standard.objects.values_list("code", "version"))
    for order, (code, version, name, name_en, facility_codes, theme) in enumerate(catalogue.STANDARDS):
        if (code, version) in have:
            continue
        standard = Standard.objects.create(
            code=code,
            version=version,
            name=name,
            name_en=name_en,
            theme=themes[theme] if theme else None,
            sort_order=order,
        )
        standard.facilities.set([facilities[c] for c in facility_codes])


def seed_versions() -> None:
    from yizhan.stations.models import DataVersion

    for name in ("stations", "calendar"):
        DataVersion.objects.get_or_create(name=name, defaults={"value": 1})


def seed_holidays() -> list[int]:
    """Seed the years the table lacks; returns the years added."""
    from yizhan.stations.models import HolidayDate, HolidayYear
    from yizhan.stations.services import bump

    have = set(HolidayYear.objects.values_list("year", flat=True))
    years = [y for y in chinesecalendar_years() if y not in have]
    if not years:
        return []
    taken = set(
        HolidayDate.objects.filter(date__year__gte=min(years), date__year__lte=max(years)).values_list(
            "date", flat=True
        )
    )
    rows = [
        HolidayDate(date=d, kind=kind, name=name)
        for year in years
        for d, kind, name in chinesecalendar_days(year)
        if d not in taken
    ]
    HolidayDate.objects.bulk_create(rows, batch_size=500)
    HolidayYear.objects.bulk_create([HolidayYear(year=y, source=CHINESECALENDAR_SOURCE) for y in years])
    bump("calendar")
    return years


def seed_all(**kwargs) -> None:
    with transaction.atomic():
        seed_versions()
        seed_catalogue()
        seed_standards()
        seed_holidays()
