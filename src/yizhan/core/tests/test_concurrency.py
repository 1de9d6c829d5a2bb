"""No lost updates: every staff edit form and API edit names the revision it was based on, and a
stale one is refused with what changed meanwhile (field, old → new, by whom, when), from the
audit log. The form is shown again with the user's input and the current revision; the API
answers 409 naming the fields. Nothing of the stale edit is written."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django import forms
from django.forms.widgets import DateTimeBaseInput
from django.test import Client
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.cases import services as case_services
from yizhan.core import concurrency
from yizhan.events import campaigns as campaign_services
from yizhan.events import offers as offer_services
from yizhan.events import services as event_services
from yizhan.events.models import Campaign, Event, Offer
from yizhan.locator import places as place_services
from yizhan.locator.models import Place
from yizhan.operations import plans as plan_services
from yizhan.operations import services as operations_services
from yizhan.operations.models import PlanTemplate
from yizhan.orgs import services as org_services
from yizhan.orgs.models import Membership, Unit
from yizhan.orgs.services import create_api_token
from yizhan.remittance import services as remittance_services
from yizhan.remittance.models import Batch, Rule
from yizhan.stations import services as station_services
from yizhan.stations.models import RolloutWave, Standard, Station, StationFacility
from yizhan.supplies import services as supply_services
from yizhan.supplies.models import Item, Level
from yizhan.training import services as training_services
from yizhan.training.models import Course
from yizhan.visits import services as visit_services
from yizhan.visits.models import Feedback

pytestmark = pytest.mark.django_db


def form_data(form: forms.Form) -> dict:
    """What the browser posts back for a form as it was shown (initial values, hidden revision)."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is None:
            data[key] = ""
        elif isinstance(field.widget, DateTimeBaseInput):
            data[key] = field.widget.format_value(value)
        else:
            data[key] = value
    return data


def hidden_revision(html: str) -> int:
    match = re.search(r'<input type="hidden" name="revision" value="(\d+)"', html)
    assert match, "the form carries no revision"
    return int(match.group(1))


def batch() -> Batch:
    return remittance_services.create_batch(
        actor=None,
        unit=Unit.objects.get(code="HQ"),
        name="并发测试批次",
        deadline=timezone.now() + datetime.timedelta(days=2),
    )


@dataclass
class EditPath:
    """One edit form: who edits and who saves first, the object, the change that other one makes
    meanwhile (with the field and new value the conflict must show), and the user's own change."""

    who: tuple[str, str]  # (the editor, the other who saves first)
    url: Callable[[object], str]
    obj: Callable[[], object]
    meanwhile: Callable[[object, object], None]
    shows: tuple[str, str]  # (field label or name, new value) expected in the message
    mine: dict
    unchanged: Callable[[object], bool]  # the user's change was not written


def _unit():
    return Unit.objects.get(code="CQ-SXGC")


def _station():
    return Station.objects.get(code="CQ-SXGC")


def _supply_item():
    return Item.objects.get(code="CUP")


def _level():
    return Level.objects.get(unit__code="CQ-SXGC", item__code="CUP")


def _event():
    return Event.objects.filter(unit__code="CQ").order_by("pk").first()


def _campaign():
    return Campaign.objects.order_by("pk").first()


def _course():
    return Course.objects.get(code="SZ-FR")


def _rule():
    return Rule.objects.order_by("pk").first()


def _case():
    return case_services.open_case(
        actor=Membership.objects.get(user__username="hq_admin").user,
        unit=_unit(),
        case_type="fraud",
        title="并发测试案件",
    )


def _plan_template():
    return PlanTemplate.objects.filter(name="并发预案").first() or plan_services.save_template(
        Unit.objects.get(code="CQ"), actor=None, name="并发预案", measures=plan_services.default_measures()
    )


def _outlet_plan():
    return plan_services.fill_plan(Unit.objects.get(code="CQ-SXGC"), actor=None, template=_plan_template())


# What someone else saves meanwhile, where the form and the API tables share it.


def _other_speakers(e, actor, speakers):
    event_services.update_event(
        e, actor=actor, title=e.title, kind=e.kind, target_groups=e.target_groups, capacity=e.capacity,
        max_party=e.max_party, speakers=speakers,
    )  # fmt: skip


