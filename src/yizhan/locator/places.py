"""The gazetteer's write path: one set of rules (`clean_place`) for the back-office form, the API
and the csv/xlsx import; each verb runs in one transaction, writes its audit event and moves the
"places" data version on, which every process's search index follows (`locator.gazetteer`).

Admins keep the places of the cities in their scope: a city admin its city, a provincial admin
its cities, head office all of them. A city outside the scope reads as unknown.
"""

import math
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, record_many, snapshot
from yizhan.core import concurrency
from yizhan.core.geo import CRS_CHOICES, haversine_m, parse_point
from yizhan.locator.models import Place, PlaceKind
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import Scope, scope_for

PLACE_FIELDS = ["unit_id", "name", "aliases", "kind", "lat", "lng"]
NAME_MAX = 60
ALIASES_MAX = 300
# Two places of one name closer than this are one place entered twice.
SAME_PLACE_M = 100
MAX_IMPORT_ROWS = 50_000
_ALIAS_SPLIT = re.compile(r"[,，;；、/|]+")
KIND_WORDS = {
    **{kind.value: kind.value for kind in PlaceKind},
    "地标": "landmark",
    "商圈": "landmark",
    "车站": "station",
    "火车站": "station",
    "汽车站": "station",
    "地铁站": "metro",
    "地铁": "metro",
    "医院": "hospital",
    "市场": "market",
    "商业街": "market",
    "物流园": "logistics",
    "物流园区": "logistics",
    "其他": "other",
}


def split_aliases(text: str) -> list[str]:
    return [part.strip() for part in _ALIAS_SPLIT.split(text or "") if part.strip()]


