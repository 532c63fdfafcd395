"""Addressee → units, pure: given a directory.

`เรียน` names positions (นายอำเภอเกาะคา), units, and groups (นายอำเภอทุกอำเภอ), often several
joined ("… และ …"). The text is covered with phrases of the directory (positions, unit names,
aliases, group names) by fuzzy matching on a mark-insensitive form, so OCR noise (a dropped tone
mark, ํา for ำ, a confused consonant) still resolves. Anything left unresolved, or matching two
things equally well, sends the letter to review with the candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from pipeline.thai import normalize_text, strip_marks, to_arabic_digits

# Fuzzy acceptance, tuned on the samples and bench/accuracy.py (docs/benchmarks.md).
MATCH_THRESHOLD = 86.0
CONFIRMING_SCORE = 92.0
AMBIGUITY_MARGIN = 3.0


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    head: str = ""
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass
class Directory:
    units: dict[str, Unit]
    groups: dict[str, Group]
    _phrases: list[tuple[str, str, str]] = field(default_factory=list, repr=False)  # (key, kind, id)

    def __post_init__(self) -> None:
        phrases: dict[str, tuple[str, str]] = {}
        for unit in self.units.values():
            for text in (unit.head, unit.name, *unit.aliases):
                if text:
                    phrases.setdefault(_key(text), ("unit", unit.id))
        for group in self.groups.values():
            for text in (group.name, *group.aliases):
                if text:
                    phrases[_key(text)] = ("group", group.id)  # a group name wins over a look-alike unit
        self._phrases = sorted(((k, kind, i) for k, (kind, i) in phrases.items()), key=lambda p: -len(p[0]))

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Every name the directory knows (units, positions, aliases, groups), for the OCR repair."""
        names = {t for u in self.units.values() for t in (u.name, u.head, *u.aliases) if t}
        names |= {t for g in self.groups.values() for t in (g.name, *g.aliases) if t}
        return tuple(sorted(names))

    def members(self, group_id: str) -> set[str]:
        return {u.id for u in self.units.values() if group_id in u.groups}

    @property
    def phrases(self) -> list[tuple[str, str, str]]:
        return self._phrases


@dataclass
class Resolution:
    units: set[str] = field(default_factory=set)
    matched: list[tuple[str, str, str]] = field(default_factory=list)  # (text part, kind, id)
    unresolved: list[str] = field(default_factory=list)
    ambiguous: list[tuple[str, list[str]]] = field(default_factory=list)  # (part, candidate unit/group ids)
    weakest: float = 100.0  # the lowest match score among the phrases taken

    @property
    def complete(self) -> bool:
        return bool(self.units) and not self.unresolved and not self.ambiguous

    @property
    def confirms_addressee(self) -> bool:
        """Every part of the addressee named something in the directory, closely: the text is
        then as good as confirmed, whatever OCR's own confidence in it."""
        return self.complete and self.weakest >= CONFIRMING_SCORE


def _key(text: str) -> str:
    """Mark-insensitive, space-free form used for matching."""
    return strip_marks(normalize_text(text)).replace(" ", "").replace(".", "")


JOINER = "และ"
FILLERS = frozenset(_key(w) for w in ("และ", "กับ", "ทุกท่าน", "ตามบัญชีแจ้งท้าย", "ตามรายชื่อแนบท้าย",
                                      "ตามบัญชีรายชื่อแนบท้าย", "ตามรายชื่อแจ้งท้าย", "ตามบัญชีแนบท้าย"))
_JOINER_KEY = _key(JOINER)
MAX_SPAN = 8  # pieces one phrase may run over
SPAN_COST = 1.0  # per matched phrase: prefer one long phrase to two short ones


def resolve(addressee: str | None, directory: Directory, *, distribution: list[str] | None = None) -> Resolution:
    """The units a letter is addressed to. `distribution`: unit names from a แจ้งท้าย page."""
    result = Resolution()
    if distribution:
        # With a distribution list, `เรียน` is generic ("หัวหน้าส่วนราชการ ตามบัญชีแจ้งท้าย"): the list decides.
        for name in distribution:
            _resolve_span(_key(name), directory, result, record_failure=True)
    elif addressee:
        _resolve_text(normalize_text(addressee), directory, result)
    return result


def _pieces(text: str) -> list[str]:
    """Words split at spaces and at `และ`, which may have lost its space (`…อำเภอและหัวหน้า…`)."""
    out: list[str] = []
    for word in text.split():
        parts = word.split(JOINER)
        for i, part in enumerate(parts):
            if i:
                out.append(JOINER)
            if part:
                out.append(part)
    return out


