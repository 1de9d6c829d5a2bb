"""Safety of the workflow: a call is logged only as it was made (no outcome preselected, the number
dialled typed or explicitly confirmed), and only the decisions and actions that can succeed are
offered, on the page and in the API."""

import re

import pytest
from django.core.exceptions import ValidationError

from yizhan.orgs.services import create_api_token
from yizhan.remittance import services
from yizhan.remittance.models import Callback, Instruction


@pytest.fixture
def api(client, users):
    tokens = {}

    def call(username, method, path, json=None):
        if username not in tokens:
            tokens[username] = create_api_token(user=users[username], name="test")[1]
        kwargs = {"data": json, "content_type": "application/json"} if json is not None else {}
        return getattr(client, method)(
            f"/api/v1/manage/remittance{path}", HTTP_AUTHORIZATION=f"Bearer {tokens[username]}", **kwargs
        )

    return call


def url_of(inst, action=""):
    return f"/manage/remittance/i/{inst.pk}/{action + '/' if action else ''}"


def decision_options(page: str) -> list[str]:
    select = re.search(r'<select name="decision".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', select)


# ------------------------------------------------------------ the call log


def test_the_call_form_preselects_no_outcome_and_fills_in_no_number(client_for, green):
    _batch, by_id = green
    client = client_for("sm_manager")
    inst = by_id["G-010"]
    client.post(url_of(inst, "claim"))
    page = client.get(url_of(inst)).content.decode()
    form = re.search(r'action="[^"]*/callback/".*?</form>', page, re.S).group(0)
    assert 'type="radio" name="outcome"' in form
    assert "checked" not in form  # neither an outcome nor the "number on file" box
    phone_input = re.search(r'<input[^>]*name="phone"[^>]*>', form).group(0)
    assert "value=" not in phone_input
    assert "I dialled the number on file, 133****0010" in form


def test_one_click_on_log_the_call_records_nothing(client_for, green):
    _batch, by_id = green
    client = client_for("sm_manager")
    inst = by_id["G-010"]
    client.post(url_of(inst, "claim"))
    for data in ({}, {"outcome": "confirmed"}, {"outcome": "confirmed", "phone": ""}):
        response = client.post(url_of(inst, "callback"), data)
        assert response.status_code == 400, data
    assert "Enter the number you dialled, or confirm that you dialled the number on file." in (
        response.content.decode()
    )
    assert not Callback.objects.filter(instruction=inst).exists()
    # process now is still impossible: no confirmed call
    assert client.post(url_of(inst, "decide"), {"decision": "process_now"}).status_code == 400
    assert client.post(url_of(inst, "callback"), {"phone": "13300000010"}).status_code == 400  # no outcome

    assert (
        client.post(url_of(inst, "callback"), {"outcome": "confirmed", "dialled_on_file": "on"}).status_code
        == 302
    )
    assert (
        client.post(url_of(inst, "callback"), {"outcome": "unreachable", "phone": "0598 1234567"}).status_code
        == 302
    )
    assert list(Callback.objects.filter(instruction=inst).order_by("pk").values_list("phone", "outcome")) == [
        ("13300000010", "confirmed"),
        ("0598 1234567", "unreachable"),
    ]


def test_the_api_follows_the_same_rule(api, green):
    _batch, by_id = green
    pk = by_id["G-010"].pk
    api("sm_manager", "post", f"/instructions/{pk}/claim")
    bare = api("sm_manager", "post", f"/instructions/{pk}/callbacks", json={"outcome": "confirmed"})
    assert bare.status_code == 422 and bare.json()["detail"][0]["loc"] == ["body", "phone"]
    no_outcome = api("sm_manager", "post", f"/instructions/{pk}/callbacks", json={"dialled_on_file": True})
    assert no_outcome.status_code == 422 and no_outcome.json()["detail"][0]["loc"] == ["body", "outcome"]
    assert not Callback.objects.filter(instruction_id=pk).exists()
    made = api(
        "sm_manager",
        "post",
        f"/instructions/{pk}/callbacks",
        json={"outcome": "confirmed", "dialled_on_file": True},
    )
    assert made.status_code == 201 and made.json()["phone"] == "133****0010"


