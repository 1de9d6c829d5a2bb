"""The staff API: the same verbs over HTTP with a bearer token; 422 names the field."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yizhan.orgs.services import create_api_token
from yizhan.remittance.models import Instruction

from .conftest import ROWS, csv_bytes
from .test_import import BAD_ROWS


@pytest.fixture
def api(client, users):
    tokens = {}

    def call(username, method, path, json=None, **kwargs):
        if username not in tokens:
            tokens[username] = create_api_token(user=users[username], name="test")[1]
        if json is not None:
            kwargs.update(data=json, content_type="application/json")
        return getattr(client, method)(
            f"/api/v1/manage/remittance{path}", HTTP_AUTHORIZATION=f"Bearer {tokens[username]}", **kwargs
        )

    return call


def test_worklist_order_and_masking(api, green):
    batch, _ = green
    items = api("hq_admin", "get", f"/batches/{batch.pk}/worklist").json()
    ids = [i["instruction_id"] for i in items]
    assert ids[0] == "G-001"  # priority 90, the largest amount
    priorities = [i["priority"] for i in items]
    assert priorities == sorted(priorities, reverse=True)
    same = [i for i in items if i["priority"] == 90]
    assert [i["instruction_id"] for i in same] == ["G-001", "G-002"]  # equal amounts: the older first
    first = items[0]
    assert first["payer_account"].startswith("6222") and "*" in first["payer_account"]
    assert first["payer_phone"] == "138****5678"
    assert {h["rule_term"] for h in first["hits"]} >= {"红十字会", "捐款"}
    hit = next(h for h in first["hits"] if h["rule_term"] == "红十字会")
    assert (hit["field"], hit["start"], hit["end"], hit["text"]) == ("payee_name", 3, 7, "紅十字會")
    assert first["duplicate_group"] == 1 and first["proposed_keep"] is True


def test_worklist_is_scoped(api, green):
    batch, _ = green
    ids = {
        i["instruction_id"] for i in api("sm_manager", "get", f"/batches/{batch.pk}/worklist?show=all").json()
    }
    assert ids == {"G-001", "G-002", "G-003", "G-004", "G-010"}
    assert api("sm_manager", "get", f"/batches/{batch.pk}/worklist?unit=CQ").status_code == 404


def test_claim_call_decide_approve(api, green):
    _batch, by_id = green
    pk = by_id["G-001"].pk
    claimed = api("sm_manager", "post", f"/instructions/{pk}/claim").json()
    assert claimed["claimed_by"] == "sm_manager" and claimed["payer_phone"] == "13812345678"
    taken = api("hq_admin", "post", f"/instructions/{pk}/claim")
    assert taken.status_code == 422 and taken.json()["detail"][0]["loc"] == ["body", "claimed_by"]
    bad = api(
        "sm_manager",
        "post",
        f"/instructions/{pk}/callbacks",
        json={"outcome": "call_back", "dialled_on_file": True},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "call_back_at"]
    made = api(
        "sm_manager",
        "post",
        f"/instructions/{pk}/callbacks",
        json={"outcome": "confirmed", "dialled_on_file": True},
    )
    assert made.status_code == 201 and made.json()["phone"] == "138****5678"
    decided = api(
        "sm_manager", "post", f"/instructions/{pk}/decision", json={"decision": "process_now"}
    ).json()
    assert decided["state"] == "pending_approval"
    self_approval = api("sm_manager", "post", f"/instructions/{pk}/approve")
    assert self_approval.status_code == 422 and self_approval.json()["detail"][0]["loc"] == [
        "body",
        "approved_by",
    ]
    approved = api("hq_admin", "post", f"/instructions/{pk}/approve").json()
    assert approved["state"] == "decided" and approved["approved_by"] == "hq_admin"
    log = api("hq_admin", "get", f"/instructions/{pk}/callbacks").json()
    assert [c["outcome"] for c in log] == ["confirmed"]


def test_import_through_the_api(api, hq_batch):
    dry = api(
        "hq_admin",
        "post",
        f"/batches/{hq_batch.pk}/import",
        data={"file": SimpleUploadedFile("bad.csv", csv_bytes(BAD_ROWS)), "dry_run": "true"},
    ).json()
    assert dry["valid_rows"] == 2 and dry["imported"] == 0
    assert {(e["row"], e["column"]) for e in dry["errors"]} >= {(2, "金额"), (5, "网点代码")}
    refused = api(
        "hq_admin",
        "post",
        f"/batches/{hq_batch.pk}/import",
        data={"file": SimpleUploadedFile("bad.csv", csv_bytes(BAD_ROWS))},
    ).json()
    assert refused["imported"] == 0 and refused["refused_reason"]
    status = api(
        "hq_admin",
        "post",
        f"/batches/{hq_batch.pk}/import",
        data={"file": SimpleUploadedFile("bad.csv", csv_bytes(BAD_ROWS))},
    ).status_code
    assert status == 422  # a refused import (it answered 200)
    good = api(
        "hq_admin",
        "post",
        f"/batches/{hq_batch.pk}/import",
        data={"file": SimpleUploadedFile("ok.csv", csv_bytes(ROWS))},
    ).json()
    assert good["imported"] == len(ROWS) and good["duplicate_groups"] == 2
    assert Instruction.objects.filter(batch=hq_batch).count() == len(ROWS)
    viewer = api(
        "sz_viewer",
        "post",
        f"/batches/{hq_batch.pk}/import",
        data={"file": SimpleUploadedFile("ok.csv", csv_bytes(ROWS))},
    )
    assert viewer.status_code == 403


def test_progress_duplicates_and_export(api, green):
    batch, _ = green
    rows = api("hq_admin", "get", f"/batches/{batch.pk}/progress").json()
    assert rows[0]["unit_code"] == "HQ" and rows[0]["need_a_look"] == 6
    assert {r["unit_code"] for r in rows[1:]} == {"FJ", "CQ", "SZ"}
    groups = api("hq_admin", "get", f"/batches/{batch.pk}/duplicates").json()
    assert [(g["group"], g["kind"], len(g["members"])) for g in groups] == [
        (1, "same_fields", 2),
        (2, "near", 2),
    ]
    export = api("sm_manager", "post", f"/batches/{batch.pk}/export")
    assert export.status_code == 200 and export.content.decode("utf-8-sig").startswith("instruction_id,")


def test_create_batch_and_rules_validation(api, db):
    bad = api("cq_admin", "post", "/batches", json={"name": "", "deadline": "2020-02-30 10:00"})
    assert bad.status_code == 422
    assert {d["loc"][1] for d in bad.json()["detail"]} == {"name", "deadline"}
    made = api("cq_admin", "post", "/batches", json={"name": "国庆", "deadline": "2020-10-08 23:59"})
    assert made.status_code == 201 and made.json()["unit_code"] == "CQ"
    assert (
        api(
            "sanxia_manager", "post", "/batches", json={"name": "x", "deadline": "2020-10-08 23:59"}
        ).status_code
        == 403
    )
    bad_rule = api("hq_admin", "post", "/rules", json={"field": "payer", "term": "医院"})
    assert bad_rule.status_code == 422 and bad_rule.json()["detail"][0]["loc"] == ["body", "field"]
    alias = api("hq_admin", "post", "/rules/aliases", json={"term_a": "慈善会", "term_b": "慈善总会"})
    assert alias.status_code == 201
    assert api("hq_admin", "delete", f"/rules/aliases/{alias.json()['id']}").status_code == 204
    assert api("cq_admin", "delete", f"/rules/aliases/{alias.json()['id']}").status_code == 403


def test_a_long_file_is_refused_by_its_row_count_at_once(api, hq_batch, settings):
    import time

    settings.YIZHAN_IMPORT_LIMITS = {**settings.YIZHAN_IMPORT_LIMITS, "rows": 1000}
    data = csv_bytes(ROWS[:1] * 30_000)  # read to its 200,001st row before (15 s at 300,000)
    start = time.perf_counter()
    response = api(
        "hq_admin",
        "post",
        f"/batches/{hq_batch.pk}/import",
        data={"file": SimpleUploadedFile("long.csv", data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert time.perf_counter() - start < 1
    assert response.status_code == 422
    body = response.json()
    assert body["rows_read"] == 0 and "More than 1000 rows" in body["errors"][0]["message"]
    assert body["errors"][0]["row"] == 1002
    assert not Instruction.objects.filter(batch=hq_batch).exists()
