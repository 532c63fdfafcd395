"""Header fields from the read header lines, by their labels (domain.md §2).

`เรื่อง`, `เรียน`, `อ้างถึง`, `สิ่งที่ส่งมาด้วย` start a field at the left margin; lines indented
under the text continue it; `๑.` / `1.` starts the next item of a list. The number line starts
with `ที่`; the letter's date stands alone near the centre (a memo's follows `วันที่` on the
number line). Labels are matched without their marks, which OCR drops most often.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from pipeline.extract.date import has_month, read_date
from pipeline.extract.number import CODE, MARKS
from pipeline.models import SECRECIES, URGENCIES
from pipeline.ocr.header import HeaderText
from pipeline.thai import fold_spaces, strip_marks, to_arabic_digits

SUBJECT, ADDRESSEE, REFERENCES, ATTACHMENTS = "subject", "addressee", "references", "attachments"
NUMBER, MEMO_UNIT, MEMO_DATE = "number", "memo_unit", "memo_date"

# label → (field, its forms). Matched on text without marks.
LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (ATTACHMENTS, ("สิ่งที่ส่งมาด้วย", "สิ่งที่แนบมาด้วย")),
    (REFERENCES, ("อ้างถึง", "อ้างอิง")),
    (SUBJECT, ("เรื่อง",)),
    (ADDRESSEE, ("กราบเรียน", "เรียน")),
    (MEMO_UNIT, ("ส่วนราชการ",)),
)
_STRIPPED_LABELS = [(name, strip_marks(form), form) for name, forms in LABELS for form in forms]
# `ที่` with whatever marks OCR left on it, then a code and digits.
_NUMBER_LABEL = re.compile(rf"^\s*ท[{MARKS}]{{0,3}}\s*(?=(?:{CODE}|[ก-ฮ]\d)\s*[0-9๐-๙])")
# The number line with its label lost or garbled (หี ลป …, ที่ฑที่ ลป …, or just ลป ๐๐๑๗.๑/ว …): a code, digits, a slash.
_UNLABELLED_NUMBER = re.compile(
    rf"^\s*(?:(?:[ก-ฮ][{MARKS}]{{0,3}}){{1,3}}\s+)?(?={CODE}\s*[0-9๐-๙]{{4,5}}[0-9๐-๙.\s]*/)")
_DATE_LABEL = re.compile(r"^\s*ว[\u0e31]?นท[\u0e34\u0e35]?[\u0e48]?\s*")
_ITEM = re.compile(r"^\s*([0-9๐-๙]{1,2}|(?=\.\s))\s*[.)]\s*")  # "๑. …", or ". …" when OCR lost a thin "1"
# Lines that are never the letter's date: a received stamp's, a reference's, the sender's postcode.
_NOT_LETTER_DATE = re.compile(r"เลขรับ|เวลา|ลงวันที่|[0-9๐-๙]{5}")


@dataclass
class HeaderFields:
    """What the labels gave, still as text; each with the lines it came from for confidence."""

    number_text: str | None = None
    date_text: str | None = None
    subject: str | None = None
    addressee: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    urgency: str | None = None
    secrecy: str | None = None
    memo_title: bool = False
    pending_day: str | None = None  # a short text where the day stands, before the month line
    title: str | None = None  # คำสั่ง…, ประกาศ…: a document that is not a letter
    sources: dict[str, list[HeaderText]] = field(default_factory=dict)

    def add_source(self, name: str, text: HeaderText) -> None:
        self.sources.setdefault(name, []).append(text)


def match_label(text: str) -> tuple[str, str] | None:
    """(field, rest of the text) when the text starts with a field label, tolerating lost marks."""
    stripped = strip_marks(text)
    for name, key, form in _STRIPPED_LABELS:
        head = stripped[: len(key) + 1].replace(" ", "")[: len(key)]
        if head == key or (len(key) >= 4 and fuzz.ratio(head, key) >= 80):
            return name, _after_label(text, form)
    return None


_MARGIN = 1.5  # consonant heights: a label stands at the text's left margin


def _subject_or_addressee_label(line: HeaderText, out: HeaderFields) -> tuple[str, str] | None:
    """`เรียง` at the margin, one letter off both `เรื่อง` and `เรียน`: the header's order decides —
    the subject comes first, the addressee after it. (A wrapped line stands under the text, not at
    the margin.)"""
    text = line.text
    head = strip_marks(text)[:4]
    if out.addressee is not None or abs(line.indent) > _MARGIN or not any(
            Levenshtein.distance(head, strip_marks(form)) <= 1 for form in ("เรื่อง", "เรียน")):
        return None
    if out.subject is None:
        return SUBJECT, _after_label(text, "เรื่อง")
    return ADDRESSEE, _after_label(text, "เรียน")


def _after_label(text: str, form: str) -> str:
    """The text after the label: as many characters as the label has letters (marks aside)."""
    wanted = len(strip_marks(form))
    seen = 0
    for i, ch in enumerate(text):
        if strip_marks(ch) and ch != " ":
            seen += 1
        if seen == wanted:
            rest = text[i + 1:]
            # Marks belonging to the label's last letter follow it.
            return rest.lstrip("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c").strip()
    return ""


def _item(text: str) -> tuple[int | None, str]:
    """(item number, text) of a list item; the number is 0 when OCR kept only its dot."""
    match = _ITEM.match(text)
    if match:
        digits = to_arabic_digits(match.group(1))
        return (int(digits) if digits else 0), text[match.end():].strip()
    return None, text.strip()


def _mark_word(text: str, words: tuple[str, ...], cutoff: float = 50) -> str | None:
    """Which of a closed set of marks (ด่วน/ด่วนมาก/ด่วนที่สุด, ลับ/…) a short OCR text is.

    The set is small and its words differ in length, so the closest word wins when it is
    reasonably close; marks are large and bold, and OCR of them is often a letter off.
    """
    key = re.sub("[^ก-ฮะ-ฺเ-ๅ]", "", strip_marks(text))
    if not key or len(key) > 14:
        return None
    scored = [(fuzz.ratio(key, strip_marks(word)), word) for word in words]
    score, word = max(scored)
    # A mark is a word or two: a longer text (a title, an address) only resembles one by chance.
    if len(key) > len(strip_marks(word)) + 2:
        return None
    return word if score >= cutoff else None


@dataclass
class _Open:
    """The field being read and where its continuation lines must start (in consonant heights)."""

    name: str
    text_indent: float | None  # where wrapped text continues
    mark_indent: float | None = None  # where a list's `๒.` stands
    last: HeaderText | None = None  # the field's last line so far

    def joiner(self, following: HeaderText) -> str:
        """How a wrapped line joins the one before: a space, unless the break fell inside a phrase.

        Word processors wrap Thai between dictionary words; typists break subjects and addressees
        at a space when one falls in the last third of the line. So when the next line's first word
        would have fitted at the end of the line before, the break was at a space. When it would
        not, the break was at a space only if the line has one in its last third (a break inside a
        phrase would have been made there instead). A parenthesis, a number (ที่ ๑๐) and an
        abbreviation (พ.ศ.) always have a space before them.
        """
        last = self.last
        text = following.text.strip()
        if last is None or text[:1] in _SPACE_BEFORE or _ABBREVIATION.match(text):
            return " "
        word = _first_word_width(following)
        if word is not None and word + SPACE_WIDTH <= (1.0 - last.fill) * last.text_width:
            return " "
        last_space = last.fill - last.last_token_share  # where the line's last space stands, 0..1
        return " " if last_space >= WRAP_AT_SPACE_FROM else ""


WRAP_AT_SPACE_FROM = 0.7  # of the text column (the typists' two thirds, and a margin for measuring)
SPACE_WIDTH = 0.35  # consonant heights
_SPACE_BEFORE = frozenset("(0123456789๐๑๒๓๔๕๖๗๘๙")
_ABBREVIATION = re.compile(r"^(?:[ก-ฮ]\.){1,4}")  # พ.ศ., ก.บ.จ.


def _first_word_width(line: HeaderText) -> float | None:
    """The width, in consonant heights, of the first dictionary word of `line` (None when unknown):
    its share of the letters of the first space-separated phrase, times that phrase's width."""
    from pythainlp.tokenize import word_tokenize

    phrase = line.text.strip().split(" ")[0]
    if not phrase or not line.token_indents or not line.text_width:
        return None
    starts = line.token_indents
    end = starts[1] - SPACE_WIDTH if len(starts) > 1 else line.fill * line.text_width
    words = word_tokenize(phrase, engine="newmm", keep_whitespace=False)
    if not words:
        return None
    letters = len(strip_marks(phrase)) or 1
    return (end - starts[0]) * len(strip_marks(words[0])) / letters


