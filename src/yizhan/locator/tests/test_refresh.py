"""Every process serves current data: the index follows the data version without a restart."""

from django.test import override_settings

from yizhan.locator import loading
from yizhan.stations import services as station_services

SXGC = (29.5566, 106.4569)


def first_code(index, **filters):
    rows, _m = index.nearest(*SXGC, k=1, **filters)
    return index.text("code", rows[0]) if len(rows) else None


def test_index_is_refreshed_after_an_edit(db, actor, station):
    before = loading.current_index()
    mask = before.catalogue.facility_mask(["mother_baby_room"])
    assert first_code(before, facilities=mask) != "CQ-SXGC"
    station_services.set_facility_state(station("CQ-SXGC"), "mother_baby_room", actor=actor, state="yes")
    after = loading.current_index()
    assert after is not before and after.version != before.version
    assert first_code(after, facilities=mask) == "CQ-SXGC"


def test_a_move_is_seen_and_the_tree_rebuilt(db, actor, station):
    before = loading.current_index()
    station_services.update_station(station("CQ-SXGC"), actor=actor, lat="36.0", lng="120.0")
    after = loading.current_index()
    assert after.tree is not before.tree
    rows, metres = after.nearest(36.0, 120.0, k=1)
    assert after.text("code", rows[0]) == "CQ-SXGC" and metres[0] < 1


def test_a_new_station_appears(db, actor, unit):
    loading.current_index()
    station_services.register_station(
        actor=actor, unit=unit("CQ-SXGC"), code="CQ-NEW", name="新驿站", lat="29.6", lng="106.6"
    )
    index = loading.current_index()
    rows, _m = index.nearest(29.6, 106.6, k=1)
    assert index.text("code", rows[0]) == "CQ-NEW"


def test_the_calendar_is_part_of_the_version(db, actor, station):
    import datetime
    import zoneinfo

    from yizhan.stations.models import HolidayDate

    from .conftest import WEEKDAY_9_TO_5

    station_services.set_schedule(station("CQ-SXGC"), WEEKDAY_9_TO_5, actor=actor)
    index = loading.current_index()
    wednesday = datetime.datetime(2026, 6, 17, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert first_code(index, open_at=wednesday) == "CQ-SXGC"
    # An admin declares an extra day off; the calendar write bumps the version like any other.
    HolidayDate.objects.create(date=wednesday.date(), kind="off", name="测试")
    station_services.bump("stations", "calendar")
    assert first_code(loading.current_index(), open_at=wednesday) != "CQ-SXGC"


def test_rolled_back_versions_force_a_full_load(db, actor, station):
    index = loading.current_index()
    later = loading.refreshed(index, index.version + 10)
    assert later is not index
    # A smaller number than the index's own means a restored or rolled-back database.
    again = loading.refreshed(later, index.version)
    assert again.n == index.n and len(again.text_blocks) == 1


@override_settings(YIZHAN_LOCATOR_REFRESH_MS=60_000)
def test_version_is_read_at_most_once_per_interval_unless_this_process_wrote(db, actor, station):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    loading.current_index()
    with CaptureQueriesContext(connection) as queries:
        loading.current_index()
    assert len(queries) == 0
    loading.mark_stale()
    with CaptureQueriesContext(connection) as queries:
        loading.current_index()
    assert len(queries) == 1, "one indexed SELECT of the version when nothing changed"


@override_settings(YIZHAN_LOCATOR_REFRESH_MS=60_000)
def test_this_process_sees_its_own_committed_write_at_once(
    db, actor, station, django_capture_on_commit_callbacks
):
    before = loading.current_index()
    mask = before.catalogue.facility_mask(["mother_baby_room"])
    with django_capture_on_commit_callbacks(execute=True):
        station_services.set_facility_state(station("CQ-SXGC"), "mother_baby_room", actor=actor, state="yes")
        assert loading._current["stale"] is False, "not before the commit"
    assert loading._current["stale"] is True
    assert first_code(loading.current_index(), facilities=mask) == "CQ-SXGC"
