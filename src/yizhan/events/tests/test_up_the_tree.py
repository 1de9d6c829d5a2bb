"""Events summarised up the tree (volunteer hours included), the occurrences of events organised
higher up on a unit's list, and both xlsx exports read back."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from yizhan.core.filereader import read_table
from yizhan.events import services
from yizhan.events.models import Registration, Source

pytestmark = pytest.mark.django_db


def _hours_under(code: str) -> Decimal:
    from yizhan.orgs.models import Unit

    path = Unit.objects.get(code=code).path
    found = Registration.objects.filter(source=Source.STAFF, occurrence__station__unit__path__startswith=path)
    return found.aggregate(h=Sum("hours"))["h"] or Decimal(0)


def test_staff_volunteering_hours_are_counted_up_the_tree(client_for, make_event, users):
    _event, (occ,) = make_event()
    services.record_walk_in(occ, actor=users["cq_admin"], name="员工甲", staff=True, hours="4.5")
    services.record_walk_in(occ, actor=users["cq_admin"], name="员工乙", staff=True, hours="3")
    at_head_office = {
        r["unit"].code: r for r in client_for("hq_admin").get("/manage/events/").context["below"]
    }
    assert at_head_office["CQ"]["hours"] == _hours_under("CQ") >= Decimal("7.5")
    assert at_head_office["FJ"]["hours"] == _hours_under("FJ") >= 52  # Sanming's 13 staff, 4 hours each
    in_chongqing = client_for("cq_admin").get("/manage/events/").context["below"]
    assert sum(r["hours"] for r in in_chongqing) == _hours_under("CQ")


def test_an_outlet_manager_sees_the_branch_events_coming_to_his_station(client_for, make_event):
    event, (occ,) = make_event()
    page = client_for("sanxia_manager").get("/manage/events/")
    assert occ in page.context["here"] and event.title in page.content.decode()
    # Not someone else's: a Shenzhen event is not at his stations.
    assert all(o.station.code == "CQ-SXGC" for o in page.context["here"])


def test_the_summary_export_adds_up_to_its_total(client_for):
    response = client_for("hq_admin").get("/manage/events/summary.xlsx?unit=HQ")
    assert response.status_code == 200
    table = read_table("summary.xlsx", response.content)
    *rows, total = [cells for _n, cells in table.rows]
    assert total[1] == "合计" and rows
    for column in range(2, 6):
        assert sum(int(r[column]) for r in rows) == int(total[column])
    assert client_for("cq_admin").get("/manage/events/summary.xlsx?unit=SZ").status_code == 404


def test_the_participants_export_masks_phones_and_defuses_formulas(client_for, make_event):
    event, (occ,) = make_event(capacity=5)
    services.sign_up(occ, name='=HYPERLINK("http://x")', phone="13800001234")
    response = client_for("cq_admin").get(f"/manage/events/{event.pk}/export.xlsx")
    table = read_table("participants.xlsx", response.content)
    (row,) = [cells for _n, cells in table.rows]
    assert "138****1234" in row and "13800001234" not in row
    assert any(c.startswith("'=HYPERLINK") for c in row)
    assert timezone.localtime(occ.starts_at).strftime("%Y-%m-%d %H:%M") in row