def _aligned(indent: float, target: float | None) -> bool:
    if target is None:
        return 1.0 < indent < 16.0
    return abs(indent - target) <= 1.5


# An attachment item ends with its count (`จำนวน ๑ ชุด`), a reference with its date: a following
# unnumbered line is then the body, even when it starts where the item's text did.
_ITEM_COMPLETE = {
    ATTACHMENTS: re.compile(r"จำนวน\s*[0-9๐-๙]+\s*(ชุด|ฉบับ|แผ่น|เล่ม|แฟ้ม|หน้า|เรื่อง|รายการ)\s*$"),
    REFERENCES: re.compile(r"(?:[0-9๐-๙]{4}|[0-9๐-๙]{2})\s*$"),
}


def parse_header(lines: list[list[HeaderText]], marks: list[HeaderText], page_width: int = 2480) -> HeaderFields:
    """Fields from header lines (each a list of segments, left to right) and the large/red marks."""
    out = HeaderFields()
    # Large and red marks first: they are the urgency/secrecy marks proper; text-sized lines
    # above the number only fill in what the marks did not say.
    for mark in marks:
        _classify_mark(out, mark, page_width)
    current: _Open | None = None
    seen_number = False
    for line in lines:
        first = line[0]
        if len(line) > 1 and (label := match_label(first.text)) is not None and not label[1]:
            # A label set apart from its text (typewriter fonts, tabs): they are one field.
            first = _merged(first, line[1])
            line = [first, *line[2:]]
        text = first.text
        if not text:
            continue
        if out.title is None and not seen_number and _is_title(text):
            out.title = text
        if _is_memo_title(text):
            out.memo_title = True
            continue
        if not seen_number and (_NUMBER_LABEL.match(text) or _UNLABELLED_NUMBER.match(text)):
            seen_number = True
            out.number_text = _NUMBER_LABEL.sub("", _UNLABELLED_NUMBER.sub("", text))
            out.add_source(NUMBER, first)
            rest = line[1:]
            for k, other in enumerate(rest):  # a memo's `วันที่ …` stands on the number line
                if _DATE_LABEL.match(other.text):
                    out.date_text = _DATE_LABEL.sub("", other.text)
                    out.add_source("date", other)
                    if not out.date_text.strip() and k + 1 < len(rest):  # the label set apart from the date
                        out.date_text = rest[k + 1].text
                        out.add_source("date", rest[k + 1])
                    break
            else:  # the label lost (a stamp over it): a date beside the number is the memo's date
                beside = next((o for o in rest if read_date(o.text) and not _NOT_LETTER_DATE.search(o.text)), None)
                if beside is not None:
                    out.date_text = beside.text
                    out.add_source("date", beside)
            current = None
            continue
        if seen_number:
            line = _joined_list_marks(line)
            first, text = line[0], line[0].text
        label = match_label(text) or _subject_or_addressee_label(first, out)
        if label:
            current = _start_field(out, first, *label)
            continue
        # A line without a label: continuation, the date, a mark, or the end of the header.
        if current is not None and _continue_field(out, current, first):
            continue
        current = None
        _date_or_mark(out, line, seen_number, page_width)
    for name in (SUBJECT, ADDRESSEE):
        value = getattr(out, name)
        if value is not None:
            setattr(out, name, fold_spaces(value) or None)
    out.references = [fold_spaces(r) for r in out.references if r.strip()]
    out.attachments = [fold_spaces(a) for a in out.attachments if a.strip()]
    return out


