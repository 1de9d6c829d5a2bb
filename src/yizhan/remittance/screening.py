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

Three guards on the words themselves, so that precision and recall rise together:
- a short abbreviation on the payee (two characters or fewer once normalised, in an alias pair:
  红会, 疾控) needs an organisational context: a place name before it (三明市红会), an
  organisational suffix after it (红会办公室, 疾控中心), or the end of the name (福建红会); and no
  short payee term counts inside the given name of a payee shaped like a personal name (李红会,
  欧阳红会);
- an exclusion that reads the hit's edge as inside a word (红会计 is 红|会计: its 会 belongs to
  会计) drops the hit only where the text's words (jieba, dictionary only) read it so too: in
  李红会计师事务所 they do (李|红|会计师), in 三明市红会计划财务科 they do not (…会|计划…), so 红会
  stands there; an exclusion that extends the keyword (红十字|路) applies wherever it occurs;
- a Latin keyword (Red Cross) matches whole words only (not SHREDCROSS).
Each kept hit records the term that matched (the keyword or its alias), the context that let a
short one through, and any exclusion considered and not applied; dropped candidates are
returned with their reason, for the explanations and the tests.
"""

import logging
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
    term: str = ""  # the normalised term that matched: the rule's keyword or an alias variant of it
    context: str = ""  # for a short payee term: "place", "suffix" or "end" (see CONTEXTS)
    exclusion: str = ""  # an exclusion found around the hit and not applied (it would cut a word)


@dataclass(frozen=True)
class Dropped:
    """A keyword found and not counted, and why (see DROP_REASONS)."""

    rule_id: int
    field: str
    start: int
    end: int
    text: str
    reason: str
    exclusion: str = ""


@dataclass
class Outcome:
    hits: list[Hit] = field(default_factory=list)
    allowed_by: int | None = None  # the allow-list entry that suppressed hits, if any
    dropped: list[Dropped] = field(default_factory=list)


# ---------------------------------------------------------------- the word guards

SHORT_TERM = 2  # payee terms this short (normalised) are abbreviations that need a context
# A place name ends in one of these (三明市, 宁化县, 福建省, 沙坪坝区, 安砂镇 …).
PLACE_SUFFIXES = frozenset("省市县区州盟旗镇乡村")
# What follows an organisation's short name inside a payee name.
ORG_SUFFIXES = (
    "中心",
    "办公室",
    "机关",
    "分会",
    "总会",
    "支会",
    "专户",
    "账户",
    "工会",
    "秘书处",
    "办事处",
    "财务",
    "计划财务",
    "捐赠",
    "捐款",
    "救助",
)
# Common single and compound surnames: a 2–3 character payee starting with one is a person.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕"
    "丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃"
    "武莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
    ]
)
CONTEXTS = ("place", "suffix", "end")
DROP_REASONS = ("exclusion", "personal_name", "no_context", "latin_word")


def looks_like_a_person(norm: str) -> bool:
    """李红会, 欧阳红会: a surname and a one- or two-character given name, nothing else."""
    if not norm or not all("\u4e00" <= ch <= "\u9fff" for ch in norm):
        return False
    if norm[:2] in COMPOUND_SURNAMES and 3 <= len(norm) <= 4:
        return True
    return norm[0] in SURNAMES and 2 <= len(norm) <= 3


def short_term_context(norm: str, start: int, end: int) -> str:
    """Why a short term at norm[start:end] is an organisation here ("" if it is not)."""
    if start > 0 and norm[start - 1] in PLACE_SUFFIXES:
        return "place"
    if norm.startswith(ORG_SUFFIXES, end):
        return "suffix"
    if end == len(norm):
        return "end"
    return ""


@lru_cache(maxsize=1)
def _segmenter():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=4096)
def word_boundaries(text: str) -> frozenset[int]:
    """Offsets between the words of `text` (jieba's dictionary only: deterministic, no guessing)."""
    offsets, pos = {0}, 0
    for word in _segmenter().cut(text, HMM=False):
        pos += len(word)
        offsets.add(pos)
    return frozenset(offsets)


def exclusion_cuts_a_word(norm: str, xs: int, xe: int, start: int, end: int) -> bool:
    """True when the exclusion norm[xs:xe] reads an edge of the hit norm[start:end] as inside a word
    (红|会计 around 红会) while the text's words have a boundary there (三明市红会|计划): applying it
    would swallow a hit that the text does not make part of the excluded word."""
    own = word_boundaries(norm[xs:xe])
    for edge in (start, end):
        if xs < edge < xe and (edge - xs) not in own and edge in word_boundaries(norm):
            return True
    return False


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def latin_word_bounded(original: str, start: int, end: int) -> bool:
    """A Latin term's span in the original text is not glued to other Latin letters or digits."""
    if start > 0 and _is_latin(FOLD[ord(original[start - 1])][-1:]):
        return False
    return not (end < len(original) and _is_latin(FOLD[ord(original[end])][:1]))


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
        # Short spellings of a longer name (红会 for 红十字会, 疾控): they need an organisational context.
        self.abbreviations = {m for members in classes for m in members if len(m) <= SHORT_TERM}
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
            if not matches:
                continue
            original = originals[fld]
            norm, positions = normalise_with_map(original)
            person = fld == "payee_name" and looks_like_a_person(norm)
            candidates = []
            for rule_id, s, e in matches:
                start, end = positions[s], positions[e - 1] + 1
                reason, context, considered = self._guard(
                    fld, norm, original, positions, person, rule_id, s, e, excl
                )
                if reason:
                    outcome.dropped.append(
                        Dropped(rule_id, fld, start, end, original[start:end], reason, considered)
                    )
                else:
                    candidates.append((rule_id, s, e, context, considered))
            kept = {(r, s, e) for r, s, e in resolve([(r, s, e) for r, s, e, _c, _x in candidates], [])}
            for rule_id, s, e, context, considered in sorted(candidates, key=lambda c: (c[1], c[0])):
                if (rule_id, s, e) in kept:
                    kept.discard((rule_id, s, e))
                    start, end = positions[s], positions[e - 1] + 1
                    hits.append(
                        Hit(rule_id, fld, start, end, original[start:end], norm[s:e], context, considered)
                    )
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

    def _guard(self, fld, norm, original, positions, person, rule_id, s, e, excl):
        """(reason to drop or "", the context of a short term, an exclusion considered and not applied)."""
        term = norm[s:e]
        considered = ""
        for xr, xs, xe in excl:
            if (xr is None or xr == rule_id) and xs <= s and e <= xe:
                if exclusion_cuts_a_word(norm, xs, xe, s, e):
                    considered = norm[xs:xe]
                else:
                    return "exclusion", "", norm[xs:xe]
        latin = _is_latin(term[:1]) or _is_latin(term[-1:])
        if latin and not latin_word_bounded(original, positions[s], positions[e - 1] + 1):
            return "latin_word", "", considered
        context = ""
        if fld == "payee_name" and len(term) <= SHORT_TERM:
            if person and s > 0:  # inside the given name
                return "personal_name", "", considered
            if term in self.abbreviations:
                context = short_term_context(norm, s, e)
                if not context:
                    return "no_context", "", considered
        return "", context, considered

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
