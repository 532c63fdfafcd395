"""The digit-glyph reader on fonts it was never trained on, at 150–300 dpi, on degraded scans."""

from __future__ import annotations

import random
import time

import cv2
import numpy as np
import pytest

from pipeline.ocr.glyphs import Glyph, GlyphReader, default_reader
from pipeline.thai import ARABIC_DIGITS, THAI_DIGITS
from training import fonts

if not fonts.installed():
    pytest.skip("held-out fonts missing: run `make fonts`", allow_module_level=True)

from training.evaluate import Tally, make_cases
from training.render import ScanStyle, scan_token


def heldout(family: str, weight: int = 400):
    return next(f for f in fonts.font_files("heldout") if f.family == family and f.weight == weight)


def read(token, reader: GlyphReader | None = None) -> str:
    return "".join(g.char for g in (reader or default_reader()).read(token.ink, token.consonant_height))


@pytest.fixture(scope="module")
def heldout_tally() -> Tally:
    reader = default_reader()
    tally = Tally()
    for case in make_cases(fonts.font_files("heldout"), per_font_dpi=10, seed=7):
        tally.add(case.truth, [g.char for g in reader.read(case.token.ink, case.token.consonant_height)])
    return tally


# The goal is 99.8 % of Thai digits right on held-out fonts; the shipped reader reaches 99.81 % on
# the full held-out set of `training.evaluate` and 99.70–99.85 % on other seeds of it (docs/digits.md).
# The first test guards against regressions; the second records the goal on this smaller sample.
THAI_DIGITS_FLOOR = 0.99
THAI_DIGITS_GOAL = 0.998


def test_thai_digits_on_heldout_fonts(heldout_tally: Tally) -> None:
    assert heldout_tally.count(THAI_DIGITS) > 1500
    accuracy = heldout_tally.accuracy(THAI_DIGITS)
    assert accuracy >= THAI_DIGITS_FLOOR, (accuracy, heldout_tally.confusions.most_common(10))


@pytest.mark.xfail(reason="at the goal on the full held-out set, not on every sample of it: 99.7 % here, "
                          "the loopless ๓ of Noto Sans Thai beside letters", strict=False)
def test_thai_digits_reach_the_goal(heldout_tally: Tally) -> None:
    assert heldout_tally.accuracy(THAI_DIGITS) >= THAI_DIGITS_GOAL


def test_arabic_digits_and_marks_on_heldout_fonts(heldout_tally: Tally) -> None:
    assert heldout_tally.accuracy(ARABIC_DIGITS) >= 0.98, heldout_tally.confusions.most_common(10)
    for mark in "./ว":
        assert heldout_tally.count(mark) > 30
        assert heldout_tally.accuracy(mark) >= 0.98, (mark, heldout_tally.confusions.most_common(10))


@pytest.mark.parametrize("family", ["bai-jamjuree", "noto-sans-thai-looped"])
def test_touching_digits_are_split(family: str) -> None:
    rng = random.Random(5)
    style = ScanStyle(blur=1.0, noise=2.0, binarise="fixed", threshold_shift=30)  # dark: strokes spread
    token = scan_token("๒๕๖๑ ๔๓๘๖", heldout(family, 700), 18, rng, style=style, tracking=-0.05)
    count, _ = cv2.connectedComponents(token.ink)
    assert count - 1 <= 6, "digits should touch for this test to mean anything"
    assert read(token) == "๒๕๖๑๔๓๘๖"


@pytest.mark.parametrize("consonant_height", [18, 27])
def test_slash_touching_the_digit_before_it_is_cut_off(consonant_height: int) -> None:
    """In a dark scan the foot of `/` runs into the tail of ๔ under it: no upright cut parts them."""
    laksaman = next(f for f in fonts.font_files("train") if f.family == "Laksaman" and f.weight == 700)
    style = ScanStyle(blur=0.8, noise=2.0, binarise="fixed", threshold_shift=20)
    token = scan_token("๐๔๑๗.๓๔/ว ๒๘๒", laksaman, consonant_height, random.Random(3), style=style, tracking=-0.02)
    slash = token.ink[:, int(token.ink.shape[1] * 0.5):int(token.ink.shape[1] * 0.72)]
    count, _ = cv2.connectedComponents(slash)
    assert count - 1 <= 2, "๓, ๔/ and ว: ๔ and / should touch for this test to mean anything"
    assert read(token) == "๐๔๑๗.๓๔/ว๒๘๒"