def _other_partners(c, actor, partners):
    values = {f: getattr(c, f) for f in campaign_services.FIELDS}
    campaign_services.update_campaign(c, actor=actor, **{**values, "partners": partners})


def _other_maximum(lv, actor):
    supply_services.save_level(
        lv.unit, lv.item, actor=actor, minimum=lv.minimum, reorder_point=lv.reorder_point, maximum=999,
        lead_days=lv.lead_days,
    )  # fmt: skip


def _other_plan_name(t, actor):
    plan_services.save_template(t.unit, actor=actor, name="别人改的预案", measures=t.measures, template=t)


def _other_cash_route(p, actor):
    plan_services.fill_plan(p.unit, actor=actor, template=p.template, cash_route="别人的路线")


def _other_aliases(p, actor):
    values = {f: getattr(p, f) for f in ("name", "aliases", "kind", "lat", "lng")}
    place_services.update_place(p, actor=actor, **{**values, "city": p.unit.code, "aliases": "别人加的别名"})


PATHS = {
    "course": EditPath(
        who=("hq_admin", "hq_admin"),
        url=lambda c: f"/manage/training/courses/{c.pk}/",
        obj=_course,
        meanwhile=lambda c, actor: training_services.update_course(c, actor=actor, provider="别人改的机构"),
        shows=("provider name", "别人改的机构"),
        mine={"title_en": "My course"},
        unchanged=lambda c: c.title_en != "My course",
    ),
    "offer": EditPath(
        who=("hq_admin", "hq_admin"),
        url=lambda o: f"/manage/events/offers/{o.pk}/",
        obj=lambda: Offer.objects.order_by("pk").first(),
        meanwhile=lambda o, actor: offer_services.save_offer(
            o,
            actor=actor,
            group=o.group,
            theme=o.theme,
            title=o.title,
            text="别人改的内容",
            valid_from=o.valid_from,
            valid_until=o.valid_until,
        ),
        shows=("what it offers (Chinese)", "别人改的内容"),
        mine={"title_en": "My title"},
        unchanged=lambda o: o.title_en != "My title",
    ),
    "event": EditPath(
        who=("cq_admin", "hq_admin"),
        url=lambda e: f"/manage/events/{e.pk}/edit/",
        obj=_event,
        meanwhile=lambda e, actor: _other_speakers(e, actor, "别人改的主讲人"),
        shows=("speakers", "别人改的主讲人"),
        mine={"partners": "我的协办单位"},
        unchanged=lambda e: e.partners != "我的协办单位",
    ),
    "campaign": EditPath(
        who=("hq_admin", "hq_admin"),
        url=lambda c: f"/manage/events/campaigns/{c.pk}/edit/",
        obj=_campaign,
        meanwhile=lambda c, actor: _other_partners(c, actor, "别人改的协办单位"),
        shows=("co-organisers", "别人改的协办单位"),
        mine={"description": "我的活动说明"},
        unchanged=lambda c: c.description != "我的活动说明",
    ),
    "unit": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda o: f"/manage/units/{o.code}/edit/",
        obj=_unit,
        meanwhile=lambda o, actor: org_services.update_unit(o, actor=actor, name_en="Renamed meanwhile"),
        shows=("name (English)", "Renamed meanwhile"),
        mine={"address": "我的新地址 1 号"},
        unchanged=lambda o: o.address != "我的新地址 1 号" and o.name_en == "Renamed meanwhile",
    ),
    "staff": EditPath(
        who=("cq_admin", "hq_admin"),
        url=lambda m: f"/manage/staff/{m.user_id}/",
        obj=lambda: Membership.objects.select_related("user").get(user__username="sanxia_manager"),
        meanwhile=lambda m, actor: org_services.set_membership(
            actor=actor, user=m.user, unit=m.unit, role="viewer"
        ),
        shows=("role", "viewer"),
        mine={"role": "admin"},
        unchanged=lambda m: m.role == "viewer",
    ),
    "station": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda s: f"/manage/stations/{s.code}/edit/",
        obj=_station,
        meanwhile=lambda s, actor: station_services.update_station(s, actor=actor, name="别人改的驿站名"),
        shows=("name (Chinese)", "别人改的驿站名"),
        mine={"phone": "023-66668888"},
        unchanged=lambda s: s.phone != "023-66668888" and s.name == "别人改的驿站名",
    ),
    "facilities": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda s: f"/manage/stations/{s.code}/facilities/",
        obj=_station,
        meanwhile=lambda s, actor: station_services.set_facility_state(
            s, "wifi", actor=actor, state="yes", out_of_order=True, note="路由器被雷击"
        ),
        shows=("wifi.note", "路由器被雷击"),
        mine={"reading_glasses__state": "no", "reading_glasses__note": "我的备注"},
        unchanged=lambda s: not StationFacility.objects.filter(station=s, note="我的备注").exists(),
    ),
    "hours": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda s: f"/manage/stations/{s.code}/hours/",
        obj=_station,
        meanwhile=lambda s, actor: station_services.update_station(s, actor=actor, phone="023-11112222"),
        shows=("phone", "023-11112222"),
        mine={"sat": "10:00-11:00"},
        unchanged=lambda s: (s.opening_hours.get("weekly") or {}).get("sat") != [["10:00", "11:00"]],
    ),
    "close": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda s: f"/manage/stations/{s.code}/close/",
        obj=_station,
        meanwhile=lambda s, actor: station_services.update_station(s, actor=actor, seats=42),
        shows=("seats", "42"),
        mine={"public_notice": "我要关门装修", "temporary": "on"},
        unchanged=lambda s: s.status == "active",
    ),
    "standard": EditPath(
        who=("hq_admin", "hq_admin"),  # the same person in two tabs loses updates just the same
        url=lambda s: f"/manage/stations/standards/{s.pk}/edit/",
        obj=lambda: Standard.objects.current().get(code="basic8"),
        meanwhile=lambda s, actor: station_services.save_standard(
            actor=actor, instance=s, name_en="Basic eight (edited meanwhile)"
        ),
        shows=("name (English)", "Basic eight (edited meanwhile)"),
        mine={"name": "我改的标准名"},
        unchanged=lambda s: s.name != "我改的标准名",
    ),
    "wave": EditPath(
        who=("cq_admin", "hq_admin"),
        url=lambda w: f"/manage/stations/waves/{w.pk}/edit/",
        obj=lambda: RolloutWave.objects.get(unit__code="CQ"),
        meanwhile=lambda w, actor: station_services.save_wave(
            actor=actor,
            unit=w.unit,
            instance=w,
            name=w.name,
            name_en=w.name_en,
            standard=w.standard,
            target_date="2022-06-30",
            outlets="all",
        ),
        shows=("target date", "2022-06-30"),
        mine={"note": "我的备注"},
        unchanged=lambda w: w.note != "我的备注" and w.target_date == datetime.date(2022, 6, 30),
    ),
    "rule": EditPath(
        who=("hq_admin", "hq_admin"),
        url=lambda r: f"/manage/remittance/rules/{r.pk}/",
        obj=_rule,
        meanwhile=lambda r, actor: remittance_services.save_rule(actor=actor, instance=r, priority=97),
        shows=("priority", "97"),
        mine={"note": "我的说明"},
        unchanged=lambda r: r.note != "我的说明" and r.priority == 97,
    ),
    "batch": EditPath(
        who=("hq_admin", "hq_admin"),
        url=lambda b: f"/manage/remittance/{b.pk}/edit/",
        obj=lambda: Batch.objects.filter(name="并发测试批次").first() or batch(),
        meanwhile=lambda b, actor: remittance_services.update_batch(b, actor=actor, near_window_hours=5),
        shows=("near-duplicate window (hours)", "5"),
        mine={"name": "我改的批次名"},
        unchanged=lambda b: b.name != "我改的批次名" and b.near_window_hours == 5,
    ),
    "supply item": EditPath(
        who=("hq_admin", "hq_admin"),
        url=lambda i: f"/manage/supplies/items/{i.code}/edit/",
        obj=_supply_item,
        meanwhile=lambda i, actor: supply_services.save_item(
            actor=actor, instance=i, name_en="Cups (edited meanwhile)"
        ),
        shows=("name (English)", "Cups (edited meanwhile)"),
        mine={"name": "我改的纸杯"},
        unchanged=lambda i: i.name != "我改的纸杯" and i.name_en == "Cups (edited meanwhile)",
    ),
    "stock level": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda lv: f"/manage/supplies/u/{lv.unit.code}/i/{lv.item.code}/level/",
        obj=_level,
        meanwhile=_other_maximum,
        shows=("maximum", "999"),
        mine={"minimum": "150"},
        unchanged=lambda lv: lv.minimum != 150 and lv.maximum == 999,
    ),
    "case": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda c: f"/manage/cases/{c.pk}/edit/",
        obj=_case,
        meanwhile=lambda c, actor: case_services.update_case(c, actor=actor, police_reference="JQ-0001"),
        shows=("police reference", "JQ-0001"),
        mine={"title": "我改的案件标题"},
        unchanged=lambda c: c.title != "我改的案件标题" and c.police_reference == "JQ-0001",
    ),
    "plan template": EditPath(
        who=("cq_admin", "hq_admin"),
        url=lambda t: f"/manage/operations/plans/templates/{t.pk}/",
        obj=_plan_template,
        meanwhile=_other_plan_name,
        shows=("name", "别人改的预案"),
        mine={"business": "我加的业务措施 | 网点负责人 | 2"},
        unchanged=lambda t: t.name == "别人改的预案" and "我加的业务措施" not in str(t.measures),
    ),
    "outlet plan": EditPath(
        who=("sanxia_manager", "cq_admin"),
        url=lambda p: "/manage/operations/outlets/CQ-SXGC/plan/",
        obj=_outlet_plan,
        meanwhile=_other_cash_route,
        shows=("backup cash route", "别人的路线"),
        mine={"service_channel": "我的渠道"},
        unchanged=lambda p: p.service_channel != "我的渠道" and p.cash_route == "别人的路线",
    ),
    "place": EditPath(
        who=("cq_admin", "hq_admin"),
        url=lambda p: f"/manage/places/{p.pk}/",
        obj=lambda: Place.objects.select_related("unit").get(name="解放碑"),
        meanwhile=_other_aliases,
        shows=("other names", "别人加的别名"),
        mine={"kind": "market"},
        unchanged=lambda p: p.kind != "market" and p.aliases == "别人加的别名",
    ),
}


