"""End to end: the Prefect flow on real sample scans, into the store, the database and the inboxes."""

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.tables import EventRow, InboxItemRow, IntakeFileRow, LetterRow, ReturnRow, ReviewItemRow

from .conftest import truth

SAMPLES = ["01-circular-groups.pdf", "02-single-addressee.pdf", "03-missing-attachments.pdf", "05-memo.tif",
           "06-arabic-digits.jpg", "10-order.pdf"]


def expected_status(t: dict) -> str:
    if t["kind"] == "not_letter" or t["secrecy"] or not t["in_register"] or t["number"]["value"].endswith("/") \
            or t["number"]["value"].endswith("/ว"):
        return "needs_review"
    if t["missing_attachments"]:
        return "held"
    return "routed"


@pytest.mark.e2e
def test_flow_stores_records_and_routes(loaded_app, letters_copy: Path, prefect_harness, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import saraban.app
    from flows.intake import ingest

    monkeypatch.setattr(saraban.app, "current_app", lambda: loaded_app)
    import flows.intake

    monkeypatch.setattr(flows.intake, "current_app", lambda: loaded_app)
    paths = [str(letters_copy / name) for name in SAMPLES]
    before = {p: Path(p).read_bytes() for p in paths}
    results = ingest(paths)
    assert [Path(r["file"]).name for r in results] == SAMPLES
    for path in paths:
        assert Path(path).read_bytes() == before[path]  # the originals are never touched

    with loaded_app.db.session() as session:
        for result in results:
            name = Path(result["file"]).name
            t = truth(name)
            row = session.scalar(select(LetterRow).where(LetterRow.id == result["letter_id"]))
            assert row is not None, name
            # The stored PDF is the scan (or, for an image scan, a PDF beside the original bytes).
            original = before[result["file"]]
            assert row.sha256 == hashlib.sha256(original).hexdigest()
            stored_key = row.original_key or row.object_key
            assert hashlib.sha256(loaded_app.store.get(stored_key)).hexdigest() == row.sha256
            assert loaded_app.store.get(row.object_key)[:5] == b"%PDF-"
            assert row.kind == t["kind"], name
            assert row.missing_attachments == t["missing_attachments"], name
            assert row.status == expected_status(t), (name, row.status, row.flags)
            units = sorted(session.scalars(select(InboxItemRow.unit_id).where(InboxItemRow.letter_id == row.id)))
            if row.status == "routed":
                assert row.number == t["number"]["value"] and row.date.isoformat() == t["date"]["value"]
                assert units == t["recipients"], name
                assert result["status"] == "routed"
            else:
                assert units == [], name
                assert result["status"] == "needs_review"
            if row.status == "held":
                ret = session.scalar(select(ReturnRow).where(ReturnRow.letter_id == row.id))
                assert ret is not None and ret.reason == "ไม่มีเอกสารแนบมาด้วย" and "missing_attachments" in row.flags
            if row.status == "needs_review":
                assert session.scalar(select(ReviewItemRow).where(ReviewItemRow.letter_id == row.id)) is not None
        files = session.scalars(select(IntakeFileRow)).all()
        assert len(files) == len(SAMPLES)
        assert session.scalar(select(EventRow).where(EventRow.action == "letter_received")) is not None
    header = json.loads(loaded_app.store.get(session.scalar(select(LetterRow.ocr_key)) if False else
                                            results[1]["object_key"].replace(".pdf", ".ocr.json")))
    assert any("เรื่อง" in line["text"] for line in header)


@pytest.mark.e2e
def test_same_bytes_again_is_a_duplicate_stored_once(loaded_app, letters_copy: Path) -> None:  # type: ignore[no-untyped-def]
    from saraban.intake import process_file

    path = letters_copy / "02-single-addressee.pdf"
    first = process_file(loaded_app, path)
    again = process_file(loaded_app, path)
    assert again.status == "duplicate" and again.letter_id == first.letter_id
    with loaded_app.db.session() as session:
        assert len(session.scalars(select(LetterRow)).all()) == 1
        outcomes = sorted(session.scalars(select(IntakeFileRow.outcome)).all())
        assert outcomes == sorted([first.status, "duplicate"])


def test_bad_file_fails_with_a_thai_reason_and_the_batch_goes_on(sqlite_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from saraban.intake import process_file

    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    result = process_file(sqlite_app, bad)
    assert result.status == "failed" and "เสียหาย" in (result.reason or "")
    assert bad.exists()
