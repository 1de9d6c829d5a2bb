from django.db import models


class RateCounter(models.Model):
    """One rate-limit counter (a key and its window) for yizhan.core.counters.CounterCache."""

    name = models.CharField(max_length=255, primary_key=True)
    n = models.BigIntegerField()
    # Unix time: the same plain number on SQLite and PostgreSQL, compared in raw SQL.
    expires = models.FloatField(db_index=True)

    def __str__(self):
        return f"{self.name}={self.n}"
