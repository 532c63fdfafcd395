"""Read the digits of letter numbers and dates glyph by glyph.

Stock Tesseract's Thai model cannot produce ๔ ๖ ๗ ๘ ๙ (docs/digits.md), so every token that holds
digits is read here instead: segmented into glyphs, each glyph classified by a small CNN
(`models/digits.onnx`, trained by `python -m training.digits`) as a Thai digit, an Arabic digit, one of
`. / - : , ( )`, the circular marker `ว`, or `?` for anything else (a Thai letter, a Latin letter).

    >>> reader = default_reader()
    >>> "".join(g.char for g in reader.read(token_ink, consonant_height=27))   # doctest: +SKIP
    '??๐๐๑๗.๕/ว๔๓๘๖'

Segmentation, in `Layout`: connected components; components that share columns are one glyph (marks
above and below a consonant, the dots of `:`, a digit broken across a horizontal gap); then glyphs
the network is unsure of are cut at thin columns and neighbours merged (a digit broken across a
vertical gap), and the most probable sequence is kept. The network has a hidden class, `frag`,
trained on pieces of glyphs and on touching pairs, which is what makes that search work.

Size matters: a glyph normalised to its own box loses the difference between `.` and `๐`, or `-` and
`1`. The network therefore sees, next to the normalised shape, six numbers measured against the
line: height and width in consonant heights, top and bottom relative to the baseline, ink mass and
fill (`features`). Training renders whole tokens and segments them with this module, so it sees what
the run time sees.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.groups import connected_groups
from pipeline.thai import ARABIC_DIGITS, THAI_DIGITS

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_PATH = MODEL_DIR / "digits.onnx"

SHAPE = 24  # side of the normalised glyph image
N_SCALARS = 6
REJECT = "?"
FRAG = "frag"  # hidden class: not a whole glyph (a piece, or two glyphs touching)

# A column-sharing rule joins marks, the dots of ":" and a digit broken across a horizontal gap.
_SHARED_COLUMNS = 0.45  # overlap, as a share of the narrower component's width
_SHARED_ROWS = 0.5  # components sharing more of the shorter one's rows stand side by side
_TALL = 0.5  # consonant heights: components at least this tall may be glyphs side by side
_NESTED_COLUMNS = 0.8  # side by side, they are one glyph only when one stands this much inside the other
_MAX_PIECES = 3  # a glyph is at most this many pieces …
_MAX_FRAGMENTS = 4  # … or this many, each alone a fragment, together no wider than `_ONE_GLYPH`
_ONE_GLYPH = 1.1  # consonant heights: the widest a digit is
_MAX_CUTS = 2  # thin columns tried per unsure atom (more over-split: the model learnt `frag` on two)
_MAX_CUTS_WIDE = 4  # … except in atoms wide enough for more glyphs
_GLYPH_WIDTH = 0.75  # consonant heights: a digit's usual width with its spacing
_CUT_SLANTS = (0.0, 0.45)  # px to the right per px up: upright cuts, and cuts leaning like a slash
_PITCH = 1.2  # consonant heights: a digit's width where no sure digit tells the font's
_SNAP = 0.05  # consonant heights an even cut may move to a thinner column
_MAX_GLYPH_WIDTH = 1.8  # consonant heights
_MAX_GAP = 0.4  # consonant heights between two pieces of one glyph
_SPECK = 0.3  # consonant heights: ink smaller than this that reads as `frag` is noise
_SURE = 0.9  # an atom classified at least this sure is not cut nor merged
# Each glyph a split makes costs this much log-probability: a 0 cut at its hollow middle reads as
# "( )" with two confident halves, yet it is one glyph.
GLYPH_COST = 0.3
# A reading as "not a digit" costs extra: two touching digits (๔/) read whole as a letter would
# otherwise beat the split that reads them, while a real letter reads as "?" split or whole.
REJECT_COST = 1.0
_MIXED_SCRIPTS = 20.0  # how much less likely a Thai digit is among Arabic ones in one number, and back
_SPACE = 0.6  # consonant heights: a wider gap separates two numbers
_TIGHT = 0.3  # consonant heights: glyphs closer than this are set without a space between
_LETTER_IN_NUMBER = 10000.0  # how much less likely a letter is than a digit inside a number
_NUMBER_CHARS = set(THAI_DIGITS + ARABIC_DIGITS + "./-:,")
_DIGITS = set(THAI_DIGITS + ARABIC_DIGITS)
_SMALL_MARKS = set(".,-:")


@dataclass(frozen=True)
class Glyph:
    """One glyph of a token: its label (`?` for anything that is not a digit or a mark of a number)."""

    char: str
    confidence: float
    box: tuple[int, int, int, int]  # x, y, w, h inside the token image
    alternatives: tuple[tuple[str, float], ...]  # the next best (char, probability), up to 3


@dataclass(frozen=True)
class Piece:
    """Ink of one atom (a group of connected components) between two columns, upright or slanted.

    A pixel (x, y) of the atom belongs to the piece when `lo <= x + slant * (y - ref) < hi`: with a
    slant, the cuts lean like a slash, which is how a slash touching the digit before it can be cut off.
    """

    atom: int
    lo: int
    hi: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    slant: float = 0.0
    ref: int = 0  # the row where a slanted cut passes through column `lo`/`hi`


class Layout:
    """The glyph candidates of one binarised token image.

    `ink` is a boolean image; `consonant_height` in pixels; `baseline` the row of the baseline, estimated
    from the glyphs when not given.
    """

    def __init__(self, ink: np.ndarray, consonant_height: float, baseline: float | None = None) -> None:
        self.ink = ink.astype(bool)
        self.ch = float(consonant_height)
        self.atom_map, self.atom_boxes = _atoms(self.ink, self.ch)
        self.baseline = estimate_baseline(self.atom_boxes, self.ch) if baseline is None else float(baseline)

    def whole_atoms(self) -> list[Piece]:
        return [Piece(i, box[0], box[2], box) for i, box in enumerate(self.atom_boxes)]

    def cut(self, atom: int, slant: float = 0.0, pitch: float | None = None) -> list[Piece]:
        """The atom cut at its thin columns (itself when it has none): candidates for touching glyphs.
        With a `slant`, the columns lean right by that many pixels per row upwards. With a `pitch`
        (a glyph's width in px), it is cut into as many equal glyphs as fit instead."""
        x0, y0, x1, y1 = self.atom_boxes[atom]
        if x1 - x0 < 0.5 * self.ch:
            return [Piece(atom, x0, x1, (x0, y0, x1, y1))]
        ys, xs = np.nonzero(self.atom_map[y0:y1, x0:x1] == atom)
        u = np.floor(xs + slant * ys).astype(np.int64)  # the column, sheared so the cuts stand upright
        columns = np.bincount(u, minlength=int(u.max()) + 1).astype(np.float32)
        cuts = _cut_columns(columns, self.ch) if pitch is None else _even_cuts(columns, self.ch, pitch)
        if not cuts:
            return [Piece(atom, x0, x1, (x0, y0, x1, y1))]
        pieces = []
        for lo, hi in zip([0, *cuts], [*cuts, columns.size], strict=True):
            inside = (u >= lo) & (u < hi)
            if inside.any():
                px, py = xs[inside], ys[inside]
                box = (x0 + int(px.min()), y0 + int(py.min()), x0 + int(px.max()) + 1, y0 + int(py.max()) + 1)
                pieces.append(Piece(atom, x0 + lo, x0 + hi, box, slant, y0))
        return pieces

    def mask(self, pieces: Sequence[Piece]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """The ink of `pieces` alone, cropped to its box (x0, y0, x1, y1)."""
        x0 = min(p.box[0] for p in pieces)
        y0 = min(p.box[1] for p in pieces)
        x1 = max(p.box[2] for p in pieces)
        y1 = max(p.box[3] for p in pieces)
        atoms = self.atom_map[y0:y1, x0:x1]
        out = np.zeros(atoms.shape, bool)
        cols = np.arange(x0, x1, dtype=np.float64)[None, :]
        rows = np.arange(y0, y1, dtype=np.float64)[:, None]
        for p in pieces:
            u = cols + p.slant * (rows - p.ref) if p.slant else cols
            out |= (atoms == p.atom) & (u >= p.lo) & (u < p.hi)
        return out, (x0, y0, x1, y1)

    def features(self, pieces: Sequence[Piece]) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        mask, box = self.mask(pieces)
        shape, scalars = features(mask, box[1], self.ch, self.baseline)
        return shape, scalars, box

    def segments(
        self, pieces: Sequence[Piece], movable: Sequence[bool] | None = None, most: int = _MAX_PIECES
    ) -> list[tuple[int, int]]:
        """Runs [i, j) of up to `most` consecutive pieces that could be one glyph.

        A run of more than one piece must hold only `movable` pieces (a glyph the network is sure of
        stays as it is: a sure ๑ must not swallow the unsure dot beside it), must not be wider than
        `_MAX_GLYPH_WIDTH` and must have no gap wider than `_MAX_GAP`.
        """
        out = []
        for i in range(len(pieces)):
            out.append((i, i + 1))
            for j in range(i + 2, min(len(pieces), i + most) + 1):
                run = pieces[i:j]
                if movable is not None and not all(movable[i:j]):
                    break
                if max(p.box[2] for p in run) - min(p.box[0] for p in run) > _MAX_GLYPH_WIDTH * self.ch:
                    break
                if run[-1].box[0] - run[-2].box[2] > _MAX_GAP * self.ch:
                    break
                out.append((i, j))
        return out


def _atoms(ink: np.ndarray, ch: float) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Connected components without specks, grouped when they share columns; left to right."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    speck = max(2.0, 0.005 * ch * ch)
    keep = [
        i
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_AREA] > speck
        or max(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]) > 0.12 * ch
    ]
    boxes = {
        i: (
            int(stats[i, 0]),
            int(stats[i, 1]),
            int(stats[i, 0] + stats[i, 2]),
            int(stats[i, 1] + stats[i, 3]),
        )
        for i in keep
    }
    order = sorted(keep, key=lambda i: boxes[i][0])

    def joins() -> Iterator[tuple[int, int]]:
        for n, a in enumerate(order):
            ax0, ay0, ax1, ay1 = boxes[a]
            for b in order[n + 1 :]:
                bx0, by0, bx1, by1 = boxes[b]
                if bx0 >= ax1:
                    break
                narrower = min(ax1 - ax0, bx1 - bx0)
                overlap = min(ax1, bx1) - bx0
                # Side by side (sharing most rows), two glyphs lean into each other's columns — the
                # slash after ๔ or ๕, under its tail — so only one nearly inside the other is joined.
                # A speck or a dot beside a stroke is no glyph of its own: it stays with the stroke.
                shorter = min(ay1 - ay0, by1 - by0)
                beside = shorter >= _TALL * ch and min(ay1, by1) - max(ay0, by0) > _SHARED_ROWS * shorter
                if overlap >= (_NESTED_COLUMNS if beside else _SHARED_COLUMNS) * narrower:
                    yield a, b

    merged = sorted(connected_groups(keep, joins()), key=lambda g: min(boxes[i][0] for i in g))
    lut = np.full(count, -1, np.int32)
    atom_boxes = []
    for n, group in enumerate(merged):
        lut[group] = n
        atom_boxes.append(
            (
                min(boxes[i][0] for i in group),
                min(boxes[i][1] for i in group),
                max(boxes[i][2] for i in group),
                max(boxes[i][3] for i in group),
            )
        )
    return lut[labels], atom_boxes


