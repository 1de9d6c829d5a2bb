import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from yizhan.core.masking import mask_phone
from yizhan.notify import services
from yizhan.notify.models import Broadcast, Channel, Message
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
        message.shown_address = services.shown_address(message)
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


@staff_view("admin")
def broadcasts(request):
    """Write to staff by the org tree: preview the count, then send (or ask a second admin)."""
    from yizhan.orgs.models import Role, Unit
    from yizhan.orgs.scoping import get_for_user

    own = Unit.objects.get(pk=request.scope.unit_id)
    values = {"unit": request.POST.get("unit", own.code)[:40], "roles": request.POST.getlist("roles"),
              "text": request.POST.get("text", "")[:600]}  # fmt: skip
    errors, count = {}, None
    if request.method == "POST":
        unit = get_for_user(request.user, Unit, "admin", code=values["unit"])
        try:
            cleaned = services.clean_broadcast(values)
            count = services.audience(unit, cleaned["roles"]).count()
            if request.POST.get("action") == "send":
                broadcast = services.propose_broadcast(actor=request.user, unit=unit, **cleaned)
                messages.success(
                    request,
                    _("Sent to %(n)s people.") % {"n": broadcast.recipients}
                    if broadcast.state == "sent"
                    else _("%(n)s recipients: a second admin must approve it before it is sent.") % {"n": broadcast.recipients},
                )  # fmt: skip
                return redirect("notify:broadcasts")
        except ValidationError as exc:
            errors = exc.message_dict
    items = scoped(request.user, Broadcast).select_related("unit", "created_by", "decided_by", "template")[
        :50
    ]
    return render(request, "notify/broadcasts.html", {
        "values": values, "errors": errors, "count": count, "items": items, "roles": Role.choices,
        "threshold": settings.YIZHAN_NOTIFY_APPROVAL_ABOVE,
    })  # fmt: skip


@staff_view("admin")
@require_POST
def broadcast_decide(request, pk, action):
    from yizhan.orgs.scoping import get_for_user

    broadcast = get_for_user(request.user, Broadcast, "admin", pk=pk)
    try:
        if action == "approve":
            services.approve_broadcast(broadcast, actor=request.user)
            messages.success(request, _("Approved and sent."))
        elif action == "reject":
            services.reject_broadcast(broadcast, actor=request.user)
            messages.success(request, _("Rejected; nothing was sent."))
        else:
            raise Http404
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("notify:broadcasts")


@csrf_exempt
@require_POST
def receipts(request, provider):
    """The SMS provider's status reports (a push, so nothing polls the provider). The provider is
    configured with this URL and `?token=YIZHAN_NOTIFY_RECEIPT_TOKEN` (it cannot add headers); the
    answer is the acknowledgement each provider expects. Outside /api/ because the reports are
    JSON lists, which the API refuses as bodies."""
    if provider not in services.RECEIPT_PROVIDERS:
        raise Http404
    expected = settings.YIZHAN_NOTIFY_RECEIPT_TOKEN
    given = request.GET.get("token", "") or request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not expected or not hmac.compare_digest(given.strip()[:200].encode(), expected.encode()):
        return JsonResponse({"detail": _("This callback needs the provider's token.")}, status=401)
    try:
        data = getattr(request, "checked_json", None)
        if data is None:
            data = json.loads(request.body or b"null")
        changed = services.record_receipts(services.parse_receipts(provider, data))
    except ValueError:
        return JsonResponse({"detail": _("The request body is not valid JSON.")}, status=400)
    except ValidationError as exc:
        return JsonResponse({"detail": "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())[:300]},
                            status=422)  # fmt: skip
    ack = {"code": 0, "msg": "成功"} if provider == "aliyun" else {"result": 0, "errmsg": "OK"}
    return JsonResponse({**ack, "updated": changed})
