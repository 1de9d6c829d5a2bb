"""One vocabulary and one count: the batch list, the batch page, the home page, the worklist and the
API show the same figures for the demo batch, and the stages add up to the total."""

import re

import pytest

from yizhan.remittance import services
from yizhan.remittance.models import Batch, Instruction, Stage

DEMO = "春节假期延时汇款指令（演示）"


def counts_on(page: str) -> dict[str, int]:
    """The figures a page marks with data-count (the progress table's total row, the worklist's sums)."""
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


@pytest.mark.parametrize("username", ["hq_admin", "sm_manager", "cq_admin"])
def test_the_figures_agree_across_pages_and_add_up(client_for, db, username):
    batch = Batch.objects.get(name=DEMO)
    client = client_for(username)

    overview = counts_on(client.get(f"/manage/remittance/{batch.pk}/").content.decode())
    assert overview["need_a_look"] == sum(
        overview[s] for s in ("unclaimed", "calling", "pending_approval", "decided")
    )
    assert overview["unfinished"] == overview["need_a_look"] - overview["decided"]
    assert overview["need_a_look"] > 0

    worklist_page = client.get(f"/manage/remittance/{batch.pk}/worklist/").content.decode()
    assert counts_on(worklist_page) == overview
    # the worklist lists exactly the unfinished ones by default
    assert f"{overview['unfinished']} instructions" in worklist_page
    for stage in ("unclaimed", "calling", "pending_approval", "decided"):
        page = client.get(f"/manage/remittance/{batch.pk}/worklist/?state={stage}").content.decode()
        assert re.search(rf"\b{overview[stage]} instructions?\b", page), stage

    batches = client.get("/manage/remittance/").content.decode()
    card = re.search(rf'href="/manage/remittance/{batch.pk}/worklist/">(\d+)</a>', batches)
    assert int(card.group(1)) == overview["unfinished"]

    home = client.get("/manage/").content.decode()
    panel = re.search(rf'href="/manage/remittance/{batch.pk}/worklist/">[^<]*</a>: <b>(\d+)</b>', home)
    assert int(panel.group(1)) == overview["unfinished"]


def test_the_api_gives_the_same_figures(client, users, db):
    from yizhan.orgs.services import create_api_token

    batch = Batch.objects.get(name=DEMO)
    token = create_api_token(user=users["sm_manager"], name="t")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    one = client.get(f"/api/v1/manage/remittance/batches/{batch.pk}", **auth).json()["counts"]
    progress = client.get(f"/api/v1/manage/remittance/batches/{batch.pk}/progress", **auth).json()
    assert {k: v for k, v in progress[0].items() if k not in ("unit_code", "unit_name")} == one
    listed = client.get(f"/api/v1/manage/remittance/batches/{batch.pk}/worklist?limit=500", **auth).json()
    assert len(listed) == one["unfinished"]
    assert {i["stage"] for i in listed} <= {"unclaimed", "calling", "pending_approval"}


def test_the_stages_partition_what_needs_a_look(db, users):
    """Every flagged instruction is in exactly one stage, and the stage property agrees with the count."""
    batch = Batch.objects.get(name=DEMO)
    counts = services.count_work(users["hq_admin"], [batch.pk])[batch.pk]
    flagged = list(Instruction.objects.filter(batch=batch, flagged=True))
    assert counts.total == len(flagged)
    by_stage = dict.fromkeys(Stage.values, 0)
    for inst in flagged:
        by_stage[inst.stage.value] += 1
    assert by_stage == {
        "unclaimed": counts.unclaimed,
        "calling": counts.calling,
        "pending_approval": counts.pending,
        "decided": counts.decided,
    }
    assert counts.calling > 0 and counts.pending > 0 and counts.decided > 0  # the demo shows every stage


def test_the_api_worklist_names_a_bad_filter(client, users, db):
    from yizhan.orgs.services import create_api_token

    batch = Batch.objects.get(name=DEMO)
    token = create_api_token(user=users["hq_admin"], name="t")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    bad = client.get(f"/api/v1/manage/remittance/batches/{batch.pk}/worklist?state=nope", **auth)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "state"
    assert "nope" not in bad.content.decode()
    bad = client.get(f"/api/v1/manage/remittance/batches/{batch.pk}/worklist?show=x", **auth)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "show"