def normalise(text: str) -> str:
    """What the search compares: full-width folded (ＳＸＧＣ -> sxgc), lower case, no spaces or
    punctuation (解放碑·步行街 -> 解放碑步行街)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if ch.isalnum())


def pinyin_keys(names: list[str]) -> str:
    """Initials and full pinyin of each name, space-separated: 解放碑 -> "jfb jiefangbei"."""
    from pypinyin import Style, lazy_pinyin

    keys: list[str] = []
    for name in names:
        if normalise(name).isascii():
            continue  # a Latin alias is its own key already
        full = normalise("".join(lazy_pinyin(name, errors="ignore")))
        initials = normalise("".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")))
        keys += [k for k in (initials, full) if k and k not in keys]
    return " ".join(keys)[:1000]


# --- cities ---------------------------------------------------------------------------------------


def city_units(scope: Scope | None = None):
    """Units that keep a gazetteer: provincial and city branches (Chongqing and Shenzhen are
    provincial branches with no city tier), within the scope when one is given."""
    units = Unit.objects.filter(kind__in=[UnitKind.PROVINCE, UnitKind.CITY], closed_on__isnull=True)
    if scope is not None:
        units = units.filter(path__startswith=scope.path) if scope.is_staff else units.none()
    return units


def _city_names(unit: Unit) -> set[str]:
    from yizhan.locator.services import _city_name

    names = {unit.code.lower(), unit.name, unit.name_en.lower()} - {""}
    short = _city_name(unit.name, "市分行", "省分行", "分行")
    return names | {
        short,
        short + "市",
        short + "省",
        _city_name(unit.name_en, " City Branch", " Branch").lower(),
    }


def city_lookup(scope: Scope) -> dict[str, Unit]:
    """What an import's city column may say (code, branch name, city name: CQ, 重庆市分行, 重庆,
    重庆市) -> the unit, for the cities in the scope; a name two units share is left out."""
    found: dict[str, Unit] = {}
    shared: set[str] = set()
    for unit in city_units(scope).order_by("path"):
        for name in _city_names(unit):
            if name in found and found[name] != unit:
                shared.add(name)
            found[name] = unit
    for name in shared - {u.code.lower() for u in found.values()}:
        found.pop(name, None)
    return found


# --- validation -------------------------------------------------------------------------------------


def clean_place(data: dict, *, scope: Scope, cities: dict[str, Unit] | None = None) -> dict:
    """{unit, name, aliases, kind, lat, lng} from a form, an API body or an import row (city by
    code or name, kind by code or its Chinese word, position in wgs84 / gcj02 / bd09). Every
    error names its field."""
    errors: dict[str, str] = {}
    out: dict = {}
    city = data.get("city")
    if isinstance(city, Unit):
        unit = city if city_units(scope).filter(pk=city.pk).exists() else None
    else:
        text = str(city or "").strip()
        lookup = cities if cities is not None else city_lookup(scope)
        unit = lookup.get(text.lower()) or lookup.get(text)
        if not text:
            errors["city"] = _("This field is required.")
    if unit is None and "city" not in errors:
        errors["city"] = _(
            "Unknown city; give the code or name of a city branch in your part of the network."
        )
    out["unit"] = unit

    name = unicodedata.normalize("NFKC", str(data.get("name") or "")).strip()
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("At most %(n)s characters.") % {"n": NAME_MAX}
    elif not normalise(name):
        errors["name"] = _("A name needs at least one letter, digit or Chinese character.")
    out["name"] = name

    aliases = list(dict.fromkeys(a for a in split_aliases(str(data.get("aliases") or "")) if a != name))
    out["aliases"] = "、".join(aliases)
    if len(out["aliases"]) > ALIASES_MAX:
        errors["aliases"] = _("At most %(n)s characters.") % {"n": ALIASES_MAX}

    kind = str(data.get("kind") or "").strip().lower() or PlaceKind.LANDMARK
    out["kind"] = KIND_WORDS.get(kind, "")
    if not out["kind"]:
        errors["kind"] = _("Unknown kind; use one of: %(kinds)s.") % {
            "kinds": "、".join(str(k.label) for k in PlaceKind)
        }

    crs = str(data.get("crs") or "wgs84").strip().lower()
    if crs not in CRS_CHOICES:
        errors["crs"] = _("Unknown coordinate system; use wgs84, gcj02 or bd09.")
    else:
        try:
            out["lat"], out["lng"] = parse_point(data.get("lat"), data.get("lng"), crs)
        except ValidationError as exc:
            errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    out["lat"], out["lng"] = round(out["lat"], 6), round(out["lng"], 6)
    return out


def _same_place(values: dict, exclude_pk: int | None = None) -> Place | None:
    """A place of the same city and name within SAME_PLACE_M of the position, if there is one."""
    # ~0.002° is over 100 m at any latitude in China: a cheap box before the exact distance.
    box = 0.002 / max(math.cos(math.radians(values["lat"])), 0.1)
    nearby = Place.objects.filter(
        unit=values["unit"],
        name=values["name"],
        lat__range=(values["lat"] - 0.002, values["lat"] + 0.002),
        lng__range=(values["lng"] - box, values["lng"] + box),
    ).exclude(pk=exclude_pk)
    return next(
        (p for p in nearby if haversine_m(p.lat, p.lng, values["lat"], values["lng"]) < SAME_PLACE_M), None
    )


def _duplicate_error(other: Place) -> ValidationError:
    return ValidationError(
        {
            "name": _("%(name)s is already in the gazetteer within %(m)s m of this position.")
            % {"name": other.name, "m": SAME_PLACE_M}
        }
    )


def _admin_scope(actor) -> Scope:
    """The actor's scope, which must be an admin's; None (the demo, the command line) acts for
    head office."""
    if actor is None:
        root = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
        return Scope(None, root.pk, root.path, "admin", 0)
    scope = scope_for(actor) if not isinstance(actor, Scope) else actor
    if not scope.can("admin"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return scope


def _written() -> None:
    from yizhan.locator import gazetteer
    from yizhan.stations.services import bump

    bump("places")
    transaction.on_commit(gazetteer.mark_stale)


def _apply(place: Place, values: dict) -> None:
    for key, value in values.items():
        setattr(place, key, value)
    place.pinyin = pinyin_keys([place.name, *split_aliases(place.aliases)])
    place.updated_at = timezone.now()


# --- verbs ------------------------------------------------------------------------------------------


@transaction.atomic
def create_place(*, actor, **data) -> Place:
    scope = _admin_scope(actor)
    values = clean_place(data, scope=scope)
    other = _same_place(values)
    if other is not None:
        raise _duplicate_error(other)
    place = Place()
    _apply(place, values)
    place.save()
    _written()
    record(
        "place.created", place, actor=actor, unit=place.unit, changes=diff({}, snapshot(place, PLACE_FIELDS))
    )
    return place


@transaction.atomic
def update_place(place: Place, *, actor, revision=None, **data) -> Place:
    """Change a place; `revision` is the one the edit was based on (a stale edit is refused)."""
    scope = _admin_scope(actor)
    place = Place.objects.select_for_update().get(pk=place.pk)
    concurrency.check(place, revision, actor=actor)
    values = clean_place(data, scope=scope)
    other = _same_place(values, exclude_pk=place.pk)
    if other is not None:
        raise _duplicate_error(other)
    before = snapshot(place, PLACE_FIELDS)
    _apply(place, values)
    changes = diff(before, snapshot(place, PLACE_FIELDS))
    if not changes:
        return place
    concurrency.advance(place, changes, actor=actor)
    place.save()
    _written()
    record("place.updated", place, actor=actor, unit=place.unit, changes=changes)
    return place


@transaction.atomic
def delete_place(place: Place, *, actor, revision=None) -> None:
    _admin_scope(actor)
    place = Place.objects.select_for_update().get(pk=place.pk)
    concurrency.check(place, revision, actor=actor)
    record(
        "place.deleted",
        place,
        actor=actor,
        unit=place.unit,
        changes=diff(snapshot(place, PLACE_FIELDS), {}),
        object_repr=place.name,
    )
    place.delete()
    _written()


# --- import -----------------------------------------------------------------------------------------

HEADERS = {
    "城市": "city",
    "city": "city",
    "名称": "name",
    "name": "name",
    "别名": "aliases",
    "aliases": "aliases",
    "类型": "kind",
    "kind": "kind",
    "纬度": "lat",
    "lat": "lat",
    "latitude": "lat",
    "经度": "lng",
    "lng": "lng",
    "longitude": "lng",
    "坐标系": "crs",
    "crs": "crs",
}
REQUIRED_COLUMNS = ("city", "name", "lat", "lng")
_ROW_KEY = re.compile(r"^row (\d+): (\w+)$")


def field_labels() -> dict:
    return {
        "city": _("city"),
        "name": _("name"),
        "aliases": _("other names"),
        "kind": _("kind"),
        "lat": _("latitude"),
        "lng": _("longitude"),
        "crs": _("coordinate system"),
        "file": _("file"),
    }


def describe_errors(exc: ValidationError) -> list[str]:
    """An import's errors as people read them: "第 3 行 纬度：…" (the keys stay "row 3: lat")."""
    labels = field_labels()
    out = []
    for key, texts in exc.message_dict.items():
        match = _ROW_KEY.match(key)
        if match:
            where = _("row %(row)s, %(field)s") % {"row": match[1], "field": labels.get(match[2], match[2])}
        else:
            where = str(labels.get(key, key))
        out.append(_("%(where)s: %(message)s") % {"where": where, "message": texts[0]})
    return out


