"""The landmark search: every gazetteer place in each process's memory, searched by name, alias,
pinyin or pinyin initials, forgiving one wrong, missing or extra character.

Each place gives several keys (its name, its aliases, and the full pinyin and the initials of
each: 解放碑 -> 解放碑, jiefangbei, jfb). Candidates come from an inverted index of the keys'
grams — single characters for Chinese keys, letter pairs for Latin ones — counted for all keys at
once with one numpy `bincount`, so that a query costs about the same with 50 or 50,000 places; a
key needs all of the query's grams but those one typo can take. Only the few hundred best
candidates are then compared in Python: exact key, key starting with the query, key containing
it, or an edit distance of one (rapidfuzz), in that order, a name before an alias before pinyin.

The index is rebuilt when the "places" data version moves (read at most every
YIZHAN_LOCATOR_REFRESH_MS, like the station index), and at once after this process's own writes.
"""

import threading
import time
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from yizhan.locator.places import normalise, split_aliases

# Key kinds, in the order the search prefers them.
NAME, ALIAS, PINYIN = 0, 1, 2
# Match tiers, best first.
EXACT, PREFIX, CONTAINS, TYPO = 0, 1, 2, 3
MAX_CANDIDATES = 400
MAX_QUERY = 40


@dataclass(frozen=True)
class Hit:
    row: int
    tier: int
    key_kind: int
    key: str


def grams(key: str) -> set[str]:
    """Single characters for a key with Chinese in it, letter pairs (with ends marked) for Latin."""
    if key.isascii():
        padded = f"^{key}$"
        return {padded[i : i + 2] for i in range(len(padded) - 1)}
    return set(key)


class Gazetteer:
    def __init__(self, rows: list[tuple], version: int = 0):
        """rows: (id, unit_id, name, aliases, pinyin, kind, lat, lng), one per place."""
        self.version = version
        self.cities: dict[int, tuple[str, str]] = {}  # unit id -> (city name, English name)
        self.ids = [r[0] for r in rows]
        self.unit_ids = np.array([r[1] for r in rows], dtype=np.int64)
        self.names = [r[2] for r in rows]
        self.aliases = [r[3] for r in rows]
        self.kinds = [r[5] for r in rows]
        self.lat = np.array([r[6] for r in rows], dtype=np.float64)
        self.lng = np.array([r[7] for r in rows], dtype=np.float64)
        keys: list[str] = []
        owners: list[int] = []
        key_kinds: list[int] = []
        self.exact: dict[str, list[int]] = {}
        postings: dict[str, list[int]] = {}
        for row, (_id, _unit, name, aliases, pinyin, *_rest) in enumerate(rows):
            seen: set[str] = set()
            for kind, texts in ((NAME, [name]), (ALIAS, split_aliases(aliases)), (PINYIN, pinyin.split())):
                for text in texts:
                    key = normalise(text)
                    if not key or key in seen:
                        continue
                    seen.add(key)
                    number = len(keys)
                    keys.append(key)
                    owners.append(row)
                    key_kinds.append(kind)
                    self.exact.setdefault(key, []).append(number)
                    for gram in grams(key):
                        postings.setdefault(gram, []).append(number)
        self.keys = keys
        self.owners = np.array(owners, dtype=np.int64)
        self.key_kinds = np.array(key_kinds, dtype=np.int64)
        self.key_lengths = np.array([len(k) for k in keys], dtype=np.int64)
        self.postings = {gram: np.array(ids, dtype=np.int64) for gram, ids in postings.items()}

    def __len__(self) -> int:
        return len(self.ids)

    def _candidates(self, query: str) -> np.ndarray:
        query_grams = grams(query)
        lists = [self.postings[g] for g in query_grams if g in self.postings]
        if not lists:
            return np.empty(0, dtype=np.int64)
        counts = np.bincount(np.concatenate(lists), minlength=len(self.keys))
        # One typo takes one character of a Chinese key, or two letter pairs of a Latin one.
        need = max(1, len(query_grams) - (2 if query.isascii() else 1))
        found = np.flatnonzero(counts >= need)
        if len(found) > MAX_CANDIDATES:
            # Most grams in common first, then the key closest in length to the query.
            order = np.lexsort((np.abs(self.key_lengths[found] - len(query)), -counts[found]))
            found = found[order[:MAX_CANDIDATES]]
        return found

    def search(self, text: str, limit: int = 8, units: set[int] | None = None) -> list[Hit]:
        """The places best matching `text`, best first: one Hit per place (its best key)."""
        query = normalise(text)[:MAX_QUERY]
        if not query or not self.keys:
            return []
        typo_ok = len(query) >= (2 if not query.isascii() else 4)
        best: dict[int, tuple] = {}
        candidates = self.exact.get(query, [])
        candidates = list(candidates) + self._candidates(query).tolist()
        keys, owners, kinds = self.keys, self.owners, self.key_kinds
        for number in candidates:
            key = keys[number]
            if key == query:
                tier = EXACT
            elif key.startswith(query):
                tier = PREFIX
            elif query in key:
                tier = CONTAINS
            elif typo_ok and Levenshtein.distance(query, key, score_cutoff=1) <= 1:
                tier = TYPO
            else:
                continue
            row = int(owners[number])
            if units is not None and int(self.unit_ids[row]) not in units:
                continue
            rank = (tier, int(kinds[number]), len(key), self.names[row], row, key)
            if row not in best or rank < best[row]:
                best[row] = rank
        ranked = sorted(best.values())[:limit]
        return [Hit(row=r[4], tier=r[0], key_kind=r[1], key=r[5]) for r in ranked]


# --- this process's copy ------------------------------------------------------------------------

_current: dict = {"index": None, "checked": 0.0, "stale": False}
_lock = threading.Lock()


def load(version: int = 0) -> Gazetteer:
    from yizhan.locator.models import Place

    rows = list(
        Place.objects.order_by("pk").values_list(
            "pk", "unit_id", "name", "aliases", "pinyin", "kind", "lat", "lng"
        )
    )
    from yizhan.locator.services import _city_name
    from yizhan.orgs.models import Unit

    index = Gazetteer(rows, version)
    units = Unit.objects.filter(pk__in={r[1] for r in rows}).values_list("pk", "name", "name_en")
    index.cities = {
        pk: (_city_name(name, "市分行", "省分行", "分行"), _city_name(name_en, " City Branch", " Branch"))
        for pk, name, name_en in units
    }
    return index


def current() -> Gazetteer:
    """This process's gazetteer, current with the "places" data version."""
    from yizhan.locator.loading import refresh_interval
    from yizhan.stations.services import version_of

    index, now = _current["index"], time.monotonic()
    if index is not None and not _current["stale"] and now - _current["checked"] < refresh_interval():
        return index
    _current["stale"] = False
    version = version_of("places")
    _current["checked"] = now
    if index is not None and index.version == version:
        return index
    with _lock:
        index = _current["index"]
        if index is None or index.version != version:
            index = _current["index"] = load(version)
    return index


def mark_stale(**_kwargs) -> None:
    _current["stale"] = True


def forget() -> None:
    _current.update(index=None, checked=0.0, stale=False)
