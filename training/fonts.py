"""The fonts the digit model is trained on and measured with.

    python -m training.fonts install     # npm install the fontsource packages into build/fonts (idempotent)
    python -m training.fonts list        # what is installed, per split

`fonts.json` names the packages and splits the families: `train` (fontsource families plus Debian's TLWG
fonts) and `heldout` (office and body faces never used for training). A fontsource package ships one
woff2 file per subset: the Thai subset holds the Thai letters and digits, the Latin subset the Arabic
digits and punctuation, so a renderer needs both (`FontFile.path`, `FontFile.latin_path`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().parent / "fonts.json"
PREFIX = ROOT / "build" / "fonts"
FONTSOURCE = PREFIX / "node_modules" / "@fontsource"
TLWG = Path("/usr/share/fonts/truetype/tlwg")


@dataclass(frozen=True)
class FontFile:
    """One weight of one family, upright. `path` covers Thai, `latin_path` Arabic digits and punctuation
    (the same file for TLWG fonts, which cover both)."""

    family: str
    weight: int
    path: Path
    latin_path: Path

    @property
    def name(self) -> str:
        return f"{self.family}-{self.weight}"


def config() -> dict:
    return json.loads(CONFIG.read_text(encoding="utf-8"))


def packages() -> list[str]:
    """Every fontsource package of both splits as `@fontsource/<family>@<version>`."""
    cfg = config()
    return [
        f"@fontsource/{family}@{version}"
        for split in ("train", "heldout")
        for family, version in cfg[split]["fontsource"].items()
    ]


def installed() -> bool:
    return all(
        (FONTSOURCE / family / "package.json").exists()
        for split in ("train", "heldout")
        for family in config()[split]["fontsource"]
    )


def install() -> None:
    """`npm install --prefix build/fonts <packages>`; does nothing when all are there."""
    if installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed to fetch the fonts (apt-get install npm)")
    PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--loglevel=error", *packages()],
        check=True,
    )


def _fontsource_file(family: str, subset: str, weight: int) -> Path:
    return FONTSOURCE / family / "files" / f"{family}-{subset}-{weight}-normal.woff2"


def _tlwg_weight(name: str) -> int:
    return 700 if name.endswith("-Bold") else 300 if name.endswith("-Light") else 400


def font_files(split: str) -> list[FontFile]:
    """The installed fonts of `split` ("train" or "heldout"), one entry per family and weight.

    Weights listed in fonts.json that a family does not ship are skipped. Debian's TLWG fonts are part
    of "train".
    """
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', not {split!r}")
    cfg = config()[split]
    files: list[FontFile] = []
    for family in cfg["fontsource"]:
        for weight in cfg["weights"]:
            thai = _fontsource_file(family, "thai", weight)
            latin = _fontsource_file(family, "latin", weight)
            if thai.exists() and latin.exists():
                files.append(FontFile(family, weight, thai, latin))
    for name in cfg.get("debian", []):
        path = TLWG / f"{name}.ttf"
        if path.exists():
            files.append(FontFile(name.split("-")[0], _tlwg_weight(name), path, path))
    return files


def heldout_families() -> list[tuple[str, str, str]]:
    """(family, regular path, bold path) of every installed held-out family: Thai-subset woff2 files.

    These files hold Thai letters and digits only; Arabic digits and punctuation are in the Latin
    subset next to them (`font_files("heldout")` gives both).
    """
    by_family: dict[str, dict[int, FontFile]] = {}
    for f in font_files("heldout"):
        by_family.setdefault(f.family, {})[f.weight] = f
    out = []
    for family, weights in by_family.items():
        regular = weights.get(400) or weights[min(weights)]
        bold = weights.get(700) or regular
        out.append((family, str(regular.path), str(bold.path)))
    return out


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "install"
    if command == "install":
        install()
    elif command == "list":
        for split in ("train", "heldout"):
            fonts = font_files(split)
            print(f"{split}: {len(fonts)} files, {len({f.family for f in fonts})} families")
            for f in fonts:
                print(f"  {f.name:32} {f.path}")
    else:
        sys.exit("usage: python -m training.fonts [install|list]")


if __name__ == "__main__":
    main(sys.argv[1:])
