"""Tune the addressee-matching thresholds on what the reader actually produced.

    .venv/bin/python -m bench.routing [--results build/bench/accuracy-20261124-200]

Uses the addressees (and distribution lists) read by `bench/accuracy.py` on its evaluation set
and, for each threshold, counts letters resolved to exactly the right units, letters sent to
review (unresolved or ambiguous), and letters resolved to a wrong set — the costly kind. The
chosen values in pipeline/route.py are the ones with no wrong set and the fewest reviews.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline import route
from storage.directory import parse_directory_file

ROOT = Path(__file__).resolve().parents[1]


def evaluate(folder: Path, threshold: float, margin: float) -> dict[str, int]:
    directory = parse_directory_file(ROOT / "samples" / "directory.yaml")
    results = {Path(r["file"]).name: r for r in json.loads((folder / "results-ours.json").read_text("utf-8"))}
    counts = {"exact": 0, "review": 0, "wrong": 0}
    saved = route.MATCH_THRESHOLD, route.AMBIGUITY_MARGIN
    route.MATCH_THRESHOLD, route.AMBIGUITY_MARGIN = threshold, margin
    try:
        for path in sorted((folder / "truth").glob("*.json")):
            truth = json.loads(path.read_text("utf-8"))
            read = results.get(truth["file"])
            if truth["kind"] == "not_letter" or read is None or "error" in read:
                continue
            addressee = (read.get("addressee") or {}).get("value")
            resolution = route.resolve(addressee, directory, distribution=read.get("distribution") or [])
            sender = next((u.id for u in directory.units.values() if u.name == truth.get("sender_unit")), None)
            units = sorted(resolution.units - {sender})
            if not resolution.complete or read.get("distribution_complete") is False:
                counts["review"] += 1
            elif units == truth["recipients"]:
                counts["exact"] += 1
            else:
                counts["wrong"] += 1
    finally:
        route.MATCH_THRESHOLD, route.AMBIGUITY_MARGIN = saved
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=ROOT / "build" / "bench" / "accuracy-20261124-200")
    args = parser.parse_args()
    print(f"{'threshold':>9} {'margin':>6} {'exact':>6} {'review':>6} {'wrong':>6}")
    for threshold in (80.0, 83.0, 86.0, 89.0, 92.0):
        for margin in (1.0, 3.0, 5.0):
            c = evaluate(args.results, threshold, margin)
            mark = "  <- in use" if (threshold, margin) == (route.MATCH_THRESHOLD, route.AMBIGUITY_MARGIN) else ""
            print(f"{threshold:>9.0f} {margin:>6.0f} {c['exact']:>6} {c['review']:>6} {c['wrong']:>6}{mark}")


if __name__ == "__main__":
    main()
