from django.core.paginator import Paginator
from django.shortcuts import render

from yizhan.jobs.models import Job
from yizhan.jobs.services import kind_label
from yizhan.orgs.scoping import get_for_user, scoped, staff_view


@staff_view("read")
def job_list(request):
    """The jobs of the user's subtree, newest first; failed ones can be picked out."""
    jobs = scoped(request.user, Job).select_related("owner", "unit")
    state = request.GET.get("state", "")
    if state in Job.State.values:
        jobs = jobs.filter(state=state)
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    for job in page:
        job.kind_label = kind_label(job.kind)
    return render(request, "jobs/list.html", {"page": page, "state": state, "states": Job.State.choices})


@staff_view("read")
def job_progress(request, pk):
    """The progress fragment that a job's page polls (htmx); once the job ends the page reloads."""
    job = get_for_user(request.user, Job, "read", pk=pk)
    response = render(request, "jobs/_progress.html", {"job": job})
    if job.is_finished:
        response["HX-Refresh"] = "true"
    return response


@staff_view("admin")
def schedule_list(request):
    """The scheduled work declared in code, with its next run (the `yizhan schedules` listing)."""
    from yizhan.jobs.schedules import listing

    return render(request, "jobs/schedules.html", {"items": listing()})