@pytest.fixture
def english(client_for):
    """A staff member's client reading English: the assertions below read the English text."""

    def make(username: str) -> Client:
        client = client_for(username)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


@pytest.mark.parametrize("path", list(PATHS))
def test_a_stale_form_is_refused_with_the_changes_meanwhile_and_the_input_kept(english, users, path):
    spec = PATHS[path]
    (editor, other), obj = spec.who, spec.obj()
    client = english(editor)
    page = client.get(spec.url(obj))
    assert page.status_code == 200
    shown = page.context["form"]
    based_on = hidden_revision(page.content.decode())
    assert based_on == obj.revision

    spec.meanwhile(type(obj).objects.get(pk=obj.pk), users[other])  # someone else saves first

    data = {**form_data(shown), **spec.mine}
    response = client.post(spec.url(obj), data)
    assert response.status_code == 200  # shown again, not saved
    form = response.context["form"]
    errors = " ".join(form.non_field_errors())
    assert "nothing was saved" in errors and f"revision {based_on}" in errors
    label, value = spec.shows
    assert f"{label}: " in errors and f"→ {value} ({other}, " in errors, errors
    html = response.content.decode()
    current = type(obj).objects.get(pk=obj.pk)
    assert current.revision == based_on + 1
    assert hidden_revision(html) == current.revision  # saving again is a deliberate choice
    for mine in spec.mine.values():
        if mine != "on":
            assert mine in html  # the user's input is still in the form
    assert spec.unchanged(current)

    # Saved again from the re-shown form (now at the current revision): accepted.
    again = client.post(spec.url(obj), {**form_data(form), **spec.mine})
    assert again.status_code == 302, again.context["form"].errors if again.context else again
    assert type(obj).objects.get(pk=obj.pk).revision >= based_on + 2  # facilities: one per row changed


