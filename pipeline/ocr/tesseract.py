"""The only module that runs Tesseract.

Text lines are cut from the page, stacked into one image and read in a single Tesseract run
(`--psm 6`, Thai): one process start per letter instead of one per line. Tesseract writes the
text (its own word spacing, which is right for Thai) and a TSV with a box per character; the
two are aligned so each space-separated token gets its box and confidence on the page.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import OcrEngineError
from pipeline.models import Box
from pipeline.ocr.spelling import Lexicon, correct
from pipeline.thai import is_month_name, normalize_text

LANG = "tha"
UNSURE = 0.85  # a token read with less confidence may have a wrong letter, not only a wrong mark
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class OcrToken:
    """A space-delimited word as Tesseract read it, where it is on the page, and its confidence (0..1)."""

    text: str
    box: Box
    confidence: float
    # Tesseract's characters as it read them (not normalised) and their columns [x0, x1) in the crop
    chars: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class OcrLine:
    tokens: list[OcrToken]

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)

    @property
    def confidence(self) -> float:
        return min((t.confidence for t in self.tokens), default=0.0)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    # Two OpenMP threads on two cores are slower than one; letters run in parallel instead.
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def run_tesseract(image: np.ndarray, *, lang: str = LANG, psm: int = 6) -> tuple[str, str]:
    """(text, tsv) of one image. Raises `OcrEngineError` if Tesseract is missing or fails."""
    with tempfile.TemporaryDirectory(prefix="saraban-ocr-") as tmp:
        src = Path(tmp) / "in.png"
        cv2.imwrite(str(src), image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        base = Path(tmp) / "out"
        cmd = ["tesseract", str(src), str(base), "-l", lang, "--psm", str(psm),
               "-c", "tessedit_create_tsv=1", "-c", "tessedit_create_txt=1"]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, env=_environment(), check=False)
        except FileNotFoundError as exc:
            raise OcrEngineError("tesseract not found on PATH", reason="ไม่พบโปรแกรม Tesseract กรุณาติดตั้งตามคู่มือ") from exc
        except subprocess.TimeoutExpired as exc:
            raise OcrEngineError(f"tesseract timed out after {TIMEOUT_SECONDS}s") from exc
        if proc.returncode != 0:
            raise OcrEngineError(proc.stderr.decode("utf-8", "replace").strip()[-500:])
        return (base.with_suffix(".txt").read_text("utf-8"), base.with_suffix(".tsv").read_text("utf-8"))


@dataclass(frozen=True)
class _Char:
    text: str
    x: int
    y: int
    w: int
    h: int
    conf: float


def _parse_tsv(tsv: str) -> list[list[_Char]]:
    """Characters (Tesseract's Thai "words") grouped by output line, in reading order."""
    lines: dict[tuple[int, int, int], list[_Char]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        lines.setdefault(key, []).append(
            _Char(cols[11], int(cols[6]), int(cols[7]), int(cols[8]), int(cols[9]), max(0.0, float(cols[10])) / 100)
        )
    return [lines[k] for k in sorted(lines)]


def _align(text_line: str, chars: list[_Char]) -> list[tuple[str, list[_Char]]]:
    """Split a text line at its spaces and give each token the TSV characters it is made of."""
    tokens: list[tuple[str, list[_Char]]] = []
    stream = "".join(c.text for c in chars)
    owner: list[int] = []
    for index, c in enumerate(chars):
        owner.extend([index] * len(c.text))
    pos = 0
    for word in text_line.split():
        start = stream.find(word, pos)
        if start < 0:
            tokens.append((word, []))
            continue
        end = start + len(word)
        members = sorted({owner[i] for i in range(start, end)})
        tokens.append((word, [chars[i] for i in members]))
        pos = end
    return tokens


_THAI_LETTER = re.compile("[ก-ฮ]")
_LATIN = re.compile("[A-Za-z0-9]")
_LATIN_LETTERS = re.compile("[A-Za-z]")
_LATIN_WORD = re.compile(r"^[(\[]?[A-Za-z][A-Za-z0-9-]*[)\]]?[:.,;]?$")
_STRANGE = re.compile("[^ก-๙A-Za-z0-9\\s.,/()\\-:]")


def _looks_garbled(token: OcrToken) -> bool:
    """A Latin word read by the Thai model comes out as Thai letters mixed with digits and symbols."""
    text = token.text
    if token.box.w == 0 or len(text) < 3:
        return False
    mixed = bool(_THAI_LETTER.search(text)) and bool(_LATIN.search(text))
    return token.confidence < 0.7 and (mixed or bool(_STRANGE.search(text)))


def _digits_follow(text: str) -> bool:
    """After `…/`, `…/ว` (a letter number's serial) or a month (the year) stand digits, which the
    Thai model garbles: never a Latin word."""
    return text.endswith("/") or text.endswith("/ว") or is_month_name(text)


def _latin_second_opinion(crops: list[np.ndarray], lines: list[list[OcrToken]]) -> None:
    """Re-read garbled tokens with the English model in one more run; keep what reads better.

    Thai letters quote Latin names (e-Document, eMENSCR): running `tha+eng` on every line costs
    a third more time, while only these few words need it.
    """
    targets = [(i, j) for i, tokens in enumerate(lines) for j, t in enumerate(tokens)
               if _looks_garbled(t) and not (j and _digits_follow(tokens[j - 1].text))]
    if not targets:
        return
    pieces = []
    for i, j in targets:
        box = lines[i][j].box
        crop = crops[i]
        pad = max(4, box.h // 4)
        pieces.append(crop[:, max(0, box.x - pad): min(crop.shape[1], box.right + pad)])
    second = read_lines(pieces, lang="eng", psm=6)
    for (i, j), alternative in zip(targets, second, strict=True):
        text = "".join(t.text for t in alternative.tokens)
        # A quoted Latin name is a word of three letters or more; two are a Thai code misread (ศธ
        # as Ad), and dots, slashes or quotes between letters are Thai digits and abbreviations
        # the English model made letters of (๐๐๑๗.๒/๖ as ooed.w/>, ก.พ. as N.W.).
        if len(_LATIN_LETTERS.findall(text)) >= 3 and _LATIN_WORD.match(text) \
                and alternative.confidence > lines[i][j].confidence:
            old = lines[i][j]
            lines[i][j] = OcrToken(text, old.box, alternative.confidence)


def read_lines(crops: list[np.ndarray], *, lang: str = LANG, gap: int = 24, psm: int = 6,
               lexicon: Lexicon | None = None) -> list[OcrLine]:
    """Read each crop (gray, dark text on white) as one line; returns one `OcrLine` per crop.

    psm 6 (a uniform block) suits lines of one size; for text of mixed sizes (marks, titles)
    use psm 4, which does not drop a short word set larger than the rest.

    Token boxes are in the crop's own coordinates.
    """
    if not crops:
        return []
    width = max(c.shape[1] for c in crops) + 2 * gap
    slots: list[tuple[int, int]] = []
    y = gap
    for c in crops:
        slots.append((y, y + c.shape[0]))
        y += c.shape[0] + gap
    canvas = np.full((y, width), 255, np.uint8)
    for c, (top, bottom) in zip(crops, slots, strict=True):
        canvas[top:bottom, gap:gap + c.shape[1]] = c
    text, tsv = run_tesseract(canvas, lang=lang, psm=psm)
    text_lines = [ln for ln in text.splitlines() if ln.strip()]
    tsv_lines = _parse_tsv(tsv)
    # Tesseract's text and TSV list the same lines in the same order. A crop holds one line, but
    # Tesseract may find a second, spurious one in it (a row of marks read as letters): per crop,
    # the line with the most confident characters wins.
    best: dict[int, tuple[float, list[OcrToken]]] = {}
    for text_line, chars in zip(text_lines, tsv_lines, strict=False):
        if not chars:
            continue
        centre = np.median([c.y + c.h / 2 for c in chars])
        slot = next((i for i, (top, bottom) in enumerate(slots) if top - gap / 2 <= centre < bottom + gap / 2), None)
        if slot is None:
            continue
        weight = sum(c.conf for c in chars)
        if slot in best and best[slot][0] >= weight:
            continue
        top = slots[slot][0]
        tokens: list[OcrToken] = []
        for word, members in _align(text_line, chars):
            if members:
                x0 = min(c.x for c in members) - gap
                y0 = min(c.y for c in members) - top
                x1 = max(c.x + c.w for c in members) - gap
                y1 = max(c.y + c.h for c in members) - top
                box = Box(max(0, x0), max(0, y0), x1 - max(0, x0), y1 - max(0, y0))
                conf = min(c.conf for c in members)
                spans = tuple((c.text, c.x - gap, c.x + c.w - gap) for c in members)
            else:
                box, conf, spans = Box(0, 0, 0, 0), 0.0, ()
            # Where OCR text enters: normalised, and the marks Tesseract drops restored (letters too,
            # where Tesseract itself was unsure).
            # (Not in a Latin-only reading: nothing Thai to restore, and no second lexicon of 65 MB.)
            word = normalize_text(word)
            if lang != "eng":
                word = correct(word, lexicon, letter_edits=conf < UNSURE)
            tokens.append(OcrToken(word, box, conf, spans))
        best[slot] = (weight, tokens)
    result: list[list[OcrToken]] = [best[i][1] if i in best else [] for i in range(len(crops))]
    if lang == LANG:
        _latin_second_opinion(crops, result)
    return [OcrLine(tokens) for tokens in result]
