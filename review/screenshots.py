"""Screenshots of the review page and a unit's inbox at 1366×768, from realistic data.

    .venv/bin/python -m review.screenshots [--out docs/screenshots]

Committed sample scans are taken in with the real intake (saraban.intake.process_file: real
reading, real header crops) in a temporary home; the letters for ที่ว่าการอำเภอเกาะคา are approved
as an operator would (saraban.operations, values from the samples' ground truth), one is left in
review; the app runs in a background thread and Debian's headless Chromium takes the pictures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from review.server import BackgroundServer
from saraban import operations
from saraban.app import App
from saraban.intake import process_file
from saraban.settings import Settings
from storage.directory import import_directory
from storage.register import import_register
from storage.tables import LetterRow

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT / "samples" / "letters"
SCANS = ("01-circular-groups.pdf", "02-single-addressee.pdf", "05-memo.tif", "06-arabic-digits.jpg",
         "14-outside-sender.pdf", "18-date-split.pdf")
UNIT = "amphoe-02"
PASSWORD = "screenshots-only-1"
# The letter shown on the review page, in order of preference: the number misread, one recipient.
FOR_REVIEW = ("02-single-addressee.pdf", "05-memo.tif", "14-outside-sender.pdf")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


def prepare(app: App) -> int:
    """Take the scans in, approve what goes to the unit; returns the letter left for review."""
    import json

    from review.auth import add_user

    with app.db.session() as session:
        import_register(session, ROOT / "samples" / "register.csv")
        import_directory(session, ROOT / "samples" / "directory.yaml")
        add_user(session, "somchai", PASSWORD, "operator", display_name="สมชาย ใจดี")
        add_user(session, "kohkha", PASSWORD, "clerk", unit_id=UNIT, display_name="สมหญิง รักงาน")
    taken = {}
    for name in SCANS:
        result = process_file(app, LETTERS / name, "สถานีสารบรรณกลาง")
        print(f"{name}: {result.status} {result.number or ''}")
        if result.letter_id is not None:
            taken[name] = result.letter_id
    def in_review(letter_id: int) -> bool:
        with app.db.session() as session:
            row = session.get(LetterRow, letter_id)
            return row is not None and row.status == "needs_review"

    waiting = [n for n in FOR_REVIEW if n in taken and in_review(taken[n])]
    keep = waiting[0] if waiting else None
    for name, letter_id in taken.items():
        truth = json.loads((LETTERS / "truth" / f"{Path(name).stem}.json").read_text("utf-8"))
        if name == keep or UNIT not in truth.get("recipients", []):
            continue
        if not in_review(letter_id):
            continue
        corrections = {field: truth[field]["value"] for field in ("number", "date", "subject", "addressee")}
        with app.db.session() as session:
            operations.approve_and_route(session, letter_id, actor="somchai", corrections=corrections,
                                         units=truth["recipients"], confirm=True)
    if keep is None:
        raise SystemExit("no sample letter is waiting for review: nothing to show on the review page")
    return taken[keep]


def shoot(app: App, letter_id: int, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with BackgroundServer(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for username, path, target in (("somchai", f"/review/{letter_id}", "review.png"),
                                       ("kohkha", f"/inbox/{UNIT}", "inbox.png")):
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="th-TH")
            page = context.new_page()
            page.goto(f"{server.url}/login")
            page.get_by_label("ชื่อผู้ใช้").fill(username)
            page.get_by_label("รหัสผ่าน").fill(PASSWORD)
            page.get_by_role("button", name="เข้าสู่ระบบ").click()
            page.wait_for_load_state()
            page.goto(f"{server.url}{path}")
            if target == "inbox.png":  # receive the newest letter: its receive number shows at the top
                page.get_by_role("button", name="รับหนังสือ").last.click()
                page.wait_for_load_state()
            page.screenshot(path=str(out / target))
            print(f"wrote {out / target}")
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the review page and the inbox.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saraban-screenshots-") as tmp:
        app = App.create(Settings(home=Path(tmp) / "home", secret_key="screenshots"))
        started = dt.datetime.now()
        letter_id = prepare(app)
        print(f"data ready in {(dt.datetime.now() - started).total_seconds():.0f} s")
        shoot(app, letter_id, args.out)
        app.db.dispose()


if __name__ == "__main__":
    main()
