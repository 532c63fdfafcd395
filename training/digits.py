"""Train the digit-glyph network and write `pipeline/ocr/models/digits.{onnx,json}`.

    python -m training.digits                    # `make train-digits`: data, training, export, evaluation
    python -m training.digits --tokens 3000 --epochs 1 --out /tmp/try   # a quick trial

Needs torch and onnx (the `train` extra) and the fonts (`make fonts`). Uses two processes to build
the data and two threads to train; about 25 minutes on two cores. Every random draw comes from
`--seed`, so a rerun builds the same data (the trained weights may differ in the last digits, as
PyTorch's CPU kernels are not bit-for-bit deterministic across machines).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np

from pipeline.ocr.glyphs import MODEL_DIR, N_SCALARS, SHAPE, GlyphReader
from training import evaluate
from training.dataset import Samples, build
from training.fonts import ROOT, font_files, installed
from training.render import LABELS

CACHE = ROOT / "build" / "digits"
CHUNK = 500  # tokens per data job; each job has its own seed, so the data does not depend on scheduling


def _job(args: tuple[int, int]) -> Samples:
    import cv2

    cv2.setNumThreads(1)
    seed, count = args
    return build(font_files("train"), count, seed)


def samples(tokens: int, seed: int, workers: int = 2) -> Samples:
    """Training samples from `tokens` tokens, cached in build/digits."""
    path = CACHE / f"samples-{seed}-{tokens}.npz"
    if path.exists():
        data = np.load(path)
        return Samples(data["shapes"], data["scalars"], data["labels"])
    jobs = [
        (seed * 100_003 + n, min(CHUNK, tokens - n * CHUNK)) for n in range((tokens + CHUNK - 1) // CHUNK)
    ]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_job, jobs, chunksize=1)
    out = Samples.concat(parts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, shapes=out.shapes, scalars=out.scalars, labels=out.labels)
    return out


def train(data: Samples, valid: Samples, epochs: int, seed: int, threads: int):  # -> DigitNet
    import torch
    import torch.nn.functional as F

    from training.model import DigitNet

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    net = DigitNet(len(LABELS))
    shapes = torch.from_numpy(data.shapes)
    scalars = torch.from_numpy(data.scalars)
    labels = torch.from_numpy(data.labels)
    batch = 256
    steps = (len(labels) + batch - 1) // batch
    optimiser = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=3e-3, total_steps=epochs * steps, pct_start=0.15
    )
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(labels), generator=generator)
        started, total = time.time(), 0.0
        for step in range(steps):
            idx = order[step * batch : (step + 1) * batch]
            x = shapes[idx].unsqueeze(1).float() / 255.0
            loss = F.cross_entropy(net(x, scalars[idx]), labels[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss)
        errors = validation_errors(net, valid)
        torch.save(net.state_dict(), CACHE / "checkpoint.pt")
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / steps:.4f}, validation error {errors:.4%}, "
            f"{time.time() - started:.0f} s",
            flush=True,
        )
    return net


def validation_errors(net, valid: Samples) -> float:
    import torch

    net.eval()
    with torch.no_grad():
        logits = net(
            torch.from_numpy(valid.shapes).unsqueeze(1).float() / 255.0, torch.from_numpy(valid.scalars)
        )
    return float((logits.argmax(1).numpy() != valid.labels).mean())


def export(net, path: Path) -> None:
    import torch

    from training.model import WithSoftmax

    model = WithSoftmax(net).eval()
    example = (torch.zeros(2, 1, SHAPE, SHAPE), torch.zeros(2, N_SCALARS))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=["shape", "scalars"],
        output_names=["probabilities"],
        dynamic_axes={"shape": {0: "n"}, "scalars": {0: "n"}, "probabilities": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )


def classify_time(reader: GlyphReader, glyphs: int = 40, repeats: int = 200) -> float:
    """Milliseconds to classify `glyphs` glyphs in one batch (features already computed)."""
    rng = np.random.default_rng(0)
    shapes = rng.random((glyphs, SHAPE, SHAPE), dtype=np.float32)
    scalars = rng.random((glyphs, N_SCALARS), dtype=np.float32)
    reader.probabilities(shapes, scalars)
    started = time.perf_counter()
    for _ in range(repeats):
        reader.probabilities(shapes, scalars)
    return 1000 * (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument(
        "--per-font-dpi", type=int, default=40, help="held-out evaluation tokens per font and dpi"
    )
    parser.add_argument("--no-tesseract", action="store_true")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 on a busy machine)")
    args = parser.parse_args()
    if not installed():
        raise SystemExit("fonts missing: run `make fonts` (python -m training.fonts install)")
    import torch

    started = time.time()
    data = samples(args.tokens, args.seed)
    valid = samples(max(CHUNK, args.tokens // 30), args.seed + 1000)
    counts = np.bincount(data.labels, minlength=len(LABELS))
    print(
        f"{len(data.labels)} samples from {args.tokens} tokens in {time.time() - started:.0f} s:",
        dict(zip(LABELS, counts.tolist(), strict=True)),
        flush=True,
    )
    net = train(data, valid, args.epochs, args.seed, args.threads)
    onnx_path = args.out / "digits.onnx"
    export(net, onnx_path)
    meta = {
        "labels": list(LABELS),
        "reject": ["other", "frag"],
        "input": {
            "shape": SHAPE,
            "scalars": N_SCALARS,
            "scalar_names": [
                "height/ch",
                "width/ch",
                "bottom above baseline/ch",
                "top above baseline/ch",
                "sqrt(ink)/ch",
                "ink/box area",
            ],
        },
        "train_fonts": sorted({f.name for f in font_files("train")}),
        "heldout_fonts": sorted({f.name for f in font_files("heldout")}),
        "seed": args.seed,
        "tokens": args.tokens,
        "samples": len(data.labels),
        "epochs": args.epochs,
        "validation_error_train_fonts": validation_errors(net, valid),
        "torch": torch.__version__,
        "date": dt.date.today().isoformat(),
    }
    meta_path = onnx_path.with_suffix(".json")
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    reader = GlyphReader(onnx_path)
    cases = evaluate.make_cases(font_files("heldout"), args.per_font_dpi, seed=2024)
    meta["heldout"] = evaluate.evaluate(cases, reader)
    meta["heldout"]["ms_classify_40_glyphs"] = classify_time(reader)
    if not args.no_tesseract:
        subset = cases[::4]
        meta["tesseract_heldout"] = evaluate.tesseract(subset)
        meta["tesseract_heldout"]["reader_same_tokens_thai_digits"] = evaluate.digit_sequence_accuracy(
            subset, reader
        )
    meta["build_seconds"] = round(time.time() - started)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {k: meta[k] for k in ("heldout", "tesseract_heldout") if k in meta}, ensure_ascii=False, indent=1
        )
    )


if __name__ == "__main__":
    main()
