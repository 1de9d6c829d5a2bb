from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from yizhan.audit import registry
from yizhan.audit.display import model_label
from yizhan.audit.services import events_for
from yizhan.orgs.scoping import staff_view


@staff_view("read")
def event_list(request):
    events = events_for(request.user).select_related("unit")
    filters = {
        k: (request.GET.get(k) or "").strip()[:100]
        for k in ("object_type", "object_id", "actor", "action", "q")
    }
    if filters["object_type"]:
        events = events.filter(object_type=filters["object_type"])
    if filters["object_id"]:
        events = events.filter(object_id=filters["object_id"])
    if filters["actor"]:
        events = events.filter(actor_name__iexact=filters["actor"])
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["q"]:
        # The text matches the object, the action's code or its label in the reader's language.
        labelled = [
            code
            for code, a in registry.registered_actions().items()
            if filters["q"].lower() in str(a.label).lower()
        ]
        events = events.filter(
            Q(object_repr__icontains=filters["q"])
            | Q(action__icontains=filters["q"])
            | Q(action__in=labelled)
        )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    types = events_for(request.user).order_by().values_list("object_type", flat=True).distinct()
    types = sorted(((t, model_label(t) or t) for t in set(types)), key=lambda pair: pair[1])
    actions = sorted(
        ((code, str(a.label)) for code, a in registry.registered_actions().items()), key=lambda pair: pair[1]
    )
    return render(
        request,
        "audit/event_list.html",
        {"page": page, "filters": filters, "types": types, "actions": actions},
    )