def test_the_number_on_file_cannot_be_confirmed_when_there_is_none(green, users):
    _batch, by_id = green
    inst = by_id["G-010"]
    Instruction.objects.filter(pk=inst.pk).update(payer_phone="")
    services.claim(inst, actor=users["sm_manager"])
    with pytest.raises(ValidationError) as exc:
        services.log_callback(inst, actor=users["sm_manager"], outcome="confirmed", dialled_on_file=True)
    assert "dialled_on_file" in exc.value.message_dict
    services.log_callback(inst, actor=users["sm_manager"], outcome="confirmed", phone="13300000010")


# ------------------------------------------------------------ only what is possible is offered


def test_the_decision_menu_offers_only_what_can_be_recorded(client_for, green):
    _batch, by_id = green
    client = client_for("sm_manager")
    alone = by_id["G-010"]  # in no duplicate group
    client.post(url_of(alone, "claim"))
    page = client.get(url_of(alone)).content.decode()
    assert decision_options(page) == ["", "leave_scheduled"]
    assert "Only an instruction in a duplicate group can be deleted as a duplicate." in page
    client.post(url_of(alone, "callback"), {"outcome": "confirmed", "dialled_on_file": "on"})
    assert decision_options(client.get(url_of(alone)).content.decode()) == [
        "",
        "process_now",
        "leave_scheduled",
    ]

    twin = by_id["G-002"]  # a duplicate of G-001
    client.post(url_of(twin, "claim"))
    assert decision_options(client.get(url_of(twin)).content.decode()) == [
        "",
        "delete_duplicate",
        "leave_scheduled",
    ]


def test_the_api_lists_the_possible_decisions_and_why_not(api, green):
    _batch, by_id = green
    pk = by_id["G-010"].pk
    actions = api("sm_manager", "post", f"/instructions/{pk}/claim").json()["actions"]
    assert actions["decisions"] == ["leave_scheduled"]
    assert set(actions["unavailable_decisions"]) == {"process_now", "delete_duplicate"}
    assert actions["call"] and actions["release"] and not actions["claim"]
    refused = api("sm_manager", "post", f"/instructions/{pk}/decision", json={"decision": "delete_duplicate"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == actions["unavailable_decisions"]["delete_duplicate"]
    other = api("hq_admin", "get", f"/instructions/{pk}").json()["actions"]
    assert not other["claim"] and other["release"] and other["decisions"] == []  # an admin may release
    viewer = api("sz_viewer", "get", f"/instructions/{by_id['G-008'].pk}").json()["actions"]
    assert not any(v for v in viewer.values())


def test_no_take_over_button_while_someone_else_holds_the_claim(client_for, green):
    """Claiming an item someone is calling always fails, so the page does not offer it."""
    _batch, by_id = green
    inst = by_id["G-010"]
    client_for("sm_manager").post(url_of(inst, "claim"))
    page = client_for("hq_admin").get(url_of(inst)).content.decode()
    assert url_of(inst, "claim") not in page
    assert url_of(inst, "release") in page  # an admin may free it
    manager = client_for("sanxia_manager")  # outside Sanming: 404 anyway
    assert manager.get(url_of(inst)).status_code == 404


def test_the_maker_is_not_offered_approval_of_their_own_decision(client_for, green):
    _batch, by_id = green
    inst = by_id["G-001"]  # 200,000: above the threshold
    maker = client_for("sm_manager")
    maker.post(url_of(inst, "claim"))
    maker.post(url_of(inst, "callback"), {"outcome": "confirmed", "dialled_on_file": "on"})
    assert maker.post(url_of(inst, "decide"), {"decision": "process_now"}).status_code == 302
    page = maker.get(url_of(inst)).content.decode()
    assert url_of(inst, "approve") not in page and url_of(inst, "reject") in page
    assert url_of(inst, "approve") in client_for("hq_admin").get(url_of(inst)).content.decode()