TEMPLATE_HEADERS = ["城市", "名称", "别名", "类型", "纬度", "经度", "坐标系"]


def place_rows(name: str, data: bytes) -> list[tuple[int, dict]]:
    """(row number, {city, name, aliases, kind, lat, lng, crs}) from an uploaded csv or xlsx."""
    from yizhan.core.filereader import FileRefused, read_table

    try:
        table = read_table(name, data, max_rows=MAX_IMPORT_ROWS)
    except FileRefused as exc:
        where = _("row %(row)s: ") % {"row": exc.row} if exc.row else ""
        raise ValidationError({"file": where + exc.message}) from exc
    keys = [HEADERS.get(h.strip().lower()) for h in table.headers]
    missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    if missing:
        raise ValidationError({"file": _("The file needs the columns 城市, 名称, 纬度 and 经度.")})
    return [
        (number, {key: cells[i] if i < len(cells) else "" for i, key in enumerate(keys) if key})
        for number, cells in table.rows
    ]


@transaction.atomic
def import_places(rows: list[tuple[int, dict]], *, actor) -> dict:
    """Add or update places from import rows, all or nothing: every error names its row and field.
    A row whose city and name match a place within SAME_PLACE_M updates it; two rows of one name
    at one position are refused. Returns {"created": n, "updated": n, "unchanged": n}."""
    scope = _admin_scope(actor)
    cities = city_lookup(scope)
    errors: dict[str, str] = {}
    good: list[tuple[int, dict]] = []
    for number, data in rows:
        try:
            good.append((number, clean_place(data, scope=scope, cities=cities)))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"row {number}: {field}"] = messages[0]
    if not rows:
        errors["file"] = _("The file lists no places.")
    # Duplicates inside the file: the same city and name within SAME_PLACE_M.
    seen: dict[tuple, list[tuple[int, float, float]]] = {}
    for number, values in good:
        key = (values["unit"].pk, values["name"])
        for first, lat, lng in seen.get(key, []):
            if haversine_m(lat, lng, values["lat"], values["lng"]) < SAME_PLACE_M:
                errors[f"row {number}: name"] = _(
                    "%(name)s at this position is already in row %(first)s."
                ) % {"name": values["name"], "first": first}
                break
        seen.setdefault(key, []).append((number, values["lat"], values["lng"]))
    if errors:
        raise ValidationError(errors)

    existing: dict[tuple, list[Place]] = {}
    units = {values["unit"].pk for _n, values in good}
    names = {values["name"] for _n, values in good}
    for place in Place.objects.select_for_update().filter(unit_id__in=units, name__in=names):
        existing.setdefault((place.unit_id, place.name), []).append(place)
    created, updated, events, unchanged = [], [], [], 0
    now = timezone.now()
    for _number, values in good:
        match = next(
            (
                p
                for p in existing.get((values["unit"].pk, values["name"]), [])
                if haversine_m(p.lat, p.lng, values["lat"], values["lng"]) < SAME_PLACE_M
            ),
            None,
        )
        if match is None:
            place = Place()
            _apply(place, values)
            place.updated_at = place.created_at = now
            created.append(place)
            continue
        before = snapshot(match, PLACE_FIELDS)
        _apply(match, values)
        changes = diff(before, snapshot(match, PLACE_FIELDS))
        if not changes:
            unchanged += 1
            continue
        concurrency.advance(match, changes)
        updated.append(match)
        events.append(("place.updated", match, changes))
    Place.objects.bulk_create(created, batch_size=1000)  # ids come back on PostgreSQL and SQLite
    if updated:
        Place.objects.bulk_update(updated, [*PLACE_FIELDS, "pinyin", "updated_at"], batch_size=1000)
    events += [("place.created", place, diff({}, snapshot(place, PLACE_FIELDS))) for place in created]
    if events:
        record_many(events, actor=actor)
        _written()
    return {"created": len(created), "updated": len(updated), "unchanged": unchanged}
