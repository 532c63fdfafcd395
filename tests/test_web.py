"""The web app over HTTP (FastAPI's TestClient): sessions, roles, 403 across units, CSRF, the login
rate limit, escaping of OCR text, signed file links, and the review, returns and inbox forms."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from review import create_app
from review.auth import LoginLimiter, UserError, add_user
from saraban.app import App
from storage import letters as stored_letters
from storage.directory import import_directory
from storage.register import import_register
from storage.tables import InboxItemRow, LetterRow, ReturnRow, UserRow
from tests.conftest import ROOT, SAMPLES, make_settings
from tests.web_fixtures import PASSWORD, Taken, add_users, take_in

pytestmark = pytest.mark.timeout(120)
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(tmp_path: Path) -> Iterator[App]:
    """An App on SQLite with the sample register, directory and users."""
    app = App.create(make_settings(tmp_path / "home"))
    with app.db.session() as session:
        import_register(session, SAMPLES / "register.csv")
        import_directory(session, SAMPLES / "directory.yaml")
    add_users(app)
    yield app
    app.db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(site: App, clock: Clock) -> Iterator[TestClient]:
    # Lower limits than the defaults (5 per name, 20 per address): each attempt costs an argon2 check.
    limiter = LoginLimiter(per_user=3, per_address=5, clock=clock)
    with TestClient(create_app(site, login_limiter=limiter), follow_redirects=False) as c:
        yield c


def token(client: TestClient, path: str = "/login") -> str:
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in; returns the session's CSRF token for later forms."""
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token(client)})
    assert response.status_code == 303, response.text
    return token(client, response.headers["location"])


def unsure(app: App, tmp_path: Path, source: dict[str, str] | None = None, **changes: Any) -> Taken:
    """Sample 02 (→ amphoe-02) with its serial misread: needs review, the register suggests the truth."""
    result = take_in(app, "02-single-addressee.pdf", tmp_path, number="ลป 0033.009/18216",
                     source={"number": "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๖", **(source or {})}, **changes)
    assert result.status == "needs_review"
    return result


def routed(app: App, tmp_path: Path) -> Taken:
    result = take_in(app, "06-arabic-digits.jpg", tmp_path)  # → นายอำเภอเกาะคา (amphoe-02)
    assert (result.status, result.recipients) == ("routed", ["amphoe-02"])
    return result


def test_every_page_but_login_needs_a_session(client: TestClient, site: App, tmp_path: Path) -> None:
    letter = routed(site, tmp_path)
    for path in ("/", "/dashboard", "/review", f"/review/{letter.letter_id}", "/returns", "/inbox/amphoe-02",
                 f"/letters/{letter.letter_id}", f"/letters/{letter.letter_id}/pdf",
                 f"/letters/{letter.letter_id}/header", "/admin/users", "/admin/register", "/admin/directory",
                 "/files/letters/x.pdf?exp=9999999999&sig=abc"):
        response = client.get(path)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert location.startswith("/login?next="), path
        assert urllib.parse.unquote(location.split("=", 1)[1]).startswith(path.split("?")[0])
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    # A form post without a session does nothing either.
    response = client.post(f"/inbox/amphoe-02/{letter.letter_id}/receive", data={"csrf_token": token(client)})
    assert response.status_code == 401
    with site.db.session() as session:
        status = select(InboxItemRow.status).where(InboxItemRow.letter_id == letter.letter_id)
        assert session.scalar(status) == "new"


