"""Build `samples/directory.yaml` from the real distribution list of Lampang province.

    python -m samples.build_directory ../shared/fixtures/real-texts/distribution-list-lampang.txt

The list (แจ้งท้าย) names ~180 units under six group headings. Each unit gets an id, the
position its letters are addressed to (head), aliases (full forms of abbreviated names, former
names, the name without its parenthesised note) and its groups.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from pipeline.thai import normalize_text

PROVINCE = "ลำปาง"

# heading prefix → (group id, unit id prefix, group name, group aliases)
GROUPS = [
    ("หัวหน้าส่วนราชการส่วนภูมิภาค", "regional", "r", "หัวหน้าส่วนราชการส่วนภูมิภาค",
     ["ส่วนราชการส่วนภูมิภาค", "หัวหน้าส่วนราชการส่วนภูมิภาคทุกส่วน"]),
    ("ส่วนท้องถิ่น", "local", "l", "ผู้บริหารองค์กรปกครองส่วนท้องถิ่น",
     ["ส่วนท้องถิ่น", "องค์กรปกครองส่วนท้องถิ่น", "ผู้บริหารองค์กรปกครองส่วนท้องถิ่นทุกแห่ง"]),
    ("สถานศึกษา", "institutions", "i", "สถานศึกษา รัฐวิสาหกิจ องค์กรภาคเอกชน และหน่วยงานอิสระ",
     ["สถานศึกษา/รัฐวิสาหกิจ/องค์กรภาคเอกชน/หน่วยงานอิสระ", "หัวหน้ารัฐวิสาหกิจ", "หัวหน้าหน่วยงานอิสระ"]),
    ("ศาล/อัยการ/ตำรวจ", "justice", "j", "ศาล อัยการ และตำรวจ",
     ["ศาล/อัยการ/ตำรวจ", "หัวหน้าหน่วยงานศาล อัยการ และตำรวจ"]),
    ("หัวหน้าส่วนราชการส่วนกลาง", "central", "c", "หัวหน้าส่วนราชการส่วนกลาง",
     ["ส่วนราชการส่วนกลาง", "หัวหน้าส่วนราชการส่วนกลางในจังหวัด"]),
    ("นายอำเภอทุกอำเภอ", "amphoe-all", "amphoe", "นายอำเภอทุกอำเภอ",
     ["นายอำเภอ ทุกอำเภอ", "นายอำเภอทุกแห่ง", "ทุกอำเภอ", "อำเภอทุกอำเภอ"]),
]

# Groups made of other groups: a unit in any member group belongs to these too.
UNION_GROUPS = [
    ("provincial-heads", f"หัวหน้าส่วนราชการประจำจังหวัด{PROVINCE}",
     ["หัวหน้าส่วนราชการประจำจังหวัด", "หัวหน้าส่วนราชการทุกส่วน", "ทุกส่วนราชการ",
      f"หัวหน้าส่วนราชการทุกส่วนในจังหวัด{PROVINCE}", "ส่วนราชการประจำจังหวัด"],
     ["regional", "central"]),
]

# Lines in the real list that are two entries run together by the original typist.
SKIP = {"กลุ่มระบาดวิทยาและข่าวกรอง สำนักงานป้องกันควบคุมโรคที่ ๑๐ ศูนย์โรคเรื้อนที่ ๑๐ ลำปาง"}

ABBREVIATIONS = {"สนง.": "สำนักงาน", "กกก.": "คณะกรรมการ", "จ.": "จังหวัด"}

_ITEM = re.compile(r"^[๐-๙0-9]+\.\s*(.+)$")


def head_of(name: str) -> str:
    """The position a letter to this unit is addressed to, as Thai offices title it."""
    full = f"จังหวัด{PROVINCE}"
    if name.startswith("ที่ว่าการอำเภอ"):
        return "นายอำเภอ" + name.removeprefix("ที่ว่าการอำเภอ")
    if name == f"สำนักงานจังหวัด{PROVINCE}":
        return f"หัวหน้าสำนักงานจังหวัด{PROVINCE}"
    if name == f"ที่ทำการปกครองจังหวัด{PROVINCE}":
        return f"ปลัดจังหวัด{PROVINCE}"
    if name.startswith("สำนักงาน") and name.endswith(full) and not any(c in name for c in "ฯ (") \
            and "ประจำ" not in name:
        return name.removeprefix("สำนักงาน")  # สำนักงานคลังจังหวัดลำปาง → คลังจังหวัดลำปาง
    if name.startswith("องค์การบริหารส่วนจังหวัด"):
        return "นายก" + name
    if name.startswith("เทศบาล"):
        return "นายกเทศมนตรี" + name.removeprefix("เทศบาล").removeprefix("นคร").removeprefix("เมือง")
    if name.startswith(("โรงเรียน", "วิทยาลัย")):
        return "ผู้อำนวยการ" + name
    return "ผู้อำนวยการ" + name


def aliases_of(name: str) -> list[str]:
    found: list[str] = []
    base = re.sub(r"\s*\([^)]*\)\s*", " ", name).strip()
    inside = [p for p in re.findall(r"\(([^)]*)\)", name) if len(p) > 8]  # a full name, not an acronym
    for candidate in [name, base, *inside]:
        variants = {candidate}
        for short, long in ABBREVIATIONS.items():
            variants |= {v.replace(short, long) for v in variants}
        if candidate.endswith("จังหวัด"):
            variants.add(candidate + PROVINCE)
        variants |= {v.replace("ฯ ", "").replace("ฯ", "") for v in variants}
        found.extend(v for v in sorted(variants) if v and v != name)
    return list(dict.fromkeys(normalize_text(a) for a in found if normalize_text(a) != normalize_text(name)))


def parse(text: str) -> dict:
    units: dict[str, dict] = {}
    by_name: dict[str, str] = {}
    group_meta = {g[1]: g for g in GROUPS}
    group: tuple | None = None
    counters: dict[str, int] = {}
    pending_heading = ""
    last_unit: dict | None = None
    for raw in text.splitlines():
        line = normalize_text(raw)
        if not line or line == "(แจ้งท้าย)":
            continue
        heading = pending_heading + line
        match = next((g for g in GROUPS if heading.startswith(g[0])), None)
        if match and not _ITEM.match(line):
            if "(" in heading or match[1] == "amphoe-all":
                group, pending_heading = match, ""
            else:
                pending_heading = heading
            continue
        item = _ITEM.match(line)
        if not item:
            if last_unit is not None:  # a wrapped entry continues the previous one
                last_unit["name"] = normalize_text(last_unit["name"] + " " + line)
            continue
        name = item.group(1)
        if name in SKIP or group is None:
            last_unit = None
            continue
        gid = group[1]
        if gid == "amphoe-all":
            name = "ที่ว่าการ" + name
        if name in by_name:  # listed twice (in two groups, or twice in one)
            unit = units[by_name[name]]
            if gid not in unit["groups"]:
                unit["groups"].append(gid)
            last_unit = None
            continue
        counters[gid] = counters.get(gid, 0) + 1
        uid = f"{group_meta[gid][2]}-{counters[gid]:02d}"
        unit = {"id": uid, "name": name, "groups": [gid]}
        units[uid] = unit
        by_name[name] = uid
        last_unit = unit
    for unit in units.values():
        former = re.findall(r"\(เดิม\s*([^)]*)\)", unit["name"])
        unit["name"] = normalize_text(re.sub(r"\(เดิม[^)]*\)", "", unit["name"]))
        unit["head"] = head_of(unit["name"])
        if unit["name"].startswith("ที่ว่าการอำเภอ"):
            unit["aliases"] = [unit["name"].removeprefix("ที่ว่าการ")]
        else:
            unit["aliases"] = aliases_of(unit["name"]) + [normalize_text(f) for f in former]
        for union_id, _name, _aliases, members in UNION_GROUPS:
            if any(g in members for g in unit["groups"]):
                unit["groups"].append(union_id)
    governor = {
        "id": "governor",
        "name": f"ผู้ว่าราชการจังหวัด{PROVINCE}",
        "head": f"ผู้ว่าราชการจังหวัด{PROVINCE}",
        "aliases": [f"ศาลากลางจังหวัด{PROVINCE}"],
        "groups": [],
    }
    groups = [{"id": g[1], "name": g[3], "aliases": g[4]} for g in GROUPS]
    groups += [{"id": u[0], "name": u[1], "aliases": u[2]} for u in UNION_GROUPS]
    ordered = [governor] + [{k: u[k] for k in ("id", "name", "head", "aliases", "groups")} for u in units.values()]
    return {"units": ordered, "groups": groups}


def main(argv: list[str]) -> None:
    source = Path(argv[1] if len(argv) > 1 else "../shared/fixtures/real-texts/distribution-list-lampang.txt")
    target = Path(argv[2] if len(argv) > 2 else Path(__file__).with_name("directory.yaml"))
    directory = parse(source.read_text(encoding="utf-8"))
    header = f"# Built by `python -m samples.build_directory` from {source.name}: real units of Lampang province.\n"
    target.write_text(header + yaml.safe_dump(directory, allow_unicode=True, sort_keys=False, width=200), "utf-8")
    print(f"{len(directory['units'])} units, {len(directory['groups'])} groups → {target}")


if __name__ == "__main__":
    main(sys.argv)
