"""Synthetic visits since 1 January of last year, with the patterns the articles describe, built in
a few seconds. Starting on 1 January of last year lets this year be compared month by month with
the last one; nothing is later than the moment the demo is built.

- Hours: an early-morning peak (sanitation workers end their first round at 6–8), a bigger one at
  noon (couriers and riders between rounds), a small one after work.
- Seasons: water and cooling in summer, warmth in winter; fewer visits on public holidays.
- Groups by station: couriers heavy at Shandong's Little Bee stations, delivery riders and
  construction workers at Shenzhen's new-citizen stations, the elderly at the elderly-friendly
  e-stations, medical staff at Chongqing's medical-priority stations, and the nurses' day event on
  12 May bringing medical staff to Chongqing's stations.
- Tallies: outlets with many elderly visitors count those who do not scan.
- Feedback: a few open problem reports (one overdue), some handled ones.

Raw check-ins are generated with numpy and written in bulk; the rollups are then computed from
them in SQL by `rollups.rebuild`, so the demo's statistics equal a recount, as live ones do.
"""

import datetime
import zoneinfo

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from yizhan.audit.services import audit_via
from yizhan.core.demo import DemoContext
from yizhan.stations import hours
from yizhan.stations.models import Station
from yizhan.visits import rollups, services
from yizhan.visits.models import GROUP_CODES, SERVICE_BITS, CheckIn, Feedback, Tally

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
GROUPS = [*GROUP_CODES, ""]  # the last: the visitor did not say
G = {code: i for i, code in enumerate(GROUPS)}

# Who visits an ordinary station (weights; "" = not said).
BASE_MIX = {
    "sanitation_worker": 18,
    "courier": 14,
    "delivery_rider": 14,
    "traffic_police": 5,
    "construction_worker": 8,
    "elderly": 10,
    "medical_staff": 3,
    "other": 8,
    "": 20,
}
NAMED = {"CQ-SXGC", "CQ-JXDL", "SZ-MLYC", "SZ-QCXJ", "LN-SY-XGJ", "FJ-SM-LD"}
THEME_BOOST = {
    "little_bee": {"courier": 5.0},
    "new_citizen": {"delivery_rider": 2.2, "construction_worker": 2.0},
    "elderly": {"elderly": 3.5},
    "medical_priority": {"medical_staff": 6.0},
}


def _hour_weights() -> np.ndarray:
    """Per group, the share of check-ins in each local hour (rows sum to 1)."""
    hours_ = np.arange(24)

    def peak(centre, width, height):
        return height * np.exp(-0.5 * ((hours_ - centre) / width) ** 2)

    day_open = ((hours_ >= 6) & (hours_ <= 21)).astype(float) * 0.15
    common = day_open + peak(7, 0.9, 1.2) + peak(12, 1.0, 2.0) + peak(17.5, 1.0, 0.7)
    rows = []
    for code in GROUPS:
        w = common.copy()
        if code == "sanitation_worker":
            w += peak(6.5, 0.8, 3.0)
        elif code in ("courier", "delivery_rider"):
            w += peak(12, 0.8, 2.0) + peak(15, 1.2, 0.6)
        elif code == "elderly":
            w += peak(9.5, 1.2, 1.8) - peak(7, 0.9, 1.0)
        elif code == "construction_worker":
            w += peak(12, 0.7, 1.5)
        w = np.clip(w, 0.01, None)
        rows.append(w / w.sum())
    return np.array(rows)


