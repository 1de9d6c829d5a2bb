"""What a page must not show a reader of Chinese: the one place the browser walk's checks live.

`problems(text, lang=...)` takes a page's visible text (as `VISIBLE_TEXT_JS` extracts it: no
scripts, no element marked with another language, no <code>) and returns a list of
(kind, excerpt). Kinds: "english" (an English word on a Chinese page, outside names and codes),
"raw code" (`feedback.received`, `facility_broken`, `False`), "utc" (an ISO or UTC timestamp),
"future" (a full timestamp later than now, where the page lists past events only).
"""

import datetime
import re
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The visible text, as a reader sees it; names and codes marked up as such are left out.
VISIBLE_TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, style, noscript, template, code, svg, [hidden], [lang]:not([lang^="zh"]),'
    + ' .leaflet-control-attribution, .skip, [aria-hidden="true"]').forEach(e => e.remove());
  return body.innerText;
}"""

# Latin words a Chinese page may show: brands, units, file formats, abbreviations.
ALLOWED_WORDS = set(
    """
    api csv xlsx xls json geojson svg png pdf zip qr wgs gcj bd km id
    ids url http https www sms wifi wi fi usb icbc amap gbk utf excel atm english token tokens openapi pinyin
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
# Demo usernames and unit, station and batch codes are names, not words.
NAME_PATTERNS = [
    re.compile(r"\b[a-z]+_(?:admin|manager|viewer)\b"),
    re.compile(r"\b[A-Z]{1,5}(?:-[A-Z0-9]+)+\b"),  # CQ-SXGC, SD-JN-001
    re.compile(r"\S*@[A-Za-z0-9.-]+"),  # e-mail addresses, masked ones too
    re.compile(r"https?://\S+"),
    re.compile(r"\b[\w-]+\.(?:csv|xlsx|txt|json|svg|zip|png)\b", re.I),  # file names
]
WORD = re.compile(r"(?<![\w.-])[A-Za-z][a-z]{2,}(?![\w.-])")
RAW_CODE = re.compile(r"(?<![\w/.-])(?:[a-z]+(?:_[a-z]+)+|[a-z]+\.[a-z_]+[a-z]|True|False|None)(?![\w/.-])")
UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|\+00:?00)\b|\bUTC\b")
FULL_TIME = re.compile(r"\b(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)\b")


def _strip_names(text: str) -> str:
    for pattern in NAME_PATTERNS:
        text = pattern.sub(" ", text)
    return text


def problems(text: str, *, lang: str = "zh-hans", past_only: bool = False, now=None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in UTC.finditer(text):
        found.append(("utc", match.group(0)))
    plain = _strip_names(text)
    for match in RAW_CODE.finditer(plain):
        found.append(("raw code", match.group(0)))
    if lang.startswith("zh"):
        for match in WORD.finditer(RAW_CODE.sub(" ", plain)):
            if match.group(0).lower() not in ALLOWED_WORDS:
                found.append(("english", match.group(0)))
    if past_only:
        now = (now or datetime.datetime.now(tz=SHANGHAI)).astimezone(SHANGHAI)
        limit = now.replace(tzinfo=None) + datetime.timedelta(minutes=2)
        for match in FULL_TIME.finditer(text):
            try:
                moment = datetime.datetime(*(int(g) for g in match.groups()))
            except ValueError:
                continue
            if moment > limit:
                found.append(("future", match.group(0)))
    return found