def estimate_baseline(boxes: Sequence[tuple[int, int, int, int]], ch: float) -> float:
    """The median bottom of glyphs of about digit height; parentheses and `/` hang below it."""
    bottoms = [b[3] for b in boxes if 0.45 * ch <= b[3] - b[1] <= 1.5 * ch]
    if not bottoms:
        bottoms = [b[3] for b in boxes]
    return float(np.median(bottoms)) if bottoms else 0.0


def _cut_columns(columns: np.ndarray, ch: float) -> list[int]:
    """Up to `_MAX_CUTS` columns where the ink is thinnest, away from the edges: where touching glyphs meet."""
    width = columns.size
    margin = max(2, round(0.2 * ch))
    if width < 2 * margin + 1:
        return []
    smooth = np.convolve(columns, np.ones(3, np.float32) / 3, mode="same")
    candidates = [
        x for x in range(margin, width - margin) if smooth[x] <= smooth[x - 1] and smooth[x] <= smooth[x + 1]
    ]
    candidates.sort(key=lambda x: (smooth[x], abs(x - width / 2)))
    # Two cuts part two or three glyphs; an atom wider than that (three or four digits run together
    # at 150 dpi) needs one more per glyph it may hold.
    most = max(_MAX_CUTS, min(_MAX_CUTS_WIDE, round(width / (_GLYPH_WIDTH * ch)) - 1))
    chosen: list[int] = []
    for x in candidates:
        if all(abs(x - c) >= 0.25 * ch for c in chosen):
            chosen.append(x)
        if len(chosen) == most:
            break
    return sorted(chosen)


