"""Training samples for the digit network, cut from rendered tokens by the run-time segmenter.

Every token is drawn, scanned (`training.render`), then segmented with `pipeline.ocr.glyphs.Layout`
exactly as `GlyphReader.read` does, with every wide atom cut. Each candidate glyph (one to three
consecutive pieces) is labelled from the pixels it holds: a whole glyph cluster gives its class,
whole Thai or Latin letters give `other`, anything else (a piece of a glyph, two glyphs together,
noise) gives `frag`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from pipeline.ocr.glyphs import N_SCALARS, SHAPE, Layout
from training.fonts import FontFile
from training.render import LABELS, Token, scan_token
from training.tokens import random_token

INDEX = {label: i for i, label in enumerate(LABELS)}
KEEP = {"frag": 0.08, "other": 0.6}  # subsampling: fragments and letters are plentiful


@dataclass
class Samples:
    shapes: np.ndarray  # uint8 N×SHAPE×SHAPE
    scalars: np.ndarray  # float32 N×N_SCALARS
    labels: np.ndarray  # int64 N

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        return Samples(
            np.concatenate([p.shapes for p in parts]),
            np.concatenate([p.scalars for p in parts]),
            np.concatenate([p.labels for p in parts]),
        )


def candidate_label(
    token: Token, layout: Layout, mask: np.ndarray, box: tuple[int, int, int, int], totals: np.ndarray
) -> str:
    x0, y0, x1, y1 = box
    owners = token.owner[y0:y1, x0:x1][mask]
    n = owners.size
    counts = np.bincount(owners[owners >= 0], minlength=len(token.labels))
    if n == 0 or counts.sum() == 0:
        return "frag"
    k = int(np.argmax(counts))
    share = counts / np.maximum(1, totals)  # how much of each cluster the candidate holds
    others = [i for i in np.flatnonzero(counts) if i != k]
    if counts[k] >= 0.9 * n and share[k] >= 0.9 and all(share[i] < 0.4 for i in others):
        return token.labels[k]
    held = [i for i in np.flatnonzero(counts) if share[i] >= 0.4]
    if (
        counts.sum() >= 0.9 * n
        and all(token.labels[i] == "other" and share[i] >= 0.85 for i in held)
        and sum(counts[i] for i in held) >= 0.9 * n
    ):
        return "other"
    return "frag"


def token_samples(token: Token, rng: random.Random) -> list[tuple[np.ndarray, np.ndarray, int]]:
    measured = token.consonant_height * rng.uniform(0.92, 1.08)  # callers measure it, roughly
    layout = Layout(token.ink > 127, measured)
    kept = layout.atom_map >= 0
    owners = token.owner[kept]
    totals = np.bincount(owners[owners >= 0], minlength=len(token.labels))
    pieces = [p for atom in range(len(layout.atom_boxes)) for p in layout.cut(atom)]
    out = []
    for i, j in layout.segments(pieces):
        mask, box = layout.mask(pieces[i:j])
        label = candidate_label(token, layout, mask, box, totals)
        if rng.random() > KEEP.get(label, 1.0):
            continue
        shape, scalars, _ = layout.features(pieces[i:j])
        out.append((np.round(shape * 255).astype(np.uint8), scalars, INDEX[label]))
    return out


def build(fonts: list[FontFile], count: int, seed: int) -> Samples:
    """Samples from `count` random tokens, each in a random font at a random size (11–40 px)."""
    rng = random.Random(seed)
    rows: list[tuple[np.ndarray, np.ndarray, int]] = []
    for _ in range(count):
        font = rng.choice(fonts)
        # Small sizes are where reading fails: draw them more often.
        consonant_height = rng.choice([rng.uniform(11, 20), rng.uniform(11, 40)])
        token = scan_token(random_token(rng), font, consonant_height, rng)
        rows.extend(token_samples(token, rng))
    if not rows:
        return Samples(
            np.zeros((0, SHAPE, SHAPE), np.uint8), np.zeros((0, N_SCALARS), np.float32), np.zeros(0, np.int64)
        )
    return Samples(
        np.stack([r[0] for r in rows]),
        np.stack([r[1] for r in rows]).astype(np.float32),
        np.array([r[2] for r in rows], np.int64),
    )
