"""Thai specifics: digits, months, Buddhist-era years, text normalisation.

Everything that knows how Thai is written lives here, as small pure functions.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.groups import connected_groups

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
ARABIC_DIGITS = "0123456789"
_TO_ARABIC = str.maketrans(THAI_DIGITS, ARABIC_DIGITS)
_TO_THAI = str.maketrans(ARABIC_DIGITS, THAI_DIGITS)

BE_OFFSET = 543

# (full name, abbreviation) in calendar order.
MONTHS: tuple[tuple[str, str], ...] = (
    ("มกราคม", "ม.ค."),
    ("กุมภาพันธ์", "ก.พ."),
    ("มีนาคม", "มี.ค."),
    ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."),
    ("มิถุนายน", "มิ.ย."),
    ("กรกฎาคม", "ก.ค."),
    ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."),
    ("ตุลาคม", "ต.ค."),
    ("พฤศจิกายน", "พ.ย."),
    ("ธันวาคม", "ธ.ค."),
)

# Marks written above or below a consonant; a second copy of the same mark is an OCR artefact.
_ABOVE_BELOW = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
_DOUBLED_MARK = re.compile(f"([{_ABOVE_BELOW}])\\1+")
_TONE = "\u0e48\u0e49\u0e4a\u0e4b"
# Nikhahit + sara aa is how OCR (and some keyboards) write sara am; a tone mark may sit between.
_SPLIT_SARA_AM = re.compile(f"\u0e4d([{_TONE}]?)\u0e32")
_TONE_BEFORE_MARK = re.compile(f"([{_TONE}])([\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39])")
_SPACES = re.compile(r"\s+")
# A mark needs a consonant to sit on: after a full stop, a digit or a space it is a dot or a speck
# OCR took for one (ก.บ.จ. read ก.ุบ.จ.).
_MARK_ON_NOTHING = re.compile(f"(^|[^\u0e01-\u0e2e{_ABOVE_BELOW}])[{_ABOVE_BELOW}]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")


def to_arabic_digits(text: str) -> str:
    """Thai digits to Arabic; everything else unchanged.

    >>> to_arabic_digits("ลป ๐๐๑๗.๑/ว ๑๔๑๕๕")
    'ลป 0017.1/ว 14155'
    """
    return text.translate(_TO_ARABIC)


def to_thai_digits(text: str) -> str:
    """Arabic digits to Thai; everything else unchanged.

    >>> to_thai_digits("14 ก.พ. 2561")
    '๑๔ ก.พ. ๒๕๖๑'
    """
    return text.translate(_TO_THAI)


def is_digit(char: str) -> bool:
    """True for one Thai or Arabic digit."""
    return len(char) == 1 and (char in THAI_DIGITS or char in ARABIC_DIGITS)


def normalize_text(text: str) -> str:
    """The one normalisation for Thai text entering the system (OCR, imports, forms).

    NFC; ``ํา`` (nikhahit + sara aa) joined into ``ำ`` with any tone mark kept before it;
    a tone mark typed before an upper/lower vowel moved after it; doubled marks collapsed; marks
    with no consonant under them dropped; zero-width characters dropped; whitespace folded to
    single spaces.

    >>> normalize_text("ประจํา  ปี")
    'ประจำ ปี'
    >>> normalize_text("ที่\u0e48ว่าการ")
    'ที่ว่าการ'
    >>> normalize_text("น\u0e49\u0e4dา")
    'น้ำ'
    >>> normalize_text("(ก.ุบ.จ.)")
    '(ก.บ.จ.)'
    """
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _SPLIT_SARA_AM.sub(lambda m: m.group(1) + "\u0e33", text)
    # A tone mark may also have been written before the nikhahit: น + ้ + ํ + า
    text = re.sub(f"([{_TONE}])\u0e4d\u0e32", lambda m: m.group(1) + "\u0e33", text)
    text = _TONE_BEFORE_MARK.sub(r"\2\1", text)
    text = _DOUBLED_MARK.sub(r"\1", text)
    text = _MARK_ON_NOTHING.sub(r"\1", text)
    # A tone mark right after another tone mark: keep the last one written.
    text = re.sub(f"[{_TONE}]+([{_TONE}])", r"\1", text)
    return _SPACES.sub(" ", text).strip()


def fold_spaces(text: str) -> str:
    """Whitespace folded to single spaces, ends trimmed."""
    return _SPACES.sub(" ", text).strip()


def be_year_to_ce(year: int) -> int:
    """A Buddhist-era year (4 or 2 digits) to the Common Era; a CE year passes through.

    Two-digit years are BE years of the 2500s (``67`` → 2567 → 2024), as stamps and memos write them.

    >>> be_year_to_ce(2561), be_year_to_ce(67), be_year_to_ce(2015)
    (2018, 2024, 2015)
    """
    if year < 100:
        year += 2500
    if year >= 2400:
        return year - BE_OFFSET
    return year


def ce_year_to_be(year: int) -> int:
    """A Common Era year in the Buddhist era.

    >>> ce_year_to_be(2018)
    2561
    """
    return year + BE_OFFSET


def month_number(name: str) -> int | None:
    """1–12 for a full or abbreviated Thai month name, exact after normalisation; else None.

    >>> month_number("กุมภาพันธ์"), month_number("พ.ย."), month_number("พย")
    (2, 11, 11)
    """
    name = normalize_text(name).replace(" ", "")
    bare = name.replace(".", "")
    for index, (full, abbr) in enumerate(MONTHS, start=1):
        if name in (full, abbr) or bare == abbr.replace(".", ""):
            return index
    return None


def thai_date_text(year: int, month: int, day: int, *, abbreviated: bool = False, thai_digits: bool = True) -> str:
    """A Gregorian date written the Thai way.

    >>> thai_date_text(2018, 2, 14)
    '๑๔ กุมภาพันธ์ ๒๕๖๑'
    >>> thai_date_text(2024, 11, 19, abbreviated=True, thai_digits=False)
    '19 พ.ย. 2567'
    """
    full, abbr = MONTHS[month - 1]
    text = f"{day} {abbr if abbreviated else full} {ce_year_to_be(year)}"
    return to_thai_digits(text) if thai_digits else text


_MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")


def strip_marks(text: str) -> str:
    """Text without the marks written above and below letters: a key that survives OCR dropping them.

    >>> strip_marks("สิ่งที่ส่งมาด้วย")
    'สงทสงมาดวย'
    """
    return _MARKS.sub("", normalize_text(text).replace("\u0e33", "\u0e32"))


def is_month_name(text: str) -> bool:
    """A month's full or abbreviated name as OCR may leave it (marks and dots aside)."""
    key = strip_marks(text).replace(".", "")
    return key in _MONTH_KEYS


