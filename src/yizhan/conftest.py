"""Shared fixtures: a small demo network built once per test database, and the named demo users.

Tests that use `db` run inside a transaction over that network and leave it as they found it.
"""

import pytest

from yizhan.core.demo import DemoContext, build

NAMED_USERS = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer")


def build_small_demo(seed: int = 2023) -> DemoContext:
    ctx = DemoContext(seed=seed, small=True, log=lambda msg: None)
    build(ctx)
    return ctx


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        build_small_demo()


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import caches

    caches["shared"].clear()
    caches["default"].clear()
    yield


@pytest.fixture
def users(db):
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.filter(membership__isnull=False)}


@pytest.fixture
def client_for(db, users):
    """client_for("cq_admin") -> a test client logged in as that demo user."""
    from django.test import Client

    def make(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    return make


@pytest.fixture
def unit(db):
    from yizhan.orgs.models import Unit

    return lambda code: Unit.objects.get(code=code)
