"""Inboxes: receive numbers stay unique per unit and year under concurrent receivers; returns."""

import threading

from sqlalchemy import select

from pipeline.models import RETURN_REASON_NOT_OURS
from storage import inbox
from storage.tables import EventRow, InboxItemRow, LetterRow, ReviewItemRow, UnitRow


def _letters(app, count: int, units: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    with app.db.session() as session:
        for unit in units:
            session.add(UnitRow(id=unit, name=f"หน่วยงาน {unit}", head="", aliases=[], groups=[]))
        ids = []
        for i in range(count):
            letter = LetterRow(sha256=f"{i:064x}", file_name=f"{i}.pdf", kind="letter", status="needs_review",
                               number=f"ลป 0017.1/{i + 1}", number_year=2024)
            session.add(letter)
            session.flush()
            inbox.route(session, letter, units)
            ids.append(letter.id)
        return ids


def test_receive_numbers_unique_under_eight_threads(app) -> None:  # type: ignore[no-untyped-def]
    ids = _letters(app, 40, ["amphoe-02", "amphoe-05"])
    errors: list[BaseException] = []

    def worker(chunk: list[int]) -> None:
        try:
            for letter_id in chunk:
                for unit in ("amphoe-02", "amphoe-05"):
                    with app.db.session() as session:
                        inbox.receive(session, letter_id, unit, actor=threading.current_thread().name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(ids[i::8],), name=f"clerk-{i}") for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with app.db.session() as session:
        for unit in ("amphoe-02", "amphoe-05"):
            numbers = session.scalars(select(InboxItemRow.receive_number).where(InboxItemRow.unit_id == unit)).all()
            assert sorted(numbers) == list(range(1, 41))  # unique, none skipped, none reused


def test_receiving_twice_keeps_the_number_and_returns_send_back_to_review(app) -> None:  # type: ignore[no-untyped-def]
    first, second = _letters(app, 2, ["r-06"])
    with app.db.session() as session:
        number = inbox.receive(session, first, "r-06").receive_number
    with app.db.session() as session:
        assert inbox.receive(session, first, "r-06").receive_number == number
        inbox.return_letter(session, second, "r-06", RETURN_REASON_NOT_OURS, actor="clerk")
    with app.db.session() as session:
        letter = session.get(LetterRow, second)
        assert letter is not None and letter.status == "needs_review" and "returned_by_unit" in letter.flags
        assert session.scalar(select(ReviewItemRow).where(ReviewItemRow.letter_id == second)) is not None
        actions = session.scalars(select(EventRow.action).where(EventRow.letter_id == second)).all()
        assert "returned_by_unit" in actions and "routed" in actions
        listed = inbox.inbox(session, "r-06")
        assert [i.letter_id for i in listed if i.status == "received"] == [first]
