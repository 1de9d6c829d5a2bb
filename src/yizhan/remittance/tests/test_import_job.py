"""A large upload is checked and imported on the queue: the job page shows its progress, then the
preview (or the outcome), the API the same; a file the worker cannot read fails the job with its
reason; the prepared write gives the same duplicate groups as working them out afresh."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yizhan.core.tests.pagecheck import problems
from yizhan.jobs import services as job_services
from yizhan.jobs.models import Job
from yizhan.remittance import jobs, services
from yizhan.remittance.models import Decision, DuplicateGroup, ImportRun, Instruction

from .conftest import ROWS, csv_bytes
from .test_import import BAD_ROWS


@pytest.fixture
def large(monkeypatch):
    """Every upload counts as large, so a ten-row file goes through the queue."""
    monkeypatch.setattr(jobs, "SYNC_LIMIT_BYTES", 0)


def upload(client, batch, data, name="pending.csv", capture=None):
    with capture(execute=True):
        return client.post(f"/manage/remittance/{batch.pk}/import/", {"file": SimpleUploadedFile(name, data)})


def test_a_large_upload_is_checked_then_imported_as_jobs(
    large, client_for, hq_batch, django_capture_on_commit_callbacks
):
    client = client_for("hq_admin")
    response = upload(client, hq_batch, csv_bytes(ROWS), capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    check = Job.objects.get(kind=jobs.KIND)
    job_url = response["Location"]
    assert job_url == f"/manage/remittance/{hq_batch.pk}/import/job/{check.pk}/"
    waiting = client.get(job_url).content.decode()
    assert "<progress" in waiting and f"/manage/jobs/{check.pk}/progress" in waiting
    run = ImportRun.objects.get(batch=hq_batch)
    # The preview page of a large upload does not check it in the request: it follows the job.
    assert client.get(f"/manage/remittance/{hq_batch.pk}/import/{run.pk}/")["Location"] == job_url

    job_services.run(check.pk)  # what the worker runs
    preview = client.get(job_url)
    page = preview.content.decode()
    assert "G-001" in page and "紅十字會" in page and 'value="all"' in page
    assert not problems(page, lang="en")
    assert not Instruction.objects.filter(batch=hq_batch).exists()  # a check writes nothing
    api = client.get(f"/api/v1/manage/jobs/{check.pk}").json()
    assert api["state"] == "done" and api["result"]["valid_rows"] == len(ROWS)

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/manage/remittance/{hq_batch.pk}/import/{run.pk}/", {"mode": "all"})
    commit = Job.objects.filter(kind=jobs.KIND).exclude(pk=check.pk).get()
    assert confirmed["Location"] == f"/manage/remittance/{hq_batch.pk}/import/job/{commit.pk}/"
    assert not Instruction.objects.filter(batch=hq_batch).exists()  # not before the worker ran it
    job_services.run(commit.pk)
    done = client.get(confirmed["Location"]).content.decode()
    assert f"{len(ROWS)} instructions imported and screened" in done
    assert Instruction.objects.filter(batch=hq_batch).count() == len(ROWS)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED
    commit.refresh_from_db()
    assert commit.result["imported"] == len(ROWS) and commit.done == commit.total


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("x.csv", "编号".encode("utf-16"), "neither UTF-8 nor GBK"),
        ("notes.csv", "会议纪要\n明天九点开会\n".encode(), "none of the expected headers"),
        ("fake.xlsx", b"just text renamed", "not a readable xlsx"),
    ],
)
def test_a_file_the_worker_cannot_read_fails_the_job_with_its_reason(
    large, client_for, hq_batch, django_capture_on_commit_callbacks, name, data, fragment
):
    client = client_for("hq_admin")
    job_url = upload(client, hq_batch, data, name=name, capture=django_capture_on_commit_callbacks)[
        "Location"
    ]
    job = Job.objects.get(kind=jobs.KIND)
    job_services.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and fragment in job.error
    assert fragment in client.get(job_url).content.decode()
    assert client.get(f"/api/v1/manage/jobs/{job.pk}").json()["error"] == job.error
    assert ImportRun.objects.get(batch=hq_batch).status == ImportRun.Status.DISCARDED  # not kept
    assert not Instruction.objects.filter(batch=hq_batch).exists()


def test_a_large_file_with_errors_imports_only_on_the_explicit_choice(
    large, client_for, hq_batch, django_capture_on_commit_callbacks
):
    client = client_for("hq_admin")
    upload(client, hq_batch, csv_bytes(BAD_ROWS), capture=django_capture_on_commit_callbacks)
    job_services.run(Job.objects.get(kind=jobs.KIND).pk)
    run = ImportRun.objects.get(batch=hq_batch)
    preview_url = f"/manage/remittance/{hq_batch.pk}/import/{run.pk}/"
    page = client.get(client.get(preview_url)["Location"]).content.decode()
    assert "1,000.5.0" in page and 'value="valid_only"' in page and 'value="all"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(preview_url, {"mode": "all"})  # not offered, sent anyway
    refused = Job.objects.filter(kind=jobs.KIND, params__dry_run=False).get()
    job_services.run(refused.pk)
    refused.refresh_from_db()
    assert refused.state == Job.State.FAILED and "valid rows only" in refused.error
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(preview_url, {"mode": "valid_only"})
    valid = Job.objects.filter(kind=jobs.KIND, params__valid_only=True).get()
    job_services.run(valid.pk)
    assert Instruction.objects.filter(batch=hq_batch).count() == 2


def test_a_retry_after_the_commit_finishes_the_job_without_importing_again(
    large, client_for, hq_batch, django_capture_on_commit_callbacks
):
    client = client_for("hq_admin")
    upload(client, hq_batch, csv_bytes(ROWS), capture=django_capture_on_commit_callbacks)
    run = ImportRun.objects.get(batch=hq_batch)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/manage/remittance/{hq_batch.pk}/import/{run.pk}/", {"mode": "all"})
    commit = Job.objects.get(kind=jobs.KIND, params__dry_run=False)
    job_services.run(commit.pk)
    # As if the worker had been killed between the import's commit and marking the job done.
    Job.objects.filter(pk=commit.pk).update(state=Job.State.QUEUED, result=None)
    job_services.run(commit.pk)
    commit.refresh_from_db()
    assert commit.state == Job.State.DONE and commit.attempts == 2 and commit.result["imported"] == len(ROWS)
    assert Instruction.objects.filter(batch=hq_batch).count() == len(ROWS)


@pytest.mark.parametrize(("username", "status"), [("hq_admin", 200), ("cq_admin", 403), ("sz_viewer", 403)])
def test_the_job_page_belongs_to_the_batch_owner(
    large, client_for, hq_batch, django_capture_on_commit_callbacks, username, status
):
    job_url = upload(
        client_for("hq_admin"), hq_batch, csv_bytes(ROWS), capture=django_capture_on_commit_callbacks
    )["Location"]
    assert client_for(username).get(job_url).status_code == status
    other = services.create_batch(actor=None, unit=hq_batch.unit, name="另一批", deadline=hq_batch.deadline)
    job = Job.objects.get(kind=jobs.KIND)
    # A job shown under another batch's address is not found.
    assert (
        client_for("hq_admin").get(f"/manage/remittance/{other.pk}/import/job/{job.pk}/").status_code == 404
    )


def _groups(batch):
    return sorted(
        (g.kind, g.keep.instruction_id, tuple(sorted(g.members.values_list("instruction_id", flat=True))))
        for g in DuplicateGroup.objects.filter(batch=batch).select_related("keep")
    )


def test_the_prepared_write_groups_duplicates_as_a_fresh_regrouping_does(green, users):
    batch, by_id = green
    # A decision on a group member before a second file arrives: the proposal to keep must follow it.
    keep = by_id["G-002"]
    Instruction.objects.filter(pk=keep.pk).update(decision=Decision.PROCESS_NOW, state="decided")
    more = [(f"H-{row[0]}", *row[1:]) for row in ROWS]
    report = services.run_import(batch, actor=None, filename="more.csv", data=csv_bytes(more))
    assert report.imported == len(ROWS)
    written = _groups(batch)
    services.regroup_batch(batch)
    assert written == _groups(batch) and written
    assert any(keep_id == "G-002" for _kind, keep_id, _members in written)


def test_the_api_imports_in_the_background_and_reports_through_the_job(client, users, hq_batch):
    from django.utils import translation

    from yizhan.orgs.services import create_api_token

    token = create_api_token(user=users["hq_admin"], name="test")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/v1/manage/remittance/batches/{hq_batch.pk}/import"
    started = client.post(
        url, {"file": SimpleUploadedFile("ok.csv", csv_bytes(ROWS)), "background": "true"}, **auth
    )
    assert started.status_code == 202
    job_id = started.json()["job"]
    assert not Instruction.objects.filter(batch=hq_batch).exists()
    job_services.run(job_id)
    done = client.get(f"/api/v1/manage/jobs/{job_id}", **auth).json()
    assert done["state"] == "done" and done["result"]["imported"] == len(ROWS)
    assert Instruction.objects.filter(batch=hq_batch).count() == len(ROWS)
    # A file the worker cannot read: the job fails with the reader's reason.
    bad = client.post(
        url, {"file": SimpleUploadedFile("x.xlsx", b"just text renamed"), "background": "true"}, **auth
    ).json()
    with translation.override("zh-hans"):  # a worker writes in the site's language
        job_services.run(bad["job"])
    failed = client.get(f"/api/v1/manage/jobs/{bad['job']}", **auth).json()
    assert failed["state"] == "failed" and "这不是可读取的 xlsx 工作簿" in failed["error"]
    # Not the batch's owner: refused before anything is staged.
    other = create_api_token(user=users["cq_admin"], name="test")[1]
    refused = client.post(
        url,
        {"file": SimpleUploadedFile("ok.csv", csv_bytes(ROWS)), "background": "true"},
        HTTP_AUTHORIZATION=f"Bearer {other}",
    )
    assert refused.status_code == 403 and ImportRun.objects.filter(batch=hq_batch).count() == 2
