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
from yizhan.core.boundary import Offset
from yizhan.core.masking import mask_phone
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


# --- templates --------------------------------------------------------------------------------------


class TemplateOut(Schema):
    key: str
    version: int
    name: str
    text_zh: str
    text_en: str
    variables: list[str]
    sms_template_code: str
    sms_signature: str
    topic: str
    urgent: bool
    created_at: datetime.datetime


class TemplateIn(Schema):
    based_on: int
    name: str
    text_zh: str
    text_en: str = ""
    sms_template_code: str = ""
    sms_signature: str = ""
    urgent: bool = False


def _template_out(t) -> dict:
    return {f: getattr(t, f) for f in TemplateOut.model_fields}


@manage_router.get("/templates", response={200: list[TemplateOut], 403: schemas.Message})
def list_templates(request):
    """The newest version of every message template (admins)."""
    require(request.user, "admin")
    return [_template_out(t) for t in services.template_keys()]


@manage_router.get(
    "/templates/{key}", response={200: list[TemplateOut], 403: schemas.Message, 404: schemas.Message}
)
def template_versions(request, key: str):
    """Every version of one template, newest first."""
    from yizhan.notify.models import Template

    require(request.user, "admin")
    versions = list(Template.objects.filter(key=key[:60]))
    if not versions:
        raise HttpError(404, _("No message template is called that."))
    return [_template_out(t) for t in versions]


@manage_router.post(
    "/templates/{key}/versions",
    response={201: TemplateOut, 403: schemas.Message, 404: schemas.Message, 422: schemas.Message},
)
def create_template_version(request, key: str, payload: TemplateIn):
    """A new version (head office). `based_on` is the version the writer read; the variables and
    topic stay those of the template; a placeholder that is not a variable is refused (422)."""
    from yizhan.notify.models import Template

    require(request.user, "admin")
    if not Template.objects.filter(key=key[:60]).exists():
        raise HttpError(404, _("No message template is called that."))
    require(request.user, "hq_admin")
    data = payload.dict()
    template = services.save_template(actor=request.user, key=key[:60], based_on=data.pop("based_on"), **data)
    return Status(201, _template_out(template))


# --- consent records --------------------------------------------------------------------------------


class ConsentOut(Schema):
    id: int
    phone: str  # masked
    topic: str
    unit: str
    given_at: datetime.datetime
    how: str
    withdrawn_at: datetime.datetime | None
    withdrawn_how: str


class ConsentIn(Schema):
    phone: str
    topic: str
    unit: str
    how: str


class WithdrawIn(Schema):
    how: str


def _consent_out(c) -> dict:
    return {"id": c.pk, "phone": mask_phone(c.address), "topic": c.topic, "unit": c.unit.code,
            "given_at": c.given_at, "how": c.how, "withdrawn_at": c.withdrawn_at,
            "withdrawn_how": c.withdrawn_how}  # fmt: skip


@manage_router.get("/consents", response={200: list[ConsentOut], 403: schemas.Message, 422: schemas.Message})
def list_consents(
    request, topic: str = "", unit: str = "", state: str = "", offset: Offset = 0, limit: int = 100
):
    """Opt-ins in your subtree (managers and admins; numbers masked). Filters: topic, unit (its
    subtree), state (active / withdrawn)."""
    from yizhan.notify.models import Consent
    from yizhan.notify.views import consent_filters

    require(request.user, "change")
    items, _filters = consent_filters(request, scoped(request.user, Consent).select_related("unit"))
    limit = max(1, min(limit, 500))
    return [_consent_out(c) for c in items.order_by("-given_at", "-pk")[offset : offset + limit]]


@manage_router.post(
    "/consents", response={201: ConsentOut, 403: schemas.Message, 404: schemas.Message, 422: schemas.Message}
)
def create_consent(request, payload: ConsentIn):
    """Record an opt-in: the number, the topic, the outlet (in your subtree) and how it was given."""
    from yizhan.orgs.models import Unit
    from yizhan.orgs.scoping import get_for_user

    require(request.user, "change")
    unit = get_for_user(request.user, Unit, "change", code=payload.unit[:40])
    try:
        consent = services.record_consent(actor=request.user, unit=unit, address=payload.phone,
                                          topic=payload.topic, how=payload.how)  # fmt: skip
    except ValidationError as exc:  # the service's "address" is this body's "phone"
        raise ValidationError(
            {"phone" if k == "address" else k: v for k, v in exc.message_dict.items()}
        ) from None
    return Status(201, _consent_out(consent))


