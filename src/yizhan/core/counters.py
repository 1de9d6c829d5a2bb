"""A Django cache backend that only counts: django-ratelimit's counters where Redis is not configured.

django-ratelimit counts with `cache.add(key, 1)` and then `cache.incr(key)`, which is exact only
if both are atomic. Redis makes them so; Django's DatabaseCache and FileBasedCache do not (their
incr() is a get() and a set(), so two workers that read 5 both write 6). Here a hit is one SQL
statement, atomic on PostgreSQL and on SQLite ≥ 3.35: add() is an upsert that starts the window
or, when one is live, counts the hit in the same statement and leaves the count for the incr()
django-ratelimit sends next, on this thread, for this key (one write per hit instead of two: on
SQLite each write takes the database's one write lock). Expired windows are deleted at most once
a minute per process.
"""

import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connections, router

from yizhan.core.models import RateCounter

CULL_EVERY_SECONDS = 60
TABLE = RateCounter._meta.db_table


class CounterCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)
        self._next_cull = 0.0
        self._counted = threading.local()  # {key: count} counted by add(), for the incr() that follows

    def _cursor(self):
        return connections[router.db_for_write(RateCounter)].cursor()

    def _expiry(self, timeout) -> float:
        expires = self.get_backend_timeout(timeout)
        return float("inf") if expires is None else expires

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Start the counter at `value` unless a live one exists; True if this call started it.
        A live one is moved on by `value` instead, and its count kept for the next incr()."""
        key = self.make_and_validate_key(key, version=version)
        now, expires = time.time(), self._expiry(timeout)
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (name, n, expires) VALUES (%s, %s, %s) "  # noqa: S608 (a constant)
                f"ON CONFLICT (name) DO UPDATE SET "
                f"n = CASE WHEN {TABLE}.expires <= %s THEN excluded.n ELSE {TABLE}.n + excluded.n END, "
                f"expires = CASE WHEN {TABLE}.expires <= %s THEN excluded.expires ELSE {TABLE}.expires END "
                f"RETURNING n, expires",
                [key, int(value), expires, now, now],
            )
            count, kept_expiry = cursor.fetchone()
            added = kept_expiry == expires
            counted = vars(self._counted)
            counted.pop(key, None)
            if not added and value:
                counted[key] = count
            if added and now >= self._next_cull:
                self._next_cull = now + CULL_EVERY_SECONDS
                cursor.execute(f"DELETE FROM {TABLE} WHERE expires <= %s", [now])  # noqa: S608
        return added

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        if delta == 1 and (count := vars(self._counted).pop(key, None)) is not None:
            return count  # add() counted this hit already
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET n = n + %s WHERE name = %s AND expires > %s RETURNING n",  # noqa: S608
                [int(delta), key, time.time()],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return row[0]

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT n FROM {TABLE} WHERE name = %s AND expires > %s",  # noqa: S608
                [key, time.time()],
            )
            row = cursor.fetchone()
        return default if row is None else row[0]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (name, n, expires) VALUES (%s, %s, %s) "  # noqa: S608
                f"ON CONFLICT (name) DO UPDATE SET n = excluded.n, expires = excluded.expires",
                [key, int(value), self._expiry(timeout)],
            )

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE name = %s", [key])  # noqa: S608
            return cursor.rowcount > 0

    def clear(self):
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
