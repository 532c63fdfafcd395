"""One contract for every object store: the local folder and S3 (a real SeaweedFS server).

What intake and the web app rely on: put/stat/get/open/keys/url, the same bytes twice make one
object, a stored object is verified, Thai metadata comes back as it went in, a failed or
interrupted upload leaves nothing visible, and a large scan is streamed, never loaded whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
import tracemalloc
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest
from minio.helpers import ObjectWriteResult

from storage.objects import LocalStore, ObjectStore, StoreError, open_store, verify_path_signature
from storage.s3 import S3Store
from tests.s3_fixtures import SeaweedServer, seaweed  # noqa: F401

pytestmark = pytest.mark.timeout(120)

SECRET = "contract-secret"
PART = 5 * 1024 * 1024  # S3's smallest part: multipart uploads start early in these tests
THAI_METADATA = {
    "number": "ศธ 04099/ว 3596",
    "date": "2015-08-05",
    "station": "งานสารบรรณกลาง ชั้น ๒",
    "subject": "ขอความร่วมมือสนับสนุนกิจกรรมจิตอาสาพัฒนา",
    "note": "100% ok / a&b=c+d ?",
}


@dataclass
class Backend:
    """A store under test, with a way to look behind it (how many versions a key has, fetch a link)."""

    name: str
    store: ObjectStore
    versions: Callable[[str], int]
    fetch: Callable[[str], bytes | None]  # None: the link is refused
    memory_bound: int  # bytes an upload may hold at once, whatever the size of the file


def local_backend(root: Path) -> Backend:
    store = LocalStore(root, url_secret=SECRET)

    def versions(key: str) -> int:
        path = store.local_path(key)
        return int(path.is_file()) + len(list(path.parent.glob(".part-*"))) if path.parent.exists() else 0

    def fetch(url: str) -> bytes | None:
        parsed = urllib.parse.urlparse(url)
        key = urllib.parse.unquote(parsed.path.removeprefix(store.url_prefix + "/"))
        query = dict(urllib.parse.parse_qsl(parsed.query))
        if not verify_path_signature(SECRET, key, int(query["exp"]), query["sig"]):
            return None
        return store.local_path(key).read_bytes()

    return Backend("local", store, versions, fetch, memory_bound=4 * 1024 * 1024)  # 1 MiB chunks


def s3_backend(server: SeaweedServer) -> Backend:
    bucket = server.new_bucket("contract")
    store = open_store(f"s3://{bucket}", url_secret=SECRET, part_size=PART, **server.store_options())
    assert isinstance(store, S3Store)
    client = server.client()

    def versions(key: str) -> int:
        return sum(1 for obj in client.list_objects(bucket, prefix=key, include_version=True)
                   if obj.object_name == key and not obj.is_delete_marker)

    def fetch(url: str) -> bytes | None:
        response = httpx.get(url, timeout=10)
        return response.content if response.status_code == 200 else None

    # the SDK holds a part per request in flight, one waiting and one being read
    return Backend("s3", store, versions, fetch, memory_bound=(store.parallel_parts + 2) * PART + 1024 * 1024)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return local_backend(tmp_path / "objects")
    return s3_backend(request.getfixturevalue("seaweed"))


def scan_file(path: Path, size: int) -> Path:
    """A file of `size` random bytes (a stand-in for a scan: incompressible, unique)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for start in range(0, size, 1024 * 1024):
            fh.write(os.urandom(min(1024 * 1024, size - start)))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


KEY = "letters/2558/ศธ04099/{}.pdf"


