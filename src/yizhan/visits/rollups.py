# ruff: noqa: S608  (SQL is assembled from the models' own column names; values go as parameters)
"""Keeping the daily and monthly rollups current, inside the writer's transaction.

Every change to a count goes through `apply`: one `INSERT … ON CONFLICT DO UPDATE` that adds the
deltas to the station's row for the day and one for the month (both SQLite ≥ 3.24 and PostgreSQL
speak it). The database serialises the two upserts on their unique keys, so concurrent check-ins
at one station add up exactly; rows are always touched daily-then-monthly, so two writers never
wait on each other in opposite orders.

`rebuild` recomputes the rollups from the raw check-ins and tallies in SQL: the demo and the
benchmark fill their raw tables in bulk and call it; the tests use it to prove the incremental
path equals a recount.
"""

import datetime

from django.db import connection

from yizhan.visits.models import (
    CHECKIN_COLUMNS,
    DAILY_COLUMNS,
    GROUP_CODES,
    HOUR_COLUMNS,
    SERVICE_BITS,
    SERVICE_COLUMNS,
    TALLY_COLUMNS,
    CheckIn,
    DailyRollup,
    MonthlyRollup,
    Tally,
    checkin_column,
    hour_column,
    service_column,
    tally_column,
)

HOUR_SET = frozenset(HOUR_COLUMNS)


def checkin_deltas(group: str, services: int, hour: int, sign: int = 1) -> dict[str, int]:
    """What one check-in adds to its rollup rows (sign=-1 takes it away again)."""
    deltas = {"checkins": sign, checkin_column(group): sign, hour_column(hour): sign}
    for code, bit in SERVICE_BITS.items():
        if services & bit:
            deltas[service_column(code)] = sign
    return deltas


def tally_deltas(group: str, delta: int) -> dict[str, int]:
    return {"tallied": delta, tally_column(group): delta}


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _upsert(table: str, key_columns: tuple[str, str], key_values: list, deltas: dict[str, int]) -> None:
    qn = connection.ops.quote_name
    columns = list(deltas)
    names = ", ".join(qn(c) for c in [*key_columns, *columns])
    marks = ", ".join(["%s"] * (len(key_columns) + len(columns)))
    updates = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + excluded.{qn(c)}" for c in columns)
    keys = ", ".join(qn(c) for c in key_columns)
    sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({marks}) ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    # Columns not named take their defaults (0) on insert; on update they are left alone.
    with connection.cursor() as cursor:
        cursor.execute(sql, [*key_values, *(deltas[c] for c in columns)])


def apply(station_id: int, day: datetime.date, deltas: dict[str, int]) -> None:
    """Add `deltas` ({column: n}) to the station's day and month. Call inside a transaction."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    adapt = connection.ops.adapt_datefield_value
    daily = {k: v for k, v in deltas.items() if k not in HOUR_SET}
    if daily:
        _upsert(DailyRollup._meta.db_table, ("station_id", "day"), [station_id, adapt(day)], daily)
    _upsert(MonthlyRollup._meta.db_table, ("station_id", "month"), [station_id, adapt(month_of(day))], deltas)


def apply_many(changes: dict[tuple[int, datetime.date], dict[str, int]]) -> None:
    """Several stations and days at once (bulk deletions), in key order to keep lock order fixed."""
    for (station_id, day), deltas in sorted(changes.items()):
        apply(station_id, day, deltas)


# --- recomputing from the raw tables ----------------------------------------------------------


def _month_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _station_filter(station_ids, column: str = "station_id") -> tuple[str, list]:
    if station_ids is None:
        return "1 = 1", []
    station_ids = list(station_ids)
    if not station_ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(station_ids))})", station_ids


def rebuild(station_ids=None) -> None:
    """Recompute the rollups of the given stations (all when None) from check-ins and tallies.
    Run it inside a transaction; on a live system, writers to those stations wait for it."""
    qn = connection.ops.quote_name
    daily, monthly = qn(DailyRollup._meta.db_table), qn(MonthlyRollup._meta.db_table)
    checkins, tallies = qn(CheckIn._meta.db_table), qn(Tally._meta.db_table)
    where, params = _station_filter(station_ids)
    group = qn("group")

    DailyRollup.objects.filter(**({} if station_ids is None else {"station_id__in": station_ids})).delete()
    MonthlyRollup.objects.filter(**({} if station_ids is None else {"station_id__in": station_ids})).delete()

    group_sums = [f"SUM(CASE WHEN {group} = '{code}' THEN 1 ELSE 0 END)" for code in [*GROUP_CODES, ""]]
    service_sums = [
        f"SUM(CASE WHEN (services & {bit}) <> 0 THEN 1 ELSE 0 END)" for bit in SERVICE_BITS.values()
    ]
    count_columns = ["checkins", *CHECKIN_COLUMNS, *SERVICE_COLUMNS]
    count = qn("count")
    tally_sums = [f"SUM(CASE WHEN {group} = '{code}' THEN {count} ELSE 0 END)" for code in GROUP_CODES]
    hour_sums = [f"SUM(CASE WHEN hour = {h} THEN 1 ELSE 0 END)" for h in range(24)]
    month_day = _month_sql("day")

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {daily} (station_id, day, tallied, {', '.join(qn(c) for c in [*count_columns, *TALLY_COLUMNS])}) "
            f"SELECT station_id, day, 0, COUNT(*), {', '.join(group_sums + service_sums)}, "
            f"{', '.join(['0'] * len(TALLY_COLUMNS))} "
            f"FROM {checkins} WHERE {where} GROUP BY station_id, day",
            params,
        )
        # SQLite needs the WHERE before ON CONFLICT so that ON is not read as a join constraint.
        cursor.execute(
            f"INSERT INTO {daily} (station_id, day, {', '.join(qn(c) for c in [*count_columns, 'tallied', *TALLY_COLUMNS])}) "
            f"SELECT station_id, day, {', '.join(['0'] * len(count_columns))}, SUM({count}), {', '.join(tally_sums)} "
            f"FROM {tallies} WHERE {where} GROUP BY station_id, day "
            f"ON CONFLICT (station_id, day) DO UPDATE SET "
            + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in ["tallied", *TALLY_COLUMNS]),
            params,
        )
        cursor.execute(
            f"INSERT INTO {monthly} (station_id, month, {', '.join(qn(c) for c in [*DAILY_COLUMNS, *HOUR_COLUMNS])}) "
            f"SELECT station_id, {month_day}, {', '.join(f'SUM({qn(c)})' for c in DAILY_COLUMNS)}, "
            f"{', '.join(['0'] * len(HOUR_COLUMNS))} "
            f"FROM {daily} WHERE {where} GROUP BY station_id, {month_day}",
            params,
        )
        cursor.execute(
            f"INSERT INTO {monthly} (station_id, month, {', '.join(qn(c) for c in HOUR_COLUMNS)}) "
            f"SELECT station_id, {month_day}, {', '.join(hour_sums)} "
            f"FROM {checkins} WHERE {where} GROUP BY station_id, {month_day} "
            f"ON CONFLICT (station_id, month) DO UPDATE SET "
            + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in HOUR_COLUMNS),
            params,
        )
