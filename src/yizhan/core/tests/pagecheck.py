"""What a reader must not meet on a page: a check for rendered HTML, shared by the page tests and
the browser walk.

`problems(html)` reads the text a reader sees (and the attributes a screen reader or a tooltip
shows: title, placeholder, aria-label, alt) and names each of:

- a raw code: `feedback.received`, `facility_broken`, `verified_at` (lower-case words joined by
  "_" or ".");
- a Python literal: `True`, `False`, `None`;
- a UTC-looking timestamp: `2026-12-01T08:33:59`, `…+00:00`, `…Z`, "UTC";
- on a Chinese page (the default), an English word outside names and codes.

Names and codes are allowed: upper-case codes (`CQ-SXGC`, `API`, `QR`), anything inside an
element marked `translate="no"` (the HTML way of saying "a name or a code: leave as it is" —
usernames, stored names, file names) or declared in another language (`lang="en"` on an
English name or the language switch),
e-mail addresses and URLs, and the words passed in `allow`
(demo usernames, say). Scripts, styles, templates and `hidden` elements are not read.
"""

import datetime
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIP = {"script", "style", "template"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Product and format names that read the same in Chinese text.
ALLOWED_WORDS = frozenset(
    {
        "Wi-Fi",
        "WiFi",
        "Excel",
        "xlsx",
        "csv",
        "chinesecalendar",
        "Bearer",
        "Token",
        "Leaflet",
        "ECharts",
        "OpenStreetMap",
        "GeoJSON",
        "Amap",
        "km",
        "JavaScript",
        "JPEG",
        "PNG",
        "WebP",
    }
)

_EMAIL_OR_URL = re.compile(r"\S+@\S+|\b(?:https?://|/)[\w./?=&%#:+-]*")
# ASCII look-arounds: a code right after a Chinese character is still a code.
_RAW_CODE = re.compile(r"(?<![A-Za-z0-9_.-])[a-z][a-z0-9]*(?:[._][a-z0-9]+)+(?![A-Za-z0-9_-])")
_LITERAL = re.compile(r"\b(?:True|False|None)\b")
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]00:?00|Z)\b|\bUTC\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


class _Reader(HTMLParser):
    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang[:2].lower()
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipped = (
            self._skipping()
            or tag in SKIP
            or "hidden" in attrs
            or attrs.get("translate") == "no"
            or not (attrs.get("lang") or self.lang).lower().startswith(self.lang)
            or attrs.get("aria-hidden") == "true"
        )
        if not skipped:
            self.texts.extend(str(attrs[a]) for a in SHOWN_ATTRIBUTES if attrs.get(a))
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.texts.append(str(attrs["value"]))
        if tag not in VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.texts.append(data)


def visible_texts(html: str, lang: str = "zh-hans") -> list[str]:
    """The texts a reader of `lang` sees; elements declared in another language are left out."""
    reader = _Reader(lang)
    reader.feed(html)
    reader.close()
    return [" ".join(t.split()) for t in reader.texts]


def problems(html: str, *, lang: str = "zh-hans", allow=()) -> list[str]:
    """Each problem as "kind: text (in: …context…)"; an empty list for a clean page."""
    allowed = ALLOWED_WORDS | set(allow)
    found: list[str] = []
    seen: set[str] = set()

    def add(kind: str, token: str, text: str) -> None:
        message = f"{kind}: {token!r} (in: {text[:80]!r})"
        if message not in seen:
            seen.add(message)
            found.append(message)

    for text in visible_texts(html, lang):
        for token in _UTC.findall(text):
            add("UTC timestamp", token, text)
        plain = _EMAIL_OR_URL.sub(" ", text)
        if allowed:
            words = "|".join(re.escape(w) for w in sorted(allowed, key=len, reverse=True))
            plain = re.sub(rf"(?<![A-Za-z0-9_-])(?:{words})(?![A-Za-z0-9_-])", " ", plain)
        for token in _RAW_CODE.findall(plain):
            add("raw code", token, text)
        for token in _LITERAL.findall(plain):
            add("Python literal", token, text)
        if lang.startswith("zh"):
            for token in _WORD.findall(_RAW_CODE.sub(" ", plain)):
                word = token.strip("'’-")
                if len(word) >= 2 and not word.isupper() and not _LITERAL.fullmatch(word):
                    add("English word", word, text)
    return found


_FULL_TIME = re.compile(r"\b(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)\b")


def future_times(html: str, *, now=None, lang: str = "zh-hans") -> list[str]:
    """Full times ("2026-12-01 17:45", Beijing time) later than now: for pages of past events."""
    shanghai = ZoneInfo("Asia/Shanghai")
    limit = (now or datetime.datetime.now(tz=shanghai)).astimezone(shanghai).replace(tzinfo=None)
    limit += datetime.timedelta(minutes=2)
    found = []
    for text in visible_texts(html, lang):
        for match in _FULL_TIME.finditer(text):
            try:
                moment = datetime.datetime(*(int(g) for g in match.groups()))
            except ValueError:
                continue
            if moment > limit:
                found.append(f"future time: {match.group(0)!r} (in: {text[:80]!r})")
    return found
