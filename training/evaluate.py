"""Measure the digit reader on held-out fonts, and stock Tesseract on the same images.

    python -m training.evaluate                 # the shipped model, the full held-out set
    python -m training.evaluate --tesseract     # also stock Tesseract (tha, --psm 7) for comparison

Tokens (letter numbers, dates, times, amounts, lists, digit runs) are rendered in every held-out
font file at the consonant heights of 150, 200 and 300 dpi scans and scanned like a station does:
gray (blur, noise, JPEG) then Otsu, or bilevel at a fixed threshold like a fax. The reader's glyphs
are aligned with the truth by edit distance; a glyph counts as right only if it is read as itself.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.ocr.glyphs import GlyphReader, default_reader
from pipeline.thai import ARABIC_DIGITS, THAI_DIGITS
from training.fonts import FontFile, font_files
from training.render import ScanStyle, Token, scan_token
from training.tokens import (
    amount,
    date,
    digit_run,
    enumerated,
    letter_number,
    numeric_date,
    phone,
    time_of_day,
)

DPI_CONSONANT = {150: 13.5, 200: 18.0, 300: 27.0}  # ก of 16 pt TH Sarabun
GENERATORS = (
    letter_number,
    letter_number,
    date,
    date,
    numeric_date,
    time_of_day,
    amount,
    enumerated,
    phone,
    digit_run,
)
PUNCTUATION_CHECKED = "./ว"


def scan_style(rng: random.Random, bilevel: bool) -> ScanStyle:
    """A station's scan, as in `samples.scan`: gray then Otsu, or bilevel at a fixed threshold."""
    if bilevel:
        return ScanStyle(
            blur=rng.uniform(0.2, 1.0),
            noise=rng.uniform(1, 10),
            paper_level=rng.randint(225, 250),
            ink_level=rng.randint(10, 50),
            binarise="fixed",
            threshold_shift=rng.randint(7, 57),
            rotation=rng.uniform(-0.5, 0.5),
        )
    return ScanStyle(
        blur=rng.uniform(0.2, 1.0),
        noise=rng.uniform(1, 10),
        paper_level=rng.randint(225, 250),
        ink_level=rng.randint(10, 50),
        jpeg=rng.randint(50, 90),
        binarise="otsu",
        rotation=rng.uniform(-0.5, 0.5),
    )


@dataclass
class Case:
    font: FontFile
    dpi: int
    token: Token

    @property
    def truth(self) -> list[str]:
        return ["?" if label == "other" else label for label in self.token.labels]


def make_cases(
    fonts: Sequence[FontFile], per_font_dpi: int, seed: int, dpis: Iterable[int] = (150, 200, 300)
) -> list[Case]:
    """`per_font_dpi` tokens for every font file and dpi; half gray, half bilevel; reproducible."""
    cases = []
    for font in fonts:
        for dpi in dpis:
            rng = random.Random(f"{seed}-{font.name}-{dpi}")
            for n in range(per_font_dpi):
                text = rng.choice(GENERATORS)(rng, thai=rng.random() < 0.7)
                style = scan_style(rng, bilevel=n % 2 == 1)
                token = scan_token(text, font, DPI_CONSONANT[dpi], rng, style=style, tracking=0.0)
                cases.append(Case(font, dpi, token))
    return cases


