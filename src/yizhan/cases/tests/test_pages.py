"""The pages: a permission matrix of the named demo users against in-scope and out-of-scope cases,
personal data masked in lists and exports and whole only to the case's unit and admins above,
every write path with bad input, and pages that read as Chinese."""

import pytest

from yizhan.cases import services
from yizhan.cases.models import Case, CaseStep
from yizhan.cases.tests.conftest import PNG
from yizhan.core.tests.pagecheck import problems

pytestmark = pytest.mark.django_db

NAME, PHONE = "刘先生", "13812345678"


@pytest.fixture
def cq_case(new_case):
    return new_case("CQ-SXGC", person_name=NAME, person_phone=PHONE)


@pytest.fixture
def sz_case(new_case):
    return new_case("SZ-GM", person_name=NAME, person_phone=PHONE)


# who: (sees CQ-SXGC case, sees it whole, may change it, sees SZ-GM case, sees that whole)
MATRIX = {
    "hq_admin": (True, True, True, True, True),  # an admin above every unit
    "cq_admin": (True, True, True, False, False),  # admin above 三峡广场, outside Shenzhen
    "sanxia_manager": (True, True, True, False, False),  # the case's own unit
    "sz_viewer": (False, False, False, True, False),  # a viewer above 光明: masked, read-only
    "sm_manager": (False, False, False, False, False),  # Sanming: outside both
}


@pytest.mark.parametrize("username", list(MATRIX))
def test_the_case_page_answers_each_named_user_as_the_matrix_says(client_for, cq_case, sz_case, username):
    sees_cq, whole_cq, changes_cq, sees_sz, whole_sz = MATRIX[username]
    client = client_for(username)
    for case, sees, whole in ((cq_case, sees_cq, whole_cq), (sz_case, sees_sz, whole_sz)):
        page = client.get(f"/manage/cases/{case.pk}/")
        assert page.status_code == (200 if sees else 404)
        if sees:
            html = page.content.decode()
            assert (PHONE in html) is whole and (NAME in html) is whole
            assert whole or "138****5678" in html  # (the history shows it masked to everyone)
    edit = client.post(f"/manage/cases/{cq_case.pk}/edit/", {"title": "改", "revision": cq_case.revision})
    assert edit.status_code == (302 if changes_cq else 404 if not sees_cq else 403)
    step = client.post(f"/manage/cases/{sz_case.pk}/step/", {"step": "calmed", "revision": sz_case.revision})
    expected = 302 if username == "hq_admin" else 403 if sees_sz else 404
    assert step.status_code == expected


@pytest.mark.parametrize("username", ["hq_admin", "cq_admin", "sanxia_manager", "sz_viewer"])
def test_lists_and_exports_mask_personal_data_for_everyone(client_for, cq_case, sz_case, username):
    client = client_for(username)
    listing = client.get("/manage/cases/?status=all").content.decode()
    export = client.get("/manage/cases/export.csv?status=all").content.decode("utf-8-sig")
    for text in (listing, export):
        assert PHONE not in text and NAME not in text
    visible = MATRIX[username][0] or MATRIX[username][3]
    assert ("刘**" in listing) is visible and ("138****5678" in export) is visible


def test_a_manager_below_the_top_but_above_the_unit_sees_masked_data(users, unit, client_for):
    from yizhan.orgs.models import Unit

    outlet = Unit.objects.filter(path__startswith=unit("FJ-SM").path, kind="outlet").first()
    case = services.open_case(
        actor=users["hq_admin"],
        unit=outlet,
        case_type="vulnerable",
        title="助老",
        person_name=NAME,
        person_phone=PHONE,
    )
    html = client_for("sm_manager").get(f"/manage/cases/{case.pk}/").content.decode()
    assert PHONE not in html and "138****5678" in html


