"""Draw a `LetterSpec` as clean A4 pages at 300 dpi, laid out as งานสารบรรณ prescribes.

Thai needs shaping: Pillow's raqm layout places the marks above and below consonants.
The drawing is clean; `samples.scan` turns it into what a station scanner produces.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.thai import to_thai_digits
from samples.content import LetterSpec

DPI = 300
A4 = (2480, 3508)
BLACK = (20, 20, 24)
RED = (205, 30, 35)
BLUE = (35, 60, 170)

TLWG = Path("/usr/share/fonts/truetype/tlwg")
# family → (regular, bold) files. Laksaman is TLWG's near copy of TH SarabunPSK, the official font.
DEBIAN_FONTS = {
    "Laksaman": ("Laksaman.ttf", "Laksaman-Bold.ttf"),
    "Norasi": ("Norasi.ttf", "Norasi-Bold.ttf"),
    "Kinnari": ("Kinnari.ttf", "Kinnari-Bold.ttf"),
    "Garuda": ("Garuda.ttf", "Garuda-Bold.ttf"),
    "Loma": ("Loma.ttf", "Loma-Bold.ttf"),
    "Umpush": ("Umpush.ttf", "Umpush-Bold.ttf"),
    "Waree": ("Waree.ttf", "Waree-Bold.ttf"),
    "Sawasdee": ("Sawasdee.ttf", "Sawasdee-Bold.ttf"),
    "TlwgTypo": ("TlwgTypo.ttf", "TlwgTypo-Bold.ttf"),
}

WRAP_AT_SPACE_FROM = 0.65  # a space this far along the line is where a typist breaks it
CONSONANT_HEIGHT = 27  # px of "ก" at 300 dpi: 16 pt TH Sarabun as printed by Thai offices


def mm(value: float) -> int:
    return round(value / 25.4 * DPI)


@dataclass(frozen=True)
class FontSpec:
    """A family as two files (regular, bold); either a TLWG name or paths to other fonts.

    Web fonts come split in subsets: the Thai file has no Latin letters, Arabic digits or
    punctuation, so `latin_regular`/`latin_bold` name the files those are drawn from.
    """

    name: str
    regular: str
    bold: str
    latin_regular: str | None = None
    latin_bold: str | None = None


def debian_font(name: str) -> FontSpec:
    regular, bold = DEBIAN_FONTS[name]
    return FontSpec(name, str(TLWG / regular), str(TLWG / bold))


@cache
def _font(path: str, consonant_px: int) -> ImageFont.FreeTypeFont:
    """The font sized so that "ก" is `consonant_px` tall, whatever the family's em."""
    probe = ImageFont.truetype(path, 100)
    box = probe.getbbox("ก")
    size = max(8, round(100 * consonant_px / max(1, box[3] - box[1])))
    return ImageFont.truetype(path, size)


