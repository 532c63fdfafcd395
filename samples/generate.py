"""Render synthetic scanned letters with their ground truth.

    python -m samples.generate --out samples/letters --committed     # the small set in the repo
    python -m samples.generate --out /tmp/eval --count 200 --seed 7 --hard --fonts-dir build/fonts/heldout

Writes each scan (PDF, multi-page TIFF or JPEG) into OUT, its ground truth as OUT/truth/<stem>.json
(the `saraban extract --json` shape plus the expected recipients and how it was scanned), and
OUT/register.csv: the outgoing register those letters were numbered from, plus numbers that were
taken and never sent.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml

from pipeline.models import LetterNumber
from pipeline.thai import thai_date_text, to_thai_digits
from samples.content import SENDERS, LetterSpec, random_letter
from samples.render import DEBIAN_FONTS, FontSpec, debian_font, render
from samples.scan import ScanSettings, degrade, random_settings, write_scan

HERE = Path(__file__).resolve().parent
DIRECTORY = HERE / "directory.yaml"

# The official font is by far the most common; the rest appear in older or outside letters.
FONT_WEIGHTS = {"Laksaman": 50, "Norasi": 8, "Kinnari": 8, "Garuda": 6, "Loma": 6, "Umpush": 6, "Waree": 6,
                "Sawasdee": 5, "TlwgTypo": 5}


def load_directory(path: Path = DIRECTORY) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def heldout_fonts() -> list[FontSpec]:
    """The fonts the digit model never saw in training (installed by `make fonts`)."""
    from training.fonts import font_files

    by_family: dict[str, dict[int, object]] = {}
    for f in font_files("heldout"):
        by_family.setdefault(f.family, {})[f.weight] = f
    specs = []
    for family, weights in sorted(by_family.items()):
        regular = weights.get(400) or weights[min(weights)]
        bold = weights.get(700) or regular
        specs.append(FontSpec(family, str(regular.path), str(bold.path),  # type: ignore[attr-defined]
                              str(regular.latin_path), str(bold.latin_path)))  # type: ignore[attr-defined]
    return specs


def choose_font(rng: random.Random, extra: list[FontSpec]) -> FontSpec:
    if extra:
        return rng.choice(extra)
    names = list(FONT_WEIGHTS)
    return debian_font(rng.choices(names, weights=[FONT_WEIGHTS[n] for n in names])[0])


def choose_format(rng: random.Random, pages: int) -> str:
    if pages == 1 and rng.random() < 0.15:
        return ".jpg"
    return rng.choices([".pdf", ".tif"], weights=[75, 25])[0]


def produce(spec: LetterSpec, font: FontSpec, settings: ScanSettings, path: Path, rng: random.Random) -> dict:
    """Render, scan and write one document; return its ground truth."""
    # Stations stamp where there is room; over the header text only colour scans keep the two apart,
    # so in gray and bilevel scans the stamp sits in the top margin.
    spec.stamp_over_text = settings.mode == "colour"
    clean = render(spec, font, rng)
    if len(clean) > 1 and path.suffix == ".jpg":  # the body ran onto a page the estimate did not count
        path = path.with_suffix(".tif")
    scanned = [degrade(page, settings, rng, first=(i == 0)) for i, page in enumerate(clean)]
    write_scan(scanned, path, settings)
    truth = spec.truth(path.name, len(clean))
    truth["scan"] = {**settings.as_dict(), "font": font.name, "format": path.suffix.lstrip(".")}
    truth["sender_unit"] = spec.sender.unit_name if spec.sender else None
    truth["received_stamp"] = spec.received_stamp
    truth["distribution"] = [name for _h, names in spec.distribution for name in names]
    return truth


def write_register(specs: list[LetterSpec], path: Path, rng: random.Random, unsent: int = 8) -> None:
    """The central register: a row for every numbered letter, and numbers taken but never scanned."""
    rows = []
    for spec in specs:
        if spec.kind == "not_letter" or not spec.in_register or not spec.number or not spec.number.complete:
            continue
        rows.append(_register_row(spec.number, spec.date, spec.subject, spec.sender.unit_name, rng))  # type: ignore[arg-type,union-attr]
    for _ in range(unsent):
        sender = rng.choice(SENDERS)
        number = LetterNumber(sender.code, rng.choice(sender.agencies), rng.random() < 0.5, rng.randint(20000, 29999))
        date = dt.date(2024, rng.randint(1, 10), rng.randint(1, 28))
        rows.append(_register_row(number, date, "ขอความร่วมมือรายงานข้อมูล", sender.unit_name, rng))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "date", "subject", "sender"])
        writer.writerows(rows)


def _register_row(number: LetterNumber, date: dt.date, subject: str, sender: str, rng: random.Random) -> list[str]:
    # Offices export what they typed: mostly canonical, now and then Thai digits or a Thai date.
    text = number.canonical
    if rng.random() < 0.2:
        text = to_thai_digits(text)
    date_text = date.isoformat() if rng.random() < 0.8 else thai_date_text(date.year, date.month, date.day)
    return [text, date_text, subject, sender]


# -- the committed set: every situation the pipeline must handle, once ---------------------------

Scenario = tuple[str, str, Callable[[LetterSpec], LetterSpec], Callable[[ScanSettings], ScanSettings]]

def _committed() -> list[Scenario]:
    def letter(**kw):  # type: ignore[no-untyped-def]
        return lambda s: replace(s, **kw)

    def scan(**kw):  # type: ignore[no-untyped-def]
        return lambda s: replace(s, **kw)

    return [
        ("01-circular-groups", ".pdf", letter(kind="letter", urgency="ด่วนที่สุด", received_stamp=True),
         scan(mode="colour", dpi=200, skew=1.2)),
        ("02-single-addressee", ".pdf", letter(kind="letter", attachments=[], attachment_pages=0),
         scan(mode="gray", dpi=200)),
        ("03-missing-attachments", ".pdf", letter(kind="letter", attachment_pages=0),
         scan(mode="gray", dpi=200, skew=-0.8)),
        ("04-attachment-no-marker", ".pdf", letter(kind="letter", attachment_pages=1, attachment_marker=False),
         scan(mode="gray", dpi=150)),
        ("05-memo", ".tif", letter(kind="memo"), scan(mode="gray", dpi=200, skew=0.6)),
        ("06-arabic-digits", ".jpg", letter(kind="letter", thai_digits=False, attachments=[], attachment_pages=0,
                                            continuation_pages=0, distribution=[]), scan(mode="gray", dpi=200)),
        ("07-blank-serial", ".pdf", letter(kind="letter"), scan(mode="gray", dpi=200)),
        ("08-references-continued", ".pdf", letter(kind="letter", continuation_pages=1),
         scan(mode="gray", dpi=200, skew=2.1)),
        ("09-secret", ".pdf", letter(kind="letter", secrecy="ลับ"), scan(mode="colour", dpi=150)),
        ("10-order", ".pdf", letter(kind="not_letter", not_letter_style="order"), scan(mode="gray", dpi=150)),
        ("11-meeting-summary", ".tif", letter(kind="not_letter", not_letter_style="meeting"),
         scan(mode="bilevel", dpi=200)),
        ("12-bilevel-fax", ".tif", letter(kind="letter"), scan(mode="bilevel", dpi=150, skew=-1.5)),
        ("13-upside-down", ".pdf", letter(kind="letter"), scan(mode="gray", dpi=200, upside_down=True)),
        ("14-outside-sender", ".pdf", letter(kind="letter"), scan(mode="gray", dpi=200)),
        ("15-distribution-list", ".pdf", letter(kind="letter"), scan(mode="gray", dpi=150)),
        ("16-five-digit-agency", ".pdf", letter(kind="letter"), scan(mode="colour", dpi=150, skew=0.4)),
        ("17-memo-missing-attachments", ".pdf", letter(kind="memo", attachment_pages=0, date_style="abbr2",
                                                       urgency="ด่วน"), scan(mode="colour", dpi=150)),
        ("18-date-split", ".pdf", letter(kind="letter", date_split=True), scan(mode="gray", dpi=200)),
    ]


def _fix_committed(name: str, spec: LetterSpec, rng: random.Random, directory: dict) -> LetterSpec:
    """Make sure each committed scenario shows what its name says, whatever the dice gave."""
    from samples.content import ATTACHMENT_ITEMS, OUTSIDE_SENDERS, _choose_addressee

    if spec.kind == "not_letter":
        return spec
    needs_attachments = name.startswith(("01", "03", "04", "17"))
    if needs_attachments and not spec.attachments:
        spec.attachments = [spec.printed(f"{item} จำนวน 1 ชุด") for item in rng.sample(ATTACHMENT_ITEMS, 2)]
    if name.startswith("01"):
        spec.attachment_pages, spec.attachment_marker = 2, True
        spec.number = replace(spec.number, circular=True)  # type: ignore[arg-type]
        spec.addressee = "นายอำเภอทุกอำเภอ และหัวหน้าส่วนราชการประจำจังหวัดลำปาง"
        from samples.content import _group_members

        members = _group_members(directory)
        from samples.content import sender_unit_id

        own = sender_unit_id(directory, spec.sender)
        spec.recipients = sorted((set(members["amphoe-all"]) | set(members["provincial-heads"])) - {own})
        spec.distribution = []
    if name.startswith(("02", "06", "18")):
        unit = next(u for u in directory["units"] if u["id"] == "amphoe-02")  # นายอำเภอเกาะคา
        spec.addressee, spec.recipients, spec.distribution = unit["head"], [unit["id"]], []
        from samples.content import sender_unit_id

        if sender_unit_id(directory, spec.sender) == unit["id"]:  # no unit writes to itself
            spec.sender = SENDERS[0]
            spec.number = LetterNumber(SENDERS[0].code, SENDERS[0].agencies[0], spec.number.circular,  # type: ignore[union-attr]
                                       spec.number.serial)  # type: ignore[union-attr]
    if name.startswith("07"):
        spec.number = replace(spec.number, serial=None)  # type: ignore[arg-type]
    if name.startswith("08") and not spec.references:
        from samples.content import _reference

        spec.references = [_reference(rng, spec), _reference(rng, spec)]
    if name.startswith("14"):
        spec.sender = OUTSIDE_SENDERS[0]
        spec.number = LetterNumber("มท", "0810.7", True, 5827)
        spec.in_register = False
    if name.startswith("15"):
        spec.number = replace(spec.number, circular=True)  # type: ignore[arg-type]
        while not spec.distribution:
            _choose_addressee(rng, spec, directory, True)
    if name.startswith("16"):
        spec.sender = SENDERS[5]
        spec.number = LetterNumber("ศธ", "04099", False, rng.randint(100, 9999))
    if spec.number and spec.number.serial is None and not name.startswith("07"):
        spec.number = replace(spec.number, serial=rng.randint(100, 9999))
    return spec


def generate_committed(out: Path, seed: int = 2567) -> list[dict]:
    rng = random.Random(seed)
    directory = load_directory()
    truths, specs = [], []
    for name, suffix, tweak, scan_tweak in _committed():
        spec = random_letter(rng, directory, kind=None)
        spec = tweak(spec)
        if spec.kind == "not_letter" and not spec.not_letter_style:
            spec = random_letter(rng, directory, kind="not_letter")
            spec = tweak(spec)
        if spec.kind != "not_letter" and spec.number is None:
            spec = tweak(random_letter(rng, directory, kind=spec.kind))
        spec = _fix_committed(name, spec, rng, directory)
        settings = scan_tweak(ScanSettings(blur=0.5, noise=4, light=0.12, jpeg_quality=60))
        font = debian_font("Laksaman" if rng.random() < 0.7 else rng.choice(["Norasi", "Kinnari", "Loma"]))
        truths.append(produce(spec, font, settings, out / f"{name}{suffix}", rng))
        specs.append(spec)
    write_register(specs, out.parent / "register.csv", rng)
    return truths


def generate(out: Path, count: int, seed: int, *, hard: bool = False, fonts: list[FontSpec] | None = None,
             prefix: str = "", hard_share: float | None = None, font_share: float = 1.0) -> list[dict]:
    """`count` random documents into `out`, with truth and register.csv.

    `hard_share`: the share of scans drawn from the difficult end (default: all if `hard`, else none);
    `fonts`/`font_share`: that share of documents is set in one of `fonts` instead of Debian's.
    """
    rng = random.Random(seed)
    directory = load_directory()
    truths, specs = [], []
    share = (1.0 if hard else 0.0) if hard_share is None else hard_share
    for i in range(count):
        spec = random_letter(rng, directory)
        settings = random_settings(rng, hard=rng.random() < share)
        font = choose_font(rng, (fonts or []) if rng.random() < font_share else [])
        pages = 1 + spec.continuation_pages + spec.attachment_pages + (1 if spec.distribution else 0)
        suffix = choose_format(rng, pages)
        truths.append(produce(spec, font, settings, out / f"{prefix}{i:05d}{suffix}", rng))
        specs.append(spec)
    write_register(specs, out / "register.csv", rng)
    return truths


def write_truths(out: Path, truths: list[dict]) -> None:
    folder = out / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    for truth in truths:
        stem = Path(truth["file"]).stem
        (folder / f"{stem}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hard", action="store_true", help="draw scan settings from the difficult end")
    parser.add_argument("--committed", action="store_true", help="the fixed set committed in samples/letters")
    parser.add_argument("--heldout-fonts", type=float, default=0.0, metavar="SHARE",
                        help="set this share of documents in fonts the digit model was not trained on")
    parser.add_argument("--hard-share", type=float, help="share of scans from the difficult end")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.committed:
        truths = generate_committed(args.out)
    else:
        fonts = heldout_fonts() if args.heldout_fonts else None
        truths = generate(args.out, args.count, args.seed, hard=args.hard, fonts=fonts,
                          hard_share=args.hard_share, font_share=args.heldout_fonts)
    write_truths(args.out, truths)
    print(f"{len(truths)} scans → {args.out}")


if __name__ == "__main__":
    main()

__all__ = ["DEBIAN_FONTS", "generate", "generate_committed", "main"]
