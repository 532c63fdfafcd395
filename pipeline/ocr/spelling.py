"""Restore the marks Tesseract drops from Thai words, with a lexicon and word frequencies.

Tesseract's Thai model often loses a tone mark, thanthakhat or upper vowel (`สิงที่` for
`สิ่งที่`, `ศูนย` for `ศูนย์`, `ยังยืน` for `ยั่งยืน`), and sometimes adds or swaps one. The
letters themselves are read far more reliably than their marks. So each Thai run is segmented
into dictionary words on its mark-free skeleton, and each word is chosen by a noisy channel:
how common the word is (Thai National Corpus frequencies, bundled with pythainlp) against how
many marks OCR would have had to drop, add or change to print what we read. A run that no
dictionary covers is left as read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from pipeline.thai import LOOK_ALIKE_LETTERS, fold_confusables

_MARKS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
_MARK_SET = frozenset(_MARKS)
_THAI_RUN = re.compile("[\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e4e]+")

# Costs in log10 units (−log10 probability). Dropping a mark is what Tesseract does most.
DROP = 1.3
ADD = 2.3
UNKNOWN_CHAR = 4.0  # a base letter no dictionary word explains (more than ที่ read as ท)
CORPUS_LOG10 = 7.3  # log10 of the corpus size: a word's cost is CORPUS_LOG10 − log10(count)
FLOOR_FREQUENCY = 0.5  # log10 count of words in the lexicon without a count
DOMAIN_LOG_FREQUENCY = 4.0  # directory names are as likely in a header as common words
LETTER_EDIT = 3.5  # a letter dropped, added or misread (not just a mark)
EDIT_MIN_LETTERS = 5  # only long words are corrected letter-wise: short ones have too many neighbours
EDIT_MIN_LOG_FREQUENCY = 1.5  # and only towards words common enough to be likely
# A word read with letters OCR confuses swapped (มาตรการ read บาตรการ, `thai.LOOK_ALIKE_LETTERS`)
# costs this much per swap, where what was read is no word.
CONFUSABLE = 2.0
CONFUSABLE_MIN_LETTERS = 4  # short runs are codes and abbreviations more often than words
_CONFUSABLE_SET = frozenset("".join(LOOK_ALIKE_LETTERS))


def _skeleton(text: str) -> str:
    """Base letters only (ำ counts as า: OCR writes it as ํา, and ํ is a mark)."""
    return "".join("\u0e32" if c == "\u0e33" else c for c in text if c not in _MARK_SET)


@dataclass(frozen=True)
class Lexicon:
    by_skeleton: dict[str, list[tuple[str, float]]]  # skeleton → [(word, log10 frequency)]
    max_length: int
    # A skeleton with one letter deleted → the common skeletons it comes from (long words only):
    # finds words OCR misread by one letter (ติตตาม → ติดตาม, ปบัติ → ปฏิบัติ).
    near: dict[str, list[str]] = field(default_factory=dict)
    # A skeleton with confusable letters folded (ซ → ช …) → the common skeletons that fold to it.
    confusable: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, words: Iterable[tuple[str, float]]) -> Lexicon:
        table: dict[str, dict[str, float]] = {}
        longest = 1
        for word, log_freq in words:
            skeleton = _skeleton(word)
            if not skeleton:
                continue
            entry = table.setdefault(skeleton, {})
            entry[word] = max(entry.get(word, -math.inf), log_freq)
            longest = max(longest, len(skeleton))
        near: dict[str, list[str]] = {}
        confusable: dict[str, list[str]] = {}
        for skeleton, entry in table.items():
            common = max(entry.values()) >= EDIT_MIN_LOG_FREQUENCY
            if len(skeleton) >= EDIT_MIN_LETTERS and common:
                for i in range(len(skeleton)):
                    near.setdefault(skeleton[:i] + skeleton[i + 1:], []).append(skeleton)
            if len(skeleton) >= CONFUSABLE_MIN_LETTERS and common and not _CONFUSABLE_SET.isdisjoint(skeleton):
                confusable.setdefault(fold_confusables(skeleton), []).append(skeleton)
        return cls({k: sorted(v.items(), key=lambda kv: -kv[1]) for k, v in table.items()}, longest, near, confusable)

    def confusable_with(self, skeleton: str) -> list[str]:
        """Known skeletons that differ from `skeleton` only in letters OCR confuses."""
        if len(skeleton) < CONFUSABLE_MIN_LETTERS:
            return []
        return [s for s in self.confusable.get(fold_confusables(skeleton), ()) if s != skeleton]

    def one_letter_off(self, skeleton: str) -> set[str]:
        """Known skeletons one letter away (a letter dropped, added or changed by OCR)."""
        if len(skeleton) < EDIT_MIN_LETTERS - 1:
            return set()
        found = set(self.near.get(skeleton, ()))  # OCR dropped a letter
        for i in range(len(skeleton)):
            shorter = skeleton[:i] + skeleton[i + 1:]
            if len(shorter) >= EDIT_MIN_LETTERS and shorter in self.by_skeleton:
                found.add(shorter)  # OCR added a letter
            found.update(s for s in self.near.get(shorter, ()) if len(s) == len(skeleton))  # changed one
        found.discard(skeleton)
        return found


@cache
def _agency_codes() -> frozenset[str]:
    from pipeline.extract.number import KNOWN_CODES

    return KNOWN_CODES


def _corpus_file(name: str) -> Path:
    import pythainlp.corpus

    return Path(pythainlp.corpus.__file__).with_name(name)


@cache
def default_lexicon(extra: tuple[str, ...] = ()) -> Lexicon:
    """pythainlp's word list with TNC frequencies, plus `extra` domain words (unit names…)."""
    from pythainlp.corpus import thai_words

    counts: dict[str, float] = {}
    for line in _corpus_file("tnc_freq.txt").read_text("utf-8").splitlines():
        word, _tab, count = line.partition("\t")
        if word and count.isdigit():
            counts[word] = max(counts.get(word, 0.0), float(count))
    words = [(w, math.log10(counts[w]) if counts.get(w) else FLOOR_FREQUENCY) for w in thai_words()]
    words += [(w, math.log10(c)) for w, c in counts.items() if c >= 20 and _THAI_RUN.fullmatch(w)]
    for phrase in extra:  # names: whole, and each space-separated part
        words += [(part, DOMAIN_LOG_FREQUENCY) for part in {phrase.replace(" ", ""), *phrase.split()} if part]
    return Lexicon.build(words)