def _merged(a: HeaderText, b: HeaderText) -> HeaderText:
    from pipeline.models import Box

    box = Box(a.box.x, min(a.box.y, b.box.y), b.box.right - a.box.x,
              max(a.box.bottom, b.box.bottom) - min(a.box.y, b.box.y))
    return replace(a, text=f"{a.text} {b.text}", box=box, fill=b.fill, confidence=min(a.confidence, b.confidence),
                   digit_confidence=min(a.digit_confidence, b.digit_confidence),
                   token_indents=a.token_indents + b.token_indents)


_MARK_AT_END = re.compile(r"(?:^|\s)([0-9๐-๙]{1,2})[.)]?$")


def _joined_list_marks(line: list[HeaderText]) -> list[HeaderText]:
    """A list item's number set apart from its text by a tab (typewriter layouts: `๑.` at the label,
    the text at the next tab stop) is one segment with that text; OCR often loses the dot."""
    while len(line) > 1 and (mark := _MARK_AT_END.search(line[0].text)):
        head = line[0].text[:mark.start(1)]
        line = [replace(_merged(line[0], line[1]), text=f"{head}{mark.group(1)}. {line[1].text}"), *line[2:]]
    return line


def _start_field(out: HeaderFields, first: HeaderText, name: str, rest: str) -> _Open | None:
    label_tokens = len(first.text.split(" ")) - len(rest.split(" ")) if rest else 1
    value_indent = first.indent_of_token(label_tokens) if label_tokens < len(first.token_indents) else None
    if name in (SUBJECT, ADDRESSEE):
        if getattr(out, name) is not None:  # a second `เรื่อง`: not a header any more
            return None
        setattr(out, name, rest)
        out.add_source(name, first)
        return _Open(name, value_indent, last=first)
    if name in (REFERENCES, ATTACHMENTS):
        number, item = _item(rest)
        getattr(out, name).append(item)
        out.add_source(name, first)
        if number is not None:
            mark_tokens = 1 if _ITEM.match(rest.split(" ")[0] + " ") else 0
            text_indent = first.indent_of_token(label_tokens + mark_tokens) if mark_tokens else None
            return _Open(name, text_indent, value_indent, last=first)
        return _Open(name, value_indent, value_indent, last=first)
    return None


