"""Station import and export (xlsx and csv) with Chinese column headers.

An import validates every row with the same `clean_station` / `clean_facility_state` rules the
forms and API use, reports every error by row, column and message, and writes only when all rows
are good, in one transaction. A code already in the registry updates that station; blank cells
keep the current value. Exports use the same columns, so an export can be edited and re-imported.
"""

import datetime
import gc
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.audit.models import AuditEvent
from yizhan.audit.services import audit_via, build_many, diff, snapshot
from yizhan.core import bulk
from yizhan.core.boundary import ANSWER_TEXT_LIMIT, clip
from yizhan.core.filereader import FileRefused, read_table
from yizhan.core.tabular import write_csv, write_xlsx
from yizhan.orgs.scoping import Scope
from yizhan.stations import hours
from yizhan.stations.models import (
    AccessPolicy,
    Facility,
    FacilityState,
    Station,
    StationFacility,
    StationStatus,
)
from yizhan.stations.services import (
    STATION_FIELDS,
    Lookups,
    bump,
    clean_facility_state,
    clean_station,
)

MAX_ROWS = 100_000
MAX_ERRORS = 5_000  # a file of junk still answers quickly; the count of errors beyond is kept

# (key, Chinese header, English header, required, help)
COLUMNS = [
    ("code", "驿站编码", "Station code", True, gettext_lazy("unique, never changes; letters, digits, - and _")),
    ("name", "驿站名称", "Station name", True, gettext_lazy("Chinese name")),
    ("name_en", "英文名称", "English name", False, ""),
    ("unit", "网点编码", "Outlet code", True, gettext_lazy("the outlet the station belongs to")),
    ("address", "地址", "Address", False, gettext_lazy("blank: the outlet's address")),
    ("lat", "纬度", "Latitude", False, gettext_lazy("blank: the outlet's position")),
    ("lng", "经度", "Longitude", False, ""),
    ("crs", "坐标系", "Coordinate system", False, gettext_lazy("wgs84 (GPS, default), gcj02 (Amap, Tencent), bd09 (Baidu)")),
    ("phone", "电话", "Phone", False, ""),
    ("sign_installed_on", "挂牌日期", "Sign installed on", False, "YYYY-MM-DD"),
    ("status", "状态", "Status", False, gettext_lazy("运营中 / 暂停开放 / 已关闭 (active / temporarily_closed / closed)")),
    ("public_notice", "公告", "Public notice", False, ""),
    ("reopens_on", "重新开放日期", "Reopens on", False, "YYYY-MM-DD"),
    ("themes", "主题", "Themes", False, gettext_lazy("theme codes or names, separated by commas")),
    ("seats", "座位数", "Seats", False, ""),
    ("access_policy", "开放方式", "Access policy", False, "open / ask_staff / target_group"),
    ("external_ids", "外部编号", "External ids", False, "amap=B0FFG1; baidu=123"),
    ("opening_hours", "开放时间", "Opening hours", False, gettext_lazy("e.g. 周一至周五 09:00-12:00,14:00-17:30；周六 09:30-16:00 — or 24小时")),
    ("statutory", "遵循法定节假日", "Follows the statutory calendar", False, gettext_lazy("是 / 否: closed on public holidays, open on make-up workdays (blank: 是 for a new station)")),
]  # fmt: skip
REQUIRED = [c[0] for c in COLUMNS if c[3]]
FACILITY_PREFIX = "facility:"

STATE_WORDS = {
    "有": "yes", "是": "yes", "yes": "yes", "y": "yes", "1": "yes", "✓": "yes", "√": "yes",
    "无": "no", "否": "no", "没有": "no", "no": "no", "n": "no", "0": "no", "×": "no",
    "未知": "unknown", "unknown": "unknown", "?": "unknown", "？": "unknown",
}  # fmt: skip
BROKEN_WORDS = {"故障", "损坏", "坏", "broken", "out of order", "out_of_order"}
STATE_LABELS = {"yes": "有", "no": "无", "unknown": "未知"}
YES_NO = {"是": True, "yes": True, "y": True, "1": True, "true": True, "否": False, "no": False, "n": False, "0": False, "false": False}  # fmt: skip
CRS_WORDS = {"gps": "wgs84", "wgs-84": "wgs84", "gcj-02": "gcj02", "高德": "gcj02", "腾讯": "gcj02", "bd-09": "bd09", "百度": "bd09"}  # fmt: skip