def align(truth: Sequence[str], read: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """Edit-distance alignment: pairs (truth, read); None where one side has nothing.

    >>> align(["๑", "๒"], ["๑", "๓", "๒"])
    [('๑', '๑'), (None, '๓'), ('๒', '๒')]
    """
    n, m = len(truth), len(read)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(
                cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1])
            )
    pairs: list[tuple[str | None, str | None]] = []
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1]):
            pairs.append((truth[i - 1], read[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((truth[i - 1], None))
            i -= 1
        else:
            pairs.append((None, read[j - 1]))
            j -= 1
    return pairs[::-1]


@dataclass
class Tally:
    right: Counter = field(default_factory=Counter)  # per truth class
    total: Counter = field(default_factory=Counter)
    confusions: Counter = field(default_factory=Counter)  # (truth, read or "∅")
    insertions: int = 0

    def add(self, truth: Sequence[str], read: Sequence[str]) -> None:
        for t, r in align(truth, read):
            if t is None:
                self.insertions += 1
                continue
            self.total[t] += 1
            if t == r:
                self.right[t] += 1
            else:
                self.confusions[(t, r or "∅")] += 1

    def accuracy(self, classes: Iterable[str]) -> float:
        classes = list(classes)
        total = sum(self.total[c] for c in classes)
        return sum(self.right[c] for c in classes) / total if total else float("nan")

    def count(self, classes: Iterable[str]) -> int:
        return sum(self.total[c] for c in classes)


def evaluate(cases: Sequence[Case], reader: GlyphReader | None = None) -> dict:
    """Accuracy of `reader` overall, per family, per dpi, per class; confusions; time per glyph."""
    reader = reader or default_reader()
    overall = Tally()
    families: dict[str, Tally] = {}
    dpis: dict[int, Tally] = {}
    exact = 0
    glyphs = 0
    started = time.perf_counter()
    for case in cases:
        read = [g.char for g in reader.read(case.token.ink, case.token.consonant_height)]
        glyphs += len(read)
        exact += read == case.truth
        for tally in (
            overall,
            families.setdefault(case.font.family, Tally()),
            dpis.setdefault(case.dpi, Tally()),
        ):
            tally.add(case.truth, read)
    elapsed = time.perf_counter() - started
    return {
        "tokens": len(cases),
        "thai_digits": {"glyphs": overall.count(THAI_DIGITS), "accuracy": overall.accuracy(THAI_DIGITS)},
        "arabic_digits": {
            "glyphs": overall.count(ARABIC_DIGITS),
            "accuracy": overall.accuracy(ARABIC_DIGITS),
        },
        "punctuation": {
            c: {"glyphs": overall.total[c], "accuracy": overall.accuracy(c)} for c in [*"./-:,()", "ว"]
        },
        "thai_letters_rejected": overall.accuracy("?"),
        "tokens_exact": exact / len(cases) if cases else float("nan"),
        "per_family": {
            f: {
                "thai_digits": t.accuracy(THAI_DIGITS),
                "arabic_digits": t.accuracy(ARABIC_DIGITS),
                "thai_digit_glyphs": t.count(THAI_DIGITS),
            }
            for f, t in sorted(families.items())
        },
        "per_dpi": {
            str(d): {
                "thai_digits": t.accuracy(THAI_DIGITS),
                "arabic_digits": t.accuracy(ARABIC_DIGITS),
                "thai_digit_glyphs": t.count(THAI_DIGITS),
            }
            for d, t in sorted(dpis.items())
        },
        "confusions": [f"{t}→{r}: {n}" for (t, r), n in overall.confusions.most_common(25)],
        "insertions": overall.insertions,
        "ms_per_glyph_read": 1000 * elapsed / max(1, glyphs),
    }


def _digits_of(text: str) -> list[str]:
    return [c for c in text if c in THAI_DIGITS or c in ARABIC_DIGITS]


def tesseract(cases: Sequence[Case]) -> dict:
    """Stock Tesseract (`tha`, --psm 7, one thread) on the gray token images: the digits it returns,
    aligned with the true digits."""
    import os

    import numpy as np
    import pytesseract
    from PIL import Image

    os.environ["OMP_THREAD_LIMIT"] = "1"  # a build tool, not the pipeline: no settings object here
    tally = Tally()
    dpis: dict[int, Tally] = {}
    for case in cases:
        gray = np.pad(case.token.gray, 12, constant_values=int(case.token.gray.max()))
        text = pytesseract.image_to_string(Image.fromarray(gray), lang="tha", config="--psm 7")
        truth = [c for c in case.truth if c in THAI_DIGITS or c in ARABIC_DIGITS]
        read = _digits_of(text)
        tally.add(truth, read)
        dpis.setdefault(case.dpi, Tally()).add(truth, read)
    return {
        "tokens": len(cases),
        "thai_digits": {"glyphs": tally.count(THAI_DIGITS), "accuracy": tally.accuracy(THAI_DIGITS)},
        "arabic_digits": {"glyphs": tally.count(ARABIC_DIGITS), "accuracy": tally.accuracy(ARABIC_DIGITS)},
        "per_dpi": {str(d): t.accuracy(THAI_DIGITS) for d, t in sorted(dpis.items())},
        "confusions": [f"{t}→{r}: {n}" for (t, r), n in tally.confusions.most_common(10)],
    }


def digit_sequence_accuracy(cases: Sequence[Case], reader: GlyphReader | None = None) -> float:
    """The reader scored like Tesseract above: digits only, for a like-for-like comparison."""
    reader = reader or default_reader()
    tally = Tally()
    for case in cases:
        read = [g.char for g in reader.read(case.token.ink, case.token.consonant_height)]
        tally.add(
            [c for c in case.truth if c in THAI_DIGITS or c in ARABIC_DIGITS],
            [c for c in read if c in THAI_DIGITS or c in ARABIC_DIGITS],
        )
    return tally.accuracy(THAI_DIGITS)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-font-dpi", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--tesseract", action="store_true")
    args = parser.parse_args()
    cases = make_cases(font_files("heldout"), args.per_font_dpi, args.seed)
    print(json.dumps(evaluate(cases), ensure_ascii=False, indent=1))
    if args.tesseract:
        print(json.dumps(tesseract(cases[::4]), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
