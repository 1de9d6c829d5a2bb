"""Chinese-aware keyword screening of remittance instructions, in one pass per instruction.

Pure Python with no database access, so that the import, the demo and `bench/screening.py`
all run exactly this code.

Normalisation, applied alike to the rule terms and to the text screened, character by
character: NFKC (full-width -> half-width, circled digits -> digits), traditional ->
simplified with OpenCC's t2s character table, case folding, and every character that is not a
letter or a digit dropped (spaces, punctuation, symbols). Each original character maps to zero
or more normalised characters, so every match in the normalised text maps back to a span of
the original text. Folding per character rather than per phrase keeps that mapping exact and
lets `str.translate` do the work at C speed (OpenCC converts ~7,000 strings a second; the table
needs one conversion per distinct character). Since both sides are folded by the same
function, a phrase-level exception such as 乾隆 can never make a rule miss.

False positives are kept out in three ways, all maintained by head office:
- rules are field-specific: a payee rule (医院) never looks at the payer, so a hospital paying
  salaries does not hit; purpose rules look at the purpose only;
- exclusion contexts: a hit whose span lies inside an occurrence of an exclusion term
  (红十字路 around 红十字, 红会计 around the alias 红会) is dropped;
- the allow-list: an instruction whose payer or payee (account, or name) is listed has the
  hits of the listed rule (or of every rule) suppressed, and records which entry did it.
"""

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

FIELDS = ("payee_name", "purpose")
ALLOW_FIELDS = ("payer_account", "payee_account", "payer_name", "payee_name")
SEPARATOR = "\x00"  # never survives normalisation, so no term can match across it


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


class _FoldTable(dict):
    """str.translate table filled lazily: code point -> its normalised form ("" when dropped)."""

    def __missing__(self, code: int) -> str:
        out = []
        for ch in unicodedata.normalize("NFKC", chr(code)):
            for folded in _t2s().convert(ch).casefold():
                if unicodedata.category(folded)[0] in "LN":
                    out.append(folded)
        value = "".join(out)
        self[code] = value
        return value


FOLD = _FoldTable()