def test_a_form_without_its_revision_is_refused(english):
    station = _station()
    client = english("sanxia_manager")
    data = form_data(client.get(f"/manage/stations/{station.code}/edit/").context["form"])
    del data["revision"]
    response = client.post(f"/manage/stations/{station.code}/edit/", {**data, "phone": "023-1"})
    assert response.status_code == 200 and "revision" in response.context["form"].errors
    assert "reload the page" in response.content.decode()
    assert Station.objects.get(pk=station.pk).revision == station.revision


def test_a_stale_feedback_action_is_refused_with_the_change_named(english, users):
    item = visit_services.submit_feedback(_station(), kind="suggestion", text="多放几把椅子")
    client = english("sanxia_manager")
    page = client.get(f"/manage/feedback/{item.pk}/")
    shown = hidden_revision(page.content.decode())
    visit_services.acknowledge_feedback(item, actor=users["cq_admin"], note="我来处理")
    response = client.post(
        f"/manage/feedback/{item.pk}/reject/", {"note": "重复", "revision": shown}, follow=True
    )
    text = response.content.decode()
    assert "nothing was saved" in text and "new → acknowledged" in text and "cq_admin" in text
    assert Feedback.objects.get(pk=item.pk).status == "acknowledged"


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def api(users):
    def make(username: str) -> Client:
        _token, raw = create_api_token(user=users[username], name="concurrency")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def _feedback():
    return visit_services.submit_feedback(_station(), kind="suggestion", text="饮水机再多一台")