@pytest.mark.parametrize(("family", "tracking"), [("bai-jamjuree", -0.08), ("anuphan", -0.05)])
def test_runs_of_touching_digits_are_split(family: str, tracking: float) -> None:
    """Three and four digits in one component (bold, dark, tight): two cuts cannot part them."""
    style = ScanStyle(blur=1.0, noise=2.0, binarise="fixed", threshold_shift=30)
    token = scan_token("๒๕๖๑ ๗๗๕๔", heldout(family, 700), 18, random.Random(5), style=style, tracking=tracking)
    count, _ = cv2.connectedComponents(token.ink)
    assert count - 1 <= 5, "digits should run together for this test to mean anything"
    assert read(token) == "๒๕๖๑๗๗๕๔"


def test_digits_joined_along_a_thick_stroke_are_split() -> None:
    """Three digits in one component whose thinnest columns lie inside the digits, not between
    them: only cuts at even steps part them."""
    style = ScanStyle(blur=1.0, noise=2.0, binarise="fixed", threshold_shift=30)
    token = scan_token("๒๗๘", heldout("taviraj", 700), 18, random.Random(5), style=style, tracking=-0.08)
    count, _ = cv2.connectedComponents(token.ink)
    assert count - 1 == 1, "the three digits should be one component for this test to mean anything"
    assert read(token) == "๒๗๘"


def test_a_digit_the_network_calls_a_piece_is_read_as_a_digit_inside_a_number() -> None:
    """The loopless ๓ of a held-out font looks to the network like a piece of a glyph (`frag`);
    inside a number set without spaces it is read as its digit, like a glyph called a letter."""
    style = ScanStyle(blur=0.8, noise=3.0, binarise="fixed")
    token = scan_token("๐๐๒๓.๓/๖๑๒", heldout("noto-sans-thai"), 18, random.Random(0), style=style, tracking=0.0)
    assert read(token) == "๐๐๒๓.๓/๖๑๒"


def test_broken_digit_is_joined() -> None:
    rng = random.Random(6)
    token = scan_token("๒๕๖๑", heldout("bai-jamjuree"), 27, rng, style=ScanStyle(blur=0.3, noise=1.0), tracking=0.05)
    cols = np.flatnonzero(token.ink.any(axis=0))
    ink = token.ink.copy()
    middle = cols[0] + (cols[-1] - cols[0]) * 3 // 8  # through the second digit, ๕
    ink[:, middle : middle + 2] = 0
    count_before, _ = cv2.connectedComponents(token.ink)
    count_after, _ = cv2.connectedComponents(ink)
    assert count_after > count_before, "the cut should break a digit"
    glyphs = default_reader().read(ink, token.consonant_height)
    assert "".join(g.char for g in glyphs) == "๒๕๖๑"


@pytest.mark.parametrize(("seed", "family", "text"), [(72, "bai-jamjuree", "๒๘"), (25, "niramit", "๓/๒")])
def test_digit_broken_into_four_slivers_is_joined(seed: int, family: str, text: str) -> None:
    """A light bilevel scan of thin strokes (eroded, a threshold too dark) leaves a digit in four
    slivers side by side, each only a piece: together, no wider than a digit, they are one."""
    rng = random.Random(seed)
    rng.choice(["๒๘", "๒๕๕๘", "๐๐๑๗", "๓/๒", "๑๒", "๒๔", "๒๓"])  # the draw that chose `text`
    style = ScanStyle(blur=rng.uniform(0.3, 0.8), noise=rng.uniform(1, 6), binarise="fixed",
                      threshold_shift=rng.randint(-60, -20), morph=-1, breaks=rng.randint(0, 2))
    token = scan_token(text, heldout(family), rng.uniform(18, 27), rng, style=style, tracking=0.1)
    assert read(token) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("พ.ย.", "?.?."),
        ("ลป ๐๐๑๗.๕/ว ๔๓๘๖", "??๐๐๑๗.๕/ว๔๓๘๖"),
        ("19 พ.ย. 67", "19?.?.67"),
        ("จำนวน ๑ ชุด", None),
    ],
)
def test_thai_letters_come_back_as_rejects(text: str, expected: str | None) -> None:
    rng = random.Random(8)
    for family in ("taviraj", "anuphan"):
        for ch in (13.5, 27):
            token = scan_token(text, heldout(family), ch, rng, style=ScanStyle(blur=0.5, noise=3.0), tracking=0.0)
            got = read(token)
            if expected is not None:
                assert got == expected, (family, ch)
            else:
                assert "๑" in got and set(got) <= {"?", "๑", "ว"}, (family, ch, got)  # the ว of จำนวน is one


