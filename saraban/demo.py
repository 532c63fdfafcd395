"""`make run`: the main job on embedded defaults.

Imports the sample register and directory, ingests samples/letters through the Prefect flow,
prints a summary per letter, then where the stored PDFs and the database are.
"""

from __future__ import annotations

from pathlib import Path

from saraban.cli import prefect_defaults

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def main() -> None:
    prefect_defaults()
    from saraban.report import wide_console

    console = wide_console()
    from flows.intake import ingest
    from saraban.app import current_app
    from saraban.report import print_intake_table
    from storage.directory import import_directory
    from storage.register import import_register

    app = current_app()
    with app.db.session() as session:
        added, updated = import_register(session, SAMPLES / "register.csv")
        directory = import_directory(session, SAMPLES / "directory.yaml")
    console.print(f"ทะเบียนหนังสือส่ง: เพิ่ม {added} ปรับปรุง {updated} รายการ · "
                  f"ทำเนียบ: {len(directory.units)} หน่วยงาน {len(directory.groups)} กลุ่ม")
    console.print("กำลังนำเข้าหนังสือตัวอย่างผ่าน Prefect flow …")
    results = ingest([str(SAMPLES / "letters")])
    with app.db.session() as session:
        from storage.tables import LetterRow

        dates = {row.id: row.date.isoformat() for row in session.query(LetterRow) if row.date}
    for r in results:
        r["date"] = dates.get(r.get("letter_id") or -1)
    print_intake_table(results, console)
    console.print(f"แฟ้ม PDF ที่จัดเก็บ: {app.settings.resolved_storage}")
    console.print(f"ฐานข้อมูล: {app.settings.resolved_database_url}")
    console.print("ดูกล่องหนังสือ: .venv/bin/saraban inbox amphoe-02 --json")


if __name__ == "__main__":
    main()
