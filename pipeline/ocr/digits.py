"""Digits inside Tesseract's tokens, re-read by our glyph model.

Tesseract's Thai model has no ๔ ๖ ๗ ๘ ๙: it reads them as other digits or as letters (๗ → ฒ).
Every token that looks as if it holds digits is cut out of the line image again and read glyph
by glyph; its digit run replaces what Tesseract wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np

from pipeline.ocr.tesseract import OcrLine, OcrToken
from pipeline.thai import ARABIC_DIGITS, THAI_DIGITS, is_month_name, normalize_text, strip_marks

# What Tesseract writes where a number is: digits, the punctuation inside numbers, and its usual
# misreadings of the Thai digits it does not know.
_TESSERACT_NUMERIC = set(THAI_DIGITS + ARABIC_DIGITS + "./,:-ฒฆ")
_GLYPH_NUMERIC = set(THAI_DIGITS + ARABIC_DIGITS + "./,:-")
_TRIGGERS = set(THAI_DIGITS + ARABIC_DIGITS + "ฒฆ")  # ๗ comes out as ฒ or ฆ
_THAI_NUMERIC = set(THAI_DIGITS + "ฒฆ")
REJECT = "?"
DISAGREEMENT_CONFIDENCE = 0.3
LENGTH_DISAGREEMENT_CONFIDENCE = 0.5
MIN_ALTERNATIVE = 0.05  # a second choice this likely is worth taking where the first cannot be
_WORD_SPACE = 0.5  # consonant heights: a wider gap is a space (an abbreviation's dots sit closer)
DIGIT_HEIGHT = 0.7  # consonant heights: a Thai or Arabic digit is at least this tall


@dataclass(frozen=True)
class Reread:
    text: str
    digit_confidence: float  # lowest confidence of the digits we read; 1.0 when there were none


@cache
def _reader() -> Any:
    try:
        from pipeline.ocr import glyphs

        return glyphs.default_reader()
    except (ImportError, FileNotFoundError):  # the model is not trained yet (make train-digits)
        return None


def model_available() -> bool:
    return _reader() is not None


def _binary(crop: np.ndarray) -> np.ndarray:
    import cv2

    _t, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def _runs(chars: list[str], numeric: set[str]) -> list[tuple[bool, list[str]]]:
    """Alternating runs of numeric and other characters."""
    runs: list[tuple[bool, list[str]]] = []
    for c in chars:
        kind = c in numeric or c == "ว"
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(c)
        else:
            runs.append((kind, [c]))
    return runs


def merge(tesseract_text: str, glyph_chars: list[str], *, loose: bool = False) -> str | None:
    """Tesseract's token with its numeric runs replaced by the glyph model's reading, or None
    when the two readings do not line up (the caller keeps Tesseract's text, as unsure).

    `loose`: numeric runs may differ in length by one (Tesseract splits a digit it does not know in
    two, ๗ → ๓ฒ); ours are taken as long as each has its counterpart, no glyph of ours between them
    is unread, and Tesseract's hold Thai digits (its Arabic ones it reads well).

    >>> merge("๐๐๑ฒ.๕/ว", list("๐๐๑๗.๕/ว"))
    '๐๐๑๗.๕/ว'
    >>> merge("พ.ศ.๒๕๒๑", ["?", ".", "?", ".", "๒", "๕", "๖", "๑"])
    'พ.ศ.๒๕๖๑'
    >>> merge("2561", ["2", "5", "?"]) is None
    True
    >>> merge("1", ["ว"]) is None
    True
    >>> merge("009/2060", list("0092060")) is None
    True
    >>> merge("ทุกค๐๕๑๓ฒ.๓๕/ว", list("???๐๔๑๗.๓๔/ว"), loose=True)
    'ทุกค๐๔๑๗.๓๔/ว'
    >>> merge("๐๐๑๕/ส๓๐", list("๐๑๐๔/๙?๐"), loose=True) is None
    True
    >>> merge("๐๐๒๓.๕/)", list("๐๐๒๓.๕??"), loose=True) is None  # the slash is not lost
    True
    """
    if glyph_chars and REJECT not in glyph_chars:
        # ว (a circular's mark) only ever follows the slash of a number; a lone ว where Tesseract saw
        # a digit is our model mistaking a 1 for it.
        if "ว" in glyph_chars and "ว" not in tesseract_text and "/" not in glyph_chars:
            return None
        if _lost_slash(glyph_chars, tesseract_text):
            return None
        return "".join(glyph_chars)
    theirs = _runs(list(tesseract_text), _TESSERACT_NUMERIC)
    ours = _runs(glyph_chars, _GLYPH_NUMERIC)
    their_numeric = [i for i, (kind, _r) in enumerate(theirs) if kind]
    our_numeric = [run for kind, run in ours if kind]
    if not their_numeric:
        return tesseract_text
    if len(their_numeric) != len(our_numeric):
        return None
    if loose and (any(not kind for kind, _run in ours[1:-1]) or not set(tesseract_text) & _THAI_NUMERIC):
        # An unread glyph between our digits (where they end is not known), or Arabic digits, which
        # Tesseract reads well: theirs stand.
        return None
    for index, run in zip(their_numeric, our_numeric, strict=True):
        difference = abs(len(run) - len(theirs[index][1]))  # a digit lost or gained on one side
        if difference > (1 if loose else 0) or (difference and _marks(run) != _marks(theirs[index][1])):
            return None  # (the / and . of a number are never what the two readings disagree on)
        theirs[index] = (True, run)
    return "".join("".join(run) for _kind, run in theirs)


def _lost_slash(glyph_chars: list[str], tesseract_text: str) -> bool:
    """A slash is the one mark Tesseract never invents: where ours lost one it read, it was cut into
    the digits beside it, and those digits are wrong too."""
    return glyph_chars.count("/") < tesseract_text.count("/")


def _marks(run: list[str]) -> list[str]:
    """The punctuation of a numeric run, in order: what gives a number its shape."""
    return [c for c in run if c not in _THAI_NUMERIC and c not in ARABIC_DIGITS]


def token_span(columns: np.ndarray, x0: int, x1: int, gap: int, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
    """The token's true extent: Tesseract's character boxes are approximate and can cut off a digit
    at either end, so widen the box until a blank run as wide as a word space, but never into the
    neighbouring tokens (between `lo` and `hi`)."""
    w = len(columns) if hi is None else min(len(columns), hi)
    left = max(lo, min(x0, w - 1))
    while left > lo and columns[max(lo, left - gap):left].any():
        left -= 1
    right = max(left, min(x1, w))
    while right < w and columns[right:min(w, right + gap)].any():
        right += 1
    return left, right


# Words after which a number always follows (จำนวน ๑ ชุด, ครั้งที่ ๒, เขต ๑).
_BEFORE_NUMBER = frozenset(strip_marks(w) for w in ("จำนวน", "ครั้งที่", "รุ่นที่", "ฉบับที่", "เขต", "ลงวันที่", "วันที่"))


def reread_token(ink: np.ndarray, token: OcrToken, consonant_height: float, pad: int,
                 *, numeric_context: bool = False, bounds: tuple[int, int | None] = (0, None),
                 share: tuple[int, int | None] = (0, None)) -> tuple[str, float]:
    """`numeric_context`: the token stands where a number must be (beside a month name, after
    จำนวน …); Tesseract sometimes reads such digits as letters (๑๖ as ออ, 1 as ว), so they are
    re-read even without a digit.

    The ink is read up to a word space within `bounds`, and the glyphs centred in `share` are the
    token's (see `reread`)."""
    reader = _reader()
    short = len(strip_marks(token.text)) <= 4
    if reader is None or token.box.w == 0 or not (set(token.text) & _TRIGGERS or (numeric_context and short)):
        return token.text, 1.0
    columns: np.ndarray = np.asarray(ink.any(axis=0))
    x0, x1 = token_span(columns, token.box.x, token.box.right, max(2, int(consonant_height * 0.3)), *bounds)
    left = max(0, x0 - pad)
    region = ink[:, left:x1 + pad]  # the full crop height: boxes can miss marks and dots
    glyphs = _zero_halves(reader.read(region, consonant_height), consonant_height)
    hi = share[1] if share[1] is not None else ink.shape[1]
    glyphs = [g for g in glyphs if share[0] <= left + g.box[0] + g.box[2] / 2 < hi]
    if numeric_context:
        glyphs = _digits_where_digits_belong(glyphs, consonant_height)
    glyphs = _slash_where_tesseract_saw_one(glyphs, token.text)
    glyphs = _arabic_where_tesseract_read_arabic(glyphs, token.text)
    chars = [g.char for g in glyphs]
    digit_conf = [g.confidence for g in glyphs if g.char != REJECT]
    confidence = min(digit_conf) if digit_conf else 1.0
    text = merge(token.text, chars)
    if text is None:
        # Where the digits are agrees, how many does not: Tesseract cannot read ๔ ๖ ๗ ๘ ๙ and often
        # makes two of one, so ours are taken — unsure, for the register to confirm or a person.
        text = merge(token.text, chars, loose=True)
        confidence = min(confidence, LENGTH_DISAGREEMENT_CONFIDENCE)
    if text is None:
        text = _by_position(token, glyphs, left, consonant_height)
        confidence = min(confidence, LENGTH_DISAGREEMENT_CONFIDENCE)
    if text is None:  # the two readings disagree on where the digits are: keep Tesseract's, unsure
        return token.text, DISAGREEMENT_CONFIDENCE
    return text, confidence


def _by_position(token: OcrToken, glyphs: list[Any], left: int, consonant_height: float) -> str | None:
    """Our digits and marks, and Tesseract's letters where ours are unread, matched by the columns
    they stand in: where Tesseract glued a month to its year (`ก.พ. ๖๖` read `กพ.'อ๐`), the runs of
    the two readings do not line up, but where their characters stand does. None when an unread
    glyph of ours has no letter of Tesseract's over it, or when ours lost a slash it read."""
    chars = [g.char for g in glyphs]
    if not token.chars or REJECT not in chars or not set(chars) & _TRIGGERS or _lost_slash(chars, token.text):
        return None
    parts: list[str] = []
    previous_right: int | None = None
    for glyph in glyphs:
        x0 = left + glyph.box[0]
        x1 = x0 + glyph.box[2]
        if previous_right is not None and x0 - previous_right > _WORD_SPACE * consonant_height:
            parts.append(" ")
        if glyph.char == REJECT:
            letters = "".join(text for text, c0, c1 in token.chars if x0 <= (c0 + c1) / 2 < x1)
            if not letters or set(letters) & _TRIGGERS:
                return None
            parts.append(letters)
        else:
            parts.append(glyph.char)
        previous_right = x1
    return normalize_text("".join(parts))


def _zero_halves(glyphs: list[Any], consonant_height: float) -> list[Any]:
    """A zero whose thin top and bottom broke in the scan comes apart as "(" and ")": nothing is ever
    printed as an empty pair of brackets, so the pair is the zero of the token's script."""
    thai = sum(g.char in THAI_DIGITS for g in glyphs) > sum(g.char in ARABIC_DIGITS for g in glyphs)
    out: list[Any] = []
    for glyph in glyphs:
        previous = out[-1] if out else None
        if (glyph.char == ")" and previous is not None and previous.char == "("
                and glyph.box[0] - (previous.box[0] + previous.box[2]) < consonant_height * 0.4):
            x0 = previous.box[0]
            box = (x0, min(previous.box[1], glyph.box[1]), glyph.box[0] + glyph.box[2] - x0,
                   max(previous.box[3], glyph.box[3]))
            out[-1] = replace(previous, char="๐" if thai else "0", box=box,
                              confidence=min(previous.confidence, glyph.confidence) * 0.9)
            continue
        out.append(glyph)
    return out


def _digits_where_digits_belong(glyphs: list[Any], consonant_height: float) -> list[Any]:
    """Where a number must stand, a ว that follows no slash is a digit our model took for ว (1 and ว
    look alike), and a glyph as tall as a digit that it took for a letter is a digit unlike its
    training fonts (the loopless ๓ of Noto Sans Thai, a day alone before its month; never a speck
    above the line): the best digit alternative is taken, at that alternative's confidence."""
    out = []
    for i, glyph in enumerate(glyphs):
        after_slash = i > 0 and glyphs[i - 1].char == "/"
        digit_sized = glyph.box[3] >= DIGIT_HEIGHT * consonant_height
        if (glyph.char == "ว" and not after_slash) or (glyph.char == REJECT and digit_sized):
            digit = next(((c, p) for c, p in glyph.alternatives
                          if c in THAI_DIGITS + ARABIC_DIGITS and p >= MIN_ALTERNATIVE), None)
            if digit is not None:
                glyph = replace(glyph, char=digit[0], confidence=digit[1])
        out.append(glyph)
    return out


def _slash_where_tesseract_saw_one(glyphs: list[Any], tesseract_text: str) -> list[Any]:
    """A slash Tesseract read that ours left unread (a piece of the digit before it still on it):
    the one unread glyph whose alternatives hold `/` is that slash, as unsure as a disagreement."""
    if tesseract_text.count("/") != sum(g.char == "/" for g in glyphs) + 1:
        return glyphs
    unread = [i for i, g in enumerate(glyphs) if g.char == REJECT and any(c == "/" for c, _p in g.alternatives)]
    if len(unread) != 1:
        return glyphs
    out = list(glyphs)
    out[unread[0]] = replace(glyphs[unread[0]], char="/", confidence=LENGTH_DISAGREEMENT_CONFIDENCE)
    return out


def _arabic_where_tesseract_read_arabic(glyphs: list[Any], tesseract_text: str) -> list[Any]:
    """A number is printed in one script. Where ours reads a Thai digit among Arabic ones and
    Tesseract, which reads Arabic digits well, read the token as Arabic digits that agree with ours
    everywhere else (`2558` against our `25๖8`: a stamp's frame took the top of the 5), Tesseract's
    digit is taken — as unsure as any disagreement of the two.

    >>> from pipeline.ocr.glyphs import Glyph
    >>> read = [Glyph(c, 1.0, (0, 0, 1, 1), ()) for c in "25๖8"]
    >>> "".join(g.char for g in _arabic_where_tesseract_read_arabic(read, "2558"))
    '2558'
    >>> read = [Glyph(c, 1.0, (0, 0, 1, 1), ()) for c in "๒๕๖8"]  # a Thai number: ours stands
    >>> "".join(g.char for g in _arabic_where_tesseract_read_arabic(read, "2568"))
    '๒๕๖8'
    """
    chars = [g.char for g in glyphs]
    thai = [i for i, c in enumerate(chars) if c in THAI_DIGITS]
    arabic = sum(c in ARABIC_DIGITS for c in chars)
    if not thai or len(thai) >= arabic or len(chars) != len(tesseract_text) \
            or any(tesseract_text[i] not in ARABIC_DIGITS for i in thai) \
            or any(c != t for i, (c, t) in enumerate(zip(chars, tesseract_text, strict=True)) if i not in thai):
        return glyphs
    out = list(glyphs)
    for i in thai:
        out[i] = replace(glyphs[i], char=tesseract_text[i], confidence=DISAGREEMENT_CONFIDENCE)
    return out


def _numeric(token: OcrToken) -> bool:
    return bool(set(token.text) & _TRIGGERS)


Span = tuple[int, int | None]


def _reach(token: OcrToken, before: OcrToken | None, after: OcrToken | None) -> tuple[Span, Span]:
    """Where to look for the token's ink (up to its neighbours' boxes) and which glyphs are its.

    Where Tesseract made two tokens of one number (๒๕๖๖ as ๒๕ and ๖๖), a cut at its boxes would
    halve a digit: the two read into each other and split the glyphs halfway between them.
    """
    lo, hi, share_lo, share_hi = 0, None, 0, None
    if before is not None:
        joined = _numeric(before) and _numeric(token)
        lo = before.box.x if joined else before.box.right + 1
        share_lo = (before.box.right + token.box.x) // 2 if joined else 0
    if after is not None:
        joined = _numeric(after) and _numeric(token)
        hi = after.box.right if joined else after.box.x - 1
        share_hi = (token.box.right + after.box.x) // 2 if joined else None
    return (lo, hi), (share_lo, share_hi)


def reread(crop: np.ndarray, line: OcrLine, consonant_height: float) -> Reread:
    """The line's text with every numeric token re-read from `crop` (the image Tesseract saw)."""
    if not line.tokens:
        return Reread("", 1.0)
    ink = _binary(crop)
    pad = max(2, int(consonant_height * 0.15))
    parts, confidences = [], []
    months = [is_month_name(t.text) for t in line.tokens]
    # A short token alone on its line may be the day of a date, added by hand above month and year.
    alone = len(line.tokens) == 1
    for i, token in enumerate(line.tokens):
        after_label = i > 0 and (months[i - 1] or strip_marks(line.tokens[i - 1].text) in _BEFORE_NUMBER)
        numeric_context = alone or after_label or (i + 1 < len(months) and months[i + 1])
        bounds, share = _reach(token, line.tokens[i - 1] if i else None,
                               line.tokens[i + 1] if i + 1 < len(line.tokens) else None)
        text, conf = reread_token(ink, token, consonant_height, pad, numeric_context=numeric_context,
                                  bounds=bounds, share=share)
        parts.append(text)
        confidences.append(conf)
    return Reread(" ".join(parts), min(confidences))
