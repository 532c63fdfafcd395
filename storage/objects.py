"""The object store: one interface, a local folder (embedded default) and S3/MinIO (storage/s3.py).

Objects are content-addressed and written so that a reader never sees half an object: the local
store writes a temporary file beside the target, checks its sha256, then renames it into place.
Putting the same bytes twice is a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1024 * 1024


class StoreError(Exception):
    """The store could not keep an object safely (the caller retries; the source is untouched)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    """What intake and the web app need from an archive."""

    def put_file(self, key: str, path: Path, *, content_type: str = ..., metadata: dict[str, str] | None = ...,
                 sha256: str | None = ...) -> StoredObject:
        """Stream `path` into `key`, verify it, and return what is stored. Idempotent.

        `metadata`: lowercase ASCII names, plain text values (Thai as is); `stat` gives them back.
        `sha256`, when the caller knows it, is checked against the bytes streamed."""
        ...

    def put_bytes(self, key: str, data: bytes, *, content_type: str = ...,
                  metadata: dict[str, str] | None = ...) -> StoredObject: ...

    def stat(self, key: str) -> StoredObject | None: ...

    def open(self, key: str) -> BinaryIO: ...

    def get(self, key: str) -> bytes: ...

    def url(self, key: str, expires: dt.timedelta = ...) -> str:
        """A short-lived link for a person: presigned (S3) or a signed served path (local)."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...


def sha256_of(path: Path) -> tuple[str, int]:
    """(hex sha256, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def encode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """S3 metadata must be ASCII: Thai values are percent-encoded (and decoded on the way back)."""
    return {k: urllib.parse.quote(str(v), safe=" ./:-_") for k, v in metadata.items()}


def decode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    return {k: urllib.parse.unquote(v) for k, v in metadata.items()}


def sign_path(secret: str, key: str, expires_at: int) -> str:
    message = f"{key}\n{expires_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def verify_path_signature(secret: str, key: str, expires_at: int, signature: str) -> bool:
    if expires_at < time.time():
        return False
    return hmac.compare_digest(sign_path(secret, key, expires_at), signature)


class LocalStore:
    """Objects as files under `root`; metadata in a `.meta.json` beside each object."""

    def __init__(self, root: Path, *, url_secret: str = "", url_prefix: str = "/files") -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.url_secret = url_secret
        self.url_prefix = url_prefix

    def __repr__(self) -> str:
        return f"LocalStore({self.root})"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StoreError(f"key escapes the store: {key!r}")
        return path

    def _meta_path(self, key: str) -> Path:
        path = self._path(key)
        return path.with_name(path.name + ".meta.json")

    def put_file(self, key: str, path: Path, *, content_type: str = "application/octet-stream",
                 metadata: dict[str, str] | None = None, sha256: str | None = None) -> StoredObject:
        existing = self.stat(key)
        if existing is not None:
            if sha256 is None:
                sha256 = sha256_of(path)[0]
            if existing.sha256 == sha256:
                return existing  # the same bytes again: one object
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if sha256 is not None and actual != sha256:
                raise StoreError(f"{path} changed while it was stored: sha256 {actual} != {sha256}")
            stored = StoredObject(key, size, actual, content_type, dict(metadata or {}))
            self._write_meta(stored)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return self._verified(stored)

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
                  metadata: dict[str, str] | None = None) -> StoredObject:
        with tempfile.NamedTemporaryFile(delete=False) as tmp:
            tmp.write(data)
        try:
            return self.put_file(key, Path(tmp.name), content_type=content_type, metadata=metadata,
                                 sha256=hashlib.sha256(data).hexdigest())
        finally:
            Path(tmp.name).unlink(missing_ok=True)

    def _write_meta(self, stored: StoredObject) -> None:
        meta = self._meta_path(stored.key)
        payload = {"size": stored.size, "sha256": stored.sha256, "content_type": stored.content_type,
                   "metadata": stored.metadata}
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=meta.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False)
        os.replace(tmp, meta)

    def _verified(self, stored: StoredObject) -> StoredObject:
        actual, size = sha256_of(self._path(stored.key))
        if actual != stored.sha256 or size != stored.size:
            raise StoreError(f"verification failed for {stored.key}")
        return stored

    def stat(self, key: str) -> StoredObject | None:
        path, meta = self._path(key), self._meta_path(key)
        if not path.is_file() or not meta.is_file():
            return None
        info = json.loads(meta.read_text("utf-8"))
        return StoredObject(key, info["size"], info["sha256"], info.get("content_type", ""), info.get("metadata", {}))

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def url(self, key: str, expires: dt.timedelta = dt.timedelta(minutes=15)) -> str:
        expires_at = int(time.time() + expires.total_seconds())
        signature = sign_path(self.url_secret, key, expires_at)
        return f"{self.url_prefix}/{urllib.parse.quote(key)}?exp={expires_at}&sig={signature}"

    def keys(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(".meta.json") and not path.name.startswith(".part-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def local_path(self, key: str) -> Path:
        return self._path(key)


def open_store(uri: str, **options: object) -> ObjectStore:
    """`file:///path` → LocalStore; `s3://bucket` → S3Store (options: endpoint, keys, secure…)."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme in ("", "file"):
        return LocalStore(Path(urllib.parse.unquote(parsed.path)), url_secret=str(options.get("url_secret", "")))
    if parsed.scheme == "s3":
        from storage.s3 import S3Store

        return S3Store.from_options(parsed.netloc, **options)  # type: ignore[arg-type]
    raise ValueError(f"unknown storage {uri!r}: use file://… or s3://bucket")


def copy_stream(src: BinaryIO, dst: BinaryIO) -> None:
    shutil.copyfileobj(src, dst, CHUNK)