def _norm(text: str) -> str:
    return "".join(str(text).split()).rstrip("*＊").lower()


def header_map(facilities: Iterable[Facility]) -> dict[str, str]:
    """Every accepted header (normalised) -> column key; facility columns are `facility:<code>`."""
    out = {}
    for key, zh, en, *_rest in COLUMNS:
        for alias in (key, zh, en):
            out[_norm(alias)] = key
    for facility in facilities:
        for alias in (facility.code, facility.name, facility.name_en):
            out.setdefault(_norm(alias), FACILITY_PREFIX + facility.code)
    return out


def column_label(key: str, facilities: dict[str, Facility] | None = None) -> str:
    for k, zh, *_rest in COLUMNS:
        if k == key:
            return zh
    if key.startswith(FACILITY_PREFIX) and facilities:
        facility = facilities.get(key[len(FACILITY_PREFIX) :])
        return facility.name if facility else key
    return key


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __post_init__(self):
        # A header or cell is shown back cut short (a 5 MB header once came back whole).
        self.column, self.message = clip(self.column), clip(self.message, ANSWER_TEXT_LIMIT)

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0  # errors beyond MAX_ERRORS, counted but not listed
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "committed": self.committed,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_count": self.error_count,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class _Plan:
    number: int
    station: Station | None  # existing station (update) or None (create)
    values: dict
    themes: list
    facilities: dict  # facility code -> clean state values
    hours_given: bool
    is_new: bool = False


Progress = Callable[[int, int, str], None]


TRANSLATED = frozenset({"status", "access_policy", "crs"})
STATUS_WORDS = {"运营中": "active", "暂停开放": "temporarily_closed", "已关闭": "closed"}


def _translate(key: str, text: str) -> str:
    """Spreadsheet words to codes: 运营中 -> active, 高德 -> gcj02; anything else passes to clean_*."""
    low = text.lower()
    if key in ("status", "access_policy"):
        if key == "status" and text in STATUS_WORDS:
            return STATUS_WORDS[text]
        for choice in StationStatus if key == "status" else AccessPolicy:
            if low in (choice.value, str(choice.label).lower()):
                return choice.value
        return text
    if key == "crs":
        return CRS_WORDS.get(low, low)
    return text


def _existing_values(station: Station, theme_codes: list[str]) -> dict:
    values = {name: getattr(station, name) for name in STATION_FIELDS if name != "unit_id"}
    values["unit"] = station.unit
    values["themes"] = theme_codes
    return values


@contextmanager
def _gc_paused():
    """A 15,000-row import allocates millions of small objects and no reference cycles worth
    collecting; the cyclic collector would otherwise rescan the growing heap again and again
    (a fifth of the run). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_stations(
    filename: str,
    data: bytes,
    *,
    actor=None,
    scope: Scope | None = None,
    dry_run: bool = True,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate (and unless `dry_run`, apply) a station spreadsheet. With `scope`, stations and
    outlets outside it are refused as unknown."""
    with _gc_paused():
        return _import(filename, data, actor=actor, scope=scope, dry_run=dry_run, progress=progress)