def _continue_field(out: HeaderFields, field_: _Open, first: HeaderText) -> bool:
    """Add a label-less line to the open field when it starts where the field's text does."""
    name = field_.name
    if name in (SUBJECT, ADDRESSEE):
        if not _aligned(first.indent, field_.text_indent):
            return False
        setattr(out, name, f"{getattr(out, name)}{field_.joiner(first)}{first.text}")
        out.add_source(name, first)
        field_.last = first
        return True
    number, item = _item(first.text)
    items: list[str] = getattr(out, name)
    if number is not None and _aligned(first.indent, field_.mark_indent):
        items.append(item)
        if field_.text_indent is None and len(first.token_indents) > 1:
            field_.text_indent = first.indent_of_token(1)
    elif number is None and items and _aligned(first.indent, field_.text_indent) \
            and not _ITEM_COMPLETE[name].search(items[-1]):
        items[-1] = f"{items[-1]}{field_.joiner(first)}{item}"
    else:
        return False
    out.add_source(name, first)
    field_.last = first
    return True


def _date_or_mark(out: HeaderFields, line: list[HeaderText], seen_number: bool, page_width: int) -> None:
    for segment in line:
        text = segment.text
        if not seen_number:
            # Text-sized lines above the number: a mark set not much larger than the text, taken
            # only when it is plainly one (pieces of a large title are not marks).
            centre = (segment.box.x + segment.box.w / 2) / page_width
            if 0.38 <= centre <= 0.62:
                out.secrecy = out.secrecy or _mark_word(segment.text, SECRECIES, cutoff=80)
            else:
                out.urgency = out.urgency or _mark_word(segment.text, URGENCIES, cutoff=80)
        if out.date_text is not None or not seen_number or _NOT_LETTER_DATE.search(text) \
                or _DATE_LABEL.match(text) or segment.indent <= 8:
            continue
        if read_date(text):
            out.date_text = text
        elif len(strip_marks(text).replace(" ", "")) <= 3:
            out.pending_day = text  # the day alone (added by hand): month and year follow below
            out.add_source("date", segment)
            continue
        elif has_month(text):
            # Month and year, the day above it or lost: kept, unread, for the register to complete.
            out.date_text = f"{out.pending_day} {text}" if out.pending_day else text
        else:
            continue
        out.add_source("date", segment)


def _classify_mark(out: HeaderFields, mark: HeaderText, page_width: int) -> None:
    """Urgency stands at a top corner, secrecy at the top (and bottom) centre."""
    if _is_memo_title(mark.text):
        out.memo_title = True
        return
    if out.title is None and _is_title(mark.text):
        out.title = mark.text
        return
    centre = (mark.box.x + mark.box.w / 2) / page_width
    if 0.38 <= centre <= 0.62:
        if out.secrecy is None:
            out.secrecy = _mark_word(mark.text, SECRECIES)
    elif out.urgency is None:
        out.urgency = _mark_word(mark.text, URGENCIES)


def _is_memo_title(text: str) -> bool:
    """`บันทึกข้อความ`, also when OCR kept only part of the large title (บันทึกข้อ)."""
    key = re.sub("[^ก-ฮะ-ฺเ-ๅ]", "", strip_marks(text))
    return len(key) >= 5 and fuzz.partial_ratio("บนทกขอความ", key) >= 85


_TITLES = ("คำสั่ง", "ประกาศ", "ระเบียบ", "ข้อบังคับ", "สรุป", "รายงาน", "แถลงการณ์")


def _is_title(text: str) -> bool:
    key = strip_marks(text).replace(" ", "")
    return any(key.startswith(strip_marks(t)) for t in _TITLES)