def test_open_a_case_from_the_form_and_work_it_through(client_for, users):
    client = client_for("sanxia_manager")
    response = client.post(
        "/manage/cases/new/",
        {"case_type": "fraud", "unit": "CQ-SXGC", "title": "客户疑遭诈骗", "amount_protected": ""},
    )
    assert response.status_code == 302
    case = Case.objects.latest("pk")
    for step in ["calmed", "police_called", "transaction_stopped", "follow_up"]:
        case.refresh_from_db()
        assert (
            client.post(
                f"/manage/cases/{case.pk}/step/", {"step": step, "revision": case.revision}
            ).status_code
            == 302
        )
    assert CaseStep.objects.filter(case=case, done_at__isnull=True).count() == 0
    case.refresh_from_db()
    response = client.post(
        f"/manage/cases/{case.pk}/close/",
        {
            "outcome": "protected",
            "summary": "资金保住",
            "amount_protected": "20000",
            "revision": case.revision,
        },
    )
    case.refresh_from_db()
    assert case.status == "closed" and str(case.amount_protected) == "20000.00"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"case_type": "burglary", "unit": "CQ-SXGC", "title": "x"}, "case_type"),
        ({"case_type": "fraud", "unit": "SZ-GM", "title": "x"}, "unit"),  # out of scope
        ({"case_type": "fraud", "unit": "CQ-SXGC", "title": ""}, "title"),
        (
            {"case_type": "fraud", "unit": "CQ-SXGC", "title": "x", "amount_protected": "-3"},
            "amount_protected",
        ),
        ({"case_type": "fraud", "unit": "CQ-SXGC", "title": "x", "person_phone": "abc"}, "person_phone"),
        ({"case_type": "fraud", "unit": "CQ-SXGC", "title": "x", "station": "NOPE"}, "station"),
    ],
)
def test_bad_input_on_the_open_form_names_the_field_and_writes_nothing(client_for, data, field):
    before = Case.objects.count()
    response = client_for("sanxia_manager").post("/manage/cases/new/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Case.objects.count() == before


def test_bad_input_on_the_action_forms_writes_nothing(client_for, cq_case, media):
    client = client_for("sanxia_manager")
    base = f"/manage/cases/{cq_case.pk}/"
    cases = [
        ("step/", {"step": "police_called", "revision": cq_case.revision}, "客户情绪已安抚"),  # out of order
        ("step/", {"step": "calmed"}, None),  # no revision
        ("close/", {"outcome": "nope", "summary": "", "revision": cq_case.revision}, None),
        ("instructions/", {"instruction": "abc"}, None),
        ("proposals/", {"field": "colour", "term": ""}, None),
    ]
    for path, data, _hint in cases:
        response = client.post(base + path, data, follow=True)
        assert response.status_code == 200
        assert [m for m in response.context["messages"] if m.level_tag == "error"], path
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("photo.jpg", b"<html>not a photo</html>", content_type="image/jpeg")
    response = client.post(base + "documents/", {"file": fake}, follow=True)
    assert [m for m in response.context["messages"] if m.level_tag == "error"]
    cq_case.refresh_from_db()
    assert cq_case.status == "open" and not cq_case.documents.exists()
    assert not CaseStep.objects.filter(case=cq_case, done_at__isnull=False).exists()
    good = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    client.post(base + "documents/", {"file": good})
    assert cq_case.documents.count() == 1


def test_a_stale_edit_form_is_refused_listing_the_change_meanwhile(client_for, users, cq_case):
    based_on = cq_case.revision
    services.update_case(cq_case, actor=users["cq_admin"], police_reference="JQ-777")
    response = client_for("sanxia_manager").post(
        f"/manage/cases/{cq_case.pk}/edit/", {"title": "我的标题", "revision": based_on}
    )
    assert response.status_code == 200
    assert "JQ-777" in response.content.decode()
    assert Case.objects.get(pk=cq_case.pk).title == "测试案件"


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_pages_read_in_the_readers_language(client_for, cq_case, users, lang, unit):
    services.complete_step(cq_case, actor=users["hq_admin"], step="calmed", note="已安抚")
    client = client_for("cq_admin")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    for url in [
        "/manage/cases/?status=all",
        f"/manage/cases/{cq_case.pk}/",
        "/manage/cases/new/",
        "/manage/units/CQ/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert problems(response.content.decode(), lang=lang) == [], url


def test_the_unit_page_shows_the_cases_figures(client_for, cq_case):
    html = client_for("cq_admin").get("/manage/units/CQ-SXGC/").content.decode()
    assert "我为群众办实事" in html or "Doing practical things" in html


def test_the_list_filters_by_station_in_scope_only(client_for, cq_case):
    assert client_for("cq_admin").get("/manage/cases/?station=CQ-SXGC&status=all").status_code == 200
    assert client_for("sz_viewer").get("/manage/cases/?station=CQ-SXGC&status=all").status_code == 404


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_demo_fraud_case_reads_in_the_readers_language(client_for, lang):
    case = Case.objects.get(unit__code="SZ-GM", case_type="fraud")
    client = client_for("hq_admin")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    html = client.get(f"/manage/cases/{case.pk}/").content.decode()
    assert problems(html, lang=lang, allow=("hq_admin",)) == []
    assert ("客户" in html) and ("安全账户" in html)
