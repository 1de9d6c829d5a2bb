from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from yizhan.core.masking import mask_phone
from yizhan.notify import services
from yizhan.notify.models import Channel, Message
from yizhan.orgs.scoping import scoped, staff_view

OPT_OUT_SALT = "yizhan.notify.opt-out"


@staff_view("read")
def inbox(request):
    items = Message.objects.filter(user=request.user, channel=Channel.INBOX, state=Message.State.DELIVERED)
    page = Paginator(items.select_related("template"), 30).get_page(request.GET.get("page"))
    language = get_language() or "zh-hans"
    for message in page:
        try:
            message.shown = services.render(message.template, message.context, language)
        except ValidationError:
            message.shown = message.text
    return render(request, "notify/inbox.html", {"page": page})


@staff_view("read")
@require_POST
def inbox_read(request):
    services.mark_read(request.user)
    return redirect("notify:inbox")


@staff_view("admin")
def outbox(request):
    """Every message sent for units in the admin's subtree, with its delivery state (numbers masked)."""
    items = scoped(request.user, Message).select_related("template", "user", "unit")
    state = request.GET.get("state", "")
    if state in Message.State.values:
        items = items.filter(state=state)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    for message in page:
        message.shown_address = (
            mask_phone(message.address) if message.address else message.user.get_username()
        )
    return render(
        request, "notify/outbox.html", {"page": page, "state": state, "states": Message.State.choices}
    )


def opt_out_link(address: str) -> str:
    """The path a message may carry so its recipient can stop the messages with one tap."""
    from django.urls import reverse

    return reverse("notify:opt_out", args=[signing.dumps(address, salt=OPT_OUT_SALT, compress=True)])


def opt_out(request, token):
    """Public, no login: the link in a message. GET asks, POST stops (a link preview must not opt out)."""
    try:
        address = signing.loads(token[:300], salt=OPT_OUT_SALT)
    except signing.BadSignature as exc:
        raise Http404 from exc
    done = False
    if request.method == "POST":
        services.opt_out(address, how="link")
        done = True
    return render(request, "notify/opt_out.html", {"masked": mask_phone(address), "done": done})