def _marks_by_letter(text: str) -> list[tuple[str, str]]:
    """[(base letter, its marks)] — the marks that follow each base letter."""
    out: list[tuple[str, str]] = []
    for c in text:
        if c in _MARK_SET and out:
            base, marks = out[-1]
            out[-1] = (base, marks + c)
        elif c == "\u0e33":  # sara am = nikhahit mark + sara aa
            if out:
                base, marks = out[-1]
                out[-1] = (base, marks + "\u0e4d")
            out.append(("\u0e32", ""))
        elif c not in _MARK_SET:
            out.append((c, ""))
    return out


def channel_cost(read: str, word: str) -> float:
    """What it costs to have read `read` when `word` was printed (same letters, marks may differ)."""
    cost = 0.0
    for (_b1, got), (_b2, want) in zip(_marks_by_letter(read), _marks_by_letter(word), strict=False):
        if got == want:
            continue
        missing = sum(1 for m in want if m not in got)
        extra = sum(1 for m in got if m not in want)
        cost += missing * DROP + extra * ADD
    return cost


def correct_run(run: str, lexicon: Lexicon, *, letter_edits: bool = False) -> str:
    """The most likely printed text for one Thai run (no spaces, no digits).

    `letter_edits`: also consider words one letter away. Only for text OCR itself was unsure of:
    proper names the lexicon lacks would otherwise be "corrected" into common words.
    """
    letters = _marks_by_letter(run)
    n = len(letters)
    if n == 0:
        return run
    skeleton = "".join(b for b, _m in letters)
    # Text of letters i..j as read (with their marks).
    read_parts = [b + m for b, m in letters]
    best = [math.inf] * (n + 1)
    back: list[tuple[int, str]] = [(0, "")] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] == math.inf:
            continue
        # An unexplained letter costs a lot, but lets a word the lexicon lacks pass through as read.
        if best[i] + UNKNOWN_CHAR < best[i + 1]:
            best[i + 1] = best[i] + UNKNOWN_CHAR
            back[i + 1] = (i, read_parts[i])
        for j in range(i + 1, min(n, i + lexicon.max_length) + 1):
            span = skeleton[i:j]
            read = "".join(read_parts[i:j])
            known = lexicon.by_skeleton.get(span)
            for word, log_freq in (known or [])[:8]:
                score = best[i] + (CORPUS_LOG10 - log_freq) + channel_cost(read, word)
                if score < best[j]:
                    best[j] = score
                    back[j] = (i, word)
            for other in lexicon.confusable_with(span) if not known else ():
                swaps = sum(a != b for a, b in zip(span, other, strict=True))
                for word, log_freq in lexicon.by_skeleton[other][:3]:
                    score = best[i] + (CORPUS_LOG10 - log_freq) + swaps * CONFUSABLE + channel_cost(read, word)
                    if score < best[j]:
                        best[j] = score
                        back[j] = (i, word)
            for other in lexicon.one_letter_off(span) if letter_edits and j - i >= EDIT_MIN_LETTERS - 1 else ():
                for word, log_freq in lexicon.by_skeleton[other][:3]:
                    edit = LETTER_EDIT + DROP * max(0, Levenshtein.distance(read, word) - 1) * 0.5
                    score = best[i] + (CORPUS_LOG10 - log_freq) + edit
                    if score < best[j]:
                        best[j] = score
                        back[j] = (i, word)
    pieces: list[str] = []
    j = n
    while j > 0:
        i, text = back[j]
        pieces.append(text)
        j = i
    return "".join(reversed(pieces))


