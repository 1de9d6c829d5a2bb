import hashlib
import subprocess
import sys

from yizhan.audit.models import AuditEvent
from yizhan.conftest import build_small_demo
from yizhan.orgs.models import Membership, Unit


def network_digest() -> str:
    rows = Unit.objects.order_by("code").values_list(
        "code", "kind", "name", "parent__code", "level", "lat", "lng", "address"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def wipe():
    from django.apps import apps

    # Later apps hang their rows on units; clear every yizhan table but the org tree first.
    for model in apps.get_models():
        if model._meta.app_label in {"stations", "locator", "visits", "remittance"}:
            model.objects.all().delete()
    AuditEvent.objects.all().delete()
    Membership.objects.all().delete()
    Membership._meta.get_field("user").related_model.objects.all().delete()
    for level in sorted(set(Unit.objects.values_list("level", flat=True)), reverse=True):
        Unit.objects.filter(level=level).delete()


def test_same_seed_same_network_other_seed_other_network(db):
    first = network_digest()
    wipe()
    build_small_demo(seed=2023)
    assert network_digest() == first
    wipe()
    build_small_demo(seed=7)
    assert network_digest() != first


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