_MONTH_KEYS = frozenset(k for full, abbr in MONTHS for k in (strip_marks(full), strip_marks(abbr).replace(".", "")))


# Digits that scanners and OCR confuse (as Arabic digits; Thai ๔๕, ๗๓, ๖๐, ๖๒ … map onto them).
LOOK_ALIKE_DIGITS = ("45", "65", "85", "95", "73", "60", "62", "89", "13", "37", "26", "06", "48", "17", "38", "56",
                     "46", "68", "08", "14", "35", "59", "02", "12", "79", "19")


# Pairs of letters OCR takes for one another: Tesseract's Thai model (ซักซ้อม read ชักช้อม, ก.พ. read
# ถ.พ., มาตรการ read บาตรการ) and codes misread on the number line (สป for ลป).
LOOK_ALIKE_LETTERS = ("ลส", "กค", "ดต", "คด", "บป", "พผ", "ศส", "ธร", "ชซ", "ฆม", "บม", "พห", "พฟ", "กภ", "กถ")


def _look_alike_classes() -> dict[str, str]:
    """Each look-alike letter → the first letter of its class (letters linked by pairs, transitively)."""
    letters = dict.fromkeys(c for pair in LOOK_ALIKE_LETTERS for c in pair)
    classes = connected_groups(letters, ((pair[0], pair[1]) for pair in LOOK_ALIKE_LETTERS))
    return {c: group[0] for group in classes for c in group}


_LOOK_ALIKE_CLASS = str.maketrans(_look_alike_classes())


def fold_confusables(text: str) -> str:
    """`text` with each letter OCR confuses replaced by one letter of its class.

    >>> fold_confusables("ซักซ้อม") == fold_confusables("ชักช้อม")
    True
    """
    return text.translate(_LOOK_ALIKE_CLASS)