def _is_word(text: str, lexicon: Lexicon) -> bool:
    return any(word == text for word, _f in lexicon.by_skeleton.get(_skeleton(text), ()))


def correct(text: str, lexicon: Lexicon | None = None, *, letter_edits: bool = False) -> str:
    """`text` with each Thai run replaced by its most likely printed form; the rest untouched.

    >>> correct("สิงที่ส่งมาด้วย")
    'สิ่งที่ส่งมาด้วย'
    >>> correct("การพัฒนาที ยังยืน 2567")
    'การพัฒนาที่ ยั่งยืน 2567'
    >>> correct("(ก.บ.จ.) ๑๙ พ.ย.")
    '(ก.บ.จ.) ๑๙ พ.ย.'
    >>> correct("ลำปาง(ปป.ช.)")
    'ลำปาง (ปป.ช.)'
    >>> correct("ลป่ วิธี ชั้น ปีที่")
    'ลป วิธี ชั้น ปีที่'
    >>> correct("ชักช้อมแนวทาง ชักชวน ซักถาม")
    'ซักซ้อมแนวทาง ชักชวน ซักถาม'
    >>> correct("รุ่นท ๕ ครั้งท 10")
    'รุ่นที่ ๕ ครั้งที่ 10'
    >>> correct("ของทางราชการพ.ศ. ๒๕๕๘"), correct("พ.ุศ. ๒๕๕๘")
    ('ของทางราชการ พ.ศ. ๒๕๕๘', 'พ.ศ. ๒๕๕๘')
    """
    lexicon = lexicon or default_lexicon()

    def repl(match: re.Match[str]) -> str:
        start, end = match.span()
        run = match.group(0)
        # ลป, มท … before a number are codes, printed without marks (OCR may add a stray one); but
        # วิธี, ชั้น, นั้น, ปีที่ are words whose letters happen to spell a code (วธ, ชน, นน, ปท).
        if _skeleton(run) in _agency_codes() and sum(c in _MARK_SET for c in run) <= 1 and not _is_word(run, lexicon):
            return _skeleton(run)
        # Abbreviations (ก.บ.จ., พ.ศ., มี.ค.) are letters between dots, not words: leave them.
        if (end < len(text) and text[end] == ".") or (start > 0 and text[start - 1] == "."):
            return match.group(0)
        return correct_run(run, lexicon, letter_edits=letter_edits)

    text = _ERA_MARKS.sub(r"\1.ศ.", text)  # an era has no marks: พ.ุศ. is พ.ศ.
    # Thai sets a space before an opening parenthesis and before the era (พ.ศ., ค.ศ.); OCR often loses it.
    return _ERA.sub(r"\1 \2", re.sub(r"([ก-๙])\(", r"\1 (", _THAI_RUN.sub(repl, text)))


_ERA = re.compile(r"([ก-ฮ][\u0e30-\u0e4e]*)((?:พ|ค)\.ศ\.)")
_ERA_MARKS = re.compile(r"([พค])[\u0e31-\u0e4e]*\.[\u0e31-\u0e4e]*ศ[\u0e31-\u0e4e]*\.")
