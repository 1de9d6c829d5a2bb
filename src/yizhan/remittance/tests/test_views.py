"""The back-office pages end to end: import with preview, the worklist with highlighted hits,
claiming, calling, deciding and approving, rules maintenance, export."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yizhan.remittance.models import AllowEntry, Batch, Exclusion, ImportRun, Instruction, Rule

from .conftest import ROWS, csv_bytes
from .test_import import BAD_ROWS


def upload(client, batch, data, name="pending.csv"):
    return client.post(f"/manage/remittance/{batch.pk}/import/", {"file": SimpleUploadedFile(name, data)})


def test_web_import_previews_then_imports(client_for, hq_batch):
    client = client_for("hq_admin")
    response = upload(client, hq_batch, csv_bytes(ROWS, encoding="gbk"))
    assert response.status_code == 302
    run = ImportRun.objects.get(batch=hq_batch)
    assert response["Location"] == f"/manage/remittance/{hq_batch.pk}/import/{run.pk}/"
    preview = client.get(response["Location"]).content.decode()
    assert "G-001" in preview and "紅十字會" in preview
    assert not Instruction.objects.filter(batch=hq_batch).exists()  # nothing yet
    report = client.get(f"/manage/remittance/{hq_batch.pk}/import/{run.pk}/report.csv")
    assert report["Content-Type"].startswith("text/csv") and b"G-001" in report.content
    done = client.post(response["Location"], {"mode": "all"})
    assert done.status_code == 302
    assert Instruction.objects.filter(batch=hq_batch).count() == len(ROWS)
    run.refresh_from_db()
    assert run.status == "imported"
    # the same preview cannot be confirmed twice
    client.post(response["Location"], {"mode": "all"})
    assert Instruction.objects.filter(batch=hq_batch).count() == len(ROWS)


def test_web_import_with_errors_needs_the_explicit_choice(client_for, hq_batch):
    client = client_for("hq_admin")
    location = upload(client, hq_batch, csv_bytes(BAD_ROWS))["Location"]
    preview = client.get(location).content.decode()
    assert "1,000.5.0" in preview and "金额" in preview and "网点代码" in preview
    refused = client.post(location, {"mode": "all"})
    assert refused.status_code == 200
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    assert client.post(location, {"mode": "valid_only"}).status_code == 302
    assert Instruction.objects.filter(batch=hq_batch).count() == 2


def test_web_import_can_be_discarded(client_for, hq_batch):
    client = client_for("hq_admin")
    location = upload(client, hq_batch, csv_bytes(ROWS))["Location"]
    assert client.post(location, {"discard": "1"}).status_code == 302
    run = ImportRun.objects.get(batch=hq_batch)
    assert run.status == "discarded" and bytes(run.content) == b""
    assert not Instruction.objects.filter(batch=hq_batch).exists()


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("x.csv", "编号".encode("utf-16"), "neither UTF-8 nor GBK"),
        # Issue 11: a .txt was staged as a run with "有错误：1" and twelve errors listed.
        ("notes.txt", "会议纪要\n明天九点开会\n".encode(), ".xlsx or .csv"),
        ("notes.csv", "会议纪要\n明天九点开会\n".encode(), "none of the expected headers"),
        ("fake.xlsx", b"just text renamed", "not a readable xlsx"),
    ],
)
def test_web_upload_of_a_file_that_is_not_a_list_is_refused_at_once(
    client_for, hq_batch, name, data, fragment
):
    client = client_for("hq_admin")
    response = upload(client, hq_batch, data, name=name)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(fragment) == 1
    assert not ImportRun.objects.filter(batch=hq_batch).exists()


def test_worklist_highlights_hits_in_the_original_text(client_for, green):
    batch, _ = green
    body = client_for("sm_manager").get(f"/manage/remittance/{batch.pk}/worklist/").content.decode()
    assert "福建省<mark" in body and ">紅十字會</mark>" in body
    assert "6222*" in body and "6222030000000001" not in body  # accounts masked
    # hits first (by priority), then amount
    assert body.index(">G-001<") < body.index(">G-010<")


def test_instruction_page_masks_the_phone_until_you_hold_the_claim(client_for, green):
    _batch, by_id = green
    client = client_for("sm_manager")
    url = f"/manage/remittance/i/{by_id['G-001'].pk}/"
    page = client.get(url).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    client.post(url + "claim/")
    page = client.get(url).content.decode()
    assert 'href="tel:13812345678"' in page
    other = client_for("hq_admin").get(url).content.decode()
    assert "13812345678" not in other


def test_call_decide_and_approve_through_the_pages(client_for, green):
    _batch, by_id = green
    maker, checker = client_for("sm_manager"), client_for("hq_admin")
    url = f"/manage/remittance/i/{by_id['G-001'].pk}/"
    maker.post(url + "claim/")
    bad = maker.post(url + "callback/", {"outcome": "call_back", "dialled_on_file": "on"})
    assert bad.status_code == 400 and "When should we call back?" in bad.content.decode()
    later = (timezone.localtime() + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        maker.post(
            url + "callback/", {"outcome": "call_back", "call_back_at": later, "phone": "13812345678"}
        ).status_code
        == 302
    )
    refused = maker.post(url + "decide/", {"decision": "process_now"})
    assert refused.status_code == 400 and "confirmed" in refused.content.decode()
    maker.post(url + "callback/", {"outcome": "confirmed", "dialled_on_file": "on"})
    assert maker.post(url + "decide/", {"decision": "process_now", "note": "客户确认"}).status_code == 302
    page = maker.get(url).content.decode()
    assert "someone else must approve it" in page
    maker.post(url + "approve/")
    assert Instruction.objects.get(pk=by_id["G-001"].pk).state == "pending_approval"
    assert checker.post(url + "approve/").status_code == 302
    inst = Instruction.objects.get(pk=by_id["G-001"].pk)
    assert inst.state == "decided" and inst.approved_by.username == "hq_admin"
    log = maker.get(url).content.decode()
    assert "138****5678" in log  # the call log shows the number masked


def test_second_claimant_sees_who_has_it(client_for, green):
    _batch, by_id = green
    url = f"/manage/remittance/i/{by_id['G-001'].pk}/"
    client_for("sm_manager").post(url + "claim/")
    other = client_for("hq_admin")
    response = other.post(url + "claim/", follow=True)
    assert "sm_manager is working on this instruction." in response.content.decode()


def test_batch_overview_shows_progress_and_deadline(client_for, green):
    batch, _ = green
    body = client_for("hq_admin").get(f"/manage/remittance/{batch.pk}/").content.decode()
    assert '?unit=FJ"' in body and '?unit=CQ"' in body and '?unit=SD"' not in body  # nothing flagged there
    drill = client_for("hq_admin").get(f"/manage/remittance/{batch.pk}/?unit=FJ-SM").content.decode()
    assert "Liedong Sub-branch" in drill and "?unit=FJ-SM-LD" in drill
    Batch.objects.filter(pk=batch.pk).update(deadline=timezone.now() - datetime.timedelta(hours=1))
    late = client_for("hq_admin").get(f"/manage/remittance/{batch.pk}/").content.decode()
    assert 'class="overdue"' in late


def test_duplicates_page(client_for, green):
    batch, by_id = green
    body = client_for("hq_admin").get(f"/manage/remittance/{batch.pk}/duplicates/").content.decode()
    assert "G1" in body and "G2" in body and "proposed to keep" in body
    assert (
        client_for("sm_manager")
        .get(f"/manage/remittance/{batch.pk}/duplicates/")
        .content.decode()
        .count("<section")
        == 1
    )


def test_create_and_edit_a_batch(client_for, db):
    client = client_for("cq_admin")
    bad = client.post(
        "/manage/remittance/new/",
        {"name": "", "deadline": "soon", "approval_threshold": "-1", "near_window_hours": "24"},
    )
    assert bad.status_code == 200 and not Batch.objects.filter(unit__code="CQ").exists()
    response = client.post(
        "/manage/remittance/new/",
        {
            "name": "国庆",
            "deadline": "2020-10-08T23:59",
            "approval_threshold": "100000",
            "near_window_hours": "12",
        },
    )
    batch = Batch.objects.get(name="国庆")
    assert response["Location"] == f"/manage/remittance/{batch.pk}/import/"
    assert batch.unit.code == "CQ" and timezone.localtime(batch.deadline).hour == 23
    assert (
        client.post(
            f"/manage/remittance/{batch.pk}/edit/",
            {
                "name": "国庆假期",
                "deadline": "2020-10-08T23:59",
                "approval_threshold": "20000",
                "near_window_hours": "6",
                "revision": batch.revision,
            },
        ).status_code
        == 302
    )
    batch.refresh_from_db()
    assert batch.name == "国庆假期" and batch.near_window_hours == 6


def test_export_through_the_page(client_for, green):
    batch, _ = green
    response = client_for("sm_manager").post(f"/manage/remittance/{batch.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="remittance-decisions-')
    assert response.content.decode("utf-8-sig").startswith("instruction_id,decision,amount")


def test_rules_maintenance_with_bad_input(client_for, db):
    client = client_for("hq_admin")
    bad = client.post(
        "/manage/remittance/rules/new/", {"field": "payee_name", "term": "！！", "priority": 50}
    )
    assert bad.status_code == 200 and "no letters or digits" in bad.content.decode()
    dup = client.post(
        "/manage/remittance/rules/new/", {"field": "payee_name", "term": "紅十字 會", "priority": 50}
    )
    assert "already has a rule" in dup.content.decode()  # the same keyword once normalised
    assert (
        client.post(
            "/manage/remittance/rules/new/",
            {"field": "purpose", "term": "呼吸机", "priority": 60, "is_active": "on"},
        ).status_code
        == 302
    )
    rule = Rule.objects.get(term="呼吸机")
    response = client.post(
        "/manage/remittance/rules/exclusions/", {"term": "呼吸道", "rule": rule.pk}, follow=True
    )
    assert (
        "could never apply" in response.content.decode()
        and not Exclusion.objects.filter(term="呼吸道").exists()
    )
    client.post("/manage/remittance/rules/exclusions/", {"term": "呼吸机维修", "rule": rule.pk})
    assert Exclusion.objects.filter(term="呼吸机维修", rule=rule).exists()
    client.post(
        "/manage/remittance/rules/allow/",
        {"field": "payer_account", "value": "6222 0241 0000 0012 345", "reason": "医院代发工资户"},
    )
    entry = AllowEntry.objects.get(reason="医院代发工资户")
    assert entry.value == "6222024100000012345"
    page = client_for("sz_viewer").get("/manage/remittance/rules/").content.decode()
    assert "6222024100000012345" not in page and "医院代发工资户" in page


def test_rescreen_applies_new_rules_and_keeps_decisions(client_for, green, users):
    from yizhan.remittance import services

    batch, by_id = green
    services.claim(by_id["G-009"], actor=users["sd_admin"])
    services.decide(by_id["G-009"], actor=users["sd_admin"], decision="leave_scheduled")
    client = client_for("hq_admin")
    client.post(
        "/manage/remittance/rules/new/",
        {"field": "payee_name", "term": "商贸", "priority": 10, "is_active": "on"},
    )
    assert "rules changed after" in client.get(f"/manage/remittance/{batch.pk}/").content.decode()
    assert client.post(f"/manage/remittance/{batch.pk}/rescreen/").status_code == 302
    inst = Instruction.objects.get(pk=by_id["G-009"].pk)
    assert inst.hit_count == 1 and inst.flagged and inst.state == "decided"
    assert "rules changed after" not in client.get(f"/manage/remittance/{batch.pk}/").content.decode()