def test_login_argon2_and_the_session_cookie(client: TestClient, site: App, tmp_path: Path) -> None:
    with site.db.session() as session:
        hashes = list(session.scalars(select(UserRow.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    response = client.post("/login", data={"username": "operator", "password": "ผิด",
                                           "csrf_token": token(client)})
    assert response.status_code == 401 and "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.text
    response = client.post("/login", data={"username": "operator", "password": PASSWORD,
                                           "csrf_token": token(client), "next": "https://evil.example/"})
    assert (response.status_code, response.headers["location"]) == (303, "/review")  # no open redirect
    cookie = response.headers["set-cookie"].lower()
    assert "saraban_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # settings.cookie_secure is off here
    assert client.get("/review").status_code == 200
    # A cookie that was not signed by us is no session.
    client.cookies.set("saraban_session", client.cookies["saraban_session"][:-4] + "AAAA")
    assert client.get("/review").status_code == 303
    # Behind HTTPS: the cookie is sent only over HTTPS.
    secure = App.create(make_settings(tmp_path / "secure-home", cookie_secure=True))
    with secure.db.session() as session:
        import_directory(session, SAMPLES / "directory.yaml")
    add_users(secure)
    with TestClient(create_app(secure), base_url="https://testserver", follow_redirects=False) as https:
        response = https.post("/login", data={"username": "operator", "password": PASSWORD,
                                              "csrf_token": token(https)})
        assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()
    secure.db.dispose()


def test_roles(client: TestClient) -> None:
    expected = {
        "operator": {"/review": 200, "/dashboard": 200, "/returns": 200, "/admin/users": 403,
                     "/inbox/amphoe-02": 403},
        "kohkha": {"/inbox/amphoe-02": 200, "/inbox/amphoe-01": 403, "/review": 403, "/dashboard": 403,
                   "/returns": 403, "/admin/register": 403},
        "admin": {"/admin/users": 200, "/admin/register": 200, "/admin/directory": 200, "/review": 200,
                  "/inbox/amphoe-02": 200},
    }
    homes = {"operator": "/review", "kohkha": "/inbox/amphoe-02", "admin": "/dashboard"}
    for username, pages in expected.items():
        client.cookies.clear()
        login(client, username)
        assert client.get("/").headers["location"] == homes[username]
        for path, status in pages.items():
            response = client.get(path)
            assert response.status_code == status, (username, path)
            if status == 403:
                assert "ไม่มีสิทธิ์" in response.text


def test_a_clerk_of_another_unit_gets_403_even_by_typing_the_url(client: TestClient, site: App,
                                                                  tmp_path: Path) -> None:
    letter = routed(site, tmp_path).letter_id
    csrf = login(client, "muang")  # amphoe-01
    for path in (f"/letters/{letter}", f"/letters/{letter}/pdf", f"/letters/{letter}/header",
                 "/inbox/amphoe-02", "/letters/999999", f"/review/{letter}"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/inbox/amphoe-02/{letter}/receive", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"/inbox/amphoe-02/{letter}/return",
                       data={"csrf_token": csrf, "reason": "ไม่ใช่หนังสือของหน่วยงาน"}).status_code == 403
    # Posting to its own inbox for a letter not in it changes nothing either.
    assert client.post(f"/inbox/amphoe-01/{letter}/receive", data={"csrf_token": csrf}).status_code == 303
    with site.db.session() as session:
        assert session.scalar(select(InboxItemRow.status).where(InboxItemRow.letter_id == letter)) == "new"
    # The unit's own clerk opens and receives it: a receive number appears.
    client.cookies.clear()
    csrf = login(client, "kohkha")
    assert client.get(f"/letters/{letter}").status_code == 200
    inbox = client.get("/inbox/amphoe-02").text
    assert f'id="letter-{letter}"' in inbox and "ลป 0017.5/ว 12727" in inbox
    response = client.post(f"/inbox/amphoe-02/{letter}/receive", data={"csrf_token": csrf})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "รับหนังสือแล้ว เลขรับ 1/" in page
    assert "เลขรับ" in client.get(f"/letters/{letter}").text
    with site.db.session() as session:
        item = session.scalar(select(InboxItemRow).where(InboxItemRow.letter_id == letter))
        assert item is not None
        assert (item.status, item.receive_number, item.received_by) == ("received", 1, "kohkha")


def test_form_posts_without_the_csrf_token_are_rejected(client: TestClient, site: App,
                                                        tmp_path: Path) -> None:
    letter = unsure(site, tmp_path).letter_id
    response = client.post("/login", data={"username": "operator", "password": PASSWORD})
    assert response.status_code == 403 and "CSRF" in response.text
    csrf = login(client, "operator")
    form = {"action": "approve", "number": "ลป 0033.009/18210", "units": "amphoe-02",
            "units_shown": "amphoe-02"}
    for data in (form, {**form, "csrf_token": "not-the-token"}):
        response = client.post(f"/review/{letter}", data=data)
        assert response.status_code == 403 and "CSRF" in response.text
    with site.db.session() as session:
        row = session.get(LetterRow, letter)
        assert row is not None and (row.status, row.number) == ("needs_review", "ลป 0033.009/18216")
    response = client.post(f"/review/{letter}", data=form, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 303
    with site.db.session() as session:
        row = session.get(LetterRow, letter)
        assert row is not None and (row.status, row.number) == ("routed", "ลป 0033.009/18210")


def test_login_is_rate_limited(client: TestClient, clock: Clock) -> None:
    for _ in range(3):
        response = client.post("/login", data={"username": "operator", "password": "ผิดรหัส",
                                               "csrf_token": token(client)})
        assert response.status_code == 401
    response = client.post("/login", data={"username": "operator", "password": PASSWORD,
                                           "csrf_token": token(client)})
    assert response.status_code == 429 and "เข้าสู่ระบบผิดหลายครั้งเกินไป" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert client.get("/review").status_code == 303  # still not logged in
    clock.now += 16 * 60
    login(client, "operator")
    # And per address: many names tried from one machine.
    client.cookies.clear()
    for i in range(5):
        client.post("/login", data={"username": f"guess{i}", "password": "x", "csrf_token": token(client)})
    response = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                           "csrf_token": token(client)})
    assert response.status_code == 429


def test_ocr_text_is_always_escaped(client: TestClient, site: App, tmp_path: Path) -> None:
    script = '<script>alert("x")</script>'
    image = "<img src=x onerror=alert(1)>"
    letter = unsure(site, tmp_path, subject=f"เรื่อง {script}", addressee=f"นายอำเภอเกาะคา {image}",
                    source={"subject": f"ข้อความ {script}", "addressee": image}).letter_id
    csrf = login(client, "operator")
    for path in ("/review", f"/review/{letter}", f"/letters/{letter}"):
        page = client.get(path)
        assert page.status_code == 200
        assert script not in page.text and image not in page.text, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text, path
        assert "script-src 'self'" in page.headers["content-security-policy"]
    response = client.post(f"/review/{letter}", data={
        "csrf_token": csrf, "action": "approve", "number": "ลป 0033.009/18210", "subject": f"เรื่อง {script}",
        "addressee": f"นายอำเภอเกาะคา {image}", "units": "amphoe-02", "units_shown": "amphoe-02",
        "confirm": "1"})
    assert response.status_code == 303
    client.cookies.clear()
    login(client, "kohkha")
    page = client.get("/inbox/amphoe-02").text
    assert script not in page and "&lt;script&gt;" in page


def test_review_page_shows_what_the_machine_was_unsure_of(client: TestClient, site: App,
                                                          tmp_path: Path) -> None:
    # The addressee read unsure and garbled: the directory cannot confirm it either.
    letter = unsure(site, tmp_path, confidence={"addressee": 0.4}, addressee="นายอำเภอเกาะดาา",
                    urgency="ด่วนมาก").letter_id
    login(client, "operator")
    page = client.get(f"/review/{letter}").text
    number_field = page[page.index('<label for="f-number">') - 40:page.index('id="src-number"') + 200]
    # Read confidently, wrongly: highlighted because the register disagrees, with the OCR text it came from.
    assert 'class="field low"' in number_field and "ตรวจกับทะเบียน" in number_field
    assert "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๖" in number_field and "ความมั่นใจ 97%" in number_field
    addressee = page[page.index('<label for="f-addressee">') - 40:page.index('id="src-addressee"') + 200]
    assert 'class="field low"' in addressee and "ไม่แน่ใจ" in addressee and "ความมั่นใจ 40%" in addressee
    # The register's suggestion is preselected, in the field and among the candidates.
    assert 'id="f-number" name="number" value="ลป 0033.009/18210"' in page
    assert re.search(r'value="ลป 0033.009/18210" data-fill="f-number" checked', page)
    assert "แนะนำ" in page and "การป้องกันและแก้ไขปัญหาหมอกควันและไฟป่า" in page
    assert re.search(r'name="units" value="amphoe-02" checked', page) and "ที่ว่าการอำเภอเกาะคา" in page
    assert "ด่วนมาก" in page and 'list="unit-options"' in page
    for label_for in ("f-number", "f-date", "f-subject", "f-addressee", "f-urgency", "f-secrecy", "f-add",
                      "f-return"):
        assert f'<label for="{label_for}"' in page and f'id="{label_for}"' in page  # labelled fields
    assert 'value="approve"' in page and 'value="return"' in page and 'value="not_letter"' in page
    queue = client.get("/review").text
    assert "เลขที่หนังสืออาจอ่านผิด" in queue and "อ่านข้อความได้ไม่ชัดเจน" in queue
    held = take_in(site, "03-missing-attachments.pdf", tmp_path, confidence={"addressee": 0.4})
    with site.db.session() as session:  # held at intake: brought to review to show the prefilled reason
        row = session.get(LetterRow, held.letter_id)
        assert row is not None
        stored_letters.open_review(session, row, ["missing_attachments"])
    page = client.get(f"/review/{held.letter_id}").text
    assert 'id="f-return" name="return_reason" value="ไม่มีเอกสารแนบมาด้วย"' in page


def test_a_number_misread_twice_still_finds_its_register_entry(client: TestClient, site: App,
                                                               tmp_path: Path) -> None:
    # Two digits wrong (the reader did this to sample 02): no one-step suggestion, nothing preselected,
    # but the register entry with the same subject is offered.
    letter = take_in(site, "02-single-addressee.pdf", tmp_path, number="ลป 0033.005/15210").letter_id
    login(client, "operator")
    page = client.get(f"/review/{letter}").text
    assert 'id="f-number" name="number" value="ลป 0033.005/15210"' in page
    assert re.search(r'value="ลป 0033.009/18210" data-fill="f-number">', page)  # offered, not checked
    assert re.search(r'value="ลป 0033.005/15210" data-fill="f-number" checked', page)


def test_approve_asks_to_confirm_register_problems_then_goes_to_the_next(client: TestClient, site: App,
                                                                         tmp_path: Path) -> None:
    first = unsure(site, tmp_path).letter_id
    second = take_in(site, "05-memo.tif", tmp_path, confidence={"addressee": 0.4},
                     addressee="ผู้อำนายการลำนักงานลาขาจังหวัดเขต ๑-๒ ลำปาน").letter_id
    csrf = login(client, "operator")
    form = {"csrf_token": csrf, "action": "approve", "number": "ลป 0033.009/18216", "units": "amphoe-02",
            "units_shown": "amphoe-02"}
    response = client.post(f"/review/{first}", data=form)
    assert response.status_code == 409
    assert "ตรวจกับทะเบียนหนังสือส่งแล้วพบปัญหา" in response.text and 'name="confirm"' in response.text
    assert 'value="ลป 0033.009/18216"' in response.text  # what the operator typed is kept
    response = client.post(f"/review/{first}", data={**form, "confirm": "1"})
    assert response.status_code == 303 and response.headers["location"] == f"/review/next?after={first}"
    assert client.get(response.headers["location"]).headers["location"] == f"/review/{second}"
    # Return to sender from the review page, then confirm in the returns queue.
    response = client.post(f"/review/{second}", data={"csrf_token": csrf, "action": "return",
                                                      "return_reason": "ไม่มีเอกสารแนบมาด้วย"})
    assert response.status_code == 303
    assert "ไม่มีหนังสือรอตรวจทานแล้ว" in client.get(client.get(response.headers["location"])
                                                       .headers["location"]).text
    page = client.get("/returns").text
    with site.db.session() as session:
        row = session.scalar(select(ReturnRow).where(ReturnRow.letter_id == second))
        assert row is not None and row.sender_unit == "amphoe-02"
    assert f'id="return-{row.id}"' in page and "ที่ว่าการอำเภอเกาะคา" in page
    assert client.post(f"/returns/{row.id}/confirm", data={"csrf_token": csrf}).status_code == 303
    client.cookies.clear()
    login(client, "kohkha")  # the sender unit sees its returned letter
    page = client.get("/inbox/amphoe-02").text
    assert "หนังสือของหน่วยงานที่ถูกส่งคืน" in page and "ลป 0418.1/502" in page
    assert client.get(f"/letters/{second}").status_code == 200


def test_returns_override_with_an_uploaded_attachment(client: TestClient, site: App, tmp_path: Path) -> None:
    held = take_in(site, "03-missing-attachments.pdf", tmp_path)
    with site.db.session() as session:
        return_id = session.scalar(select(ReturnRow.id).where(ReturnRow.letter_id == held.letter_id))
    csrf = login(client, "operator")
    content = b"%PDF-1.4\n% the attachments, scanned separately\n%%EOF\n"
    response = client.post(f"/returns/{return_id}/override", data={"csrf_token": csrf},
                           files={"attachment": ("สิ่งที่ส่งมาด้วย.pdf", content, "application/pdf")})
    assert response.status_code == 303
    assert "ส่งหนังสือถึง 2 หน่วยงานแล้ว" in client.get("/returns").text
    page = client.get(f"/letters/{held.letter_id}").text
    assert "เอกสารแนบที่ได้รับภายหลัง 1" in page
    response = client.post(f"/returns/{return_id}/override", data={"csrf_token": csrf})  # no file chosen
    assert response.status_code == 400 and "ข้อมูลไม่ครบ" in response.text
    link = client.get(f"/letters/{held.letter_id}/attachments/0").headers["location"]
    assert client.get(link).content == content


def test_signed_file_links_from_the_local_store(client: TestClient, site: App, tmp_path: Path) -> None:
    letter = routed(site, tmp_path).letter_id
    login(client, "kohkha")
    link = client.get(f"/letters/{letter}/pdf").headers["location"]
    assert link.startswith("/files/letters/") and "sig=" in link
    response = client.get(link)
    with site.db.session() as session:
        row = session.get(LetterRow, letter)
        assert row is not None and row.object_key
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content == site.store.get(row.object_key)
    assert client.get(link[:-2] + ("00" if not link.endswith("00") else "11")).status_code == 403
    path, query = link.split("?")
    params = dict(urllib.parse.parse_qsl(query))
    assert client.get(f"{path}?exp={int(time.time()) - 5}&sig={params['sig']}").status_code == 403
    header = client.get(f"/letters/{letter}/header")
    assert header.status_code == 200 and header.headers["content-type"].startswith("image/")
    client.cookies.clear()
    assert client.get(link).status_code == 303  # a signed link still needs a session


def test_dashboard_counts(client: TestClient, site: App, tmp_path: Path) -> None:
    unsure(site, tmp_path)
    routed(site, tmp_path)
    with site.db.session() as session:
        stored_letters.record_file(session, path="/scans/broken.pdf", station="station-2", sha256=None,
                                   size=10, outcome="failed", reason_code="corrupt_file",
                                   reason="แฟ้มเสียหาย อ่านไม่ได้")
    login(client, "operator")
    page = client.get("/dashboard").text
    assert "นำเข้าวันนี้" in page and "แฟ้มที่นำเข้าไม่สำเร็จ" in page and "แฟ้มเสียหาย อ่านไม่ได้" in page
    assert re.search(r'<h2>รอตรวจทาน</h2><p class="big"><a href="/review">1</a>', page)
    assert re.search(r"<h2>นำเข้าวันนี้</h2><p class=\"big\">3</p>", page)


def test_admin_adds_users_from_the_form(client: TestClient, site: App) -> None:
    csrf = login(client, "admin")
    response = client.post("/admin/users", data={"csrf_token": csrf, "username": "thoen",
                                                  "password": "ยาวพอแล้ว123", "role": "clerk",
                                                  "unit_id": "amphoe-09"})
    assert response.status_code == 303
    response = client.post("/admin/users", data={"csrf_token": csrf, "username": "ghost",
                                                  "password": "ยาวพอแล้ว123", "role": "clerk",
                                                  "unit_id": "no-such-unit"})
    assert "ไม่พบหน่วยงาน" in client.get(response.headers["location"]).text
    client.cookies.clear()
    login(client, "thoen", "ยาวพอแล้ว123")
    assert client.get("/inbox/amphoe-09").status_code == 200


def test_user_add_command(tmp_path: Path) -> None:
    env = {**os.environ, "SARABAN_HOME": str(tmp_path / "home"), "SARABAN_SECRET_KEY": "test"}
    saraban = [str(Path(sys.executable).parent / "saraban"), "user", "add"]
    run = subprocess.run([*saraban, "somchai", "--role", "operator"], input="ยาวพอแล้ว123\nยาวพอแล้ว123\n",
                         env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "เพิ่มผู้ใช้ somchai" in run.stdout
    app = App.create(make_settings(tmp_path / "home"))
    with app.db.session() as session:
        [user] = session.scalars(select(UserRow))
        assert (user.username, user.role) == ("somchai", "operator")
        assert user.password_hash.startswith("$argon2id$")
    # What `user add` refuses, each with a Thai reason (the command prints it and exits 2).
    for username, password, role, unit, problem in (
            ("clerk1", "ยาวพอแล้ว123", "clerk", None, "--unit"),
            ("clerk1", "ยาวพอแล้ว123", "clerk", "no-such-unit", "ไม่พบหน่วยงาน"),
            ("op2", "สั้น", "operator", None, "อย่างน้อย 8"),
            ("op2", "ยาวพอแล้ว123", "superuser", None, "บทบาท"),
            ("somchai", "ยาวพอแล้ว123", "operator", None, "มีผู้ใช้ชื่อ"),
            ("op2", "ยาวพอแล้ว123", "operator", "amphoe-01", "เฉพาะผู้ใช้บทบาท clerk")):
        with pytest.raises(UserError, match=problem), app.db.session() as session:
            add_user(session, username, password, role, unit_id=unit)
    app.db.dispose()
