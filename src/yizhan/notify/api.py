"""The notification centre in the API: a staff member's inbox, an admin's outbox, and the SMS
provider's callback for replies (TD opts the number out)."""

import datetime
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from yizhan.core import schemas
from yizhan.notify import services
from yizhan.notify.models import Channel, Message
from yizhan.orgs.scoping import require, scoped

router = Router(tags=["notifications"])
manage_router = Router(tags=["manage: notifications"])


class InboxItem(Schema):
    id: int
    text: str
    created_at: datetime.datetime
    read: bool


class OutboxItem(Schema):
    id: int
    channel: str
    recipient: str
    text: str
    state: str
    state_label: str
    reason: str
    provider_id: str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None
    delivered_at: datetime.datetime | None


class Count(Schema):
    count: int


class Reply(Schema):
    phone: str
    text: str


@manage_router.get("/inbox", response=list[InboxItem])
def inbox(request, unread: bool = False):
    items = Message.objects.filter(user=request.user, channel=Channel.INBOX, state=Message.State.DELIVERED)
    if unread:
        items = items.filter(read_at__isnull=True)
    language = get_language() or "zh-hans"
    result = []
    for m in items.select_related("template")[:200]:
        try:
            text = services.render(m.template, m.context, language)
        except ValidationError:
            text = m.text
        result.append({"id": m.pk, "text": text, "created_at": m.created_at, "read": m.read_at is not None})
    return result


@manage_router.post("/inbox/read", response=Count)
def inbox_read(request):
    return {"count": services.mark_read(request.user)}


@manage_router.get("/outbox", response={200: list[OutboxItem], 403: schemas.Message})
def outbox(request, state: Message.State | None = None, limit: int = 100, offset: int = 0):
    require(request.user, "admin")
    items = scoped(request.user, Message).select_related("user")
    if state:
        items = items.filter(state=state)
    offset, limit = max(offset, 0), max(1, min(limit, 500))
    return [
        {
            "id": m.pk,
            "channel": m.channel,
            "recipient": services.shown_address(m),
            "text": m.text,
            "state": m.state,
            "state_label": str(m.get_state_display()),
            "reason": m.reason,
            "provider_id": m.provider_id,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
            "delivered_at": m.delivered_at,
        }  # fmt: skip
        for m in items[offset : offset + limit]
    ]


@router.post("/notify/replies", response={200: Count, 401: schemas.Message, 422: schemas.Message})
def sms_reply(request, payload: Reply):
    """For the SMS provider's reply callback (it presents `YIZHAN_NOTIFY_REPLY_TOKEN` as a bearer
    token): a reply of TD / 退订 withdraws every consent of that number."""
    expected = settings.YIZHAN_NOTIFY_REPLY_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HttpError(401, _("This callback needs the provider's token."))
    if not services.is_opt_out_reply(payload.text):
        return {"count": 0}
    return {"count": services.opt_out(payload.phone, how="sms reply")}


class BroadcastIn(Schema):
    unit: str
    roles: list[str]
    text: str


class BroadcastOut(Schema):
    id: int
    unit: str
    recipients: int
    state: str
    state_label: str


def _broadcast_out(b) -> dict:
    return {"id": b.pk, "unit": b.unit.code, "recipients": b.recipients, "state": b.state,
            "state_label": str(b.get_state_display())}  # fmt: skip


@manage_router.post(
    "/broadcasts",
    response={201: BroadcastOut, 403: schemas.Message, 404: schemas.Message, 422: schemas.Message},
)
def create_broadcast(request, payload: BroadcastIn):
    """Message the staff of `roles` in the unit's subtree; above the approval size it waits for a
    second admin (`state`: pending)."""
    from yizhan.orgs.models import Unit
    from yizhan.orgs.scoping import get_for_user

    unit = get_for_user(request.user, Unit, "admin", code=payload.unit[:40])
    broadcast = services.propose_broadcast(
        actor=request.user, unit=unit, roles=payload.roles, text=payload.text
    )
    return Status(201, _broadcast_out(broadcast))


@manage_router.post(
    "/broadcasts/{broadcast_id}/approve",
    response={200: BroadcastOut, 403: schemas.Message, 404: schemas.Message, 422: schemas.Message},
)
def approve_broadcast(request, broadcast_id: int):
    from yizhan.notify.models import Broadcast
    from yizhan.orgs.scoping import get_for_user

    broadcast = get_for_user(request.user, Broadcast, "admin", pk=broadcast_id)
    return _broadcast_out(services.approve_broadcast(broadcast, actor=request.user))