@manage_router.post(
    "/consents/{consent_id}/withdraw",
    response={200: ConsentOut, 403: schemas.Message, 404: schemas.Message, 422: schemas.Message},
)
def withdraw_consent(request, consent_id: int, payload: WithdrawIn):
    """Record an opt-out staff were told of; queued messages of that topic to the number stop."""
    from yizhan.notify.models import Consent
    from yizhan.orgs.scoping import get_for_user

    consent = get_for_user(request.user, Consent, "change", pk=consent_id)
    services.withdraw_consent(consent, actor=request.user, how=payload.how)
    consent.refresh_from_db()
    return _consent_out(consent)


# --- the pension-day campaign -------------------------------------------------------------------------


class CampaignIn(Schema):
    outlets: str  # codes, separated by spaces or commas; a unit means its whole subtree
    start: datetime.date
    capacity: int = 30
    capacities: dict[str, int] = {}  # outlet code -> people a day
    window: str = ""


class DayRow(Schema):
    day: datetime.date
    outlets: dict[str, int]  # outlet code -> people invited that day
    total: int


class PreviewOut(Schema):
    recipients: int
    needs_approval: bool
    days: list[DayRow]


class CampaignOut(Schema):
    id: int
    unit: str
    recipients: int
    state: str
    state_label: str
    days: list[DayRow]


def _rows(table) -> list[dict]:
    return [{"day": r["day"], "outlets": {c["outlet"].code: c["count"] for c in r["outlets"]}, "total": r["total"]}
            for r in table]  # fmt: skip


def _campaign_data(payload: CampaignIn) -> dict:
    data = payload.dict()
    data["capacities"] = "\n".join(f"{code}={n}" for code, n in list(data["capacities"].items())[:500])
    return data


def _campaign_out(c) -> dict:
    from yizhan.notify import campaigns

    return {"id": c.pk, "unit": c.unit.code, "recipients": c.recipients, "state": c.state,
            "state_label": str(c.get_state_display()), "days": _rows(campaigns.table(c))}  # fmt: skip


@manage_router.post(
    "/campaigns/preview", response={200: PreviewOut, 403: schemas.Message, 422: schemas.Message}
)
def preview_campaign(request, payload: CampaignIn):
    """The schedule a campaign would follow (per day, per outlet), without sending anything."""
    from yizhan.notify import campaigns

    require(request.user, "admin")
    plan = campaigns.plan(request.user, _campaign_data(payload))
    return {"recipients": plan.recipients, "days": _rows(plan.table()),
            "needs_approval": campaigns.CAMPAIGNS.required(plan.recipients, settings.YIZHAN_NOTIFY_APPROVAL_ABOVE)}  # fmt: skip


@manage_router.post("/campaigns", response={201: CampaignOut, 403: schemas.Message, 422: schemas.Message})
def create_campaign(request, payload: CampaignIn):
    """Schedule the invitations; above the approval size it waits for a second admin (`pending`)."""
    from yizhan.notify import campaigns

    campaign = campaigns.propose(actor=request.user, **_campaign_data(payload))
    return Status(201, _campaign_out(campaign))


@manage_router.post(
    "/campaigns/{campaign_id}/{action}",
    response={200: CampaignOut, 403: schemas.Message, 404: schemas.Message, 422: schemas.Message},
)
def decide_campaign(request, campaign_id: int, action: str):
    """`approve` (a second admin: the invitations are scheduled) or `reject`."""
    from yizhan.notify import campaigns
    from yizhan.notify.models import Campaign
    from yizhan.orgs.scoping import get_for_user

    campaign = get_for_user(request.user, Campaign, "admin", pk=campaign_id)
    if action not in ("approve", "reject"):
        raise HttpError(404, _("Not found."))
    verb = campaigns.approve if action == "approve" else campaigns.reject
    return _campaign_out(verb(campaign, actor=request.user))