def _import(filename, data, *, actor, scope, dry_run, progress) -> ImportResult:
    result = ImportResult(dry_run=dry_run)

    def error(row: int, column: str, message: str) -> None:
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(RowError(row, column, str(message)))
        else:
            result.more_errors += 1

    try:
        table = read_table(filename, data, max_rows=MAX_ROWS)
    except FileRefused as exc:
        error(exc.row or 0, exc.column, exc.message)
        return result

    facilities = {f.code: f for f in Facility.objects.all()}
    aliases = header_map(facilities.values())
    keys: list[str | None] = []
    seen: dict[str, str] = {}
    for header in table.headers:
        if not header:
            keys.append(None)
            continue
        key = aliases.get(_norm(header))
        if key is None:
            error(1, header, _("Unknown column. Use the headers of the template."))
        elif key in seen:
            error(1, header, _("The same column as %(other)s.") % {"other": seen[key]})
            key = None
        else:
            seen[key] = header
        keys.append(key)
    for key in REQUIRED:
        if key not in seen:
            error(1, column_label(key), _("Missing column."))
    if result.errors:
        return result

    rows = table.rows
    result.rows = len(rows)
    total = len(rows)
    code_index = keys.index("code")
    lookups = Lookups.load(c[code_index] for _n, c in rows if len(c) > code_index)
    existing = {
        s.code.lower(): s
        for s in Station.objects.filter(pk__in=lookups.taken.values()).select_related("unit")
    }
    theme_codes: dict[int, list[str]] = {}
    for station_id, code in Station.themes.through.objects.filter(
        station_id__in=[s.pk for s in existing.values()]
    ).values_list("station_id", "theme__code"):
        theme_codes.setdefault(station_id, []).append(code)

    plans: list[_Plan] = []
    first_row: dict[str, int] = {}
    facility_values: dict[tuple, dict] = {}
    parsed_hours: dict[str, dict] = {}  # most rows share a handful of hours texts
    for done, (number, cells) in enumerate(rows, start=1):
        if progress and done % 500 == 0:
            progress(done, total, "validate")
        # The reader hands over stripped text; a short row is padded with blanks.
        row = {key: cells[i] if i < len(cells) else "" for i, key in enumerate(keys) if key}
        code = row.get("code", "")
        if code.lower() in first_row:
            error(
                number,
                column_label("code"),
                _("Appears again (first in row %(n)s).") % {"n": first_row[code.lower()]},
            )
            continue
        if code:
            first_row[code.lower()] = number
        station = existing.get(code.lower())
        if station is not None and scope is not None and not scope.covers(station.unit.path):
            # Someone else's station: the same answer as any taken code, nothing more.
            error(number, column_label("code"), _("A station with this code already exists."))
            continue

        given = {k: v for k, v in row.items() if v != "" and not k.startswith(FACILITY_PREFIX)}
        for key in TRANSLATED.intersection(given):
            given[key] = _translate(key, given[key])
        given.pop("statutory", None)
        if station is not None:
            data = {**_existing_values(station, theme_codes.get(station.pk, [])), "crs": "wgs84", **given}
        else:
            data = given
        if ("lat" in given or "lng" in given) and "crs" not in given:
            data["crs"] = "wgs84"

        row_errors: dict[str, str] = {}
        statutory_text = row.get("statutory", "").lower()
        statutory = YES_NO.get(statutory_text)
        if statutory_text and statutory is None:
            row_errors["statutory"] = _("Use 是 or 否.")
        hours_given = "opening_hours" in given or statutory is not None
        if hours_given:
            current = dict(station.opening_hours) if station is not None else {}
            try:
                if "opening_hours" in given:
                    text = given["opening_hours"]
                    if text not in parsed_hours:
                        parsed_hours[text] = hours.parse_hours_text(text)
                    parsed = parsed_hours[text]
                    schedule = {**parsed, "exceptions": current.get("exceptions", [])}
                    schedule.setdefault("statutory", current.get("statutory", True))
                else:
                    schedule = dict(current) or {"weekly": {}}
                if statutory is not None:
                    schedule["statutory"] = statutory
                data["opening_hours"] = schedule
            except ValidationError as exc:
                row_errors.update({k: v[0] for k, v in exc.message_dict.items()})
                data.pop("opening_hours", None)

        values = None
        try:
            values = clean_station(data, instance=station, scope=scope, lookups=lookups)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                row_errors.setdefault(name, messages[0])

        states = {}
        for key, text in row.items():
            if not key.startswith(FACILITY_PREFIX) or text == "":
                continue
            fcode = key[len(FACILITY_PREFIX) :]
            word = text.strip().lower()
            broken = word in BROKEN_WORDS
            state = "yes" if broken else STATE_WORDS.get(word)
            if state is None:
                row_errors[key] = _("Use 有, 无, 未知 or 故障.")
                continue
            cache_key = (fcode, state, broken)
            if cache_key not in facility_values:
                facility_values[cache_key] = clean_facility_state(
                    {"facility": facilities[fcode], "state": state, "out_of_order": broken},
                    facilities=facilities,
                )
            states[fcode] = facility_values[cache_key]

        for name, message in row_errors.items():
            column = name.split(".")[0]
            error(number, column_label(column, facilities), message)
        if row_errors or values is None:
            continue
        themes = values.pop("themes")
        plans.append(_Plan(number, station, values, themes, states, hours_given, station is None))

    if progress:
        progress(total, total, "validate")
    if result.errors or dry_run:
        _count(plans, result, theme_codes, facilities)
        return result
    with audit_via("import"):
        # Everything is worked out first, outside the transaction: on SQLite a write transaction
        # holds the one write lock, and check-ins queue behind it (issue 10, §4).
        write = _prepare(plans, result, actor, theme_codes, progress, total)
        try:
            with _large_page_cache(), transaction.atomic():
                _write(write, actor)
            stale = ""
        except _Stale as exc:
            # Someone changed these stations since they were read: refuse the whole file rather
            # than put their change back.
            stale = str(exc)
        except IntegrityError:
            stale = _("a station with one of the new codes was created meanwhile")
    if stale:
        result.created = result.updated = result.unchanged = 0
        error(0, "", _("The registry changed while the file was checked (%(what)s); import it again.")
              % {"what": stale})  # fmt: skip
        return result
    result.created, result.updated = len(write.new), len(write.changed)
    result.committed = True
    if progress:
        progress(total, total, "write")
    return result