def test_glyph_shape_of_the_api() -> None:
    rng = random.Random(9)
    token = scan_token("๑๔/๒", heldout("noto-sans-thai-looped"), 18, rng, style=ScanStyle(), tracking=0.0)
    glyphs = default_reader().read(token.ink, token.consonant_height)
    assert [g.char for g in glyphs] == ["๑", "๔", "/", "๒"]
    h, w = token.ink.shape
    for g in glyphs:
        assert isinstance(g, Glyph)
        x, y, gw, gh = g.box
        assert x >= 0 and y >= 0 and x + gw <= w and y + gh <= h and gw > 0 and gh > 0
        assert 0.5 < g.confidence <= 1.0
        assert len(g.alternatives) <= 3 and all(p <= g.confidence for _, p in g.alternatives)
    assert [g.box[0] for g in glyphs] == sorted(g.box[0] for g in glyphs)
    assert default_reader() is default_reader()
    assert default_reader().read(np.zeros((30, 60), np.uint8), 18) == []


def test_classify_crops() -> None:
    rng = random.Random(10)
    token = scan_token("๗", heldout("ibm-plex-sans-thai"), 27, rng, style=ScanStyle(), tracking=0.0)
    glyph = default_reader().classify([token.ink], 27, [token.baseline])[0]
    assert glyph.char == "๗"


def test_classifying_40_glyphs_is_fast() -> None:
    reader = default_reader()
    shapes = np.random.default_rng(0).random((40, 24, 24), dtype=np.float32)
    scalars = np.random.default_rng(1).random((40, 6), dtype=np.float32)
    reader.probabilities(shapes, scalars)
    best = min(_timed(lambda: reader.probabilities(shapes, scalars)) for _ in range(20))
    assert best < 0.010


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


_NAMES = {"zero": "๐", "one": "๑", "three": "๓", "nine": "๙"}


def _probs(**p: float) -> np.ndarray:
    """Network output over the reader's labels: the given ones (digits by name), the rest ~0."""
    labels = default_reader().labels
    out = np.full(len(labels), 1e-9)
    for label, value in p.items():
        out[labels.index(_NAMES.get(label, label))] = value
    return out / out.sum()


def _read_run(*readings: tuple[np.ndarray, tuple[int, int, int, int]]) -> list[str]:
    """What `_digits_in_numbers` makes of glyphs (boxes x0, y0, x1, y1 at a consonant height of 27)."""
    reader = default_reader()
    return [reader._glyph(p, box).char for p, box in reader._digits_in_numbers(list(readings), 27.0)]


def test_a_letter_beside_a_digit_and_level_with_it_is_read_as_the_digit() -> None:
    """The loopless ๓ of Noto Sans Thai looks to the network like a letter (ต without its head); set
    against a digit on the line it is that digit — but a mark above the line never is."""
    one = (_probs(one=0.99, other=0.01), (30, 10, 50, 40))
    three = (_probs(other=0.999, three=0.001), (8, 10, 28, 40))
    above = (_probs(other=0.999, nine=0.001), (52, -20, 60, -5))  # a piece of the line above, no digit
    assert _read_run(three, one, above) == ["๓", "๑", "?"]
    apart = (_probs(other=0.999, three=0.001), (-30, 10, -10, 40))  # a word space before the digit
    assert _read_run(apart, one) == ["?", "๑"]


def test_a_digit_outweighed_by_letter_and_piece_together_is_rescued_inside_a_number() -> None:
    """A broken ๐ the network calls ๐ 0.40, a letter 0.35 and a piece 0.25 reads `?` (the two
    rejects together); inside a number that makes it a reject to rescue, not a digit to leave."""
    one = (_probs(one=0.99, other=0.01), (0, 10, 20, 40))
    zero = (_probs(zero=0.40, other=0.35, frag=0.25), (22, 10, 42, 40))
    two_more = [(_probs(one=0.99, other=0.01), (44 + 22 * i, 10, 64 + 22 * i, 40)) for i in range(2)]
    assert _read_run(one, zero, *two_more) == ["๑", "๐", "๑", "๑"]
