"""How fast the web app renders its busiest pages with 10,000 letters in the database.

    .venv/bin/python -m bench.web [--letters 10000] [--requests 200] [--database-url URL]

Rows are generated straight into the database (units and groups from samples/directory.yaml;
letters with inbox items, review items, returns, intake files and events in realistic shares).
The app runs as `saraban serve` in its own process; one client measures wall time per request
over keep-alive HTTP. Baselines in the same run: a static file and the login page (a template
without the database). Target: review queue, review page and unit inbox ≤ 200 ms at p95.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0
PASSWORD = "bench-password-1"
SUBJECTS = ["ขอความร่วมมือรายงานข้อมูล", "ขอเชิญประชุมคณะกรรมการบริหารงานจังหวัดแบบบูรณาการ",
            "การป้องกันและแก้ไขปัญหาหมอกควันและไฟป่า", "การเตรียมความพร้อมรับมือสถานการณ์ภัยแล้ง",
            "ขอความอนุเคราะห์ประชาสัมพันธ์โครงการตลาดนัดแรงงาน", "การรายงานข้อมูลผู้ได้รับผลกระทบจากอุทกภัย",
            "การเฝ้าระวังและป้องกันโรคไข้เลือดออก", "แจ้งวิธีการ/ขั้นตอนการใช้งานระบบสารบรรณอิเล็กทรอนิกส์ (e-Document)"]
CODES = ["ลป 0017.1", "ลป 0017.5", "ลป 0018.3", "ลป 0418.1", "ลป 0421", "ศธ 04099", "มท 0810.7", "กค 0417.34"]
REASONS = ["low_confidence", "number_not_in_register", "number_suggestion", "register_mismatch",
           "unresolved_addressee", "secret", "duplicate"]


def generate(app: Any, letters: int, seed: int = 8) -> dict[str, Any]:
    """Letters and everything around them, inserted in bulk. Returns ids the benchmark visits."""
    from review.auth import add_user
    from storage.directory import import_directory
    from storage.tables import (
        EventRow,
        InboxItemRow,
        IntakeFileRow,
        LetterRow,
        ReturnRow,
        ReviewItemRow,
        UnitRow,
    )

    rng = random.Random(seed)
    with app.db.session() as session:
        import_directory(session, ROOT / "samples" / "directory.yaml")
        units = list(session.scalars(select(UnitRow.id)))
        amphoe = [u for u in units if u.startswith("amphoe-")]
        add_user(session, "operator", PASSWORD, "operator")
        add_user(session, "kohkha", PASSWORD, "clerk", unit_id="amphoe-02")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    letter_rows, inbox_rows, review_rows, return_rows, file_rows, event_rows = [], [], [], [], [], []
    for i in range(1, letters + 1):
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        code, station = rng.choice(CODES), f"station-{i % 4 + 1}"
        circular = rng.random() < 0.4
        number = f"{code}/{'ว ' if circular else ''}{rng.randint(1, 30000)}"
        roll = rng.random()
        status = "routed" if roll < 0.72 else "needs_review" if roll < 0.95 else "held"
        urgency = rng.choices([None, "ด่วน", "ด่วนมาก", "ด่วนที่สุด"], [70, 15, 10, 5])[0]
        if rng.random() < 0.04:
            recipients = amphoe
        else:
            chosen = rng.sample(units, rng.randint(1, 3)) + (["amphoe-02"] if rng.random() < 0.12 else [])
            recipients = sorted(set(chosen))
        subject = rng.choice(SUBJECTS)
        confidence = {"number": round(rng.uniform(0.3, 1.0), 3), "date": round(rng.uniform(0.3, 1.0), 3),
                      "subject": 0.93, "addressee": 0.92}
        letter_rows.append({
            "id": i, "sha256": f"{i:064x}", "file_name": f"scan-{i:05d}.pdf", "station": station,
            "size_bytes": 250_000, "kind": "letter", "pages": rng.randint(1, 6), "number": number,
            "number_year": created.year, "sender_code": code, "date": created.date(), "subject": subject,
            "addressee": "นายอำเภอทุกอำเภอ", "references": [], "attachments": [], "distribution": [],
            "urgency": urgency, "secrecy": "ลับ" if rng.random() < 0.02 else None, "attachment_pages": 0,
            "missing_attachments": status == "held", "confidences": confidence,
            "sources": {"number": f"ที่ {number}", "date": "", "subject": subject,
                        "addressee": "นายอำเภอทุกอำเภอ"},
            "status": status, "flags": [], "recipients": recipients, "routing": {}, "suggestion": None,
            "object_key": f"letters/2569/bench/{i:064x}.pdf", "header_key": None, "read_seconds": 0.7,
            "created_at": created, "updated_at": created})
        file_rows.append({"path": f"/scans/scan-{i:05d}.pdf", "station": station, "sha256": f"{i:064x}",
                          "size_bytes": 250_000, "letter_id": i, "created_at": created,
                          "outcome": "routed" if status == "routed" else "needs_review"})
        event_rows.append({"at": created, "actor": "system", "action": "letter_received", "letter_id": i,
                           "detail": {"number": number}})
        if status == "routed":
            for unit in recipients:
                received = rng.random() < 0.6
                inbox_rows.append({"letter_id": i, "unit_id": unit, "created_at": created,
                                   "status": "received" if received else "new"})
            event_rows.append({"at": created, "actor": "system", "action": "routed", "letter_id": i,
                               "detail": {"units": recipients}})
        elif status == "needs_review":
            review_rows.append({"letter_id": i, "reasons": rng.sample(REASONS, rng.randint(1, 2)),
                                "status": "open", "created_at": created})
        else:
            return_rows.append({"letter_id": i, "reason": "ไม่มีเอกสารแนบมาด้วย", "sender_code": code,
                                "status": "pending", "created_at": created})
    for _ in range(50):  # failed files for the dashboard
        file_rows.append({"path": "/scans/broken.pdf", "station": "station-1", "sha256": None,
                          "size_bytes": 0, "outcome": "failed", "reason": "แฟ้มเสียหาย อ่านไม่ได้",
                          "created_at": now})
    with app.db.session() as session:
        tables = ((LetterRow, letter_rows), (InboxItemRow, inbox_rows), (ReviewItemRow, review_rows),
                  (ReturnRow, return_rows), (IntakeFileRow, file_rows), (EventRow, event_rows))
        for table, rows in tables:
            for start in range(0, len(rows), 2000):
                session.execute(insert(table), rows[start:start + 2000])
    in_review = [r["letter_id"] for r in review_rows]
    return {"letters": letters, "inbox_items": len(inbox_rows), "review_items": len(review_rows),
            "returns": len(return_rows), "events": len(event_rows),
            "amphoe_02": sum(1 for r in inbox_rows if r["unit_id"] == "amphoe-02"), "in_review": in_review}


def start_server(home: Path, database_url: str | None, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SARABAN_HOME": str(home), "SARABAN_SECRET_KEY": "bench-secret"}
    if database_url:
        env["SARABAN_DATABASE_URL"] = database_url
    server = subprocess.Popen([str(Path(sys.executable).parent / "saraban"), "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise RuntimeError(server.stderr.read().decode() if server.stderr else "saraban serve exited")
    server.terminate()
    raise RuntimeError("saraban serve did not start within 60 s")


def login(client: httpx.Client, username: str) -> None:
    page = client.get("/login").text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text[:300]


def timed(client: httpx.Client, paths: Callable[[int], str], requests: int, warmup: int = 10) -> list[float]:
    for i in range(warmup):
        client.get(paths(i)).raise_for_status()
    times = []
    for i in range(requests):
        start = time.perf_counter()
        response = client.get(paths(i))
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (paths(i), response.status_code)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp home")
    args = parser.parse_args()

    from review.server import free_port
    from saraban.app import App
    from saraban.settings import Settings

    with tempfile.TemporaryDirectory(prefix="saraban-bench-web-") as tmp:
        home = Path(tmp) / "home"
        app = App.create(Settings(home=home, database_url=args.database_url, secret_key="bench-secret"))
        started = time.perf_counter()
        data = generate(app, args.letters)
        app.db.dispose()
        print(f"generated in {time.perf_counter() - started:.1f} s: {data['letters']} letters, "
              f"{data['inbox_items']} inbox items ({data['amphoe_02']} for amphoe-02), "
              f"{data['review_items']} open review items, {data['returns']} returns, {data['events']} events")
        port = free_port()
        server = start_server(home, args.database_url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            in_review = data["in_review"]
            with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as operator, \
                    httpx.Client(base_url=base, follow_redirects=False, timeout=30) as clerk:
                login(operator, "operator")
                login(clerk, "kohkha")
                pages = {
                    "static file (baseline)": (operator, lambda i: "/static/app.css"),
                    "login page (baseline)": (httpx.Client(base_url=base), lambda i: "/login"),
                    "review queue": (operator, lambda i: "/review"),
                    "review page": (operator, lambda i: f"/review/{in_review[i % len(in_review)]}"),
                    "unit inbox (amphoe-02)": (clerk, lambda i: "/inbox/amphoe-02"),
                    "dashboard": (operator, lambda i: "/dashboard"),
                }
                results = {name: timed(client, path, args.requests) for name, (client, path) in pages.items()}
        finally:
            server.terminate()
            server.wait(timeout=30)
    baseline = statistics.median(results["login page (baseline)"])
    print(f"\n{args.requests} requests per page, one client, keep-alive; times in ms")
    print(f"{'page':28s} {'p50':>8s} {'p95':>8s} {'p50 / login p50':>16s}")
    failed = []
    for name, times in results.items():
        median, high = statistics.median(times), p95(times)
        print(f"{name:28s} {median:8.1f} {high:8.1f} {median / baseline:16.1f}")
        if name in ("review queue", "review page", "unit inbox (amphoe-02)") and high > TARGET_MS:
            failed.append(name)
    print(f"\ntarget: review queue, review page and inbox p95 ≤ {TARGET_MS:.0f} ms: "
          + ("met" if not failed else f"NOT met for {', '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