def _even_cuts(columns: np.ndarray, ch: float, pitch: float) -> list[int]:
    """Cuts that part the atom into equal glyphs about `pitch` wide — as many as fit, and one more
    (the pitch may come from narrow digits) — each moved to the thinnest column near it. Two
    digits joined along a thick stroke (๒๗ in a dark scan) meet at no thin column, and the
    thinnest ones lie inside the digits; their widths still say where one ends."""
    width = columns.size
    fit = max(1, round(width / pitch))
    smooth = np.convolve(columns, np.ones(3, np.float32) / 3, mode="same")
    reach = max(1, round(_SNAP * ch))
    cuts: set[int] = set()
    for count in (fit, fit + 1):
        for k in range(1, count):
            target = round(k * width / count)
            lo, hi = max(1, target - reach), min(width - 1, target + reach + 1)
            cuts.add(lo + int(np.argmin(smooth[lo:hi])))
    return sorted(cuts)


def features(mask: np.ndarray, top: int, ch: float, baseline: float) -> tuple[np.ndarray, np.ndarray]:
    """The network's input for one glyph: its shape and its size and place on the line.

    `mask`: the glyph's ink cropped to its box; `top`: the row of the box in the token image.
    Returns (SHAPE×SHAPE float32 in 0..1, N_SCALARS float32).
    """
    h, w = mask.shape
    side = SHAPE - 4
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    src = mask.astype(np.float32)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(src, (nw, nh), interpolation=interpolation)
    shape = np.zeros((SHAPE, SHAPE), np.float32)
    y, x = (SHAPE - nh) // 2, (SHAPE - nw) // 2
    shape[y : y + nh, x : x + nw] = small
    ink = float(mask.sum())
    scalars = np.array(
        [
            h / ch,
            w / ch,
            (baseline - (top + h)) / ch,  # bottom above the baseline
            (baseline - top) / ch,  # top above the baseline
            math.sqrt(ink) / ch,
            ink / (h * w),
        ],
        np.float32,
    )
    return shape, scalars


