"""A Django cache backend that only counts: django-ratelimit's counters where Redis is not configured.

django-ratelimit counts with `cache.add(key, 1)` and then `cache.incr(key)`, which is exact only
if both are atomic. Redis makes them so; Django's DatabaseCache and FileBasedCache do not (their
incr() is a get() and a set(), so two workers that read 5 both write 6). Here each is one SQL
statement — an upsert and an `UPDATE … SET n = n + 1 … RETURNING n` — atomic on PostgreSQL and on
SQLite ≥ 3.35. Expired windows are deleted at most once a minute per process.
"""

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

    def _cursor(self):
        return connections[router.db_for_write(RateCounter)].cursor()

    def _expiry(self, timeout) -> float:
        expires = self.get_backend_timeout(timeout)
        return float("inf") if expires is None else expires

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Start the counter at `value` unless a live one exists; True if this call started it."""
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (name, n, expires) VALUES (%s, %s, %s) "  # noqa: S608 (a constant)
                f"ON CONFLICT (name) DO UPDATE SET n = excluded.n, expires = excluded.expires "
                f"WHERE {TABLE}.expires <= %s RETURNING n",
                [key, int(value), self._expiry(timeout), now],
            )
            added = cursor.fetchone() is not None
            if added and now >= self._next_cull:
                self._next_cull = now + CULL_EVERY_SECONDS
                cursor.execute(f"DELETE FROM {TABLE} WHERE expires <= %s", [now])  # noqa: S608
        return added

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
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