@dataclass(frozen=True)
class _Match:
    score: float
    targets: tuple[tuple[str, str], ...]  # (kind, id) of the phrases within the ambiguity margin
    phrase: str


def _best(key: str, directory: Directory) -> _Match | None:
    choices = [p[0] for p in directory.phrases]
    found = process.extract(key, choices, scorer=fuzz.ratio, limit=8)
    if not found:
        return None
    top = found[0][1]
    close = [(text, index) for text, score, index in found if top - score < AMBIGUITY_MARGIN]
    # Units that differ by a number only (เขต ๑, เขต ๓): the number read decides, when one has it.
    numbers = _numbers(key)
    if numbers and any(_numbers(text) == numbers for text, _i in close):
        close = [(text, index) for text, index in close if _numbers(text) == numbers]
    tied: list[tuple[str, str]] = []
    for _text, index in close:
        _phrase, kind, ident = directory.phrases[index]
        if (kind, ident) not in tied:
            tied.append((kind, ident))
    return _Match(top, tuple(tied), found[0][0])


def _numbers(key: str) -> list[str]:
    return re.findall(r"\d+", to_arabic_digits(key))


def _resolve_text(text: str, directory: Directory, result: Resolution) -> None:
    """Cover the addressee with phrases of the directory at the least cost (dynamic programming).

    A span of pieces costs little when it matches a phrase closely, a lot when it matches nothing;
    joiners and fillers cost nothing. Exact and noisy phrases are treated alike.
    """
    pieces = _pieces(text)
    keys = [_key(p) for p in pieces]
    n = len(pieces)
    best = [float("inf")] * (n + 1)
    back: list[tuple[int, _Match | None]] = [(0, None)] * (n + 1)
    best[0] = 0.0
    cache: dict[tuple[int, int], _Match | None] = {}
    for i in range(n):
        if best[i] == float("inf"):
            continue
        if keys[i] in FILLERS or not keys[i]:
            if best[i] < best[i + 1]:
                best[i + 1], back[i + 1] = best[i], (i, None)
            continue
        for j in range(i + 1, min(n, i + MAX_SPAN) + 1):
            span = "".join(keys[i:j])
            if (i, j) not in cache:
                cache[(i, j)] = _best(span, directory)
            match = cache[(i, j)]
            if match is not None and _JOINER_KEY in keys[i + 1:j - 1] and _JOINER_KEY not in match.phrase:
                match = None  # `A และ B` is two addressees unless the name itself holds และ
            if match is not None and match.score >= MATCH_THRESHOLD:
                cost = SPAN_COST + len(span) * (100 - match.score) / 100
            else:
                cost = SPAN_COST + len(span)  # nothing known: every letter counts against it
            if best[i] + cost < best[j]:
                best[j], back[j] = best[i] + cost, (i, match if match and match.score >= MATCH_THRESHOLD else None)
    spans: list[tuple[int, int, _Match | None]] = []
    j = n
    while j > 0:
        i, match = back[j]
        spans.append((i, j, match))
        j = i
    for i, j, match in reversed(spans):
        span_key = "".join(keys[i:j])
        if not span_key or span_key in FILLERS:
            continue
        part = " ".join(pieces[i:j])
        if match is None:
            if len(span_key) >= 3:
                result.unresolved.append(part)
            continue
        if len(match.targets) > 1:
            result.ambiguous.append((part, sorted(ident for _kind, ident in match.targets)))
            continue
        kind, ident = match.targets[0]
        _take(result, directory, part, kind, ident)
        result.weakest = min(result.weakest, match.score)


def _resolve_span(key: str, directory: Directory, result: Resolution, *, record_failure: bool) -> None:
    match = _best(key, directory)
    if match is None or match.score < MATCH_THRESHOLD:
        if record_failure:
            result.unresolved.append(key)
        return
    if len(match.targets) > 1:
        result.ambiguous.append((key, sorted(ident for _kind, ident in match.targets)))
        return
    kind, ident = match.targets[0]
    _take(result, directory, key, kind, ident)
    result.weakest = min(result.weakest, match.score)


def _take(result: Resolution, directory: Directory, text: str, kind: str, ident: str) -> None:
    result.matched.append((text, kind, ident))
    if kind == "group":
        result.units |= directory.members(ident)
    else:
        result.units.add(ident)
