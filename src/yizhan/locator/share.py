"""Sharing: a filtered list as a short link, and QR images of a station or a list, for posters,
group chats and messaging apps' previews (the pages' Open Graph title and description)."""

import base64
import hashlib
from urllib.parse import urlencode

import segno
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yizhan.locator.models import ShortLink

# What a shared list keeps: where (a point, a typed place or a city) and the filters.
KEPT = ("lat", "lng", "near", "q", "city", "facility", "theme", "when", "at")
MAX_QUERY = 1000
SHARES_PER_HOUR = 30


def clean_share(data) -> str:
    """The list's query string, reduced to what a list means, in a fixed order."""
    pairs = []
    for name in KEPT:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
        if isinstance(values, str):
            values = [values]
        for value in values:
            value = str(value).strip()
            if value:
                pairs.append((name, value[:200]))
    names = {name for name, _value in pairs}
    if not ({"lat", "lng"} <= names or "q" in names or "city" in names):
        raise ValidationError({"lat": _("Share a list of stations near a place: choose the place first.")})
    query = urlencode(pairs)
    if len(query) > MAX_QUERY:
        raise ValidationError({"q": _("This list is too long to share; use fewer filters.")})
    return query


def code_for(query: str) -> str:
    return base64.b32encode(hashlib.sha256(query.encode()).digest()).decode()[:8].lower()


def shorten(data) -> ShortLink:
    """The short link for a list (the same list always gets the same link)."""
    query = clean_share(data)
    code = code_for(query)
    found = ShortLink.objects.filter(code=code).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ShortLink.objects.create(code=code, query=query)
    except IntegrityError:  # made by another request meanwhile
        return ShortLink.objects.get(code=code)


def qr_svg(url: str) -> bytes:
    import io

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return out.getvalue()