def normalise(text: str) -> str:
    return text.translate(FOLD) if text else ""


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the original character."""
    out: list[str] = []
    positions: list[int] = []
    for index, ch in enumerate(text or ""):
        folded = FOLD[ord(ch)]
        out.append(folded)
        positions.extend([index] * len(folded))
    return "".join(out), positions


def compact_account(value: str) -> str:
    return "".join(ch for ch in (value or "") if ch.isalnum()).upper()


@dataclass(frozen=True)
class RuleSpec:
    id: int
    field: str  # one of FIELDS
    term: str
    priority: int = 50


@dataclass(frozen=True)
class ExclusionSpec:
    term: str
    rule_id: int | None = None  # None: every rule
    field: str = ""  # "": both fields


@dataclass(frozen=True)
class AllowSpec:
    id: int
    field: str  # one of ALLOW_FIELDS
    value: str
    rule_id: int | None = None  # None: every rule


@dataclass(frozen=True)
class Hit:
    rule_id: int
    field: str
    start: int  # span in the ORIGINAL text, end exclusive
    end: int
    text: str  # the original text of the span


@dataclass
class Outcome:
    hits: list[Hit] = field(default_factory=list)
    allowed_by: int | None = None  # the allow-list entry that suppressed hits, if any


def alias_classes(pairs) -> list[frozenset[str]]:
    """Equivalence classes of normalised terms from alias pairs (红会 ⇄ 红十字会), transitively closed."""
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        a, b = normalise(a), normalise(b)
        if a and b:
            parent[find(a)] = find(b)
    groups: dict[str, set[str]] = defaultdict(set)
    for term in parent:
        groups[find(term)].add(term)
    return [frozenset(g) for g in groups.values() if len(g) > 1]


def expand(term: str, classes: list[frozenset[str]]) -> set[str]:
    """The normalised term and its alias variants: each class member inside it swapped for the others.

    One level of substitution per class, so 三明市红十字会 also matches 三明市红会; no recursion,
    so a set of aliases cannot blow up.
    """
    base = normalise(term)
    variants = {base} if base else set()
    for members in classes:
        for variant in list(variants):
            for member in members:
                if member in variant:
                    variants.update(variant.replace(member, other) for other in members if other != member)
    return variants


def resolve(
    matches: list[tuple[int, int, int]], exclusions: list[tuple[int | None, int, int]]
) -> list[tuple[int, int, int]]:
    """Keyword matches (rule, start, end) in one field's normalised text, after the guards.

    A match inside an exclusion span of its rule (or of every rule) is dropped; of one rule's
    matches, one contained in another is dropped, so each occurrence counts once.
    """
    if exclusions:
        matches = [
            (rule, s, e)
            for rule, s, e in matches
            if not any((xr is None or xr == rule) and xs <= s and e <= xe for xr, xs, xe in exclusions)
        ]
    kept: list[tuple[int, int, int]] = []
    # Longest first, so a match is only ever compared with the ones that could contain it.
    for rule, s, e in sorted(set(matches), key=lambda m: (m[0], -(m[2] - m[1]), m[1])):
        if not any(k[0] == rule and k[1] <= s and e <= k[2] for k in kept):
            kept.append((rule, s, e))
    return sorted(kept, key=lambda m: (m[1], m[0]))


class Screener:
    """Rules, aliases, exclusions and the allow-list compiled into one Aho-Corasick automaton."""

    def __init__(self, rules, aliases=(), exclusions=(), allow=()):
        self.rules = {r.id: r for r in rules}
        classes = alias_classes(aliases)
        self.classes = classes
        # term -> (field, rule id, is_exclusion) payloads; one automaton over "payee␀purpose".
        payloads: dict[str, list] = defaultdict(list)
        self.terms: dict[int, set[str]] = {}
        for rule in rules:
            if rule.field not in FIELDS:
                raise ValueError(f"unknown field {rule.field!r}")
            terms = expand(rule.term, classes)
            self.terms[rule.id] = terms
            for term in terms:
                payloads[term].append((rule.field, rule.id, False))
        self.exclusions: list[tuple[str, int | None, str]] = []
        for ex in exclusions:
            for term in expand(ex.term, classes):
                for fld in [ex.field] if ex.field else FIELDS:
                    payloads[term].append((fld, ex.rule_id, True))
                    self.exclusions.append((term, ex.rule_id, fld))
        self.automaton = ahocorasick.Automaton()
        for term, values in payloads.items():
            self.automaton.add_word(term, (len(term), tuple(values)))
        self.empty = not payloads
        if not self.empty:
            self.automaton.make_automaton()
        self.allow: dict[str, dict[str, list[AllowSpec]]] = {f: defaultdict(list) for f in ALLOW_FIELDS}
        for entry in allow:
            key = compact_account(entry.value) if entry.field.endswith("account") else normalise(entry.value)
            if key:
                self.allow[entry.field][key].append(entry)

    def raw_matches(self, texts: dict[str, str]):
        """Per field: keyword matches [(rule, s, e)] and exclusion spans [(rule|None, s, e)], normalised."""
        payee = texts["payee_name"]
        joined = payee + SEPARATOR + texts["purpose"]
        cut = len(payee)
        found = {f: ([], []) for f in FIELDS}
        for end, (length, values) in self.automaton.iter(joined):
            start = end - length + 1
            fld = FIELDS[0] if end < cut else FIELDS[1]
            offset = 0 if end < cut else cut + 1
            for value_field, rule_id, is_exclusion in values:
                if value_field == fld:
                    found[fld][1 if is_exclusion else 0].append((rule_id, start - offset, end + 1 - offset))
        return found

    def screen(self, payee_name: str, purpose: str, *, payer_name="", payer_account="", payee_account=""):
        """Hits with spans in the original text, after exclusions and the allow-list."""
        if self.empty:
            return Outcome()
        found = self.raw_matches({"payee_name": normalise(payee_name), "purpose": normalise(purpose)})
        return self.finish(
            found,
            payee_name,
            purpose,
            payer_name=payer_name,
            payer_account=payer_account,
            payee_account=payee_account,
        )

    def finish(self, found, payee_name, purpose, *, payer_name="", payer_account="", payee_account=""):
        """From raw normalised matches to hits in the original text, guards applied."""
        outcome = Outcome()
        if not (found["payee_name"][0] or found["purpose"][0]):
            return outcome
        originals = {"payee_name": payee_name, "purpose": purpose}
        hits = []
        for fld in FIELDS:
            matches, excl = found[fld]
            kept = resolve(matches, excl)
            if not kept:
                continue
            original = originals[fld]
            _text, positions = normalise_with_map(original)
            for rule_id, s, e in kept:
                start, end = positions[s], positions[e - 1] + 1
                hits.append(Hit(rule_id, fld, start, end, original[start:end]))
        if hits:
            hits, outcome.allowed_by = self._apply_allow(
                hits,
                payer_account=payer_account,
                payee_account=payee_account,
                payer_name=payer_name,
                payee_name=payee_name,
            )
        outcome.hits = hits
        return outcome

    def _apply_allow(self, hits, **values):
        entries = []
        for fld, value in values.items():
            if not value or not self.allow[fld]:
                continue
            key = compact_account(value) if fld.endswith("account") else normalise(value)
            entries.extend(self.allow[fld].get(key, ()))
        if not entries:
            return hits, None
        kept, allowed_by = [], None
        for hit in hits:
            entry = next((e for e in entries if e.rule_id is None or e.rule_id == hit.rule_id), None)
            if entry is None:
                kept.append(hit)
            elif allowed_by is None:
                allowed_by = entry.id
        return kept, allowed_by

    def priority(self, hits) -> int:
        return max((self.rules[h.rule_id].priority for h in hits), default=0)


def substring_matches(screener: Screener, texts: dict[str, str]):
    """The peer of `Screener.raw_matches`: a plain loop of str.find per rule term over the normalised
    text. Same output; the benchmark and the tests check the automaton against it."""
    found = {f: ([], []) for f in FIELDS}
    for rule_id, terms in screener.terms.items():
        fld = screener.rules[rule_id].field
        text = texts[fld]
        for term in terms:
            start = text.find(term)
            while start != -1:
                found[fld][0].append((rule_id, start, start + len(term)))
                start = text.find(term, start + 1)
    for term, rule_id, fld in screener.exclusions:
        text = texts[fld]
        start = text.find(term)
        while start != -1:
            found[fld][1].append((rule_id, start, start + len(term)))
            start = text.find(term, start + 1)
    return found