@contextmanager
def _large_page_cache():
    """On SQLite, let one big import keep its dirty pages in memory (up to 256 MB) instead of
    spilling them to the WAL again and again once the default 8 MB cache is full."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _diff_for(plan: _Plan, theme_codes: dict[int, list[str]]) -> dict:
    station = plan.station
    before = snapshot(station, STATION_FIELDS)
    before["themes"] = sorted(theme_codes.get(station.pk, []))
    after = {**before}
    for key, value in plan.values.items():
        name = "unit_id" if key == "unit" else key
        after[name] = value.pk if key == "unit" else value
    after = {k: snapshot_value(v) for k, v in after.items()}
    after["themes"] = sorted(t.code for t in plan.themes)
    return diff(before, after)


def snapshot_value(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _facility_changes(plan: _Plan, current: dict) -> dict:
    changes = {}
    for fcode, values in plan.facilities.items():
        old = current.get(fcode) or {"state": "unknown", "out_of_order": False}
        for key in ("state", "out_of_order"):
            if old[key] != values[key]:
                changes[f"{fcode}.{key}"] = [old[key], values[key]]
    return changes


def _current_states(station_ids) -> dict[int, dict]:
    current: dict[int, dict] = {}
    for sid, fcode, state, broken in StationFacility.objects.filter(station_id__in=station_ids).values_list(
        "station_id", "facility__code", "state", "out_of_order"
    ):
        current.setdefault(sid, {})[fcode] = {"state": state, "out_of_order": broken}
    return current


def _count(plans, result, theme_codes, facilities) -> None:
    current = _current_states([p.station.pk for p in plans if p.station])
    for plan in plans:
        if plan.station is None:
            result.created += 1
        elif _diff_for(plan, theme_codes) or _facility_changes(plan, current.get(plan.station.pk, {})):
            result.updated += 1
        else:
            result.unchanged += 1


@dataclass
class _Write:
    """What a commit writes, worked out before the write transaction opens."""

    now: datetime.datetime
    new: list  # _Plan, to insert
    changed: list  # _Plan, to update
    diffs: dict  # station pk -> changes, for the audit
    read_at: dict  # changed station's pk -> its revision as read, to notice a change made meanwhile
    new_rows: list  # dicts by attname, for _insert
    update_params: list  # one tuple per changed station: UPDATED_FIELDS' values, then the pk
    retheme: list  # _Plan whose themes change
    state_rows: list  # (station pk, facility pk, state, out_of_order, note) of existing stations
    update_events: list  # unsaved AuditEvent per changed station


UPDATED_FIELDS = [*STATION_FIELDS, "updated_at"]


def _prepare(plans, result, actor, theme_codes, progress, total) -> _Write:
    if progress:
        progress(0, total, "write")
    now = timezone.now()
    current = _current_states([p.station.pk for p in plans if p.station])
    new = [p for p in plans if p.is_new]
    defaults = {"verified_at": None, "verified_by_id": None, "verification_source": "", "created_at": now,
                "updated_at": now, "revision": 1, "operating_windows": []}  # fmt: skip
    changed: list[_Plan] = []
    diffs: dict[int, dict] = {}
    read_at: dict[int, int] = {}
    for plan in plans:
        if plan.is_new:
            continue
        changes = _diff_for(plan, theme_codes)
        facility_changes = _facility_changes(plan, current.get(plan.station.pk, {}))
        if not changes and not facility_changes:
            result.unchanged += 1
            continue
        read_at[plan.station.pk] = plan.station.revision
        for key, value in plan.values.items():
            setattr(plan.station, key, value)
        plan.station.updated_at = now
        changed.append(plan)
        revision = plan.station.revision
        diffs[plan.station.pk] = {**changes, **facility_changes, "revision": [revision, revision + 1]}
    fields = [Station._meta.get_field(name) for name in UPDATED_FIELDS]
    convert = list(zip([f.attname for f in fields], bulk.converters(fields), strict=True))
    update_params = [
        (
            *(c(getattr(p.station, name)) if c else getattr(p.station, name) for name, c in convert),
            p.station.pk,
        )
        for p in changed
    ]
    # Only the states that change: the upsert of an unchanged state would keep it as it is.
    state_rows = [
        (p.station.pk, values["facility"].pk, values["state"], values["out_of_order"], values["note"])
        for p in changed
        for fcode, values in p.facilities.items()
        if f"{fcode}.state" in diffs[p.station.pk] or f"{fcode}.out_of_order" in diffs[p.station.pk]
    ]
    return _Write(
        now=now,
        new=new,
        changed=changed,
        diffs=diffs,
        read_at=read_at,
        new_rows=[{**_attnames(p.values), **defaults} for p in new],
        update_params=update_params,
        retheme=[p for p in changed if "themes" in diffs[p.station.pk]],
        state_rows=state_rows,
        update_events=build_many(
            [("station.updated", p.station, diffs[p.station.pk]) for p in changed], actor=actor, plain=True
        ),
    )


class _Stale(Exception):
    """A station the import read has changed since (the message names it)."""


def _write(write: _Write, actor) -> None:
    """The short write transaction's body: plain statements only. Raises `_Stale` (which rolls
    it back) if a station changed since it was read."""
    ids = list(write.read_at)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        # FOR NO KEY UPDATE holds them on PostgreSQL until the commit without blocking a
        # check-in's foreign key to them; SQLite's IMMEDIATE transaction keeps other writers out.
        found = dict(
            Station.objects.select_for_update(no_key=True).filter(pk__in=chunk).values_list("pk", "revision")
        )
        if len(found) != len(chunk):
            raise _Stale(_("a station was deleted meanwhile"))
        for pk, revision in found.items():
            if revision != write.read_at[pk]:
                raise _Stale(Station.objects.get(pk=pk).code)
    now = write.now
    bulk.insert(Station, write.new_rows)
    codes = [p.values["code"] for p in write.new]
    new_ids = {}
    for start in range(0, len(codes), 5000):
        new_ids.update(Station.objects.filter(code__in=codes[start : start + 5000]).values_list("code", "pk"))
    for plan in write.new:
        plan.station = Station(pk=new_ids[plan.values["code"]], **plan.values, created_at=now, updated_at=now)
    ops = connection.ops
    columns = ", ".join(f"{ops.quote_name(Station._meta.get_field(n).column)} = %s" for n in UPDATED_FIELDS)
    # An import is an edit too: a form opened before it is stale afterwards (core/concurrency.py).
    columns += ", revision = revision + 1"
    sql = f"UPDATE {ops.quote_name(Station._meta.db_table)} SET {columns} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(write.update_params), 5000):
            cursor.executemany(sql, write.update_params[start : start + 5000])

    through = Station.themes.through
    through.objects.filter(station_id__in=[p.station.pk for p in write.retheme]).delete()
    bulk.insert(
        through,
        [
            {"station_id": p.station.pk, "theme_id": t.pk}
            for p in [*write.new, *write.retheme]
            for t in p.themes
        ],
    )
    new_states = [
        (p.station.pk, values["facility"].pk, values["state"], values["out_of_order"], values["note"])
        for p in write.new
        for values in p.facilities.values()
    ]
    _upsert_states(new_states + write.state_rows, now)
    events = write.update_events + build_many(
        [("station.created", p.station, _creation_changes(p)) for p in write.new], actor=actor, plain=True
    )
    fields = [f.attname for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    bulk.insert(AuditEvent, [{name: getattr(event, name) for name in fields} for event in events])
    if write.new or write.changed:
        bump()


def _attnames(values: dict) -> dict:
    return {("unit_id" if k == "unit" else k): (v.pk if k == "unit" else v) for k, v in values.items()}


def _creation_changes(plan: _Plan) -> dict:
    """The diff from nothing, as register_station records it, built straight from the clean
    values (a snapshot per row costs a second over 15,000 rows); empty fields are left out."""
    changes = {}
    for key, value in plan.values.items():
        if value in (None, "", {}, []):
            continue
        if key == "unit":
            changes["unit_id"] = [None, value.pk]
        elif isinstance(value, datetime.date):
            changes[key] = [None, value.isoformat()]
        else:
            changes[key] = [None, value]
    if plan.themes:
        changes["themes"] = [None, sorted(t.code for t in plan.themes)]
    for code, values in plan.facilities.items():
        changes[f"{code}.state"] = [None, values["state"]]
        if values["out_of_order"]:
            changes[f"{code}.out_of_order"] = [None, True]
    return changes


UPSERT_STATES = (
    "INSERT INTO {table} (station_id, facility_id, state, out_of_order, out_of_order_since, note, updated_at) "
    "VALUES (%s, %s, %s, %s, NULL, %s, %s) "
    "ON CONFLICT (station_id, facility_id) DO UPDATE SET state = excluded.state, "
    "out_of_order = excluded.out_of_order, "
    # A spreadsheet has no since-date or note column: keep them while the state stands.
    "out_of_order_since = CASE WHEN excluded.out_of_order THEN {table}.out_of_order_since END, "
    "note = CASE WHEN excluded.state = {table}.state AND excluded.out_of_order = {table}.out_of_order "
    "THEN {table}.note ELSE excluded.note END, "
    "updated_at = excluded.updated_at"
)


def _upsert_states(rows: list[tuple], now: datetime.datetime) -> None:
    """Insert or update (station, facility) states with executemany: the ORM's bulk_create
    spends ~100 µs a row preparing values, which is seconds for an import's 250,000 states. The
    statement is the same on SQLite and PostgreSQL (both speak ON CONFLICT … DO UPDATE)."""
    if not rows:
        return
    sql = UPSERT_STATES.format(table=StationFacility._meta.db_table)  # noqa: S608 — the model's own table
    stamp = StationFacility._meta.get_field("updated_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, [(*row, stamp) for row in rows[start : start + 5000]])


# --- export and template ------------------------------------------------------------------------


def export_headers(facilities: list[Facility]) -> list[str]:
    return [zh for _k, zh, *_rest in COLUMNS] + [f.name for f in facilities]


def export_rows(stations, facilities: list[Facility]):
    """One row per station, in the import's columns (formula-safe when written)."""
    stations = stations.select_related("unit").order_by("code")
    ids = list(stations.values_list("pk", flat=True))
    states = _current_states(ids)
    themes: dict[int, list[str]] = {}
    for sid, code in Station.themes.through.objects.filter(station_id__in=ids).values_list(
        "station_id", "theme__code"
    ):
        themes.setdefault(sid, []).append(code)
    status_labels = {"active": "运营中", "temporarily_closed": "暂停开放", "closed": "已关闭"}
    for station in stations.iterator(chunk_size=2000):
        own = states.get(station.pk, {})
        cells = []
        for fac in facilities:
            entry = own.get(fac.code)
            if entry is None:
                cells.append("")
            elif entry["state"] == FacilityState.YES and entry["out_of_order"]:
                cells.append("故障")
            else:
                cells.append(STATE_LABELS[entry["state"]])
        hours_json = station.opening_hours or {}
        yield [
            station.code,
            station.name,
            station.name_en,
            station.unit.code,
            station.address,
            round(station.lat, 7),
            round(station.lng, 7),
            "wgs84",
            station.phone,
            station.sign_installed_on.isoformat() if station.sign_installed_on else "",
            status_labels[station.status],
            station.public_notice,
            station.reopens_on.isoformat() if station.reopens_on else "",
            ",".join(sorted(themes.get(station.pk, []))),
            station.seats if station.seats is not None else "",
            station.access_policy,
            "; ".join(f"{k}={v}" for k, v in (station.external_ids or {}).items()),
            hours.format_hours_text(hours_json),
            ("是" if hours_json.get("statutory") else "否") if hours_json else "",
            *cells,
        ]


