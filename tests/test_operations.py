"""Operator and unit actions as plain functions (saraban/operations.py), on SQLite and PostgreSQL.

Letters come in through the real intake steps with known misreadings (tests/web_fixtures.py), so
each test knows what the machine got wrong and what the truth is (samples/letters/truth).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from review import queries
from review.auth import User
from saraban import operations
from saraban.app import App
from saraban.operations import NeedsConfirmation, OperationError
from storage.tables import (
    EventRow,
    InboxItemRow,
    LetterRow,
    ReturnRow,
    ReviewItemRow,
    TrainingExampleRow,
)
from tests.conftest import truth
from tests.web_fixtures import Taken, take_in

pytestmark = pytest.mark.timeout(120)

SINGLE = "02-single-addressee.pdf"  # ลป 0033.009/18210 → นายอำเภอเกาะคา (amphoe-02)
MEMO = "05-memo.tif"  # ลป 0418.1/502, sent by ที่ว่าการอำเภอเกาะคา (amphoe-02) → c-51
MISSING = "03-missing-attachments.pdf"  # lists attachments, none arrived → returns queue


# The memo's addressee read unsure and garbled: it still points at its unit (c-51), but not closely
# enough for the directory to confirm it, so the letter waits for review.
UNSURE_ADDRESSEE: dict[str, Any] = {"confidence": {"addressee": 0.3},
                                    "addressee": "ผู้อำนายการลำนักงานลาขาจังหวัดเขต ๑-๒ ลำปาน"}
UNSURE_SINGLE: dict[str, Any] = {"confidence": {"addressee": 0.3}, "addressee": "นายอำเภอเกาะดาา"}  # → amphoe-02


def events(app: App, letter_id: int, action: str) -> list[EventRow]:
    with app.db.session() as session:
        return list(session.scalars(select(EventRow).where(EventRow.letter_id == letter_id,
                                                           EventRow.action == action).order_by(EventRow.id)))


def letter(app: App, letter_id: int) -> LetterRow:
    with app.db.session() as session:
        row = session.get(LetterRow, letter_id)
        assert row is not None
        return row


def inbox_units(app: App, letter_id: int) -> list[str]:
    with app.db.session() as session:
        return sorted(session.scalars(select(InboxItemRow.unit_id)
                                      .where(InboxItemRow.letter_id == letter_id)))


def misread_number(app: App, tmp_path: Path, **changes: Any) -> Taken:
    """Sample 02 with its serial misread as 18216 (๐ read as ๖), read confidently: the register
    suggests the right number but does not accept it alone."""
    result = take_in(app, SINGLE, tmp_path, number="ลป 0033.009/18216",
                     source={"number": "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๖"}, **changes)
    assert result.status == "needs_review", result
    return result


def test_correct_fields_logs_each_correction_and_keeps_a_training_example(loaded_app, tmp_path):
    result = misread_number(loaded_app, tmp_path)
    right = truth(SINGLE)["number"]["value"]
    with loaded_app.db.session() as session:
        values = {"number": "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๐", "subject": truth(SINGLE)["subject"]["value"]}
        done = operations.correct_fields(session, result.letter_id, values, actor="somchai")
    assert [(c.field, c.old_value, c.new_value) for c in done] == [("number", "ลป 0033.009/18216", right)]
    row = letter(loaded_app, result.letter_id)
    assert (row.number, row.sender_code, row.confidences["number"]) == (right, "ลป 0033.009", 1.0)
    [event] = events(loaded_app, result.letter_id, "field_corrected")
    assert event.actor == "somchai" and event.detail["new_value"] == right
    assert event.detail["ocr_value"] == "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๖"
    with loaded_app.db.session() as session:
        [example] = session.scalars(select(TrainingExampleRow))
        assert (example.letter_id, example.field, example.ocr_value, example.corrected_value) == (
            result.letter_id, "number", "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๖", right)
        assert example.crop_key == row.header_key and loaded_app.store.stat(example.crop_key) is not None
    # Corrected again: a second event, and the same example now holds the latest value.
    with loaded_app.db.session() as session:
        operations.correct_fields(session, result.letter_id, {"number": "ลป 0033.009/18211"}, actor="somying")
    assert len(events(loaded_app, result.letter_id, "field_corrected")) == 2
    with loaded_app.db.session() as session:
        [example] = session.scalars(select(TrainingExampleRow))
        assert (example.ocr_value, example.corrected_value, example.created_by) == (
            "ที่ ลป ๐๐๓๓.๐๐๙/๑๘๒๑๖", "ลป 0033.009/18211", "somying")


def test_a_bad_value_changes_nothing(loaded_app, tmp_path):
    result = misread_number(loaded_app, tmp_path)
    with pytest.raises(OperationError, match="ลงวันที่"), loaded_app.db.session() as session:
        operations.correct_fields(session, result.letter_id,
                                  {"number": "ลป 0033.009/18210", "date": "๓๑ ก.พ. ๒๕๖๗"}, actor="somchai")
    assert letter(loaded_app, result.letter_id).number == "ลป 0033.009/18216"
    assert events(loaded_app, result.letter_id, "field_corrected") == []


def test_approve_with_the_corrected_number_routes_to_the_addressee(loaded_app, tmp_path):
    result = misread_number(loaded_app, tmp_path)
    t = truth(SINGLE)
    assert (letter(loaded_app, result.letter_id).suggestion or {})["number"] == t["number"]["value"]
    with loaded_app.db.session() as session:
        approval = operations.approve_and_route(session, result.letter_id, actor="somchai",
                                                corrections={"number": t["number"]["value"]})
    assert approval.units == t["recipients"] and approval.acknowledged == []
    row = letter(loaded_app, result.letter_id)
    assert (row.status, row.number, row.recipients) == ("routed", t["number"]["value"], t["recipients"])
    assert inbox_units(loaded_app, result.letter_id) == t["recipients"]
    with loaded_app.db.session() as session:
        [item] = session.scalars(select(ReviewItemRow).where(ReviewItemRow.letter_id == result.letter_id))
        assert (item.status, item.resolution, item.closed_by) == ("closed", "approved", "somchai")
    [approved] = events(loaded_app, result.letter_id, "review_approved")
    assert approved.actor == "somchai" and approved.detail["corrected"] == ["number"]
    assert events(loaded_app, result.letter_id, "routed")[-1].actor == "somchai"
    with pytest.raises(OperationError, match="ไม่ได้รอตรวจทาน"), loaded_app.db.session() as session:
        operations.approve_and_route(session, result.letter_id, actor="somying")


def test_register_problems_need_confirmation(loaded_app, tmp_path):
    result = misread_number(loaded_app, tmp_path)
    with pytest.raises(NeedsConfirmation) as caught, loaded_app.db.session() as session:
        operations.approve_and_route(session, result.letter_id, actor="somchai")
    assert caught.value.flags == ["number_suggestion"]
    assert any("ลป 0033.009/18210" in p for p in caught.value.problems)
    assert letter(loaded_app, result.letter_id).status == "needs_review"  # nothing saved
    with loaded_app.db.session() as session:
        approval = operations.approve_and_route(session, result.letter_id, actor="somchai", confirm=True)
    assert approval.acknowledged == ["number_suggestion"]
    [approved] = events(loaded_app, result.letter_id, "review_approved")
    assert approved.detail["acknowledged"] == ["number_suggestion"]


def test_corrected_addressee_is_resolved_again_unless_units_are_chosen(loaded_app, tmp_path):
    first = take_in(loaded_app, SINGLE, tmp_path, addressee="นายอำเภอเกาะคาา ลำปาง",
                    confidence={"addressee": 0.4})
    assert first.status == "needs_review"
    with loaded_app.db.session() as session:
        approval = operations.approve_and_route(session, first.letter_id, actor="somchai",
                                                corrections={"addressee": "นายอำเภอเมืองลำปาง"})
    assert approval.units == ["amphoe-01"] == inbox_units(loaded_app, first.letter_id)
    # Chosen explicitly: exactly those units, whatever the addressee says.
    second = take_in(loaded_app, MEMO, tmp_path, **UNSURE_ADDRESSEE)
    assert second.status == "needs_review" and second.recipients == truth(MEMO)["recipients"]
    with loaded_app.db.session() as session:
        operations.approve_and_route(session, second.letter_id, actor="somchai",
                                     units=["amphoe-01", "amphoe-02"])
    assert inbox_units(loaded_app, second.letter_id) == ["amphoe-01", "amphoe-02"]
    assert letter(loaded_app, second.letter_id).recipients == ["amphoe-01", "amphoe-02"]  # c-51 removed
    with pytest.raises(OperationError, match="ไม่พบหน่วยงาน"), loaded_app.db.session() as session:
        third = take_in(loaded_app, SINGLE, tmp_path / "3", confidence={"addressee": 0.2})
        operations.approve_and_route(session, third.letter_id, actor="somchai", units=["no-such-unit"],
                                     confirm=True)


def test_an_unresolvable_addressee_asks_for_units(loaded_app, tmp_path):
    result = take_in(loaded_app, SINGLE, tmp_path, addressee="ผู้ว่าการดาวอังคาร", confidence={"addressee": 0.5})
    with pytest.raises(OperationError, match="ผู้ว่าการดาวอังคาร"), loaded_app.db.session() as session:
        operations.approve_and_route(session, result.letter_id, actor="somchai")


def test_return_to_sender_then_confirm_shows_it_to_the_sender_unit(loaded_app, tmp_path):
    result = take_in(loaded_app, MEMO, tmp_path, **UNSURE_ADDRESSEE)
    with loaded_app.db.session() as session:
        row = operations.return_to_sender(session, result.letter_id, "ไม่มีเอกสารแนบมาด้วย", actor="somchai")
        return_id = row.id
    assert (row.status, row.sender_unit, row.reason) == ("pending", "amphoe-02", "ไม่มีเอกสารแนบมาด้วย")
    assert letter(loaded_app, result.letter_id).status == "held"
    with loaded_app.db.session() as session:
        assert [r.id for r, _l in queries.returns_queue(session)] == [return_id]
        [item] = session.scalars(select(ReviewItemRow).where(ReviewItemRow.letter_id == result.letter_id))
        assert (item.status, item.resolution) == ("closed", "returned")
    sender_clerk = User(1, "kohkha", "clerk", "amphoe-02", "")
    with loaded_app.db.session() as session:
        assert not queries.can_see_letter(session, sender_clerk, result.letter_id)
        operations.confirm_return(session, return_id, "somying")
    assert letter(loaded_app, result.letter_id).status == "returned"
    [confirmed] = events(loaded_app, result.letter_id, "return_confirmed")
    assert (confirmed.actor, confirmed.unit_id) == ("somying", "amphoe-02")
    assert confirmed.reason == "ไม่มีเอกสารแนบมาด้วย"
    with loaded_app.db.session() as session:
        assert queries.can_see_letter(session, sender_clerk, result.letter_id)
        assert [letter.id for _r, letter in queries.decided_returns(session, sender_unit="amphoe-02")] == [
            result.letter_id]
        other_clerk = User(2, "muang", "clerk", "amphoe-01", "")
        assert not queries.can_see_letter(session, other_clerk, result.letter_id)
        assert queries.returns_queue(session) == []
    with pytest.raises(OperationError, match="ดำเนินการแล้ว"), loaded_app.db.session() as session:
        operations.confirm_return(session, return_id, "somchai")
    with pytest.raises(OperationError, match="เหตุผล"), loaded_app.db.session() as session:
        other = take_in(loaded_app, SINGLE, tmp_path, **UNSURE_SINGLE)
        operations.return_to_sender(session, other.letter_id, "  ", actor="somchai")


def held(app: App, tmp_path: Path, **changes: Any) -> tuple[Taken, int]:
    """Sample 03 as read: attachments listed, none arrived → held for return at intake."""
    result = take_in(app, MISSING, tmp_path, **changes)
    with app.db.session() as session:
        [row] = session.scalars(select(ReturnRow).where(ReturnRow.letter_id == result.letter_id))
        assert (row.status, row.reason) == ("pending", "ไม่มีเอกสารแนบมาด้วย")
        return result, row.id


def test_override_keeps_the_attachment_beside_the_letter_and_routes_it(loaded_app, tmp_path):
    result, return_id = held(loaded_app, tmp_path)
    attachment = tmp_path / "ที่แนบ.pdf"
    attachment.write_bytes(b"%PDF-1.4\n% attachments that came later\n%%EOF\n")
    override = operations.override_return(loaded_app, return_id, attachment, "somchai")
    row = letter(loaded_app, result.letter_id)
    folder = (row.object_key or "").rsplit("/", 1)[0]
    assert folder and override.attachment_key.startswith(f"{folder}/{row.sha256}.attachments-")
    assert loaded_app.store.get(override.attachment_key) == attachment.read_bytes()
    assert override.routed_to == truth(MISSING)["recipients"] == inbox_units(loaded_app, result.letter_id)
    assert (row.status, row.missing_attachments) == ("routed", False)
    [event] = events(loaded_app, result.letter_id, "return_overridden")
    assert (event.actor, event.detail["attachment_key"]) == ("somchai", override.attachment_key)
    with loaded_app.db.session() as session:
        assert session.get(ReturnRow, return_id).status == "overridden"
        assert queries.attachment_keys(session, result.letter_id) == [override.attachment_key]
    with pytest.raises(OperationError, match="ดำเนินการแล้ว"):
        operations.override_return(loaded_app, return_id, attachment, "somchai")


def test_an_unsure_letter_missing_attachments_is_reviewed_before_any_return(loaded_app, tmp_path):
    # Held for return only when the machine is sure whose letter it is: unsure, a person looks first.
    result = take_in(loaded_app, MISSING, tmp_path, **UNSURE_SINGLE)
    assert result.status == "needs_review" and "missing_attachments" in result.flags
    assert letter(loaded_app, result.letter_id).status == "needs_review"
    assert inbox_units(loaded_app, result.letter_id) == []
    with loaded_app.db.session() as session:
        assert session.scalar(select(ReturnRow).where(ReturnRow.letter_id == result.letter_id)) is None
        assert result.letter_id in [i.letter_id for i in queries.review_queue(session).items]

def test_override_takes_only_a_scan(loaded_app, tmp_path):
    with pytest.raises(OperationError, match="PDF"):
        _other, other_return = held(loaded_app, tmp_path / "2")
        bad = tmp_path / "notes.docx"
        bad.write_bytes(b"PK")
        operations.override_return(loaded_app, other_return, bad, "somchai")


def test_mark_not_letter(loaded_app, tmp_path):
    result = take_in(loaded_app, SINGLE, tmp_path, **UNSURE_SINGLE)
    with loaded_app.db.session() as session:
        operations.mark_not_letter(session, result.letter_id, actor="somchai")
    row = letter(loaded_app, result.letter_id)
    assert (row.kind, row.status) == ("not_letter", "not_letter")
    assert inbox_units(loaded_app, result.letter_id) == []
    [event] = events(loaded_app, result.letter_id, "marked_not_letter")
    assert event.actor == "somchai"
    with loaded_app.db.session() as session:
        [example] = session.scalars(select(TrainingExampleRow))
        assert (example.field, example.ocr_value, example.corrected_value) == ("kind", "letter", "not_letter")
        assert queries.review_queue(session).total == 0


def test_unit_receives_and_returns_not_ours_back_to_review(loaded_app, tmp_path):
    result = misread_number(loaded_app, tmp_path)
    with loaded_app.db.session() as session:
        operations.approve_and_route(session, result.letter_id, actor="somchai",
                                     corrections={"number": "ลป 0033.009/18210"})
    other = take_in(loaded_app, "06-arabic-digits.jpg", tmp_path)
    assert other.status == "routed" and other.recipients == ["amphoe-02"]
    with loaded_app.db.session() as session:
        first = operations.receive_letter(session, result.letter_id, "amphoe-02", actor="kohkha")
        again = operations.receive_letter(session, result.letter_id, "amphoe-02", actor="kohkha")
        second = operations.receive_letter(session, other.letter_id, "amphoe-02", actor="kohkha")
        assert (first.receive_number, again.receive_number, second.receive_number) == (1, 1, 2)
    with pytest.raises(OperationError), loaded_app.db.session() as session:
        operations.receive_letter(session, result.letter_id, "amphoe-01", actor="muang")
    with loaded_app.db.session() as session:
        operations.return_from_unit(session, other.letter_id, "amphoe-02", "ไม่ใช่หนังสือของหน่วยงาน",
                                    actor="kohkha")
    assert letter(loaded_app, other.letter_id).status == "needs_review"
    with loaded_app.db.session() as session:
        assert queries.open_reasons(session, other.letter_id) == ["returned_by_unit"]
        operations.approve_and_route(session, other.letter_id, actor="somchai", units=["amphoe-01"])
    row = letter(loaded_app, other.letter_id)
    assert row.recipients == ["amphoe-01"]  # the unit that returned it is no longer a recipient
    with loaded_app.db.session() as session:
        statuses = {unit: status for unit, status in session.execute(
            select(InboxItemRow.unit_id, InboxItemRow.status)
            .where(InboxItemRow.letter_id == other.letter_id))}
    assert statuses == {"amphoe-02": "returned", "amphoe-01": "new"}


def test_review_queue_order_filters_counts_and_next(loaded_app, tmp_path):
    older_plain = take_in(loaded_app, SINGLE, tmp_path, **UNSURE_SINGLE, station="north").letter_id
    urgent = take_in(loaded_app, SINGLE, tmp_path, urgency="ด่วน", **UNSURE_SINGLE, station="south")
    most_urgent = take_in(loaded_app, SINGLE, tmp_path, urgency="ด่วนที่สุด", number="ลป 0033.009/18216",
                          station="north")
    very_urgent = take_in(loaded_app, SINGLE, tmp_path, urgency="ด่วนมาก", **UNSURE_SINGLE, station="north")
    later_plain = take_in(loaded_app, SINGLE, tmp_path, **UNSURE_SINGLE, station="south").letter_id
    with loaded_app.db.session() as session:
        page = queries.review_queue(session)
        order = [i.letter_id for i in page.items]
        assert order == [most_urgent.letter_id, very_urgent.letter_id, urgent.letter_id, older_plain,
                         later_plain]
        assert page.total == 5 and page.by_station == {"north": 3, "south": 2}
        assert page.by_reason["low_confidence"] == 4 and page.by_reason["number_suggestion"] == 1
        assert [i.letter_id for i in queries.review_queue(session, station="south").items] == [
            urgent.letter_id, later_plain]
        only = queries.review_queue(session, reason="number_suggestion")
        assert [i.letter_id for i in only.items] == [most_urgent.letter_id] and only.total == 5
        assert queries.review_queue(session, reason="x%' OR 1=1 --").matching == 5  # unknown code: no filter
        assert queries.review_queue(session, station="north", reason="number_suggestion").matching == 1
        assert queries.review_queue(session, station="south", reason="number_suggestion").items == []
        small = queries.review_queue(session, per_page=2, page=3)
        assert (small.pages, small.page, [i.letter_id for i in small.items]) == (3, 3, [later_plain])
        assert queries.next_in_queue(session, None) == most_urgent.letter_id
        assert queries.next_in_queue(session, very_urgent.letter_id) == urgent.letter_id
        assert queries.next_in_queue(session, later_plain) == most_urgent.letter_id  # wraps round
        assert queries.next_in_queue(session, most_urgent.letter_id, station="south") == urgent.letter_id