def test_put_stat_get_open_keys(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    path = scan_file(tmp_path / "in.pdf", 300_000)
    digest = sha256(path)
    key = KEY.format(digest)

    assert store.stat(key) is None
    stored = store.put_file(key, path, content_type="application/pdf", metadata=THAI_METADATA, sha256=digest)

    assert (stored.key, stored.size, stored.sha256) == (key, 300_000, digest)
    assert stored.metadata == THAI_METADATA
    again = store.stat(key)
    assert again is not None
    assert (again.size, again.sha256, again.content_type) == (300_000, digest, "application/pdf")
    assert again.metadata == THAI_METADATA  # Thai and reserved characters round-trip
    assert store.get(key) == path.read_bytes()
    with store.open(key) as fh:
        assert fh.read() == path.read_bytes()
    assert list(store.keys("letters/")) == [key]
    assert list(store.keys("letters/2557/")) == []
    assert path.read_bytes() and path.exists()  # the source is never touched


def test_put_bytes_and_keys_by_prefix(backend: Backend) -> None:
    store = backend.store
    header = b"\x89PNG fake header crop" * 100
    lines = '[{"text": "ที่ ศธ 04099/ว 3596"}]'.encode()
    store.put_bytes("letters/2558/a/x.header.png", header, content_type="image/png")
    store.put_bytes("letters/2558/a/x.ocr.json", lines, content_type="application/json",
                    metadata={"lines": "1"})
    store.put_bytes("letters/2559/b/y.ocr.json", b"[]", content_type="application/json")

    stat = store.stat("letters/2558/a/x.ocr.json")
    assert stat is not None
    assert (stat.size, stat.sha256) == (len(lines), hashlib.sha256(lines).hexdigest())
    assert stat.metadata == {"lines": "1"}
    assert store.get("letters/2558/a/x.header.png") == header
    assert sorted(store.keys("letters/2558/")) == ["letters/2558/a/x.header.png", "letters/2558/a/x.ocr.json"]
    assert sorted(store.keys()) == ["letters/2558/a/x.header.png", "letters/2558/a/x.ocr.json",
                                    "letters/2559/b/y.ocr.json"]


@pytest.mark.parametrize("with_sha256", [True, False], ids=["sha256-known", "sha256-unknown"])
@pytest.mark.parametrize("size", [200_000, 3 * PART + 123], ids=["one-part", "multipart"])
def test_same_bytes_twice_make_one_object(backend: Backend, tmp_path: Path, with_sha256: bool,
                                          size: int) -> None:
    store = backend.store
    path = scan_file(tmp_path / "in.tif", size)
    digest = sha256(path)
    key = KEY.format(digest)
    first = store.put_file(key, path, metadata={"station": "ก"}, sha256=digest if with_sha256 else None)
    copy = tmp_path / "copy-of-the-same-scan.tif"
    copy.write_bytes(path.read_bytes())
    second = store.put_file(key, copy, metadata={"station": "ข"}, sha256=digest if with_sha256 else None)

    assert second == first  # the first stays as it is
    assert list(store.keys()) == [key]
    assert backend.versions(key) == 1


def test_same_bytes_from_two_stations_at_once_make_one_object(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    path = scan_file(tmp_path / "in.pdf", 300_000)
    digest = sha256(path)
    key = KEY.format(digest)
    start = threading.Barrier(4)

    def put(_: int) -> str:
        start.wait(timeout=10)
        return store.put_file(key, path, content_type="application/pdf", sha256=digest).sha256

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(put, range(4))) == [digest] * 4
    assert list(store.keys()) == [key]
    assert backend.versions(key) == 1
    assert store.get(key) == path.read_bytes()


def test_new_bytes_under_a_key_replace_the_old(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    old = scan_file(tmp_path / "old.json", 1000)
    new = scan_file(tmp_path / "new.json", 1200)
    store.put_file("letters/x.ocr.json", old)
    stored = store.put_file("letters/x.ocr.json", new)
    assert stored.sha256 == sha256(new)
    assert store.get("letters/x.ocr.json") == new.read_bytes()


@pytest.mark.parametrize("size", [100_000, 3 * PART + 123], ids=["one-part", "multipart"])
def test_bytes_not_matching_their_sha256_are_not_stored(backend: Backend, tmp_path: Path, size: int) -> None:
    """The file changed between fingerprint and upload: refused, and nothing is visible."""
    store = backend.store
    path = scan_file(tmp_path / "in.pdf", size)
    claimed = hashlib.sha256(b"the bytes that were fingerprinted").hexdigest()
    key = KEY.format(claimed)
    with pytest.raises(StoreError):
        store.put_file(key, path, sha256=claimed)
    assert store.stat(key) is None
    assert list(store.keys()) == []
    assert backend.versions(key) == 0


class FailingFile:
    """A source that breaks after `limit` bytes, as a network share or USB disk does."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self.fh, self.limit, self.done = fh, limit, 0

    def read(self, n: int = -1) -> bytes:
        if self.done >= self.limit:
            raise OSError(5, "Input/output error (the scanner share went away)")
        chunk = self.fh.read(min(n if n >= 0 else self.limit, self.limit - self.done))
        self.done += len(chunk)
        return chunk

    def __enter__(self) -> FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


class FailingPath(type(Path())):  # type: ignore[misc]
    """A path whose file stops being readable part-way."""

    limit = 0

    def open(self, *args, **kwargs):
        return FailingFile(super().open(*args, **kwargs), self.limit)


@pytest.mark.parametrize("size", [200_000, 3 * PART + 123], ids=["one-part", "multipart"])
def test_interrupted_upload_leaves_nothing_visible(backend: Backend, tmp_path: Path, size: int) -> None:
    store = backend.store
    real = scan_file(tmp_path / "in.pdf", size)
    digest = sha256(real)
    key = KEY.format(digest)
    broken = FailingPath(real)
    broken.limit = size - PART // 2 if size > PART else size // 2  # multipart: after the first parts went out

    with pytest.raises(OSError):
        store.put_file(key, broken, sha256=digest)
    assert store.stat(key) is None
    assert list(store.keys()) == []
    assert backend.versions(key) == 0
    assert real.exists() and sha256(real) == digest  # the source is untouched

    # and the retry, once the file reads again, stores it whole
    stored = store.put_file(key, real, sha256=digest)
    assert (stored.size, stored.sha256) == (size, digest)
    assert backend.versions(key) == 1


def test_a_large_scan_is_streamed_not_loaded(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    size = 64 * 1024 * 1024
    path = scan_file(tmp_path / "big.tif", size)
    tracemalloc.start()
    try:
        stored = store.put_file("letters/big.tif", path, content_type="image/tiff")  # hashes it too
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == size and stored.sha256 == sha256(path)
    assert peak < backend.memory_bound < size // 2, \
        f"{backend.name}: {peak / 2**20:.1f} MiB held for a {size / 2**20:.0f} MiB file"
    with store.open("letters/big.tif") as fh:
        digest = hashlib.sha256()
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == stored.sha256


def test_links_for_people_are_short_lived(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    path = scan_file(tmp_path / "in.pdf", 50_000)
    key = KEY.format(sha256(path))
    store.put_file(key, path, content_type="application/pdf")

    url = store.url(key, expires=dt.timedelta(minutes=5))
    assert backend.fetch(url) == path.read_bytes()
    short = store.url(key, expires=dt.timedelta(seconds=1))
    time.sleep(2.1)
    assert backend.fetch(short) is None


def test_missing_keys(backend: Backend) -> None:
    assert backend.store.stat("letters/none.pdf") is None
    assert list(backend.store.keys("letters/")) == []


# -- what only S3 has -------------------------------------------------------------------------


def test_s3_bucket_is_made_with_versioning(seaweed: SeaweedServer) -> None:  # noqa: F811
    bucket = seaweed.new_bucket("made")
    store = S3Store.from_options(bucket, **seaweed.store_options())  # type: ignore[arg-type]
    client = seaweed.client()
    assert not client.bucket_exists(bucket)  # making the store touches no server
    store.put_bytes("a.json", b"{}")
    assert client.bucket_exists(bucket)
    assert client.get_bucket_versioning(bucket).status == "Enabled"


def test_s3_metadata_travels_percent_encoded(seaweed: SeaweedServer, tmp_path: Path) -> None:  # noqa: F811
    """The SDK refuses non-ASCII headers: what the server holds is ASCII, what we get back is Thai."""
    bucket = seaweed.new_bucket("meta")
    store = S3Store.from_options(bucket, **seaweed.store_options())  # type: ignore[arg-type]
    store.put_bytes("x.pdf", b"%PDF-1.4", metadata=THAI_METADATA)
    headers = seaweed.client().stat_object(bucket, "x.pdf").metadata or {}
    raw = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-amz-meta-")}
    assert raw["x-amz-meta-number"] == "%E0%B8%A8%E0%B8%98 04099/%E0%B8%A7 3596"
    assert all(value.isascii() for value in raw.values())
    assert raw["x-amz-meta-saraban-sha256"] == hashlib.sha256(b"%PDF-1.4").hexdigest()
    stored = store.stat("x.pdf")
    assert stored is not None and stored.metadata == THAI_METADATA


def test_s3_records_bucket_keeps_objects_under_retention(seaweed: SeaweedServer) -> None:  # noqa: F811
    from minio.error import S3Error

    bucket = seaweed.new_bucket("records")
    store = S3Store.from_options(bucket, object_lock_days=30, **seaweed.store_options())  # type: ignore[arg-type]
    store.put_bytes("letters/2568/x.pdf", b"%PDF-1.4 record")
    client = seaweed.client()
    config = client.get_object_lock_config(bucket)
    assert (config.mode, config.duration, config.duration_unit) == ("GOVERNANCE", 30, "Days")
    info = client.stat_object(bucket, "letters/2568/x.pdf")
    retain_until = dt.datetime.fromisoformat((info.metadata or {})["x-amz-object-lock-retain-until-date"])
    assert retain_until > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    with pytest.raises(S3Error):
        client.remove_object(bucket, "letters/2568/x.pdf", version_id=info.version_id)
    assert store.get("letters/2568/x.pdf") == b"%PDF-1.4 record"


def test_s3_retention_is_never_weakened(seaweed: SeaweedServer) -> None:  # noqa: F811
    from minio.objectlockconfig import COMPLIANCE, DAYS, ObjectLockConfig

    bucket = seaweed.new_bucket("kept")
    client = seaweed.client()

    def start(days: int) -> tuple[object, object, object]:  # a process starting with these settings
        store = S3Store.from_options(bucket, object_lock_days=days, **seaweed.store_options())  # type: ignore[arg-type]
        store.put_bytes(f"letters/{days}.json", b"{}")
        config = client.get_object_lock_config(bucket)
        return config.mode, config.duration, config.duration_unit

    assert start(30) == ("GOVERNANCE", 30, "Days")
    client.set_object_lock_config(bucket, ObjectLockConfig(COMPLIANCE, 400, DAYS))  # by an administrator
    assert start(30) == ("COMPLIANCE", 400, "Days")
    assert start(500) == ("COMPLIANCE", 500, "Days")


def test_s3_retention_needs_a_bucket_made_with_object_lock(seaweed: SeaweedServer) -> None:  # noqa: F811
    bucket = seaweed.new_bucket("plain")
    S3Store.from_options(bucket, **seaweed.store_options()).put_bytes("a.json", b"{}")  # type: ignore[arg-type]
    records = S3Store.from_options(bucket, object_lock_days=30, **seaweed.store_options())  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="object lock"):
        records.put_bytes("b.json", b"{}")


class UncheckedS3Store(S3Store):
    """As against a server that ignores `x-amz-checksum-sha256`: the header is never sent."""

    def _put(self, key: str, data: bytes, headers: dict[str, str]) -> ObjectWriteResult:
        return super()._put(key, data, {k: v for k, v in headers.items() if k != "x-amz-checksum-sha256"})


def test_s3_without_server_checksums_still_verifies(seaweed: SeaweedServer, tmp_path: Path) -> None:  # noqa: F811
    bucket = seaweed.new_bucket("unchecked")
    store = UncheckedS3Store.from_options(bucket, **seaweed.store_options())  # type: ignore[arg-type]
    path = scan_file(tmp_path / "in.pdf", 300_000)
    digest = sha256(path)
    stored = store.put_file(KEY.format(digest), path, sha256=digest, metadata={"number": "ลป 0017.5/ว 12727"})
    assert (stored.sha256, stored.metadata) == (digest, {"number": "ลป 0017.5/ว 12727"})

    claimed = hashlib.sha256(b"the bytes that were fingerprinted").hexdigest()
    with pytest.raises(StoreError, match="changed"):
        store.put_file(KEY.format(claimed), path, sha256=claimed)
    assert store.stat(KEY.format(claimed)) is None  # the server kept it; the store took it back
    assert list(store.keys()) == [KEY.format(digest)]


def test_s3_unreachable_raises_store_error(tmp_path: Path) -> None:
    from tests.s3_fixtures import free_ports

    port = free_ports(1)[0]  # nothing listens here
    store = S3Store.from_options("nowhere", endpoint=f"127.0.0.1:{port}", access_key="a", secret_key="b",
                                 http_retries=0, connect_timeout=2)
    path = scan_file(tmp_path / "in.pdf", 1000)
    with pytest.raises(StoreError, match="unreachable"):
        store.put_file("x.pdf", path)


@pytest.fixture(autouse=True)
def _no_leftover_parts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    backend = request.node.funcargs.get("backend")
    if isinstance(backend, Backend) and isinstance(backend.store, LocalStore):
        assert not list(backend.store.root.rglob(".part-*")), "a temporary part file was left behind"
