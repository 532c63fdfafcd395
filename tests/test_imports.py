"""Register and directory imports: Thai digits and dates, idempotence, and all-or-nothing errors."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.directory import DirectoryImportError, import_directory, load_directory
from storage.register import RegisterImportError, add_entry, import_register
from storage.tables import RegisterEntryRow, UnitRow

from .conftest import SAMPLES


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text("number,date,subject,sender\n" + body, encoding="utf-8")
    return path


def test_register_with_thai_digits_and_dates_is_idempotent(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path, "ลป ๐๐๑๗.๑/ว ๑๔๑๕๕,๑๕ มิถุนายน ๒๕๕๘,แจ้งวิธีการใช้งานระบบ,สำนักงานจังหวัดลำปาง\n"
                          "ลป 0017.5/4386,2018-02-14,การกำหนดมาตรฐาน,สำนักงานจังหวัดลำปาง\n"
                          "ลป 0017.5/4387,14/02/2561,ขอเชิญประชุม,สำนักงานจังหวัดลำปาง\n"
                          "ลป 0017.5/4386,2018-02-14,การกำหนดมาตรฐาน,สำนักงานจังหวัดลำปาง\n")  # same row twice: fine
    with app.db.session() as session:
        assert import_register(session, path) == (3, 0)
    with app.db.session() as session:
        assert import_register(session, path) == (0, 0)  # re-import changes nothing
        row = session.scalar(select(RegisterEntryRow).where(RegisterEntryRow.number == "ลป 0017.1/ว 14155"))
        assert row is not None and row.year == 2015 and row.date.isoformat() == "2015-06-15"
        assert session.scalar(select(RegisterEntryRow.date).where(RegisterEntryRow.number == "ลป 0017.5/4387")
                              ).isoformat() == "2018-02-14"
    assert _count(app, RegisterEntryRow) == 3


def test_register_malformed_rows_import_nothing(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path, "ลป 0017.5/4386,2018-02-14,ถูกต้อง,หน่วยงาน\n"
                          "ไม่ใช่เลขที่,2018-02-14,เรื่อง,หน่วยงาน\n"
                          "ลป 0017.5/4388,วันไหนก็ได้,เรื่อง,หน่วยงาน\n"
                          "ลป 0017.5/4389,2018-02-14,,หน่วยงาน\n"
                          "ลป 0017.5/4386,2018-02-14,เรื่องอื่นที่ขัดกัน,หน่วยงาน\n")
    with pytest.raises(RegisterImportError) as info, app.db.session() as session:
        import_register(session, path)
    errors = info.value.errors
    assert len(errors) == 4
    assert errors[0].startswith("แถวที่ 3: เลขที่หนังสือไม่ถูกต้อง")
    assert "วันที่ไม่ถูกต้อง" in errors[1] and "ไม่มีเรื่อง" in errors[2] and "ซ้ำกับแถวที่ 2" in errors[3]
    assert _count(app, RegisterEntryRow) == 0


def test_register_missing_columns_and_xlsx(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("เลข,เมื่อ\nลป 0017.5/1,2018-01-01\n", encoding="utf-8")
    with pytest.raises(RegisterImportError, match="ไม่พบคอลัมน์"), app.db.session() as session:
        import_register(session, bad)
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["เลขที่", "ลงวันที่", "เรื่อง", "หน่วยงาน"])  # Thai headers as offices export them
    sheet.append(["ลป ๐๐๑๗.๒/ว ๑๒", dt.datetime(2024, 3, 1), "ขอความร่วมมือ", "สำนักงานจังหวัดลำปาง"])
    xlsx = tmp_path / "register.xlsx"
    book.save(xlsx)
    with app.db.session() as session:
        assert import_register(session, xlsx) == (1, 0)
        add_entry(session, "ลป 0017.2/ว 13", "๒ มีนาคม ๒๕๖๗", "ขอเชิญประชุม")
    with pytest.raises(RegisterImportError), app.db.session() as session:
        add_entry(session, "ลป 0017.2/ว", "2024-03-02", "ไม่มีเลขลำดับ")
    assert _count(app, RegisterEntryRow) == 2


def test_sample_directory_reflects_the_real_distribution_list(app) -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as session:
        directory = import_directory(session, SAMPLES / "directory.yaml")
    assert len(directory.members("amphoe-all")) == 13
    assert len(directory.members("regional")) == 32  # 33 listed, one listed twice (สถิติ)
    with app.db.session() as session:
        loaded = load_directory(session)
    assert loaded.units["amphoe-02"].head == "นายอำเภอเกาะคา"
    assert "provincial-heads" in loaded.units["r-01"].groups


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("units:\n  - {id: a, name: ก, groups: [nope]}\ngroups: []\n", "ไม่รู้จักกลุ่ม 'nope'"),
    ("units:\n  - {id: a, name: หน่วยก, aliases: [ชื่อเล่น]}\n  - {id: b, name: หน่วยข, aliases: [ชื่อเล่น]}\n",
     "ซ้ำกับหน่วยงาน a"),
    ("units:\n  - {id: a, name: ''}\n", "ไม่มีชื่อ"),
    ("units:\n  - {id: a, name: หน่วยก}\n  - {id: a, name: หน่วยข}\n", "รหัสซ้ำ"),
    ("- just a list\n", "units และ groups"),
])
def test_directory_errors_import_nothing(app, tmp_path: Path, yaml_text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "directory.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(DirectoryImportError) as info, app.db.session() as session:
        import_directory(session, path)
    assert any(message in e for e in info.value.errors)
    assert _count(app, UnitRow) == 0


def test_directory_from_csv(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "directory.csv"
    path.write_text("kind,id,name,head,aliases,groups\n"
                    "group,amphoe-all,นายอำเภอทุกอำเภอ,,ทุกอำเภอ,\n"
                    "unit,amphoe-02,ที่ว่าการอำเภอเกาะคา,นายอำเภอเกาะคา,อำเภอเกาะคา,amphoe-all\n", encoding="utf-8")
    with app.db.session() as session:
        directory = import_directory(session, path)
    assert directory.members("amphoe-all") == {"amphoe-02"}


def test_register_duplicate_rows_in_thai_and_arabic_digits_and_upsert(  # type: ignore[no-untyped-def]
        app, tmp_path: Path) -> None:
    # The same row typed twice, once in Thai digits and a Thai date: one entry.
    path = _csv(tmp_path, "ลป 0017.5/4386,2018-02-14,การกำหนดมาตรฐาน,สำนักงานจังหวัดลำปาง\n"
                          "ลป ๐๐๑๗.๕/๔๓๘๖,๑๔ กุมภาพันธ์ ๒๕๖๑,การกำหนดมาตรฐาน,สำนักงานจังหวัดลำปาง\n")
    with app.db.session() as session:
        assert import_register(session, path) == (1, 0)
    # The office corrects a subject and exports again: the entry is updated, not added.
    path = _csv(tmp_path, "ลป 0017.5/4386,2018-02-14,การกำหนดมาตรฐานและความเป็นธรรม,สำนักงานจังหวัดลำปาง\n"
                          "ลป 0017.5/4386,2019-01-03,ขอเชิญประชุม,สำนักงานจังหวัดลำปาง\n")  # next year's 4386
    with app.db.session() as session:
        assert import_register(session, path) == (1, 1)
    with app.db.session() as session:
        rows = session.scalars(select(RegisterEntryRow).order_by(RegisterEntryRow.year)).all()
        assert [(r.year, r.subject) for r in rows] == [(2018, "การกำหนดมาตรฐานและความเป็นธรรม"),
                                                       (2019, "ขอเชิญประชุม")]


def test_register_xlsx_with_a_bad_row_imports_nothing(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["number", "date", "subject", "sender"])
    sheet.append(["ลป ๐๐๑๗.๒/ว ๑๒", dt.datetime(2024, 3, 1), "ขอความร่วมมือ", "สำนักงานจังหวัดลำปาง"])
    sheet.append(["ลป 0017.2/ว 13", "๒ มี.ค. ๒๕๖๗", "ขอเชิญประชุม", "สำนักงานจังหวัดลำปาง"])
    sheet.append([None, None, None, None])  # blank rows in a sheet are skipped, not errors
    sheet.append(["ลป 0017.2/ว 14", "31/02/2567", "วันที่ไม่มีจริง", "สำนักงานจังหวัดลำปาง"])
    xlsx = tmp_path / "register.xlsx"
    book.save(xlsx)
    with pytest.raises(RegisterImportError) as info, app.db.session() as session:
        import_register(session, xlsx)
    assert info.value.errors == ["แถวที่ 5: วันที่ไม่ถูกต้อง '31/02/2567'"]  # the row number Excel shows
    assert _count(app, RegisterEntryRow) == 0


# What Thai Windows Excel saves as "CSV" is TIS-620 (cp874), not UTF-8.
_CP874 = "number,date,subject,sender\nลป 0017.5/4386,2018-02-14,การกำหนดมาตรฐาน,จังหวัดลำปาง\n".encode("cp874")
_SEMICOLONS = "number;date;subject;sender\nลป 0017.5/4386;2018-02-14;การกำหนดมาตรฐาน;จังหวัดลำปาง\n".encode()


def test_register_saved_by_thai_windows_excel(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "register.csv"
    path.write_bytes(b"\xb7\xd0\xc0\xd2,,,\n" + _CP874)  # a title row above the header, TIS-620 throughout
    with app.db.session() as session:
        assert import_register(session, path) == (1, 0)
        row = session.scalar(select(RegisterEntryRow))
        assert row is not None and row.subject == "การกำหนดมาตรฐาน" and row.sender == "จังหวัดลำปาง"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("register.csv", (SAMPLES / "letters" / "01-circular-groups.pdf").read_bytes()[:4096], "แฟ้มนี้ไม่ใช่ตาราง"),
    ("register.xlsx", b"PK\x03\x04 not really a workbook", "อ่านแฟ้มไม่ได้"),
    ("register.csv", _SEMICOLONS, "ไม่พบคอลัมน์"),
    ("register.ods", b"PK\x03\x04", "ไม่รองรับแฟ้มชนิด .ods"),
    ("register.csv", b"number,date,subject,sender\n", "ไม่พบแถวข้อมูล"),
], ids=["pdf-named-csv", "damaged-xlsx", "semicolon-csv", "ods", "header-only"])
def test_register_unreadable_files_import_nothing(app, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  name: str, content: bytes, message: str) -> None:
    with app.db.session() as session:
        add_entry(session, "ลป 0017.2/ว 13", "2024-03-02", "มีอยู่ก่อนแล้ว")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RegisterImportError) as info, app.db.session() as session:
        import_register(session, path)
    assert info.value.errors and info.value.errors[0].startswith(message)
    assert _count(app, RegisterEntryRow) == 1  # what was there stays, nothing was added
