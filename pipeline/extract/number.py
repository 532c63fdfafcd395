"""The letter number grammar (domain.md §3): `ที่` + code + agency + `/` + optional `ว` + serial.

    >>> parse_number("ที่ ลป ๐๐๑๗.๕/ว ๔๓๘๖").canonical
    'ลป 0017.5/ว 4386'
    >>> parse_number("ศธ 04002/123").canonical
    'ศธ 04002/123'
    >>> parse_number("พร ๐๐๒๓.๑/ว").canonical
    'พร 0023.1/ว'
    >>> parse_number("ลป ๐๐๒๓.๕/) ๑๓๘๓๗").canonical
    'ลป 0023.5/ว 13837'
    >>> parse_number("ที่ ศถ5 ๐๔๐๙๙.๑/๒๖๓", known_codes=frozenset({"ศธ", "ลป"})).canonical  # ธ read as ถ5
    'ศธ 04099.1/263'
"""

from __future__ import annotations

import re

from pipeline.models import LetterNumber
from pipeline.thai import LOOK_ALIKE_LETTERS, normalize_text, strip_marks, to_arabic_digits

# Two-letter codes of ministries and provinces that number letters. A read code outside the list
# is still accepted (new agencies appear) but counts against the number's confidence.
MINISTRY_CODES = frozenset((
    "นร", "กห", "กค", "กต", "กก", "พม", "กษ", "คค", "ทส", "ดศ", "พน", "พณ", "มท", "ยธ", "รง", "วธ", "อว", "ศธ",
    "สธ", "อก", "สว", "สม", "ตผ",
))
PROVINCE_CODES = frozenset((
    "กท", "กบ", "กจ", "กส", "กพ", "ขก", "จบ", "ฉช", "ชบ", "ชน", "ชย", "ชพ", "ชร", "ชม", "ตง", "ตร", "ตก", "นย",
    "นฐ", "นพ", "นม", "นศ", "นว", "นบ", "นธ", "นน", "บก", "บร", "ปท", "ปข", "ปจ", "ปน", "อย", "พย", "พง", "พท",
    "พจ", "พล", "พบ", "พช", "พร", "ภก", "มค", "มห", "มส", "ยส", "ยล", "รอ", "รน", "รย", "รบ", "ลบ", "ลป", "ลพ",
    "ลย", "ศก", "สน", "สข", "สต", "สป", "สส", "สค", "สก", "สบ", "สห", "สท", "สพ", "สฎ", "สร", "นค", "อจ", "อด",
    "อต", "อน", "อบ", "อท",
))
KNOWN_CODES = MINISTRY_CODES | PROVINCE_CODES

_LABEL = re.compile(r"^\s*ที่\s*")
MARKS = "\u0e31-\u0e3a\u0e47-\u0e4e"  # (a regex class) what OCR leaves above, beside and below letters
# A code as OCR leaves it: two letters; a mark or a letter more, or the second letter read as a digit.
CODE = rf"(?:(?:[ก-ฮ][{MARKS}]*){{1,3}}|(?:[ก-ฮ][{MARKS}]*){{1,2}}\d[{MARKS}]*(?=\s))"
_AGENCY = r"(?P<agency>\d{4,5}(?:\s*\.\s*\d{1,3}){0,3})"
_NUMBER = re.compile(
    rf"(?P<code>{CODE})\s*{_AGENCY}\s*\.?\s*"
    # A bold ว is read as `)` or `ว)`: nothing else in a number is a bracket.
    r"/\s*(?P<circular>ว\)?|\))?\s*(?P<serial>\d{1,6})?"
)
# The slash lost (fused into the digit before it, `๐๔๒๑/ว` read `๐๔๒๘ว`): ว right after the
# agency's digits still shows where it stood.
_SLASH_LOST = re.compile(rf"(?P<code>{CODE})\s*{_AGENCY}(?P<circular>ว)\s*(?P<serial>\d{{1,6}})?(?!\S)")