def _service_probabilities(months: np.ndarray) -> dict[str, np.ndarray]:
    """Per check-in, the chance of each service, by month (the Chinese seasons of a year)."""
    summer = np.isin(months, (6, 7, 8, 9)).astype(float)
    shoulder = np.isin(months, (5, 10)).astype(float)
    winter = np.isin(months, (12, 1, 2)).astype(float)
    cool_edge = np.isin(months, (11, 3)).astype(float)
    return {
        "water": 0.45 + 0.30 * summer + 0.10 * shoulder,
        "charging": np.full(months.shape, 0.38),
        "rest": np.full(months.shape, 0.50),
        "wifi": np.full(months.shape, 0.28),
        "warmth": 0.02 + 0.50 * winter + 0.20 * cool_edge,
        "cooling": 0.01 + 0.55 * summer + 0.15 * shoulder,
        "restroom": np.full(months.shape, 0.18),
        "other": np.full(months.shape, 0.03),
    }


class _BigCache:
    """A larger SQLite page cache while the bulk writes and the rollup rebuild run: the default
    2 MB makes them spill to disk and take twice as long."""

    def __enter__(self):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self.before = cursor.fetchone()[0]
                cursor.execute("PRAGMA cache_size = -131072")
        return self

    def __exit__(self, *exc):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(self.before)}")


