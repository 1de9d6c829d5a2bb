import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from yizhan.core.forms import flash_errors
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
        flash_errors(request, exc)
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


# --- templates ------------------------------------------------------------------------------------


@staff_view("admin")
def templates(request):
    """Every message template, newest version; head office writes new versions."""
    return render(request, "notify/templates.html", {"items": services.template_keys()})


@staff_view("admin")
def template_detail(request, key):
    from yizhan.notify.models import Template

    versions = list(Template.objects.filter(key=key[:60]))
    if not versions:
        raise Http404
    latest = versions[0]
    values = {f: getattr(latest, f) for f in services.TEMPLATE_FIELDS}
    errors = {}
    can_write = request.scope.can("hq_admin")
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        values = {f: request.POST.get(f, "")[:1200] for f in services.TEMPLATE_FIELDS}
        values["urgent"] = request.POST.get("urgent") == "on"
        try:
            based_on = int(request.POST.get("based_on", ""))
        except ValueError:
            based_on = -1
        try:
            saved = services.save_template(actor=request.user, key=latest.key, based_on=based_on, **values)
            messages.success(request, _("Version %(n)s saved; new messages use it.") % {"n": saved.version})
            return redirect("notify:template", key=latest.key)
        except ValidationError as exc:
            errors = exc.message_dict
    return render(request, "notify/template.html", {
        "latest": latest, "versions": versions, "values": values, "errors": errors, "can_write": can_write,
    })  # fmt: skip


# --- consent records ------------------------------------------------------------------------------

HOW_SUGGESTIONS = [
    gettext_lazy("signed paper form at the counter"),
    gettext_lazy("replied to an invitation SMS"),
    gettext_lazy("on the web page"),
    gettext_lazy("by telephone, recorded"),
]


def consent_filters(request, items):
    """Topic, unit (its subtree, in scope) and state filters, shared by the page and the API."""
    from yizhan.orgs.models import Unit
    from yizhan.orgs.scoping import get_for_user

    topic = request.GET.get("topic", "")[:60]
    code = request.GET.get("unit", "")[:40].strip()
    state = request.GET.get("state", "")
    if topic:
        items = items.filter(topic=topic)
    if code:
        try:
            unit = get_for_user(request.user, Unit, code=code)
        except Http404:
            raise ValidationError(
                {"unit": _("No unit with this code in your part of the network.")}
            ) from None
        items = items.filter(unit__path__startswith=unit.path)
    if state == "active":
        items = items.filter(withdrawn_at__isnull=True)
    elif state == "withdrawn":
        items = items.filter(withdrawn_at__isnull=False)
    return items, {"topic": topic, "unit": code, "state": state}


@staff_view("change")
def consents(request):
    """Opt-ins of the public in your subtree (numbers masked); record one, or an opt-out."""
    from yizhan.notify.models import Consent
    from yizhan.orgs.models import Unit
    from yizhan.orgs.scoping import get_for_user

    own = Unit.objects.get(pk=request.scope.unit_id)
    values = {"address": "", "topic": "pension-day", "unit": own.code, "how": ""}
    errors = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:200] for k in values}
        try:
            try:
                unit = get_for_user(request.user, Unit, "change", code=values["unit"][:40])
            except Http404:
                raise ValidationError(
                    {"unit": _("No unit with this code in your part of the network.")}
                ) from None
            services.record_consent(actor=request.user, unit=unit, address=values["address"],
                                    topic=values["topic"], how=values["how"])  # fmt: skip
            messages.success(request, _("Consent recorded."))
            return redirect("notify:consents")
        except ValidationError as exc:
            errors = exc.message_dict
    try:
        items, filters = consent_filters(request, scoped(request.user, Consent).select_related("unit"))
    except ValidationError as exc:
        items, filters = (
            Consent.objects.none(),
            {"topic": "", "unit": request.GET.get("unit", "")[:40], "state": ""},
        )
        errors = {**errors, "filter_unit": exc.message_dict["unit"]}
    page = Paginator(items.order_by("-given_at", "-pk"), 50).get_page(request.GET.get("page"))
    topic_names = dict(services.topic_choices())
    for consent in page:
        consent.masked = mask_phone(consent.address)
        consent.topic_label = topic_names.get(consent.topic, consent.topic)
    return render(request, "notify/consents.html", {
        "page": page, "filters": filters, "values": values, "errors": errors, "topics": services.topic_choices(),
        "suggestions": HOW_SUGGESTIONS,
    })  # fmt: skip


@staff_view("read")
@require_POST
def consent_withdraw(request, pk):
    from yizhan.notify.models import Consent
    from yizhan.orgs.scoping import get_for_user

    consent = get_for_user(request.user, Consent, "change", pk=pk)
    try:
        services.withdraw_consent(consent, actor=request.user, how=request.POST.get("how", "")[:200])
        messages.success(request, _("Opt-out recorded; nothing more is sent to this number on this topic."))
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("notify:consents")


# --- the pension-day campaign ---------------------------------------------------------------------


@staff_view("admin")
def campaigns(request):
    """Pick outlets, preview the staggered schedule per day and outlet, then send (or ask a second
    admin above the approval size)."""
    from yizhan.notify import campaigns as campaign_services
    from yizhan.notify.models import Campaign
    from yizhan.orgs.models import Unit

    own = Unit.objects.get(pk=request.scope.unit_id)
    fields = ("outlets", "start", "capacity", "capacities", "window")
    values = {"outlets": own.code, "start": "", "capacity": campaign_services.DEFAULT_CAPACITY,
              "capacities": "", "window": "9:00-11:00"}  # fmt: skip
    errors, preview = {}, None
    if request.method == "POST":
        values = {f: request.POST.get(f, "")[:4000] for f in fields}
        try:
            if request.POST.get("action") == "send":
                campaign = campaign_services.propose(actor=request.user, **values)
                messages.success(
                    request,
                    _("Scheduled: %(n)s invitations.") % {"n": campaign.recipients}
                    if campaign.state == Campaign.State.SENT
                    else _("%(n)s recipients: a second admin must approve it before it is sent.") % {"n": campaign.recipients},
                )  # fmt: skip
                return redirect("notify:campaigns")
            preview = campaign_services.plan(request.user, values)
        except ValidationError as exc:
            errors = exc.message_dict
    items = list(scoped(request.user, Campaign).select_related("unit", "created_by", "decided_by")[:30])
    for item in items:
        item.schedule = campaign_services.table(item)
    return render(request, "notify/campaigns.html", {
        "values": values, "errors": errors, "preview": preview, "items": items,
        "threshold": settings.YIZHAN_NOTIFY_APPROVAL_ABOVE,
    })  # fmt: skip


@staff_view("admin")
@require_POST
def campaign_decide(request, pk, action):
    from yizhan.notify import campaigns as campaign_services
    from yizhan.notify.models import Campaign
    from yizhan.orgs.scoping import get_for_user

    campaign = get_for_user(request.user, Campaign, "admin", pk=pk)
    if action not in ("approve", "reject"):
        raise Http404
    try:
        if action == "approve":
            campaign_services.approve(campaign, actor=request.user)
            messages.success(request, _("Approved; the invitations are scheduled."))
        else:
            campaign_services.reject(campaign, actor=request.user)
            messages.success(request, _("Rejected; nothing was sent."))
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("notify:campaigns")
