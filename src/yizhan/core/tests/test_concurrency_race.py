"""Two staff save the same station from the same revision at the same moment, on real threads:
exactly one wins, the other is refused as stale naming the field, and the audit log shows one
change per round. PostgreSQL in the test database; SQLite on a file database in a subprocess
(see race.py for why)."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection


def check(outcomes: list[dict]) -> None:
    assert len(outcomes) == 5
    for round_ in outcomes:
        results = round_["results"]
        assert sorted(results.values()) == ["stale:name", "won"], round_
        winner = next(name for name, result in results.items() if result == "won")
        assert round_["revision"][1] == round_["revision"][0] + 1
        assert round_["name"].startswith(winner) and round_["events"] == 1 and round_["event_actor"] == winner


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_on_postgresql_exactly_one_wins():
    from yizhan.core.tests import race

    station, users = race.build()
    check(race.race(station, users))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite variant")
def test_two_saves_at_once_on_sqlite_exactly_one_wins(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "YIZHAN_TESTING")},
        "YIZHAN_DEBUG": "1",
        "YIZHAN_TESTING": "0",
        "YIZHAN_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "yizhan.core.tests.race"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    check(json.loads(done.stdout.strip().splitlines()[-1]))
