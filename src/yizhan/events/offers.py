"""Group offers (专属产品): kept by head office or a province, shown on the station pages of the
stations with the matching theme in that unit's subtree, and to visitors who checked in with that
group. Showing needs no personal data, and collects none."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.events.models import REACH_GROUPS, TARGET_GROUP_CODES, Offer
from yizhan.events.services import clean_text
from yizhan.orgs.scoping import scope_for
from yizhan.stations.models import Theme

FIELDS = ["group", "theme_id", "title", "title_en", "text", "text_en", "valid_from", "valid_until"]


def clean_offer(data: dict) -> dict:
    errors, out = {}, {}
    for field, limit, required in (
        ("title", 120, True),
        ("title_en", 200, False),
        ("text", 2000, True),
        ("text_en", 2000, False),
    ):
        try:
            out[field] = clean_text(data.get(field), field=field, limit=limit, required=required)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    group = str(data.get("group") or "")
    if group not in TARGET_GROUP_CODES:
        errors["group"] = [_("Choose the group the offer is for.")]
    out["group"] = group
    theme = data.get("theme")
    out["theme"] = None
    if theme not in (None, ""):
        out["theme"] = theme if isinstance(theme, Theme) else Theme.objects.filter(code=str(theme)).first()
        if out["theme"] is None:
            errors["theme"] = [_("Unknown station theme.")]
    for field in ("valid_from", "valid_until"):
        value = data.get(field)
        try:
            out[field] = (
                value
                if isinstance(value, datetime.date)
                else datetime.date.fromisoformat(str(value or "").strip())
            )
        except ValueError:
            errors[field] = [_("Enter a date as 2026-05-12.")]
    if not errors and out["valid_until"] < out["valid_from"]:
        errors["valid_until"] = [_("The offer must end on or after the day it starts.")]
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def save_offer(offer: Offer | None = None, *, actor, unit=None, revision=None, **data) -> Offer:
    """Create (with `unit`: head office or a province) or edit an offer."""
    values = clean_offer(data)
    if offer is None:
        scope = scope_for(actor)
        if unit is None or not scope.covers(unit.path) or unit.level > 1:
            raise ValidationError({"unit": _("Offers are kept by head office or a province in your area.")})
        offer = Offer.objects.create(unit=unit, **values)
        record(
            "events.offer_created", offer, actor=actor, unit=unit, changes=diff({}, snapshot(offer, FIELDS))
        )
        return offer
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    concurrency.check(offer, revision, actor=actor)
    before = snapshot(offer, FIELDS)
    for key, value in values.items():
        setattr(offer, key, value)
    changes = diff(before, snapshot(offer, FIELDS))
    if changes:
        concurrency.advance(offer, changes, actor=actor)
        offer.save()
        record("events.offer_updated", offer, actor=actor, unit=offer.unit, changes=changes)
    return offer


def groups_for_checkin(group: str) -> list[str]:
    """The offer groups a visitor who ticked this check-in group belongs to: the group itself, and
    new citizens for couriers, riders and construction workers (as the campaigns' reach counts)."""
    return [code for code, counted in REACH_GROUPS.items() if group in counted]


def for_station(station, group: str | None = None, day=None) -> list[Offer]:
    """The offers valid today whose unit holds the station and whose theme it carries (or, with
    `group`, those for a visitor who checked in as that group, whatever the station's themes)."""
    ancestors = _prefixes(station.unit.path)
    offers = Offer.objects.current(day).filter(unit__path__in=ancestors)
    if group:
        return list(offers.filter(group__in=groups_for_checkin(group)))
    themes = list(station.themes.values_list("pk", flat=True))
    return list(offers.filter(Q(theme__in=themes)))


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
