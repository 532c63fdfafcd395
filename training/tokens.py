"""Random tokens like the ones the digit reader gets: letter numbers, dates, references, amounts.

    >>> rng = random.Random(1)
    >>> letter_number(rng, thai=True)                             # doctest: +SKIP
    'ลป ๐๐๑๗.๕/ว ๔๓๘๖'

Digits are drawn uniformly so every digit is seen as often; Thai words and Latin letters come with
them so the reader learns what is not a digit.
"""

from __future__ import annotations

import random
from functools import cache

from pipeline.thai import MONTHS, to_thai_digits


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CODES = _words("ลป พร ชม มท นร ศธ กค สธ กษ คค ทส อก ลพ นน ชร พย มส ตก สท พล อว ยธ รง วธ ดศ กต พณ")
WORDS = _words(
    "ที่ ลงวันที่ จำนวน ชุด ฉบับ แผ่น เลขรับ วันที่ เวลา น. โทร. หน้า สิ่งที่ส่งมาด้วย ข้อ บาท "
    "ราย คน หนังสือ จังหวัด อำเภอ ปี พ.ศ. ค.ศ. ครั้งที่ หมู่ที่ ถนน ตำบล รหัส ไปรษณีย์ ฉบับที่ "
    "ระหว่างวันที่ ถึง"
)
LATIN = _words("No. Ref ID A B C x Tel Fax www km kg Box ABC Mr e t")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _printed(text: str, thai: bool) -> str:
    return to_thai_digits(text) if thai else text


def letter_number(rng: random.Random, thai: bool) -> str:
    agency = _digits(rng, rng.choice([4, 4, 4, 5]))
    for _ in range(rng.choice([0, 1, 1, 2])):
        agency += "." + _digits(rng, rng.choice([1, 1, 2]))
    circular = "ว" if rng.random() < 0.5 else ""
    serial = "" if rng.random() < 0.05 else _digits(rng, rng.randint(1, 5))
    space = " " if rng.random() < 0.8 else ""
    code = rng.choice(CODES) + " " if rng.random() < 0.7 else ""
    return _printed(f"{code}{agency}/{circular}{space}{serial}".strip(), thai)


def date(rng: random.Random, thai: bool) -> str:
    day = str(rng.randint(1, 31))
    full, abbr = rng.choice(MONTHS)
    if rng.random() < 0.5:
        return _printed(f"{day} {full} {rng.randint(2500, 2575)}", thai)
    year = str(rng.randint(2500, 2575)) if rng.random() < 0.5 else f"{rng.randint(40, 75)}"
    return _printed(f"{day} {abbr} {year}", thai)


def numeric_date(rng: random.Random, thai: bool) -> str:
    sep = rng.choice("/-.")
    return _printed(f"{rng.randint(1, 31)}{sep}{rng.randint(1, 12)}{sep}{rng.randint(2500, 2575)}", thai)


def time_of_day(rng: random.Random, thai: bool) -> str:
    sep = rng.choice(".:")
    return _printed(
        f"{rng.randint(0, 23):02d}{sep}{rng.randint(0, 59):02d}" + (" น." if rng.random() < 0.6 else ""), thai
    )


def amount(rng: random.Random, thai: bool) -> str:
    value = f"{rng.randint(1, 9_999_999):,}"
    if rng.random() < 0.4:
        value += "." + _digits(rng, 2)
    return _printed(value + (" บาท" if rng.random() < 0.3 else ""), thai)


def enumerated(rng: random.Random, thai: bool) -> str:
    n = str(rng.randint(1, 30))
    form = rng.choice(
        [
            f"{n}.",
            f"({n})",
            f"{n})",
            f"- {n} -",
            f"{n}:{rng.randint(1, 9)}",
            f"{n}/{_digits(rng, 4)}",
            f"{n}-{_digits(rng, rng.randint(1, 4))}",
        ]
    )
    return _printed(form, thai)


def phone(rng: random.Random, thai: bool) -> str:
    return _printed(
        f"0 {_digits(rng, 4)} {_digits(rng, 4)}"
        if rng.random() < 0.5
        else f"0-{_digits(rng, 4)}-{_digits(rng, 4)}",
        thai,
    )


def digit_run(rng: random.Random, thai: bool) -> str:
    """Digits and marks in any order: every pair of neighbours shows up."""
    alphabet = "0123456789" * 4 + "./-:,()" + ("ว" if thai else "")
    return _printed("".join(rng.choice(alphabet) for _ in range(rng.randint(3, 10))), thai)


@cache
def _dictionary() -> tuple[str, ...]:
    from pythainlp.corpus import thai_words

    return tuple(sorted(w for w in thai_words() if 1 < len(w) <= 8 and " " not in w))


def thai_word(rng: random.Random) -> str:
    return rng.choice(_dictionary()) if rng.random() < 0.6 else rng.choice(WORDS + CODES)


def mixed(rng: random.Random, thai: bool) -> str:
    """A phrase from a header line: words and numbers together."""
    parts = []
    for _ in range(rng.randint(2, 4)):
        kind = rng.random()
        if kind < 0.45:
            parts.append(thai_word(rng))
        elif kind < 0.55:
            parts.append(rng.choice(LATIN))
        else:
            parts.append(_printed(_digits(rng, rng.randint(1, 4)), thai))
    return " ".join(parts)


GENERATORS = (letter_number, date, numeric_date, time_of_day, amount, enumerated, phone, digit_run, mixed)
WEIGHTS = (22, 16, 5, 5, 6, 8, 4, 22, 12)


def random_token(rng: random.Random) -> str:
    """One token; Thai digits three times out of four."""
    generator = rng.choices(GENERATORS, weights=WEIGHTS)[0]
    return generator(rng, thai=rng.random() < 0.75)
