"""Public: "no station here" from a phone's offline queue (no login). The page's form posts to
/no-station/; this is the same verb for a client that sends JSON with its own request id."""

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yizhan.core.schemas import Message
from yizhan.planning import services

router = Router(tags=["public: planning"])


class NoStationIn(Schema):
    lat: float | str
    lng: float | str
    crs: str | None = None
    request_id: str | None = None


class NoStationOut(Schema):
    counted: bool
    detail: str


@router.post(
    "/no-station",
    response={201: NoStationOut, 429: Message},
    summary="Say a station is needed here (no login)",
    description=(
        "Counts the point (rounded to 0.001°, nothing else) as demand for the planner; `counted` is "
        "false far from every station. `crs` wgs84 (default), gcj02 or bd09. `request_id` makes a "
        "resend safe: the same id counts once and answers as the first time did; the same id for "
        "another point is refused (422). 5 an hour per address, like the page's button."
    ),
)
def post_no_station(request, payload: NoStationIn):
    from yizhan.api import RateLimited
    from yizhan.core import ratelimit
    from yizhan.planning.views import REPORTS_PER_HOUR

    usage = ratelimit.hit(request, "planning.report", ratelimit.address_key(request), REPORTS_PER_HOUR, 3600)
    if usage.over:
        raise RateLimited(usage.retry_after)
    counted = services.report_no_station(
        payload.lat, payload.lng, payload.crs or "wgs84", request_id=payload.request_id
    )
    detail = (
        _("Thank you: the bank counts where stations are missing and plans the next ones there.")
        if counted
        else _("This place is far from every branch we plan for, so it is not counted.")
    )
    return Status(201, {"counted": counted, "detail": detail})
