"""Letters and users for the operations and web app tests.

`take_in(app, name, …)` runs the real intake steps (saraban.intake: check against the register,
archive in the store, resolve, decide, record) on what the reader would have returned for a
committed sample, built from the sample's ground truth with the misreadings a test asks for.
The OCR reading itself is left out: it is slow, and being improved in parallel; these tests are
about what happens after it.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.extract.number import parse_number
from pipeline.models import DocumentKind, Field, Flag, Letter
from pipeline.thai import to_thai_digits
from review.auth import hash_password
from saraban import intake
from saraban.app import App
from storage.tables import UserRow
from tests.conftest import LETTERS, truth

PASSWORD = "รหัสผ่าน-ทดสอบ-1"
# username → (role, unit)
USERS = {
    "operator": ("operator", None),
    "kohkha": ("clerk", "amphoe-02"),  # ที่ว่าการอำเภอเกาะคา
    "muang": ("clerk", "amphoe-01"),  # ที่ว่าการอำเภอเมืองลำปาง
    "admin": ("admin", None),
}
_serial = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def add_users(app: App) -> None:
    """The test users. Rows carry one argon2 hash made once per session (about 0.4 s each here);
    `review.auth.add_user` itself is tested through `saraban user add` and the admin form."""
    with app.db.session() as session:
        for username, (role, unit) in USERS.items():
            session.add(UserRow(username=username, password_hash=_password_hash(), role=role, unit_id=unit,
                                display_name=f"ทดสอบ {username}"))


def header_crop(letter: Letter, text: str) -> None:
    """A small header image on the letter, as the reader attaches it (JPEG in `header_image`;
    older readers: PNG in `header_png`)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (620, 160), 255)
    ImageDraw.Draw(image).text((20, 60), text, fill=0)
    buffer = io.BytesIO()
    if "header_image" in Letter.__dataclass_fields__:
        image.save(buffer, "JPEG")
        letter.header_image = buffer.getvalue()
    else:
        image.save(buffer, "PNG")
        letter.header_png = buffer.getvalue()  # type: ignore[attr-defined]


def read_as(name: str, **changes: Any) -> Letter:
    """What the reader returns for sample `name`: its truth, with `changes` (number, date, subject,
    addressee, urgency, secrecy, kind, missing_attachments, attachment_pages, confidence={field: c},
    source={field: text})."""
    t = truth(name)

    def value(key: str) -> Any:
        if key in changes:
            return changes[key]
        field = t.get(key)
        return field.get("value") if isinstance(field, dict) else field

    confidence = {"number": 0.97, "date": 0.97, "subject": 0.95, "addressee": 0.95,
                  **changes.get("confidence", {})}
    number, date = value("number"), value("date")
    source = {"number": to_thai_digits(f"ที่ {number}") if number else "", "date": date or "",
              "subject": value("subject") or "", "addressee": value("addressee") or "",
              **changes.get("source", {})}
    letter = Letter(
        file=name, kind=DocumentKind(changes.get("kind", t["kind"])), pages=t["pages"],
        number=Field(parse_number(number) if number else None, confidence["number"], source["number"]),
        date=Field(dt.date.fromisoformat(date) if date else None, confidence["date"], source["date"]),
        subject=Field(value("subject"), confidence["subject"], source["subject"]),
        addressee=Field(value("addressee"), confidence["addressee"], source["addressee"]),
        references=list(t.get("references") or []), attachments=list(t.get("attachments") or []),
        urgency=value("urgency"), secrecy=value("secrecy"),
        attachment_pages=changes.get("attachment_pages", t.get("attachment_pages", 0)),
        missing_attachments=changes.get("missing_attachments", t.get("missing_attachments", False)),
    )
    header_crop(letter, name)
    if any(c < 0.8 for c in confidence.values()):
        letter.add_reason(Flag.LOW_CONFIDENCE)
    if letter.missing_attachments:
        letter.add_reason(Flag.MISSING_ATTACHMENTS)
    return letter


@dataclass(frozen=True)
class Taken:
    letter_id: int
    status: str
    recipients: list[str]
    flags: list[str]


def take_in(app: App, name: str, folder: Path, *, station: str = "station-1", **changes: Any) -> Taken:
    """The intake of sample `name` as read with `changes`; the scan's bytes made unique per call."""
    scan = LETTERS / name
    path = folder / f"{next(_serial):03d}-{scan.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(scan.read_bytes() + f"\n%{path.name}\n".encode())
    letter = read_as(name, **changes)
    fp = intake.fingerprint(path, station)
    validation = intake.check(app, letter)
    keys = intake.archive(app, fp, letter)
    result = intake.record(app, fp, letter, validation, keys)
    assert result.letter_id is not None, result
    return Taken(result.letter_id, result.status, list(result.recipients), list(result.flags))
