"""Addressee → units, pure: given a directory.

`เรียน` names positions (นายอำเภอเกาะคา), units, and groups (นายอำเภอทุกอำเภอ), often several
joined ("… และ …"). Known phrases are found in the text mark-insensitively, longest first;
what is left is matched fuzzily, so OCR noise (a dropped tone mark, ํา for ำ, a confused
consonant) still resolves. Anything left unresolved, or matching two things equally, sends the
letter to review with the candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from pipeline.thai import normalize_text, strip_marks

# Fuzzy acceptance, tuned on the samples and bench/accuracy.py (docs/benchmarks.md).
MATCH_THRESHOLD = 86.0
AMBIGUITY_MARGIN = 3.0
# Words that join or decorate addressees and name nothing.
_FILLER = re.compile(r"^(และ|กับ|ทุกท่าน|ท่าน|ตาม|บัญชี|แจ้งท้าย|รายชื่อ|แนบท้าย|ทุกแห่ง|[,()\s])+$")
_FILLER_WORDS = ("ตามบัญชีแจ้งท้าย", "ตามรายชื่อแนบท้าย", "ตามบัญชีรายชื่อแนบท้าย", "ตามรายชื่อแจ้งท้าย")


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

    @property
    def complete(self) -> bool:
        return bool(self.units) and not self.unresolved and not self.ambiguous


def _key(text: str) -> str:
    """Mark-insensitive, space-free form used for matching."""
    return strip_marks(normalize_text(text)).replace(" ", "").replace(".", "")


def resolve(addressee: str | None, directory: Directory, *, distribution: list[str] | None = None) -> Resolution:
    """The units a letter is addressed to. `distribution`: unit names from a แจ้งท้าย page."""
    result = Resolution()
    if addressee:
        _resolve_text(normalize_text(addressee), directory, result)
    for name in distribution or []:
        _resolve_part(name, directory, result, whole_only=True)
    return result


def _resolve_text(text: str, directory: Directory, result: Resolution) -> None:
    for filler in _FILLER_WORDS:
        text = text.replace(filler, " ")
    key = _key(text)
    # Map positions in `key` back to words: mark the spans known phrases cover.
    covered = [False] * len(key)
    for phrase, kind, ident in directory.phrases:
        start = key.find(phrase)
        while start >= 0:
            if not any(covered[start:start + len(phrase)]):
                for i in range(start, start + len(phrase)):
                    covered[i] = True
                _take(result, directory, phrase, kind, ident)
            start = key.find(phrase, start + 1)
    leftover = "".join(" " if c else ch for ch, c in zip(key, covered, strict=True))
    for part in leftover.split():
        part = re.sub(r"^(และ|กบ)+|(และ|กบ)+$", "", part)  # joiners, mark-stripped
        if len(part) < 3 or _FILLER.match(part) or part in ("ทกทาน", "ทาน"):
            continue
        _resolve_part(part, directory, result, keyed=True)


def _resolve_part(part: str, directory: Directory, result: Resolution, *, keyed: bool = False,
                  whole_only: bool = False) -> None:
    key = part if keyed else _key(part)
    choices = [p[0] for p in directory.phrases]
    best = process.extract(key, choices, scorer=fuzz.ratio, limit=4)
    if not best or best[0][1] < MATCH_THRESHOLD:
        result.unresolved.append(part)
        return
    top_score = best[0][1]
    tied = [directory.phrases[i] for _t, score, i in best if top_score - score < AMBIGUITY_MARGIN]
    targets = {(kind, ident) for _k, kind, ident in tied}
    if len(targets) > 1:
        result.ambiguous.append((part, sorted(ident for _kind, ident in targets)))
        return
    phrase, kind, ident = tied[0]
    _take(result, directory, part, kind, ident)


def _take(result: Resolution, directory: Directory, text: str, kind: str, ident: str) -> None:
    result.matched.append((text, kind, ident))
    if kind == "group":
        result.units |= directory.members(ident)
    else:
        result.units.add(ident)