def parse_number(text: str, *, known_codes: frozenset[str] = frozenset(),
                 known_agencies: frozenset[tuple[str, str]] = frozenset()) -> LetterNumber | None:
    """A letter number from the text after (or including) the `ที่` label; None if it does not parse.

    Thai or Arabic digits, any spacing. The serial may be blank (a reserved number). `known_codes`:
    the codes the local register uses; a code read one look-alike letter away from exactly one of
    them is taken as that code (สป for ลป). `known_agencies`: its (code, agency) prefixes
    (`("ลป", "0421")`); where a circular's slash was lost into the digit before it, the agency is the one
    prefix that agrees in all but that digit.
    """
    match, lost = _match(text)
    if match is None:
        return None
    code = _likely_code(_code(strip_marks(match.group("code")), known_codes), known_codes)
    agency = re.sub(r"\s+", "", match.group("agency"))
    if lost:
        agency = _agency_before_lost_slash(code, agency, known_agencies)
    serial = match.group("serial")
    return LetterNumber(code=code, agency=agency, circular=bool(match.group("circular")),
                        serial=int(serial) if serial else None)


def read_around_lost_slash(text: str) -> bool:
    """The number in `text` parses only with its slash lost (`_SLASH_LOST`): a guess to check."""
    match, lost = _match(text)
    return match is not None and lost


def _match(text: str) -> tuple[re.Match[str] | None, bool]:
    """The number's match in `text`, and whether only the lost-slash grammar found it."""
    body = _LABEL.sub("", to_arabic_digits(normalize_text(text)))
    match = _NUMBER.search(body)
    return (match, False) if match is not None else (_SLASH_LOST.search(body), True)


def _agency_before_lost_slash(code: str, agency: str, known: frozenset[tuple[str, str]]) -> str:
    """`agency` as read, or the one known agency of `code` it differs from in its last digit only
    (the digit the slash fused into)."""
    if (code, agency) in known:
        return agency
    fitting = [other for known_code, other in known
               if known_code == code and len(other) == len(agency) and other[:-1] == agency[:-1]]
    return fitting[0] if len(fitting) == 1 else agency


def _code(read: str, known_codes: frozenset[str] = frozenset()) -> str:
    """Two letters from what OCR made of a code: `ลสป` → ลป, `ศ5` → ศธ, `ศถ5` → ศธ, `ล` → ลป (the
    one known code it can be; the register's codes first)."""
    if len(read) == 2 and read.isalpha():
        return read
    if len(read) == 3 and read[2].isdigit() and read[:2] in known_codes | KNOWN_CODES:
        return read[:2]  # a stray digit after the code
    if len(read) == 3 and read.isalpha():
        for candidate in (read[0] + read[2], read[0] + read[1], read[1] + read[2]):
            if candidate in KNOWN_CODES:
                return candidate
        return read[0] + read[2]
    for pool in (known_codes, KNOWN_CODES):
        fitting = sorted(c for c in pool if c[0] == read[0])
        if len(fitting) == 1:
            return fitting[0]
        if fitting:
            break
    return read


def _likely_code(code: str, known: frozenset[str]) -> str:
    """The register's code a misread one stands for: one look-alike letter away (สป for ลป), or,
    for a read that is no code at all (ศจ, ศอ), the only register code with its first letter."""
    if not known or code in known:
        return code
    near = {k for k in known if len(k) == len(code) and sum(a != b for a, b in zip(k, code, strict=True)) == 1
            and any({a, b} == set(pair) for a, b in zip(k, code, strict=True) if a != b for pair in LOOK_ALIKE_LETTERS)}
    if len(near) == 1:
        return near.pop()
    if code not in KNOWN_CODES:
        same_first = [k for k in known if k[:1] == code[:1]]
        if len(same_first) == 1:
            return same_first[0]
    return code


def is_known_code(code: str) -> bool:
    return code in KNOWN_CODES


def number_plausibility(number: LetterNumber) -> float:
    """How typical the number's shape is, 0..1: a known code and a 4-digit agency score highest."""
    score = 1.0
    if not is_known_code(number.code):
        score -= 0.35
    head = number.agency.split(".")[0]
    if len(head) not in (4, 5) or not head.startswith("0"):
        score -= 0.2
    if number.serial is not None and number.serial == 0:
        score -= 0.3
    return max(0.0, score)
