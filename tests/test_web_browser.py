"""The whole round in a real browser: Debian's Chromium, headless, driven by Playwright (Python).

A committed scan is taken in with the real intake (saraban.intake.process_file); the app runs as
`saraban serve` on a free loopback port. An operator opens the letter needing review, corrects
its number and approves it with the keyboard; the unit's clerk sees it in the inbox and receives
it (a receive number appears); another unit's clerk gets 403 on the letter's URL; a form posted
without its CSRF token is rejected.

Never downloads a browser: /usr/bin/chromium comes from `apt-get install chromium` (Makefile).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from review.render import thai_date
from review.server import free_port
from saraban.app import App
from saraban.intake import process_file
from storage.directory import import_directory
from storage.register import import_register
from storage.tables import InboxItemRow, LetterRow
from tests.conftest import LETTERS, ROOT, SAMPLES, make_settings, truth
from tests.web_fixtures import PASSWORD, add_users

pytestmark = pytest.mark.timeout(300)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
SECRET = "18-date-split.pdf"  # ลับ, ด่วนที่สุด → นายอำเภอเกาะคา (amphoe-02): secret letters always need review


@dataclass
class Site:
    app: App
    url: str
    letter_id: int


def wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"saraban serve exited: {output}")
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"saraban serve did not answer on {url} within {seconds} s")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    home = tmp_path / "home"
    app = App.create(make_settings(home))
    with app.db.session() as session:
        import_register(session, SAMPLES / "register.csv")
        import_directory(session, SAMPLES / "directory.yaml")
    add_users(app)
    result = process_file(app, LETTERS / SECRET, "สถานีสารบรรณกลาง")
    assert result.status == "needs_review" and result.letter_id is not None, result
    port = free_port()
    env = {**os.environ, "SARABAN_HOME": str(home), "SARABAN_SECRET_KEY": app.settings.secret_key}
    env.pop("SARABAN_DATABASE_URL", None)
    env.pop("SARABAN_STORAGE", None)
    server = subprocess.Popen([str(Path(sys.executable).parent / "saraban"), "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, server)
        yield Site(app, url, result.letter_id)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        app.db.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


def log_in(browser: Browser, url: str, username: str) -> Page:
    """A fresh browser context (its own cookies) logged in as `username`; returns its page."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="th-TH")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{url}/login")
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.wait_for_url(re.compile(r"/(review|inbox/[\w-]+|dashboard)$"))
    return page


def test_review_route_receive_and_refuse(site: Site, browser: Browser) -> None:
    from playwright.sync_api import expect

    t = truth(SECRET)
    letter = site.letter_id

    # The operator opens the letter needing review from the queue and corrects its number.
    page = log_in(browser, site.url, "operator")
    expect(page.get_by_role("heading", name=re.compile("รายการรอตรวจทาน"))).to_be_visible()
    page.locator(f'a[href="/review/{letter}"]').click()
    page.wait_for_url(f"{site.url}/review/{letter}")
    expect(page.locator("#crop-img")).to_be_visible()
    assert page.locator("#crop-img").evaluate("img => img.naturalWidth") > 200  # the real header crop
    # Keyboard-first: the focus starts on the first field the machine was unsure of (else the number),
    # and Tab walks the fields in order.
    assert page.evaluate("() => document.activeElement.closest('.field.low') !== null"
                         " || document.activeElement.id === 'f-number'")
    page.get_by_label("เลขที่หนังสือ").fill(to_thai_input(t["number"]["value"]))
    page.get_by_label("ลงวันที่").fill(thai_date(_iso(t["date"]["value"])))
    page.keyboard.press("Tab")
    expect(page.get_by_label(re.compile("^เรื่อง"))).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type(t["subject"]["value"])
    page.get_by_label(re.compile("^เรียน")).fill(t["addressee"]["value"])
    for box in page.locator("#unit-list input[name=units]").all():
        if box.get_attribute("value") not in t["recipients"]:
            box.uncheck()
    shown = [b.get_attribute("value") for b in page.locator("#unit-list input[name=units]").all()]
    for unit in t["recipients"]:
        if unit not in shown:
            page.get_by_label("เพิ่มหน่วยงาน").fill(unit)
            page.get_by_label("เพิ่มหน่วยงาน").press("Enter")
    expect(page.locator("#unit-list input[name=units]:checked")).to_have_count(len(t["recipients"]))
    page.get_by_label("เลขที่หนังสือ").press("Control+Enter")  # keyboard: approve and route
    page.wait_for_url(re.compile(r"/review(/\d+)?(\?.*)?$"))
    expect(page.locator(".flash").first).to_contain_text("ส่งหนังสือ")
    with site.app.db.session() as session:
        row = session.get(LetterRow, letter)
        assert row is not None and (row.status, row.number) == ("routed", t["number"]["value"])
        units = sorted(session.scalars(select(InboxItemRow.unit_id).where(InboxItemRow.letter_id == letter)))
        assert units == t["recipients"]

    # The unit's clerk sees it in the inbox; a receive form without its CSRF token is refused.
    clerk = log_in(browser, site.url, "kohkha")
    assert clerk.url.endswith("/inbox/amphoe-02")
    row_in_inbox = clerk.locator(f"#letter-{letter}")
    expect(row_in_inbox).to_contain_text(t["number"]["value"])
    expect(row_in_inbox).to_contain_text("ลับ")
    with clerk.expect_response(lambda r: r.request.method == "POST") as refused:
        clerk.evaluate("""id => {
            const form = document.querySelector(`#letter-${id} form`);
            form.querySelector("input[name=csrf_token]").remove();
            form.submit();
        }""", letter)
    assert refused.value.status == 403
    expect(clerk.get_by_role("heading", name="คำขอถูกปฏิเสธ")).to_be_visible()
    with site.app.db.session() as session:
        item = session.scalar(select(InboxItemRow).where(InboxItemRow.letter_id == letter))
        assert item is not None and item.status == "new" and item.receive_number is None

    clerk.goto(f"{site.url}/inbox/amphoe-02")
    clerk.locator(f"#letter-{letter}").get_by_role("button", name="รับหนังสือ").click()
    clerk.wait_for_url(f"{site.url}/inbox/amphoe-02")
    expect(clerk.locator(".flash").first).to_contain_text(re.compile(r"เลขรับ 1/25\d\d"))
    clerk.get_by_role("link", name=re.compile("รับแล้ว")).click()
    expect(clerk.locator(f"#letter-{letter} .receive-number")).to_have_text(re.compile(r"1/25\d\d"))
    pdf = clerk.context.request.get(f"{site.url}/letters/{letter}/pdf")
    assert (pdf.status, pdf.headers["content-type"], pdf.body()[:4]) == (200, "application/pdf", b"%PDF")

    # Another unit's clerk: 403 on that letter's URL, typed or not.
    other = log_in(browser, site.url, "muang")
    for path in (f"/letters/{letter}", f"/letters/{letter}/pdf", "/inbox/amphoe-02"):
        response = other.goto(f"{site.url}{path}")
        assert response is not None and response.status == 403, path
        expect(other.get_by_role("heading", name="ไม่มีสิทธิ์เข้าถึง")).to_be_visible()


def _iso(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def to_thai_input(number: str) -> str:
    """How an operator types a number off the page: Thai digits, with the `ที่` label."""
    from pipeline.thai import to_thai_digits

    return f"ที่ {to_thai_digits(number)}"