def _bulk_insert(table: str, columns: list[str], rows) -> None:
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _draw(r: np.ndarray, cumulative: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each draw r[i], the bucket it falls in under the cumulative weights of its row
    (cumulative[rows[i]]); a slice at a time, since n × buckets floats at once take hundreds of
    megabytes on the full network."""
    out = np.empty(len(r), dtype=np.int64)
    for start in range(0, len(r), 200_000):
        part = slice(start, start + 200_000)
        out[part] = (r[part, None] > cumulative[rows[part]]).sum(axis=1)
    return out


def _stations():
    stations = list(Station.objects.select_related("unit").prefetch_related("themes").order_by("code"))
    province = {}
    for s in stations:
        province[s.pk] = s.code.split("-")[0]
    return stations, province


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("visits")
    np_rng = np.random.default_rng(rng.randrange(2**32))
    stations, province = _stations()
    if not stations:
        return
    now = timezone.now()
    today = timezone.localdate(now)
    # From 1 January of last year, in the small network too: the year-on-year chart then has a
    # whole previous year to compare with, and the 12 May event and both seasons are in.
    first = datetime.date(today.year - 1, 1, 1)
    n_days = (today - first).days + 1
    days = [first + datetime.timedelta(days=i) for i in range(n_days)]
    calendar = hours.current_calendar()

    # Station base rates: a few busy city-centre stations, many quiet ones.
    n_st = len(stations)
    scale = 0.8 if ctx.small else 1.6
    base = np_rng.lognormal(mean=np.log(scale), sigma=0.7, size=n_st)
    mixes = np.empty((n_st, len(GROUPS)))
    for i, station in enumerate(stations):
        weights = dict(BASE_MIX)
        for theme in station.themes.all():
            for code, factor in THEME_BOOST.get(theme.code, {}).items():
                weights[code] *= factor
        if station.code in NAMED:
            base[i] *= 4  # the stations the articles name are busy ones
        mixes[i] = [weights[g] for g in GROUPS]
    mixes /= mixes.sum(axis=1, keepdims=True)

    # Day factors: a slow rise as the sign becomes known, summer and winter peaks, quieter
    # weekends and much quieter public holidays.
    t = np.arange(n_days) / 365
    months = np.array([d.month for d in days])
    season = 1 + 0.25 * np.isin(months, (6, 7, 8)) + 0.15 * np.isin(months, (12, 1))
    weekend = np.array([0.8 if d.weekday() >= 5 else 1.0 for d in days])
    holiday = np.array([0.5 if calendar.kind(d) == "off" else 1.0 for d in days])
    day_factor = (0.85 + 0.3 * t) * season * weekend * holiday
    # QR posters reached the stations through the year: each counts from its own start day
    # (the stations the articles name, and Chongqing's, from the first day).
    start = np_rng.integers(0, int(n_days * 0.7), n_st)
    for i, station in enumerate(stations):
        if province[station.pk] == "CQ" or station.code in NAMED:
            start[i] = 0
    active = np.arange(n_days)[None, :] >= start[:, None]
    counts = np_rng.poisson(np.outer(base, day_factor)) * active  # stations × days

    st_idx = np.repeat(np.repeat(np.arange(n_st), n_days), counts.ravel())
    day_idx = np.repeat(np.tile(np.arange(n_days), n_st), counts.ravel())
    cum = mixes.cumsum(axis=1)
    group_idx = _draw(np_rng.random(len(st_idx)), cum, st_idx)

    # Nurses' day, 12 May: hospital staff visit Chongqing's stations for flowers and talks.
    cq = np.array([i for i, s in enumerate(stations) if province[s.pk] == "CQ"])
    for nurses_day in [i for i, d in enumerate(days) if (d.month, d.day) == (5, 12)]:
        if len(cq):
            extra = np_rng.poisson(6 * base[cq])
            for i, station in enumerate(stations):
                if station.code in ("CQ-SXGC", "CQ-JXDL"):
                    extra[np.where(cq == i)[0]] += 40
            add_st = np.repeat(cq, extra)
            st_idx = np.concatenate([st_idx, add_st])
            day_idx = np.concatenate([day_idx, np.full(len(add_st), nurses_day)])
            group_idx = np.concatenate([group_idx, np.full(len(add_st), G["medical_staff"])])
    group_idx = np.minimum(group_idx, len(GROUPS) - 1)

    n = len(st_idx)
    hour_cum = _hour_weights().cumsum(axis=1)
    hour = _draw(np_rng.random(n), hour_cum, group_idx).clip(0, 23)
    seconds = np_rng.integers(0, 3600, n)
    probabilities = _service_probabilities(months[day_idx])
    services_mask = np.zeros(n, dtype=np.int64)
    for code, bit in SERVICE_BITS.items():
        services_mask |= np.where(np_rng.random(n) < probabilities[code], bit, 0)

    # Local time to UTC: Shanghai has kept +08:00 all year since 1991.
    day_start = np.array([np.datetime64(datetime.datetime.combine(d, datetime.time()), "s") for d in days])
    at = day_start[day_idx] + (hour * 3600 + seconds - 8 * 3600).astype("timedelta64[s]")
    # Today's check-ins stop at the moment of the build: none may lie in the future.
    past = at <= np.datetime64(now.astimezone(datetime.UTC).replace(tzinfo=None), "s")
    st_idx, day_idx, group_idx, hour, at = st_idx[past], day_idx[past], group_idx[past], hour[past], at[past]
    services_mask = services_mask[past]
    n = len(st_idx)
    # Written in (station, day, time) order: the (station, day) index then grows at its end.
    order = np.lexsort((at, day_idx, st_idx))
    suffix = "+00" if connection.vendor == "postgresql" else ""
    day_names = np.array([d.isoformat() for d in days])
    station_pks = np.array([s.pk for s in stations])
    group_names = np.array(GROUPS)

    def rows():
        # Text is made a slice at a time: two years of the full network as Python tuples at once
        # would take a gigabyte and a half.
        for start in range(0, len(order), 100_000):
            part = order[start : start + 100_000]
            at_text = np.char.add(
                np.char.replace(np.datetime_as_string(at[part], unit="s"), "T", " "), suffix
            )
            yield from zip(
                station_pks[st_idx[part]].tolist(),
                at_text.tolist(),
                day_names[day_idx[part]].tolist(),
                hour[part].tolist(),
                group_names[group_idx[part]].tolist(),
                services_mask[part].tolist(),
                strict=True,
            )

    tallies = _tallies(stations, days, np_rng, base, now)
    with _BigCache():
        _bulk_insert(CheckIn._meta.db_table, ["station_id", "at", "day", "hour", "group", "services"], rows())
        _bulk_insert(Tally._meta.db_table, ["station_id", "day", "group", "count", "updated_at"], tallies)
        rollups.rebuild()
    with audit_via("system"):
        _feedback(ctx, stations, today)
    ctx.data["checkins"] = n
    ctx.log(
        f"Visits: {n} check-ins over {n_days} days, {len(tallies)} tallies, {Feedback.objects.count()} feedback items."
    )


def _tallies(stations, days, np_rng, base, now) -> list[tuple]:
    """Outlets that serve many elderly visitors count those who do not scan, most days."""
    out = []
    now = connection.ops.adapt_datetimefield_value(now)
    for i, station in enumerate(stations):
        themes = {t.code for t in station.themes.all()}
        counts_elderly = "elderly" in themes or (station.code.startswith("CQ-") and i % 3 == 0)
        if not counts_elderly:
            continue
        daily = np_rng.poisson(1.5 * base[i], size=(len(days), 2))
        recorded = np_rng.random(len(days)) < 0.7
        for j, day in enumerate(days):
            if not recorded[j] or day.weekday() >= 5:
                continue
            for k, group in enumerate(("elderly", "other")):
                if daily[j, k]:
                    out.append((station.pk, day.isoformat(), group, int(daily[j, k]), now))
    return out


def _feedback(ctx: DemoContext, stations, today) -> None:
    """A handful of items in every state, one of them overdue, at the stations the articles name."""
    by_code = {s.code: s for s in stations}
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["sanxia_manager", "cq_admin"])
    }
    pick = [by_code.get(c) for c in ("CQ-SXGC", "CQ-JXDL", "SZ-MLYC", "SZ-QCXJ", "FJ-SM-LD")]
    pick = [s for s in pick if s is not None] or stations[:5]
    now = timezone.now()

    def ago(days: int, hour: int = 10) -> datetime.datetime:
        day = today - datetime.timedelta(days=days)
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)

    # Overdue: reported more than two working days ago and still only acknowledged.
    overdue = services.submit_feedback(
        pick[0],
        kind="facility_broken",
        facility="phone_charging",
        text="充电线接口松动，插上没反应。",
        contact="13812345678",
        now=ago(8),
    )
    actor = users.get("sanxia_manager")
    services.acknowledge_feedback(overdue, actor=actor, note="已联系厂家维修。")
    services.submit_feedback(
        pick[1 % len(pick)],
        kind="closed_when_open",
        text="地图上写着营业，周六下午两点来门关着。",
        now=now - datetime.timedelta(hours=5),
    )
    services.submit_feedback(
        pick[2 % len(pick)],
        kind="facility_broken",
        facility="drinking_water",
        text="饮水机只有冷水，冬天希望有热水。",
        contact="rider.li@example.com",
        now=now - datetime.timedelta(hours=20),
    )
    services.submit_feedback(pick[3 % len(pick)], kind="suggestion", text="希望能增加几把雨伞借用。")
    services.submit_feedback(pick[0], kind="praise", text="护士节的鲜花和讲座很暖心，谢谢工行！", now=ago(1))
    done = services.submit_feedback(pick[0], kind="wrong_hours", text="周日其实不开门。", now=ago(20))
    services.acknowledge_feedback(done, actor=actor)
    services.resolve_feedback(done, actor=actor, note="已更正周日营业时间。")
    fixed = services.submit_feedback(
        pick[4 % len(pick)],
        kind="facility_broken",
        facility="reading_glasses",
        text="老花镜腿断了。",
        now=ago(30),
    )
    helper = users.get("cq_admin") if pick[4 % len(pick)].code.startswith("CQ") else None
    services.acknowledge_feedback(fixed, actor=helper)
    services.resolve_feedback(fixed, actor=helper, facility_outcome="repaired", note="已更换新的老花镜。")
    spam = services.submit_feedback(pick[1 % len(pick)], kind="suggestion", text="加微信领红包", now=ago(12))
    services.acknowledge_feedback(spam, actor=actor)
    services.reject_feedback(spam, actor=actor, note="广告，与驿站无关。")
