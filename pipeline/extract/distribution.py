"""The distribution list (แจ้งท้าย) of a circular: the units it goes to, and whether all were read.

    (แจ้งท้าย)
    หัวหน้าส่วนราชการส่วนภูมิภาค (๓๓ หน่วยงาน)
    ๑. สำนักงานประชาสัมพันธ์จังหวัดลำปาง
    ๒. …

Headings declare how many units follow; items are numbered from ๑ under each. A list read short
(a line lost, a number misread) must not route the letter to fewer units than it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.thai import normalize_text, strip_marks, to_arabic_digits

_ITEM = re.compile(r"^\s*([0-9๐-๙]{1,3})\s*[.)]\s*(.+)$")
_DECLARED = re.compile(r"\(\s*([0-9๐-๙]{1,3})\s*(?:หน่วยงาน|หน่วย|อำเภอ|แห่ง|ราย)\s*\)")


@dataclass
class Distribution:
    names: list[str] = field(default_factory=list)
    declared: int | None = None  # how many the headings say, when they say
    numbered_in_order: bool = True

    @property
    def complete(self) -> bool:
        counted = self.declared is None or self.declared == len(self.names)
        return bool(self.names) and counted and self.numbered_in_order


def is_distribution_page(lines: list[str]) -> bool:
    return bool(lines) and strip_marks("แจ้งท้าย") in strip_marks(" ".join(lines[:2])).replace(" ", "")


def parse_distribution(lines: list[str]) -> Distribution:
    """Unit names of a แจ้งท้าย page's lines (the first line is its title)."""
    out = Distribution()
    declared = 0
    expected = 1
    for line in lines[1:]:
        heading = _DECLARED.search(line)
        if heading and not _ITEM.match(line):
            declared += int(to_arabic_digits(heading.group(1)))
            expected = 1
            continue
        item = _ITEM.match(line)
        if item:
            number = int(to_arabic_digits(item.group(1)))
            if number != expected:
                out.numbered_in_order = False
            expected = number + 1
            out.names.append(normalize_text(item.group(2)))
    out.declared = declared or None
    return out