class Page:
    """One A4 page being typeset, with a cursor that moves down line by line."""

    def __init__(self, font: FontSpec, scale: float = 1.0) -> None:
        self.image = Image.new("RGB", A4, (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.fontspec = font
        self.consonant = round(CONSONANT_HEIGHT * scale)
        self.regular = _font(font.regular, self.consonant)
        self.bold = _font(font.bold, self.consonant)
        self.pitch = round(self.consonant * 2.45)  # single spacing for Thai: room for marks above and below
        self.left = mm(30)
        self.right = A4[0] - mm(20)
        self.y = mm(20)

    def font(self, bold: bool = False, scale: float = 1.0) -> ImageFont.FreeTypeFont:
        if scale == 1.0:
            return self.bold if bold else self.regular
        return _font(self.fontspec.bold if bold else self.fontspec.regular, round(self.consonant * scale))

    def _latin(self, bold: bool, scale: float) -> ImageFont.FreeTypeFont | None:
        path = self.fontspec.latin_bold if bold else self.fontspec.latin_regular
        if not path:
            return None
        # Sized by the Thai file's consonant so both subsets share one scale.
        thai = self.font(bold, scale)
        return ImageFont.truetype(path, thai.size)

    def _runs(self, text: str, bold: bool, scale: float) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """Runs of text with the font file that has their glyphs."""
        thai_font = self.font(bold, scale)
        latin_font = self._latin(bold, scale)
        if latin_font is None:
            return [(text, thai_font)]
        runs: list[tuple[str, ImageFont.FreeTypeFont]] = []
        for ch in text:
            font = thai_font if "\u0e00" <= ch <= "\u0e7f" else latin_font
            if runs and runs[-1][1] is font:
                runs[-1] = (runs[-1][0] + ch, font)
            else:
                runs.append((ch, font))
        return runs

    def width(self, text: str, bold: bool = False, scale: float = 1.0) -> float:
        return sum(self.draw.textlength(run, font=font) for run, font in self._runs(text, bold, scale))

    def text(self, x: float, text: str, *, bold: bool = False, fill: tuple[int, int, int] = BLACK, scale: float = 1.0,
             y: int | None = None) -> None:
        # Baseline-anchored so that lines of different content share one baseline grid.
        baseline = (self.y if y is None else y) + self.pitch * 0.7
        for run, font in self._runs(text, bold, scale):
            self.draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
            x += self.draw.textlength(run, font=font)

    def newline(self, count: float = 1.0) -> None:
        self.y += round(self.pitch * count)

    @property
    def full(self) -> bool:
        return self.y > A4[1] - mm(35)

    def wrap(self, text: str, width: float, *, prefer_spaces: bool) -> list[str]:
        """Break `text` into lines no wider than `width`, between Thai words.

        Typists wrap subjects and addressees at the space between phrases when one falls in the last
        third of the line, and indent the rest under the text; a phrase too long for that is broken
        between two words (no space). Body text simply flows.
        """
        from pythainlp.tokenize import word_tokenize

        tokens = word_tokenize(text, engine="newmm", keep_whitespace=True)
        lines: list[str] = []
        current = ""
        for token in tokens:
            candidate = current + token if current else token.lstrip()
            if current and self.width(candidate) > width:
                cut = current.rfind(" ")
                if prefer_spaces and cut > 0 and self.width(current[:cut]) >= width * WRAP_AT_SPACE_FROM:
                    lines.append(current[:cut].rstrip())
                    current = (current[cut + 1:] + token).lstrip()
                else:
                    lines.append(current.rstrip())
                    current = token.lstrip()
            else:
                current = candidate
        if current.strip():
            lines.append(current.rstrip())
        return lines

    def labelled(self, label: str, value: str, *, x: float | None = None, bold_label: bool = False,
                 prefer_spaces: bool = True) -> None:
        """`เรื่อง  <text>` with continuation lines indented under the text."""
        x = self.left if x is None else x
        self.text(x, label, bold=bold_label)
        indent = x + self.width(label, bold_label) + self.width("  ")
        for line in self.wrap(value, self.right - indent, prefer_spaces=prefer_spaces):
            self.text(indent, line)
            self.newline()

    def paragraph(self, text: str, indent_mm: float = 25) -> None:
        """A body paragraph: first line indented, the rest flowing from the left margin."""
        lines = self.wrap(text, self.right - self.left - mm(indent_mm), prefer_spaces=False)
        self.text(self.left + mm(indent_mm), lines[0] if lines else "")
        self.newline()
        rest = "".join(lines[1:])
        for line in self.wrap(rest, self.right - self.left, prefer_spaces=False) if rest else []:
            self.text(self.left, line)
            self.newline()


def garuda(draw: ImageDraw.ImageDraw, cx: int, top: int, height: int) -> None:
    """A stylised Garuda emblem: a dark, roughly 3 cm figure (not the real artwork)."""
    h = height
    w = int(h * 0.9)
    head_r = int(h * 0.11)
    draw.ellipse([cx - head_r, top, cx + head_r, top + 2 * head_r], fill=BLACK)
    # crown
    draw.polygon([(cx - head_r // 2, top + 4), (cx, top - int(h * 0.08)), (cx + head_r // 2, top + 4)], fill=BLACK)
    body_top = top + 2 * head_r
    draw.polygon([(cx - int(w * 0.16), body_top), (cx + int(w * 0.16), body_top),
                  (cx + int(w * 0.1), top + int(h * 0.8)), (cx - int(w * 0.1), top + int(h * 0.8))], fill=BLACK)
    for side in (-1, 1):  # raised wings of feathers
        for k in range(5):
            x0 = cx + side * int(w * 0.14)
            y0 = body_top + k * int(h * 0.06)
            x1 = cx + side * int(w * (0.5 - k * 0.04))
            y1 = top + int(h * (0.05 + k * 0.1))
            draw.line([(x0, y0), (x1, y1)], fill=BLACK, width=max(3, int(h * 0.035)))
        draw.polygon([(cx + side * int(w * 0.05), top + int(h * 0.78)), (cx + side * int(w * 0.2), top + h),
                      (cx + side * int(w * 0.02), top + int(h * 0.9))], fill=BLACK)


def signature(draw: ImageDraw.ImageDraw, x: int, y: int, rng: random.Random, colour=BLUE) -> None:
    points = []
    for t in range(60):
        a = t / 59 * math.pi * rng.uniform(3, 5)
        points.append((x + t * 7 + rng.uniform(-3, 3), y + math.sin(a) * rng.uniform(20, 40)))
    draw.line(points, fill=colour, width=4)


def received_stamp(page: Page, rng: random.Random, x: int, y: int) -> None:
    """A receiving office's blue box: its own number, date and time — not the letter's."""
    layer = Image.new("RGBA", (mm(55), mm(30)), (255, 255, 255, 0))
    d = ImageDraw.Draw(layer)
    font = page.font(scale=0.9)
    d.rectangle([3, 3, layer.width - 4, layer.height - 4], outline=(*BLUE, 235), width=5)
    lines = [rng.choice(["สำนักงานจังหวัดลำปาง", "กลุ่มงานอำนวยการ", "ศาลากลางจังหวัดลำปาง"]),
             f"เลขรับ {to_thai_digits(str(rng.randint(100, 9999)))}",
             f"วันที่ {to_thai_digits(str(rng.randint(1, 28)))} {rng.choice(['พ.ย.', 'ม.ค.', 'มี.ค.', 'ส.ค.'])} "
             f"{to_thai_digits(str(rng.randint(60, 68)))}",
             f"เวลา {to_thai_digits(f'{rng.randint(8, 16):02d}.{rng.randint(0, 59):02d}')} น."]
    for i, line in enumerate(lines):
        d.text((mm(4), mm(3) + i * layer.height * 0.21 + page.consonant), line, font=font, fill=(*BLUE, 235),
               anchor="ls")
    layer = layer.rotate(rng.uniform(-5, 5), expand=True, resample=Image.BICUBIC)
    _multiply(page.image, layer, (x, y))


def _multiply(base: Image.Image, layer: Image.Image, at: tuple[int, int]) -> None:
    """Ink on paper: darker wins, so a stamp over text keeps the text visible under it."""
    from PIL import ImageChops

    box = (at[0], at[1], at[0] + layer.width, at[1] + layer.height)
    region = base.crop(box)
    ink = Image.new("RGB", layer.size, (255, 255, 255))
    ink.paste(layer, mask=layer.split()[3])
    base.paste(ImageChops.multiply(region, ink), box)


def render(spec: LetterSpec, font: FontSpec, rng: random.Random) -> list[Image.Image]:
    """All pages of the document, letter pages first, then attachment pages."""
    pages = _not_letter(spec, font, rng) if spec.kind == "not_letter" else _letter(spec, font, rng)
    return [p.image for p in pages]


def _header_external(page: Page, spec: LetterSpec, rng: random.Random) -> None:
    assert spec.sender is not None
    cx = A4[0] // 2
    if spec.secrecy:
        page.text(cx - page.width(spec.secrecy, True) * 0.75, spec.secrecy, bold=True, fill=RED, scale=1.5, y=mm(6))
    garuda(page.draw, cx, mm(15), mm(30))
    if spec.urgency:
        page.text(page.left, spec.urgency, bold=True, fill=RED, scale=1.9, y=mm(28))
    page.y = mm(48)
    page.text(page.left, f"ที่ {spec.number_text}")
    office_x = A4[0] - mm(20) - max(page.width(line) for line in spec.sender.office) - mm(rng.uniform(0, 8))
    for line in spec.sender.office:
        page.text(office_x, line)
        page.newline()
    page.newline(0.5)
    date_x = cx - mm(rng.uniform(0, 6))
    if spec.date_split:
        # The day is filled in by hand on a line of its own; month and year printed below.
        day, rest = spec.date_text.split(" ", 1)
        page.text(date_x + mm(4), day)
        page.newline()
        page.text(date_x + mm(12), rest)
    else:
        page.text(date_x, spec.date_text)
    page.newline(1.5)
    page.labelled("เรื่อง", spec.subject)
    page.newline(0.5)
    page.labelled("เรียน", spec.addressee)
    _references_and_attachments(page, spec)


def _header_memo(page: Page, spec: LetterSpec, rng: random.Random) -> None:
    assert spec.sender is not None
    garuda(page.draw, page.left + mm(8), mm(15), mm(15))
    if spec.urgency:
        page.text(page.left + mm(22), spec.urgency, bold=True, fill=RED, scale=1.7, y=mm(4))
    if spec.secrecy:
        page.text(A4[0] // 2 - page.width(spec.secrecy, True) * 0.7, spec.secrecy, bold=True, fill=RED, scale=1.4,
                  y=mm(4))
    page.y = mm(20)
    page.text(A4[0] // 2 - page.width("บันทึกข้อความ", True) * 1.1, "บันทึกข้อความ", bold=True, scale=2.2)
    page.newline(1.6)
    phone = spec.printed(f"โทร. 0 5426 {rng.randint(5000, 5999)}")
    page.text(page.left, "ส่วนราชการ", bold=True, scale=1.1)
    page.text(page.left + page.width("ส่วนราชการ", True) * 1.1 + page.width("  "), f"{spec.sender.section} {phone}")
    page.newline()
    page.text(page.left, "ที่", bold=True, scale=1.1)
    page.text(page.left + page.width("ที่  ", True), spec.number_text)
    mid = page.left + (page.right - page.left) * 0.5
    page.text(mid, "วันที่", bold=True, scale=1.1)
    page.text(mid + page.width("วันที่  ", True) * 1.1, spec.date_text)
    page.newline()
    page.labelled("เรื่อง", spec.subject, bold_label=True)
    page.draw.line([(page.left, page.y + 8), (page.right, page.y + 8)], fill=BLACK, width=3)
    page.newline(0.6)
    page.labelled("เรียน", spec.addressee)
    _references_and_attachments(page, spec)


def _references_and_attachments(page: Page, spec: LetterSpec) -> None:
    if spec.references:
        label = "อ้างถึง"
        if len(spec.references) == 1:
            page.labelled(label, spec.references[0])
        else:
            page.text(page.left, label)
            indent = page.left + page.width(label + "  ")
            for i, ref in enumerate(spec.references, start=1):
                _numbered(page, indent, spec.printed(f"{i}."), ref)
    if spec.attachments:
        label = "สิ่งที่ส่งมาด้วย"
        if len(spec.attachments) == 1:
            page.labelled(label, spec.attachments[0])
        else:
            page.text(page.left, label)
            indent = page.left + page.width(label + "  ")
            for i, item in enumerate(spec.attachments, start=1):
                _numbered(page, indent, spec.printed(f"{i}."), item)
    page.newline(0.5)


def _numbered(page: Page, x: float, mark: str, text: str) -> None:
    """`๑. …` with wrapped lines aligned under the text after the mark."""
    page.text(x, mark)
    indent = x + page.width(mark + "  ")
    for line in page.wrap(text, page.right - indent, prefer_spaces=True):
        page.text(indent, line)
        page.newline()


def _letter(spec: LetterSpec, font: FontSpec, rng: random.Random) -> list[Page]:
    first = Page(font)
    (_header_memo if spec.kind == "memo" else _header_external)(first, spec, rng)
    pages = [first]
    page = first
    paragraphs = list(spec.body)
    # Continuation pages carry the rest of the body, each topped by a centred "- n -".
    per_page = max(1, len(paragraphs) // (spec.continuation_pages + 1))
    for index in range(spec.continuation_pages + 1):
        chunk = paragraphs[index * per_page:(index + 1) * per_page] if index < spec.continuation_pages else \
            paragraphs[index * per_page:]
        if index > 0:
            page = Page(font)
            page.y = mm(12)
            marker = spec.printed(f"- {index + 1} -")
            page.text(A4[0] // 2 - page.width(marker) / 2, marker)
            page.newline(2)
            pages.append(page)
            if not chunk:
                chunk = [rng.choice(spec.body)]
        for paragraph in chunk:
            if page.full:
                break
            page.paragraph(paragraph)
    _closing(page, spec, rng)
    if spec.distribution:
        pages.append(_distribution_page(spec, font))
    for n in range(spec.attachment_pages):
        pages.append(_attachment_page(spec, font, rng, n))
    if spec.secrecy:
        for p in pages[: 1 + spec.continuation_pages]:
            p.text(A4[0] // 2 - p.width(spec.secrecy, True) * 0.75, spec.secrecy, bold=True, fill=RED, scale=1.5,
                   y=A4[1] - mm(18))
    if spec.received_stamp:
        x = A4[0] - mm(70) - mm(rng.uniform(0, 10))
        y = mm(rng.uniform(8, 40)) if spec.stamp_over_text else mm(rng.uniform(1, 6))
        received_stamp(first, rng, x, y)
    return pages


def _closing(page: Page, spec: LetterSpec, rng: random.Random) -> None:
    assert spec.sender is not None
    page.y = min(page.y, A4[1] - mm(95))
    page.paragraph(spec.closing)
    cx = A4[0] // 2 + mm(5)
    if spec.kind == "letter":
        page.newline(0.5)
        page.text(cx - page.width("ขอแสดงความนับถือ") / 2, "ขอแสดงความนับถือ")
        page.newline(1)
    signature(page.draw, cx - mm(15), page.y + page.pitch, rng)
    page.newline(2.2)
    page.text(cx - page.width(spec.signer) / 2, spec.signer)
    page.newline()
    for line in spec.sender.signer_position:
        page.text(cx - page.width(line) / 2, line)
        page.newline()
    if spec.kind == "letter":
        page.y = A4[1] - mm(40)
        page.text(page.left, spec.sender.section)
        page.newline()
        page.text(page.left, spec.printed(f"โทร. 0 5426 {rng.randint(5000, 5999)}"))


def _distribution_page(spec: LetterSpec, font: FontSpec) -> Page:
    page = Page(font)
    page.y = mm(20)
    title = "(แจ้งท้าย)"
    page.text(A4[0] // 2 - page.width(title) / 2, title)
    page.newline(1.5)
    for heading, names in spec.distribution:
        page.text(page.left, f"{heading} ({spec.printed(str(len(names)))} หน่วยงาน)")
        page.newline(1.2)
        for i, name in enumerate(names, start=1):
            page.text(page.left + mm(10), f"{spec.printed(str(i))}. {name}")
            page.newline()
    return page


def _attachment_page(spec: LetterSpec, font: FontSpec, rng: random.Random, n: int) -> Page:
    """A form, a table or a copied document: anything but the letter itself."""
    page = Page(font)
    if spec.attachment_marker:
        marker = f"สิ่งที่ส่งมาด้วย {spec.printed(str(min(n, len(spec.attachments) - 1) + 1))}"
        page.text(page.right - page.width(marker), marker, y=mm(10))
    page.y = mm(25)
    title = spec.attachments[min(n, len(spec.attachments) - 1)].split(" จำนวน")[0]
    page.text(A4[0] // 2 - page.width(title, True) / 2, title, bold=True)
    page.newline(2)
    style = rng.choice(["table", "form", "photo"])
    if style == "table":
        cols = [page.left, page.left + mm(15), page.left + mm(95), page.right]
        top = page.y
        rows = rng.randint(8, 16)
        for r in range(rows + 1):
            y = top + r * page.pitch
            page.draw.line([(cols[0], y), (cols[-1], y)], fill=BLACK, width=3)
        for x in cols:
            page.draw.line([(x, top), (x, top + rows * page.pitch)], fill=BLACK, width=3)
        for r, head in enumerate(["ลำดับ", "รายการ", "หมายเหตุ"]):
            page.text(cols[r] + mm(2), head, bold=True, y=top - page.pitch // 8)
        for r in range(1, rows):
            page.text(cols[0] + mm(3), spec.printed(str(r)), y=top + r * page.pitch - page.pitch // 8)
    elif style == "form":
        for _ in range(rng.randint(8, 14)):
            label = rng.choice(["ชื่อหน่วยงาน", "ผู้ประสานงาน", "โทรศัพท์", "ผลการดำเนินงาน", "ปัญหาอุปสรรค"])
            page.text(page.left, label)
            page.draw.line([(page.left + page.width(label) + 10, page.y + page.pitch * 0.72),
                            (page.right, page.y + page.pitch * 0.72)], fill=BLACK, width=2)
            page.newline(1.3)
    else:
        x0, y0 = page.left, page.y
        for k in range(2):
            box = [x0, y0 + k * mm(95), page.right, y0 + k * mm(95) + mm(85)]
            page.draw.rectangle(box, fill=(rng.randint(60, 140),) * 3)
    return page


def _not_letter(spec: LetterSpec, font: FontSpec, rng: random.Random) -> list[Page]:
    page = Page(font)
    if spec.not_letter_style in ("order", "announcement"):
        garuda(page.draw, A4[0] // 2, mm(15), mm(30))
        page.y = mm(50)
        title = "คำสั่งจังหวัดลำปาง" if spec.not_letter_style == "order" else "ประกาศจังหวัดลำปาง"
        page.text(A4[0] // 2 - page.width(title, True) / 2, title, bold=True)
        page.newline()
        if spec.not_letter_style == "order":
            number = to_thai_digits(f"ที่ {rng.randint(100, 4000)}/{spec.date.year + 543 if spec.date else 2567}")
            page.text(A4[0] // 2 - page.width(number) / 2, number)
            page.newline()
        line = f"เรื่อง {spec.subject}"
        page.text(A4[0] // 2 - page.width(line) / 2, line)
        page.newline()
        page.draw.line([(A4[0] // 2 - mm(25), page.y + 10), (A4[0] // 2 + mm(25), page.y + 10)], fill=BLACK, width=3)
        page.newline()
        for paragraph in spec.body:
            page.paragraph(paragraph)
        assert spec.date is not None
        word = "สั่ง" if spec.not_letter_style == "order" else "ประกาศ"
        when = to_thai_digits(f"{word} ณ วันที่ {spec.date.day} มกราคม พ.ศ. {spec.date.year + 543}")
        page.newline()
        page.text(A4[0] // 2 - mm(20), when)
        signature(page.draw, A4[0] // 2, page.y + page.pitch * 2, rng)
        return [page]
    fixture = _fixture_text(spec.not_letter_style)
    pages = [page]
    page.y = mm(20)
    for raw in fixture.splitlines():
        line = raw.replace("\t", "  ").replace("<u>", "").replace("</u>", "").replace("**", "").strip()
        if not line:
            page.newline(0.5)
            continue
        for part in page.wrap(line, page.right - page.left, prefer_spaces=False):
            if page.full:
                if len(pages) >= 2:
                    return pages
                page = Page(font)
                page.y = mm(20)
                pages.append(page)
            page.text(page.left, part)
            page.newline()
    return pages


FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real-texts"


def _fixture_text(style: str) -> str:
    name = "not-letter-meeting-summary.txt" if style == "meeting" else "not-letter-pso-report.txt"
    path = FIXTURES / name
    if path.exists():
        return path.read_text(encoding="utf-8")
    return "\n".join(["รายงานผลการดำเนินงาน", "สำนักงานจังหวัดลำปาง"] * 10)