class GlyphReader:
    """The digit-glyph classifier with its segmenter. One per process is enough: `default_reader()`."""

    def __init__(self, model_path: Path | None = None) -> None:
        import onnxruntime as ort

        path = Path(model_path) if model_path is not None else MODEL_PATH
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        self.labels: list[str] = meta["labels"]
        if meta["input"]["shape"] != SHAPE or meta["input"]["scalars"] != N_SCALARS:
            raise ValueError(f"{path} was trained for another input size")
        self._frag = self.labels.index(FRAG)
        self._thai = [self.labels.index(d) for d in THAI_DIGITS]
        self._arabic = [self.labels.index(d) for d in ARABIC_DIGITS]
        self._public = [i for i, label in enumerate(self.labels) if label != FRAG]
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def probabilities(self, shapes: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        """Softmax over the network's classes (`self.labels`, which include `frag`) for a batch."""
        if len(shapes) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        out = self._session.run(
            None, {"shape": shapes[:, None].astype(np.float32), "scalars": scalars.astype(np.float32)}
        )
        return np.asarray(out[0])

    def read(self, ink: np.ndarray, consonant_height: float, baseline: float | None = None) -> list[Glyph]:
        """The glyphs of one token or line fragment, left to right.

        `ink`: 2-D uint8, 255 = ink, 0 = paper, binarised and deskewed, cropped with some margin.
        `consonant_height`: px of a Thai consonant such as ก on this line. `baseline`: the row of the
        line's baseline if the caller knows it; estimated from the glyphs otherwise.
        """
        if ink.ndim != 2:
            raise ValueError("ink must be a 2-D image")
        layout = Layout(ink > 127, consonant_height, baseline)
        atoms = layout.whole_atoms()
        if not atoms:
            return []
        first = self._score(layout, [[a] for a in atoms])
        sure = [
            float(p[self._best_public(p)]) >= _SURE
            and self._best_public(p) == int(np.argmax(p))
            and a.box[2] - a.box[0] <= 1.3 * consonant_height
            for p, a in zip(first, atoms, strict=True)
        ]
        if all(sure):
            readings = [(p, layout.mask([a])[1]) for p, a in zip(first, atoms, strict=True)]
        else:
            # Upright cuts part most touching glyphs; slanted ones part a slash from the digit under
            # its foot (๔/, ๕/). Whichever split reads more probably wins.
            splits = [self._split(layout, atoms, sure, first, slant) for slant in _CUT_SLANTS]
            readings = max(splits, key=lambda split: split[0])[1]
            if self._unread(readings):
                # Digits touching along a thick stroke meet at no thin column: cuts at even steps
                # part them. Only where thin cuts left a glyph unread, as even steps never part a
                # narrow slash from the digits beside it.
                pitch = self._pitch(atoms, sure, first, consonant_height)
                splits.append(self._split(layout, atoms, sure, first, 0.0, pitch))
                readings = max(splits, key=lambda split: split[0])[1]
        readings = self._digits_in_numbers(readings, consonant_height)
        readings = self._one_script(readings, consonant_height)
        glyphs = []
        for probs, box in readings:
            glyph = self._glyph(probs, box, consonant_height)
            if glyph is not None:
                glyphs.append(glyph)
        return glyphs

    def classify(
        self, crops: list[np.ndarray], consonant_height: float, baselines: Sequence[float]
    ) -> list[Glyph]:
        """Classify glyphs already cut out, without segmenting: one glyph per crop.

        `crops[i]`: 2-D uint8 (255 = ink) holding one glyph; `baselines[i]`: the row of the line's
        baseline in that crop's coordinates (it may lie outside the crop). A crop without ink comes
        back as `?` with confidence 0.
        """
        glyphs: list[Glyph] = []
        for crop, baseline in zip(crops, baselines, strict=True):
            ink = crop > 127
            rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
            if rows.size == 0:
                glyphs.append(Glyph(REJECT, 0.0, (0, 0, 0, 0), ()))
                continue
            y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            shape, scalars = features(ink[y0:y1, x0:x1], y0, consonant_height, baseline)
            probs = self.probabilities(shape[None], scalars[None])[0]
            glyph = self._glyph(probs, (x0, y0, x1, y1))
            assert glyph is not None
            glyphs.append(glyph)
        return glyphs

    def _unread(self, readings: list[tuple[np.ndarray, tuple[int, int, int, int]]]) -> bool:
        return any(self.labels[int(np.argmax(probs))] in ("other", FRAG) for probs, _box in readings)

    def _pitch(self, atoms: list[Piece], sure: list[bool], first: list[np.ndarray], ch: float) -> float:
        """A digit's width in px in this token: from the digits read sure, else a typical one."""
        widths = [a.box[2] - a.box[0] for a, ok, p in zip(atoms, sure, first, strict=True)
                  if ok and self.labels[self._best_public(p)] in _DIGITS]
        return float(np.median(widths)) if widths else _PITCH * ch

    def _split(
        self, layout: Layout, atoms: list[Piece], sure: list[bool], first: list[np.ndarray], slant: float,
        pitch: float | None = None,
    ) -> tuple[float, list[tuple[np.ndarray, tuple[int, int, int, int]]]]:
        """The most probable reading with the unsure atoms cut at `slant` (or at even steps of
        `pitch`): its score and glyphs."""
        pieces: list[Piece] = []
        movable: list[bool] = []
        for atom, ok in zip(atoms, sure, strict=True):
            parts = [atom] if ok else layout.cut(atom.atom, slant, pitch)
            pieces.extend(parts)
            movable.extend([not ok] * len(parts))
        runs = layout.segments(pieces, movable, most=_MAX_FRAGMENTS)
        known = {(i, i + 1): first[atoms.index(p)] for i, p in enumerate(pieces) if p in atoms}
        todo = [r for r in runs if r not in known and r[1] - r[0] <= _MAX_PIECES]
        scored = {**known, **dict(zip(todo, self._score(layout, [pieces[i:j] for i, j in todo]), strict=True))}
        # A glyph of more pieces only where each alone is a fragment and together they are no
        # wider than a digit: a light bilevel scan breaks thin strokes that far (00090's ๒ in four
        # slivers), while wider runs of as many pieces are mostly two glyphs (๓ and the slash after it).
        fragments = [r for r in runs if r[1] - r[0] > _MAX_PIECES
                     and max(p.box[2] for p in pieces[r[0]:r[1]]) - min(p.box[0] for p in pieces[r[0]:r[1]])
                     <= _ONE_GLYPH * layout.ch
                     and all(int(np.argmax(scored[(k, k + 1)])) == self._frag for k in range(*r))]
        scored.update(zip(fragments, self._score(layout, [pieces[i:j] for i, j in fragments]), strict=True))
        score, chosen = self._best_path(len(pieces), scored)
        return score, [(scored[(i, j)], layout.mask(pieces[i:j])[1]) for i, j in chosen]

    def _score(self, layout: Layout, runs: list[list[Piece]]) -> list[np.ndarray]:
        shapes = np.empty((len(runs), SHAPE, SHAPE), np.float32)
        scalars = np.empty((len(runs), N_SCALARS), np.float32)
        for n, run in enumerate(runs):
            shapes[n], scalars[n], _ = layout.features(run)
        return list(self.probabilities(shapes, scalars))

    def _one_script(
        self, readings: list[tuple[np.ndarray, tuple[int, int, int, int]]], ch: float
    ) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
        """One number is printed in one script: within a run of digits and marks (no letter, no
        space between), a digit of the other script is made `_MIXED_SCRIPTS` times less likely.
        A glyph the network is sure of keeps its reading; an unsure ๐/0 follows its neighbours."""
        out = list(readings)
        runs: list[list[int]] = []
        run: list[int] = []
        for n, (probs, box) in enumerate(out):
            numeric = self.labels[self._best_public(probs)] in _NUMBER_CHARS
            if run and (not numeric or box[0] - out[run[-1]][1][2] > _SPACE * ch):
                runs.append(run)
                run = []
            if numeric:
                run.append(n)
        for numbers in [*runs, run]:
            self._harmonise(out, numbers)
        return out

    def _digits_in_numbers(
        self, readings: list[tuple[np.ndarray, tuple[int, int, int, int]]], ch: float
    ) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
        """Inside a number a letter is unlikely: in a run of glyphs set without spaces, `other` and
        `frag` are made `_LETTER_IN_NUMBER` times less likely for every reject when the run holds at
        least twice as many digits as rejects, less one (a pair of a digit and a reject: `๑๓` before
        a month), and for a reject set against a digit, level with it, when that makes it a digit
        (never a mark above the line). Digits unlike every training font (loopless ๓ and ๕) are
        read as digits there, while `ลป` before a number (a space between) and `พ.ย.` (no digit)
        stay letters."""
        out = list(readings)
        runs: list[list[int]] = []
        for n, (_, box) in enumerate(out):
            if runs and box[0] - out[runs[-1][-1]][1][2] <= _TIGHT * ch:
                runs[-1].append(n)
            else:
                runs.append([n])
        reject = [self._frag, self.labels.index("other")]

        def less_likely_letter(n: int) -> tuple[np.ndarray, str]:
            probs = out[n][0].copy()
            probs[reject] /= _LETTER_IN_NUMBER
            return probs / probs.sum(), self.labels[int(np.argmax(probs))]

        def rejects(run: list[int]) -> tuple[list[bool], list[int]]:
            """Which glyphs of the run read as digits, and which as `?`: as `_glyph` reads them,
            `other` and `frag` together (a ๐ at 0.50 against 0.30 + 0.20 is a `?`)."""
            digit, letters = [], []
            for k, n in enumerate(run):
                probs, box = out[n]
                best = int(np.argmax(probs))
                rejected = float(probs[reject].sum()) > float(np.delete(probs, reject).max())
                digit.append(not rejected and self.labels[best] in _DIGITS)
                # (a speck the network calls `frag` is noise, dropped later: no digit misread)
                if rejected and not (best == self._frag and _speck(box, ch)):
                    letters.append(k)
            return digit, letters

        for run in runs:
            digit, letters = rejects(run)
            if letters and sum(digit) >= max(1, 2 * len(letters) - 1):
                for k in letters:
                    probs, best = less_likely_letter(run[k])
                    # a glyph misread, not a piece of one taken for a small mark (7's top bar as `-`)
                    if best not in _SMALL_MARKS:
                        out[run[k]] = (probs, out[run[k]][1])

        def level_with(box: tuple[int, int, int, int], other: tuple[int, int, int, int]) -> bool:
            return min(box[3], other[3]) - max(box[1], other[1]) >= 0.5 * (other[3] - other[1])

        for run in runs:  # then a reject beside a digit, level with it (one just read as one included)
            digit, letters = rejects(run)
            for k in letters:
                box = out[run[k]][1]
                beside = [j for j in (k - 1, k + 1) if 0 <= j < len(run) and digit[j]]
                # (not a mark above the line, nor a piece of one)
                if not any(level_with(box, out[run[j]][1]) for j in beside):
                    continue
                probs, best = less_likely_letter(run[k])
                if best in _DIGITS:
                    out[run[k]] = (probs, box)
        return out

    def _harmonise(self, out: list[tuple[np.ndarray, tuple[int, int, int, int]]], run: list[int]) -> None:
        thai = [n for n in run if self.labels[self._best_public(out[n][0])] in THAI_DIGITS]
        arabic = [n for n in run if self.labels[self._best_public(out[n][0])] in ARABIC_DIGITS]
        if len(thai) + len(arabic) < 2 or not thai or not arabic:
            return
        digits = thai + arabic
        thai_score = sum(math.log(max(1e-9, float(out[n][0][self._thai].sum()))) for n in digits)
        arabic_score = sum(math.log(max(1e-9, float(out[n][0][self._arabic].sum()))) for n in digits)
        unlikely = self._arabic if thai_score >= arabic_score else self._thai
        for n in digits:
            probs = out[n][0].copy()
            probs[unlikely] /= _MIXED_SCRIPTS
            out[n] = (probs / probs.sum(), out[n][1])

    def _best_public(self, probs: np.ndarray) -> int:
        return self._public[int(np.argmax(probs[self._public]))]

    def _best_path(self, count: int, scored: dict[tuple[int, int], np.ndarray]) -> tuple[float, list[tuple[int, int]]]:
        """The split of pieces into glyphs whose readings are jointly most probable (a `frag` reading
        counts only as what is left besides it)."""
        best = [0.0] + [-math.inf] * count
        back = [0] * (count + 1)
        for (i, j), probs in sorted(scored.items(), key=lambda item: item[0][1]):
            label = self._best_public(probs)
            cost = GLYPH_COST + (REJECT_COST if self.labels[label] in ("other", FRAG) else 0.0)
            score = best[i] + math.log(max(float(probs[label]), 1e-9)) - cost
            if score > best[j]:
                best[j], back[j] = score, i
        path = []
        j = count
        while j > 0:
            path.append((back[j], j))
            j = back[j]
        return best[count], path[::-1]

    def _glyph(self, probs: np.ndarray, box: tuple[int, int, int, int], ch: float | None = None) -> Glyph | None:
        """A Glyph from the network's output; `other` and `frag` both read as `?`. With the line's
        consonant height `ch`, a speck the network calls `frag` is noise, not a glyph: None."""
        public: dict[str, float] = {}
        for label, p in zip(self.labels, probs, strict=True):
            char = REJECT if label in ("other", FRAG) else label
            public[char] = public.get(char, 0.0) + float(p)
        ranked = sorted(public.items(), key=lambda item: -item[1])
        x0, y0, x1, y1 = box
        if ch is not None and int(np.argmax(probs)) == self._frag and _speck(box, ch):
            return None
        return Glyph(ranked[0][0], ranked[0][1], (x0, y0, x1 - x0, y1 - y0), tuple(ranked[1:4]))


def _speck(box: tuple[int, int, int, int], ch: float) -> bool:
    """Ink too small for any glyph of a number (x0, y0, x1, y1)."""
    return max(box[2] - box[0], box[3] - box[1]) < _SPECK * ch


@cache
def default_reader() -> GlyphReader:
    """The reader of the shipped model, loaded once per process."""
    return GlyphReader()
