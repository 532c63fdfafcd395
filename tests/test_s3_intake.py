"""Intake into S3: sample scans through `saraban.intake.process_file` with `SARABAN_STORAGE=s3://bucket`
settings, against a real SeaweedFS server. What comes back out of the bucket is what went in."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from pipeline.thai import ce_year_to_be
from saraban.app import App
from saraban.intake import process_file
from saraban.settings import Settings
from storage.directory import import_directory
from storage.register import import_register
from storage.s3 import S3Store
from storage.tables import LetterRow
from tests.conftest import LETTERS, SAMPLES, truth
from tests.s3_fixtures import SeaweedServer, seaweed  # noqa: F401

pytestmark = pytest.mark.timeout(300)

SCANS = ["02-single-addressee.pdf", "05-memo.tif", "06-arabic-digits.jpg", "10-order.pdf"]
STATION = "สารบรรณกลาง"


@pytest.fixture
def s3_app(seaweed: SeaweedServer, tmp_path: Path) -> Iterator[App]:  # noqa: F811
    """An App whose archive is a fresh bucket on SeaweedFS, with the sample register and directory."""
    bucket = seaweed.new_bucket("intake")
    settings = Settings(home=tmp_path / "home", storage=f"s3://{bucket}", secret_key="test-secret",
                        **seaweed.settings())  # type: ignore[arg-type]
    app = App.create(settings)
    assert isinstance(app.store, S3Store) and app.store.bucket == bucket
    with app.db.session() as session:
        import_register(session, SAMPLES / "register.csv")
        import_directory(session, SAMPLES / "directory.yaml")
    yield app
    app.db.dispose()


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return {name: (LETTERS / name).read_bytes() for name in SCANS}


def test_scans_are_archived_byte_identical_with_their_metadata(s3_app: App, scans: dict[str, bytes],
                                                               seaweed: SeaweedServer,  # noqa: F811
                                                               tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name, data in scans.items():
        (inbox / name).write_bytes(data)
    results = [process_file(s3_app, inbox / name, STATION) for name in SCANS]

    store = s3_app.store
    raw = seaweed.client()
    assert isinstance(store, S3Store)
    with s3_app.db.session() as session:
        for name, result in zip(SCANS, results, strict=True):
            original = scans[name]
            sha = hashlib.sha256(original).hexdigest()
            assert result.status in ("routed", "needs_review"), (name, result)
            assert (inbox / name).read_bytes() == original  # the source is never touched
            row = session.scalar(select(LetterRow).where(LetterRow.id == result.letter_id))
            assert row is not None and row.sha256 == sha and row.object_key == result.object_key

            # keys: readable and content-addressed, the PDF and what was read beside it
            year = ce_year_to_be((row.date or dt.date.today()).year)
            prefix = f"letters/{year}/{row.sender_code.replace(' ', '') if row.sender_code else 'unknown'}"
            assert row.object_key == f"{prefix}/{sha}.pdf"
            assert row.header_key and row.header_key.startswith(f"{prefix}/{sha}.header.")
            assert row.ocr_key == f"{prefix}/{sha}.ocr.json"

            # metadata: what intake recorded, Thai back as Thai
            expected = {"sha256": sha, "station": STATION, "pages": str(row.pages), "kind": row.kind}
            if row.number:
                expected["number"] = row.number
            if row.date:
                expected["date"] = row.date.isoformat()
            pdf = store.stat(row.object_key)
            assert pdf is not None and pdf.metadata == expected, name
            assert pdf.content_type == "application/pdf"
            headers = raw.stat_object(store.bucket, row.object_key).metadata or {}
            assert all(v.isascii() for k, v in headers.items() if k.lower().startswith("x-amz-meta-"))

            pdf_bytes = store.get(row.object_key)
            if name.endswith(".pdf"):
                assert pdf_bytes == original  # the PDF as received, byte for byte
                assert pdf.sha256 == sha and row.original_key is None
            else:  # an image scan: a PDF of it, and the original beside it
                assert row.original_key == f"{prefix}/{sha}{Path(name).suffix}"
                kept = store.stat(row.original_key)
                assert kept is not None and kept.sha256 == sha and kept.metadata == expected
                assert kept.content_type == {".tif": "image/tiff", ".jpg": "image/jpeg"}[Path(name).suffix]
                assert store.get(row.original_key) == original
                assert pdf_bytes.startswith(b"%PDF-") and pdf.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
                if name.endswith(".jpg"):
                    assert original in pdf_bytes  # img2pdf embedded the JPEG as it is: not re-encoded
            assert len(PdfReader(io.BytesIO(pdf_bytes)).pages) == truth(name)["pages"] == row.pages

            # what was read, beside it
            Image.open(io.BytesIO(store.get(row.header_key))).verify()  # the header crop, an image
            lines = json.loads(store.get(row.ocr_key))
            assert lines and all({"text", "box", "confidence"} <= set(line) for line in lines)

            # a short-lived link for the review page
            assert httpx.get(store.url(row.object_key), timeout=10).content == pdf_bytes

    # nothing else in the bucket, one version of each object
    with s3_app.db.session() as session:
        rows = session.scalars(select(LetterRow)).all()
        expected_keys = {key for r in rows for key in (r.object_key, r.original_key, r.header_key, r.ocr_key)
                         if key}
    assert set(store.keys()) == expected_keys
    versions = [o.object_name for o in raw.list_objects(store.bucket, recursive=True, include_version=True)]
    assert sorted(versions) == sorted(expected_keys)


def test_archived_metadata_matches_the_letter(s3_app: App, tmp_path: Path) -> None:
    """The number and date in the object's metadata and key are the letter's (ground truth)."""
    name = "06-arabic-digits.jpg"
    path = tmp_path / name
    path.write_bytes((LETTERS / name).read_bytes())
    result = process_file(s3_app, path, STATION)
    expected = truth(name)
    number, date = expected["number"]["value"], expected["date"]["value"]
    assert result.object_key is not None
    sender = number.split("/")[0].replace(" ", "")
    assert result.object_key.startswith(f"letters/{int(date[:4]) + 543}/{sender}/")
    stored = s3_app.store.stat(result.object_key)
    assert stored is not None
    assert (stored.metadata["number"], stored.metadata["date"]) == (number, date)


def test_the_same_scan_again_stores_nothing_new(s3_app: App, seaweed: SeaweedServer,  # noqa: F811
                                                tmp_path: Path) -> None:
    name = "10-order.pdf"
    first, second = tmp_path / "a" / name, tmp_path / "b" / name
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes((LETTERS / name).read_bytes())
    one = process_file(s3_app, first, STATION)
    two = process_file(s3_app, second, STATION)
    assert one.status != "failed" and two.status == "duplicate" and two.object_key == one.object_key
    store = s3_app.store
    assert isinstance(store, S3Store)
    keys = sorted(store.keys())
    versions = sorted(o.object_name for o in seaweed.client().list_objects(store.bucket, recursive=True,
                                                                           include_version=True))
    assert versions == keys and len(keys) == 3  # pdf, header crop, OCR lines
