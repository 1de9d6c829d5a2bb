import os
import subprocess
import sys

import pytest

from yizhan.orgs.models import Unit

DIGEST_SCRIPT = """
import hashlib, django, os
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("build_demo", "--small", "--seed", os.environ["SEED"], stdout=open(os.devnull, "w"))
from yizhan.orgs.models import Unit
rows = Unit.objects.order_by("code").values_list("code", "kind", "name", "parent__code", "level", "lat", "lng", "address")
print(hashlib.sha256(repr(list(rows)).encode()).hexdigest())
"""


def demo_digests(tmp_path, seeds: list[int]) -> list[str]:
    """Build the demo with `yizhan build_demo` into fresh SQLite databases, each in its own process
    (run side by side: each one migrates from scratch)."""
    runs = []
    for i, seed in enumerate(seeds):
        env = {
            **os.environ,
            "YIZHAN_VAR_DIR": str(tmp_path / f"run{i}"),
            "YIZHAN_DEBUG": "1",
            "SEED": str(seed),
            "DJANGO_SETTINGS_MODULE": "yizhan.settings",
        }
        env.pop("DATABASE_URL", None)
        runs.append(
            subprocess.Popen(
                [sys.executable, "-c", DIGEST_SCRIPT],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    digests = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-2000:]
        digests.append(out.strip().splitlines()[-1])
    return digests


@pytest.mark.own_sqlite
def test_same_seed_same_network_other_seed_other_network(tmp_path):
    first, again, other = demo_digests(tmp_path, [2023, 2023, 7])
    assert again == first
    assert other != first


def test_demo_has_the_named_outlets_and_figures(db):
    for code in [
        "CQ-SXGC",
        "CQ-JXDL",
        "LN-SY-XGJ",
        "LN-SY-HN",
        "LN-FS-YHW",
        "SZ-GM",
        "SZ-MLYC",
        "SZ-QCXJ",
        "SZ-JT",
        "SZ-YC",
        "SZ-FM",
    ]:
        outlet = Unit.objects.get(code=code)
        assert outlet.kind == "outlet" and outlet.address and outlet.lat
    from yizhan.orgs.demo import NETWORK

    full = {code: sum(t[5] for t in tiers) for code, _n, _e, tiers in NETWORK}
    assert full["CQ"] == 300 and full["SD"] == 880 and full["SZ"] >= 140


def test_outlets_lie_near_their_city(db):
    from yizhan.core.geo import haversine_m
    from yizhan.orgs.demo import NETWORK

    centres = {t[0]: t[4] for _c, _n, _e, tiers in NETWORK for t in tiers}
    for outlet in Unit.objects.outlets().select_related("parent"):
        districts = centres[outlet.parent.code]
        nearest = min(
            haversine_m(outlet.lat, outlet.lng, lat, lng) / 1000 / km for _d, lat, lng, km in districts
        )
        assert nearest <= 2.5, outlet.code  # within 2.5 spreads of a district centre


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "YIZHAN_SECRET_KEY": "k" * 30 + "-production-secret-key-0123456789",
        "YIZHAN_ALLOWED_HOSTS": "yizhan.example.com",
        "YIZHAN_VAR_DIR": str(tmp_path),
        "YIZHAN_TESTING": "0",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "yizhan", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
