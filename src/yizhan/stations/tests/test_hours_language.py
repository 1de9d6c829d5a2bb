"""Opening hours read in the reader's language; a closed date is written 休息 (closed still works)."""

import pytest
from django.utils import translation

from yizhan.stations import hours
from yizhan.stations.forms import HoursForm
from yizhan.stations.models import Station

WEEKLY = {
    "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [["09:30", "16:00"]]},
    "statutory": True,
    "exceptions": [{"date": "2026-10-08", "closed": True, "reason": "盘点"}],
}


def test_hours_read_in_chinese_and_in_english():
    with translation.override("zh-hans"):
        assert hours.describe_hours(WEEKLY) == "周一至周五 09:00-17:00；周六 09:30-16:00"
        assert hours.describe_hours({"always_open": True}) == "24小时开放"
        assert hours.describe_hours(WEEKLY, exceptions=True).endswith("；2026-10-08 休息 盘点")
    with translation.override("en"):
        assert hours.describe_hours(WEEKLY) == "Mon–Fri 09:00-17:00; Sat 09:30-16:00"
        assert hours.describe_hours({"always_open": True}) == "open 24 hours"
    # The spreadsheet form stays Chinese whatever the language, so that exports re-import.
    with translation.override("en"):
        assert hours.format_hours_text(WEEKLY) == "周一至周五 09:00-17:00；周六 09:30-16:00"


def _form(exceptions: str) -> HoursForm:
    form = HoursForm({"mon": "09:00-17:00", "statutory": "on", "exceptions": exceptions, "revision": "1"})
    assert form.is_valid(), form.errors
    return form


@pytest.mark.parametrize("word", ["休息", "闭馆", "closed", "CLOSED"])
def test_a_closed_date_may_be_written_in_chinese_or_as_before(word):
    schedule = _form(f"2026-10-08 {word} 盘点").to_schedule()
    assert schedule["exceptions"] == [{"date": "2026-10-08", "reason": "盘点", "closed": True}]


def test_the_form_writes_and_explains_the_chinese_keyword():
    initial = HoursForm.initial_for(WEEKLY)
    assert initial["exceptions"] == "2026-10-08 休息 盘点"
    with translation.override("zh-hans"):
        help_text = str(HoursForm().fields["exceptions"].help_text)
    assert "休息" in help_text and "closed" not in help_text


def test_the_text_form_reads_xiuxi():
    assert hours.parse_hours_text("周一至周五 09:00-17:00；周六 休息") == {
        "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": []}
    }


@pytest.mark.django_db
def test_the_back_office_shows_hours_in_the_active_language(client_for):
    station = Station.objects.get(code="CQ-SXGC")
    station.opening_hours = hours.clean_schedule(WEEKLY)
    station.save(update_fields=["opening_hours"])
    client = client_for("cq_admin")
    assert (
        "周一至周五 09:00-17:00；周六 09:30-16:00" in client.get("/manage/stations/CQ-SXGC/").content.decode()
    )
    client.cookies["django_language"] = "en"
    english = client.get("/manage/stations/CQ-SXGC/").content.decode()
    assert "Mon–Fri 09:00-17:00; Sat 09:30-16:00" in english and "周一至周五" not in english