def _operating_status():
    return operations_services.schedule_status(
        Unit.objects.get(code="CQ-SXGC"), actor=None, state="limited", counter_windows=1
    )


def _end_later(entry, actor):
    operations_services.end_status(entry, actor=actor, at=timezone.now() + datetime.timedelta(days=2))


_PLAN_MEASURES = [
    {"backup": b, "text": "措施", "owner": "outlet_manager"}
    for b in ("business", "staff", "service", "management")
]

# name: (who edits, "method path" under /api/v1/manage/, the object, the body (None: the rule's own
#        fields), what hq_admin saves meanwhile, the field that change must be named by)
API_PATHS = {
    "patch course": (
        "hq_admin", "patch training/courses/{o.pk}", _course, {"title_en": "Concurrent course"},
        lambda c, actor: training_services.update_course(c, actor=actor, provider="并发机构"), "provider"),
    "patch event": (
        "cq_admin", "patch events/{o.pk}", _event, {"title": "并发讲座", "kind": "lecture"},
        lambda e, actor: _other_speakers(e, actor, "并发主讲人"), "speakers"),
    "patch campaign": (
        "hq_admin", "patch events/campaigns/{o.pk}", _campaign, {"description": "并发说明"},
        lambda c, actor: _other_partners(c, actor, "并发协办单位"), "partners"),
    "put plan template": (
        "cq_admin", "put operations/plan-templates/{o.pk}", _plan_template,
        {"name": "并发预案二", "measures": _PLAN_MEASURES}, _other_plan_name, "name"),
    "put outlet plan": (
        "sanxia_manager", "put operations/outlets/CQ-SXGC/plan", _outlet_plan, {"service_channel": "我的渠道"},
        _other_cash_route, "cash_route"),
    "end operating status": (
        "cq_admin", "post operations/statuses/{o.pk}/end", _operating_status, {}, _end_later, "ends_at"),
    "patch station": (
        "cq_admin", "patch stations/{o.code}", _station, {"seats": 3},
        lambda s, actor: station_services.update_station(s, actor=actor, name="并发改名"), "name"),
    "put facility": (
        "cq_admin", "put stations/{o.code}/facilities/wifi", _station, {"state": "no"},
        lambda s, actor: station_services.set_facility_state(s, "phone_charging", actor=actor, state="no"),
        "phone_charging.state"),
    "close station": (
        "cq_admin", "post stations/{o.code}/close", _station, {"notice": "装修", "temporary": True},
        lambda s, actor: station_services.update_station(s, actor=actor, phone="023-99990000"), "phone"),
    "put rule": (
        "hq_admin", "put remittance/rules/{o.pk}", _rule, None,
        lambda r, actor: remittance_services.save_rule(actor=actor, instance=r, category="并发"), "category"),
    "feedback action": (
        "cq_admin", "post feedback/{o.pk}/reject", _feedback, {"note": "重复的建议"},
        lambda f, actor: visit_services.acknowledge_feedback(f, actor=actor, note="我先来"), "status"),
    "patch supply item": (
        "hq_admin", "patch supplies/items/{o.code}", _supply_item, {"name": "并发纸杯"},
        lambda i, actor: supply_services.save_item(actor=actor, instance=i, name_en="Cups meanwhile"), "name_en"),
    "put stock level": (
        "cq_admin", "put supplies/units/{o.unit.code}/items/{o.item.code}/level", _level,
        {"minimum": 150, "reorder_point": 300, "maximum": 1000, "lead_days": 7}, _other_maximum, "maximum"),
    "patch case": (
        "cq_admin", "patch cases/{o.pk}", _case, {"title": "我的标题"},
        lambda c, actor: case_services.update_case(c, actor=actor, police_reference="JQ-0002"), "police_reference"),
    "case step": (
        "cq_admin", "post cases/{o.pk}/steps/calmed", _case, {"note": "已安抚"},
        lambda c, actor: case_services.update_case(c, actor=actor, police_reference="JQ-0003"), "police_reference"),
}  # fmt: skip