def export_stations(stations, fmt: str) -> bytes:
    facilities = list(Facility.objects.all())
    headers = export_headers(facilities)
    rows = export_rows(stations, facilities)
    if fmt == "csv":
        return write_csv(headers, rows)
    return write_xlsx({_("Stations"): (headers, rows)})


def template_file(fmt: str) -> bytes:
    """Headers, one example row, and (xlsx) a sheet explaining every column and value."""
    facilities = list(Facility.objects.all())
    headers = export_headers(facilities)
    example = [
        "CQ-SXGC-2",
        "三峡广场支行驿站",
        "Sanxia Square Station",
        "CQ-SXGC",
        "",
        "",
        "",
        "wgs84",
        "023-65310000",
        "2021-05-12",
        "运营中",
        "",
        "",
        "medical_priority",
        "12",
        "open",
        "amap=B0FFG12345",
        "周一至周五 09:00-12:00,14:00-17:30；周六 09:30-16:00",
        "是",
        *["有" if f.group == "basic" else "" for f in facilities],
    ]
    if fmt == "csv":
        return write_csv(headers, [example])
    notes = [
        [zh, en, _("required") if required else "", str(help_text)]
        for _k, zh, en, required, help_text in COLUMNS
    ]
    notes += [
        [f.name, f.name_en, "", _("有 / 无 / 未知 / 故障; blank keeps the current state")] for f in facilities
    ]
    return write_xlsx(
        {
            _("Stations"): (headers, [example]),
            _("Columns"): ([_("Column"), _("English"), _("Required"), _("Values")], notes),
        }
    )
