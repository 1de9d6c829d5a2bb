import pytest


@pytest.fixture(autouse=True)
def _fresh_index():
    """Each test starts with no index in this process: one built inside another test's
    transaction may hold data that was rolled back."""
    from yizhan.locator import loading, pagecache, services

    loading.forget()
    pagecache.forget()
    services._cities.update(loaded=0.0, items=[])
    services._labels.update(loaded=0.0, facilities=[], themes=[])
    yield
    loading.forget()


@pytest.fixture
def actor(users):
    return users["hq_admin"]


@pytest.fixture
def station(db):
    from yizhan.stations.models import Station

    return lambda code: Station.objects.get(code=code)


@pytest.fixture
def sxgc(station, actor):
    """CQ-SXGC with 4 seats and no check-ins in the last two hours: the demo's check-ins run up to
    the moment it was built, minutes before the test, and would make it busy already."""
    import datetime

    from django.utils import timezone

    from yizhan.stations import services as station_services
    from yizhan.visits.models import CheckIn

    s = station("CQ-SXGC")
    CheckIn.objects.filter(station=s, at__gt=timezone.now() - datetime.timedelta(hours=2)).delete()
    return station_services.update_station(s, actor=actor, seats=4)


WEEKDAY_9_TO_5 = {
    "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [], "sun": []},
    "always_open": False,
    "statutory": True,
    "exceptions": [],
}