@pytest.mark.parametrize("path", list(API_PATHS))
def test_a_stale_api_edit_answers_409_naming_the_fields_changed(api, users, path):
    username, route, get_obj, body, meanwhile, field = API_PATHS[path]
    obj = get_obj()
    method, url = route.split(" ")
    url = "/api/v1/manage/" + url.format(o=obj)
    if body is None:
        body = {f: getattr(obj, f) for f in remittance_services.RULE_FIELDS}
    based_on = obj.revision
    meanwhile(type(obj).objects.get(pk=obj.pk), users["hq_admin"])
    before = type(obj).objects.get(pk=obj.pk)
    response = getattr(api(username), method)(
        url, {**body, "revision": based_on}, content_type="application/json"
    )
    assert response.status_code == 409, response.content
    answer = response.json()
    assert field in answer["fields"] and answer["based_on"] == based_on
    assert answer["revision"] == before.revision == based_on + 1
    change = next(c for c in answer["changes"] if c["field"] == field)
    assert change["by"] == "hq_admin" and change["at"]
    after = type(obj).objects.get(pk=obj.pk)
    assert (
        after.revision == before.revision and after.updated_at == before.updated_at
        if hasattr(after, "updated_at")
        else after.revision == before.revision
    )
    # The same edit on the current revision goes through.
    ok = getattr(api(username), method)(
        url, {**body, "revision": answer["revision"]}, content_type="application/json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["revision"] == based_on + 2


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("patch", "/api/v1/manage/stations/CQ-SXGC", {"seats": 3}),
        ("put", "/api/v1/manage/stations/CQ-SXGC/facilities/wifi", {"state": "no"}),
    ],
)
def test_an_api_edit_without_a_revision_is_422_naming_it(api, method, url, body):
    before = _station().revision
    response = getattr(api("cq_admin"), method)(url, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-3:] == ["body", "payload", "revision"] or (
        response.json()["detail"][0]["loc"][-1] == "revision"
    )
    assert _station().revision == before


def test_the_openapi_document_declares_409_on_edits(api):
    paths = api("cq_admin").get("/api/v1/openapi.json").json()["paths"]
    assert "409" in paths["/api/v1/manage/stations/{code}"]["patch"]["responses"]
    assert "409" in paths["/api/v1/manage/stations/{code}/facilities/{facility}"]["put"]["responses"]
    assert "409" in paths["/api/v1/manage/remittance/rules/{rule_id}"]["put"]["responses"]


def test_every_saved_change_moves_the_revision_on_once_and_audits_it(users):
    station = _station()
    start = station.revision
    station_services.update_station(station, actor=users["cq_admin"], revision=start, seats=11)
    station_services.update_station(station, actor=users["cq_admin"], revision=start + 1, seats=11)  # no-op
    assert _station().revision == start + 1
    event = AuditEvent.objects.filter(object_id=str(station.pk), action="station.updated").latest("pk")
    assert event.changes["revision"] == [start, start + 1]
    station_services.verify_station(_station(), actor=None)  # a public confirmation: no form goes stale
    assert _station().revision == start + 1
    with pytest.raises(concurrency.StaleEdit) as stale:
        station_services.update_station(station, actor=users["sanxia_manager"], revision=start, seats=12)
    assert stale.value.fields == ["seats"] and stale.value.changes[0]["new"] == 11
