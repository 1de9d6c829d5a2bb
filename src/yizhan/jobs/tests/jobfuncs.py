"""Job functions the tests queue (importable by a real worker process)."""

import time

from django.db import OperationalError, transaction

from yizhan.jobs.services import JobError


def create_units(job, progress):
    """All-or-nothing: `count` child units under `parent`, slowly, in one transaction."""
    from yizhan.orgs.models import Unit

    parent = Unit.objects.get(pk=job.params["parent"])
    count, pause = job.params["count"], job.params.get("pause", 0)
    with transaction.atomic():
        for i in range(count):
            unit = Unit.objects.create(
                code=f"{job.params['prefix']}-{i}", kind="sub_branch", name=f"任务网点{i}", parent=parent,
                path="", level=parent.level + 1,
            )  # fmt: skip
            unit.path = f"{parent.path}{unit.pk}/"
            unit.save(update_fields=["path"])
            progress(i + 1, count, "write")
            time.sleep(pause)
    return {"created": count}


def refuse(job, progress):
    raise JobError("这个文件无法读取。")


def crash(job, progress):
    raise RuntimeError("secret internal detail")


def flaky(job, progress):
    if job.attempts < 2:
        raise OperationalError("database is locked")
    return {"attempts": job.attempts}
