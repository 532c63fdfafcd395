"""The directory of units and groups: import (YAML per domain.md §8, or CSV) and loading.

An import replaces the directory as a whole, after every entry has been checked: unknown group
ids, an alias claimed by two units, empty names and repeated ids are reported together and
nothing is imported.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.route import Directory, Group, Unit
from pipeline.thai import normalize_text
from storage.tables import GroupRow, UnitRow


class DirectoryImportError(Exception):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("นำเข้าทำเนียบหน่วยงานไม่สำเร็จ ไม่มีรายการใดถูกนำเข้า:\n" + "\n".join(errors))


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [normalize_text(str(v)) for v in value if str(v).strip()]
    return [normalize_text(v) for v in str(value).replace("|", ";").split(";") if v.strip()]


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text("utf-8")) or {}
            if not isinstance(data, dict):
                raise DirectoryImportError(["แฟ้ม YAML ต้องมีหัวข้อ units และ groups"])
            return {"units": list(data.get("units") or []), "groups": list(data.get("groups") or [])}
        if suffix == ".csv":
            units: list[dict[str, Any]] = []
            groups: list[dict[str, Any]] = []
            with path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    entry = {k.strip(): v for k, v in row.items() if k}
                    (groups if entry.get("kind", "unit").strip() == "group" else units).append(entry)
            return {"units": units, "groups": groups}
    except (yaml.YAMLError, UnicodeDecodeError, csv.Error, OSError) as exc:
        raise DirectoryImportError([f"อ่านแฟ้มไม่ได้: {exc}"]) from exc
    raise DirectoryImportError([f"ไม่รองรับแฟ้มชนิด {suffix} ใช้ YAML หรือ CSV"])


def parse_directory_file(path: Path) -> Directory:
    raw = _read(path)
    errors: list[str] = []
    groups: dict[str, Group] = {}
    for i, entry in enumerate(raw["groups"], start=1):
        if not isinstance(entry, dict):
            errors.append(f"กลุ่มที่ {i}: รูปแบบไม่ถูกต้อง")
            continue
        gid, name = str(entry.get("id") or "").strip(), normalize_text(str(entry.get("name") or ""))
        if not gid:
            errors.append(f"กลุ่มที่ {i}: ไม่มีรหัส (id)")
        elif not name:
            errors.append(f"กลุ่ม {gid}: ไม่มีชื่อ")
        elif gid in groups:
            errors.append(f"กลุ่ม {gid}: รหัสซ้ำ")
        else:
            groups[gid] = Group(gid, name, tuple(_split(entry.get("aliases"))))
    units: dict[str, Unit] = {}
    claimed: dict[str, str] = {}
    for i, entry in enumerate(raw["units"], start=1):
        if not isinstance(entry, dict):
            errors.append(f"หน่วยงานที่ {i}: รูปแบบไม่ถูกต้อง")
            continue
        uid, name = str(entry.get("id") or "").strip(), normalize_text(str(entry.get("name") or ""))
        if not uid:
            errors.append(f"หน่วยงานที่ {i}: ไม่มีรหัส (id)")
            continue
        if not name:
            errors.append(f"หน่วยงาน {uid}: ไม่มีชื่อ")
            continue
        if uid in units:
            errors.append(f"หน่วยงาน {uid}: รหัสซ้ำ")
            continue
        unit_groups = _split(entry.get("groups"))
        for gid in unit_groups:
            if gid not in groups:
                errors.append(f"หน่วยงาน {uid}: ไม่รู้จักกลุ่ม '{gid}'")
        head = normalize_text(str(entry.get("head") or ""))
        aliases = _split(entry.get("aliases"))
        for text in {name, head, *aliases} - {""}:
            owner = claimed.get(text)
            if owner is not None and owner != uid:
                errors.append(f"หน่วยงาน {uid}: ชื่อ/ชื่อเรียก '{text}' ซ้ำกับหน่วยงาน {owner}")
            claimed.setdefault(text, uid)
        units[uid] = Unit(uid, name, head, tuple(aliases), tuple(unit_groups))
    if errors:
        raise DirectoryImportError(errors)
    if not units:
        raise DirectoryImportError(["ไม่มีหน่วยงานในแฟ้ม"])
    return Directory(units, groups)


def replace_directory(session: Session, directory: Directory) -> None:
    """The directory as a whole, in the caller's transaction. Units still referenced stay known."""
    session.execute(delete(GroupRow))
    existing = {row.id: row for row in session.scalars(select(UnitRow))}
    for unit in directory.units.values():
        row = existing.pop(unit.id, None) or UnitRow(id=unit.id)
        row.name, row.head, row.aliases, row.groups = unit.name, unit.head, list(unit.aliases), list(unit.groups)
        row.active = True
        session.add(row)
    for row in existing.values():  # gone from the directory: kept for old inbox items
        row.active = False
    for group in directory.groups.values():
        session.add(GroupRow(id=group.id, name=group.name, aliases=list(group.aliases)))
    session.flush()


def import_directory(session: Session, path: Path) -> Directory:
    directory = parse_directory_file(path)
    replace_directory(session, directory)
    return directory


def load_directory(session: Session) -> Directory:
    units = {r.id: Unit(r.id, r.name, r.head, tuple(r.aliases or []), tuple(r.groups or []))
             for r in session.scalars(select(UnitRow).where(UnitRow.active.is_(True)))}
    groups = {r.id: Group(r.id, r.name, tuple(r.aliases or [])) for r in session.scalars(select(GroupRow))}
    return Directory(units, groups)
