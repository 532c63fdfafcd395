"""The object store on S3 (MinIO in production, SeaweedFS in the tests), through the minio SDK.

`SARABAN_STORAGE=s3://bucket` with `SARABAN_S3_ENDPOINT`, `SARABAN_S3_ACCESS_KEY`,
`SARABAN_S3_SECRET_KEY`, `SARABAN_S3_SECURE` selects it (storage.objects.open_store).

Every object carries our sha256 of its bytes (`x-amz-meta-saraban-sha256`) beside the caller's
metadata (percent-encoded: S3 metadata is ASCII). How an upload stays safe:

- A scan up to the part size (8 MiB) goes in one PUT, read once: the SDK would hold those bytes
  in memory to sign them anyway.
  - It carries the sha256 as `x-amz-checksum-sha256`: the server hashes the body as it arrives,
    refuses one that does not match (BadDigest: nothing stored) and answers with the checksum it
    stored, which is the verification. The sha256 is the caller's when given (intake's
    fingerprint: the file was hashed once already), else ours, hashed from the bytes read.
  - A server that does not answer with the checksum: we hash the bytes, take back an upload that
    is not the fingerprinted bytes, and verify the rest with a HEAD.
  - It is conditional (`If-None-Match: *`): the same bytes twice, from a retry or from two
    stations at once, stay one object with one version. When the key is taken, a HEAD decides:
    the same sha256 → the object is already there; other bytes → they replace it (versioning
    keeps the old).
- A larger scan streams part by part (memory bounded by the part size, whatever the file):
  a HEAD first for idempotence, the sha256 computed while the SDK reads the file, and the read
  that would hand over the last bytes fails when the hash is not the one announced, so the SDK
  aborts the multipart upload rather than completing it. A HEAD verifies size and sha256 after.
- Nothing half-written is ever visible: a PUT is all or nothing, an unfinished multipart upload
  is no object (the SDK aborts it on any error).
- Network failures raise StoreError (the Prefect archive task retries with backoff); a source
  file that cannot be read raises OSError (intake records the file as failed, untouched).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import urllib3
from minio import Minio
from minio.error import S3Error
from minio.helpers import ObjectWriteResult
from minio.objectlockconfig import COMPLIANCE, DAYS, GOVERNANCE, YEARS, ObjectLockConfig
from minio.versioningconfig import ENABLED, VersioningConfig

from storage.objects import StoredObject, StoreError, decode_metadata, encode_metadata, sha256_of

log = logging.getLogger("saraban.storage.s3")

SHA256_META = "saraban-sha256"  # the object's own content hash (hex); caller metadata may have a "sha256" too
META_PREFIX = "x-amz-meta-"
PART_SIZE = 8 * 1024 * 1024  # the SDK keeps one part per request in memory; S3's minimum is 5 MiB
PARALLEL_PARTS = 2
MISSING = ("NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound")
# urllib3 errors mean the server did not answer; OSError from the socket layer is the same thing.
UNREACHABLE = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


class _SourceError(Exception):
    """The source file failed while the SDK read it (re-raised as the original OSError)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _VerifyingReader:
    """Hands the file to the SDK chunk by chunk, hashing it; refuses the last bytes of a file that
    is not the one announced (size and sha256), so that upload is never completed."""

    def __init__(self, fh: BinaryIO, path: Path, size: int, sha256: str) -> None:
        self._fh, self._path, self._size, self._sha256 = fh, path, size, sha256
        self._digest = hashlib.sha256()
        self._read = 0

    def read(self, n: int = -1) -> bytes:
        try:
            chunk = self._fh.read(n)
        except OSError as exc:
            raise _SourceError(exc) from exc
        self._digest.update(chunk)
        self._read += len(chunk)
        if self._read > self._size or (not chunk and n != 0 and self._read < self._size):
            raise StoreError(f"{self._path} changed size while it was stored "
                             f"({self._read} != {self._size} bytes)")
        if self._read == self._size and self._digest.hexdigest() != self._sha256:
            raise StoreError(f"{self._path} changed while it was stored: "
                             f"sha256 {self._digest.hexdigest()} != {self._sha256}")
        return chunk


class _ObjectReader:
    """A stored object as a readable file; closing it returns the connection to the pool."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response

    def read(self, n: int = -1) -> bytes:
        return self._response.read(None if n is None or n < 0 else n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()

    def __enter__(self) -> _ObjectReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_exactly(fh: BinaryIO, size: int, path: Path) -> bytes:
    """The whole file, which must be `size` bytes; reads again after a short read (a network
    share may give those)."""
    data = fh.read(size)
    while len(data) < size and (more := fh.read(size - len(data))):
        data += more
    if len(data) != size or fh.read(1):
        raise StoreError(f"{path} changed size while it was stored (not {size} bytes)")
    return data


def _plain(metadata: dict[str, str] | None) -> dict[str, str]:
    """Metadata as S3 gives it back: header names are case-insensitive, so lowercase."""
    return {k.lower(): str(v) for k, v in (metadata or {}).items()}


def _checksum_b64(sha256_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


class S3Store:
    """Objects in one bucket. The bucket is made (with versioning, and object lock when asked)
    on first use, so creating the store never needs the server to be up."""

    def __init__(self, client: Minio, bucket: str, *, endpoint: str = "", object_lock_days: int = 0,
                 object_lock_mode: str = GOVERNANCE, part_size: int = PART_SIZE,
                 parallel_parts: int = PARALLEL_PARTS) -> None:
        if object_lock_mode not in (GOVERNANCE, COMPLIANCE):
            raise ValueError(f"object lock mode: {GOVERNANCE} or {COMPLIANCE}, not {object_lock_mode!r}")
        self.client = client
        self.bucket = bucket
        self.endpoint = endpoint
        self.object_lock_days = object_lock_days
        self.object_lock_mode = object_lock_mode
        self.part_size = part_size
        self.parallel_parts = parallel_parts
        self._ready = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Store(s3://{self.bucket} at {self.endpoint})"

    @classmethod
    def from_options(cls, bucket: str, *, endpoint: str = "127.0.0.1:9000", access_key: str = "",
                     secret_key: str = "", secure: bool = False, region: str | None = None,
                     object_lock_days: int = 0, object_lock_mode: str = GOVERNANCE,
                     part_size: int = PART_SIZE,
                     connect_timeout: float = 10.0, read_timeout: float = 120.0, http_retries: int = 3,
                     **_ignored: object) -> S3Store:
        """The store from settings. `endpoint` is `host:port` (or a URL, whose scheme sets TLS).
        `url_secret` and other options meant for the local store are ignored."""
        if not bucket:
            raise ValueError("s3:// storage needs a bucket name: s3://bucket")
        if "://" in endpoint:
            parsed = urllib.parse.urlparse(endpoint)
            endpoint, secure = parsed.netloc, parsed.scheme == "https"
        # A few quick retries for a blip; a longer outage is the Prefect task's retries with backoff.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=10,
            retries=urllib3.Retry(total=http_retries, backoff_factor=0.2,
                                  status_forcelist=[500, 502, 503, 504]),
        )
        client = Minio(endpoint, access_key=access_key or None, secret_key=secret_key or None, secure=secure,
                       region=region or "us-east-1", http_client=http)
        return cls(client, bucket, endpoint=endpoint, object_lock_days=object_lock_days,
                   object_lock_mode=object_lock_mode, part_size=part_size)

    # -- the bucket -------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket when missing; versioning on where supported; retention for a records bucket."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                self._create_bucket()
                self._enable_versioning()
                if self.object_lock_days > 0:
                    self._ensure_retention()
            except UNREACHABLE as exc:
                raise StoreError(f"S3 at {self.endpoint} unreachable: {exc}") from exc
            self._ready = True

    def _create_bucket(self) -> None:
        if self.client.bucket_exists(self.bucket):
            return
        try:
            self.client.make_bucket(self.bucket, object_lock=self.object_lock_days > 0)
            log.info("bucket created", extra={"bucket": self.bucket, "lock_days": self.object_lock_days})
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def _enable_versioning(self) -> None:
        try:
            if self.client.get_bucket_versioning(self.bucket).status != ENABLED:
                self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
        except S3Error as exc:  # e.g. NotImplemented on a server without versioning
            log.warning("bucket versioning not available", extra={"bucket": self.bucket, "code": exc.code})

    def _ensure_retention(self) -> None:
        """Default retention on every new object. A bucket made without object lock cannot get it
        later. A retention already there is never weakened (an administrator may have made it
        COMPLIANCE, or longer); a shorter one is lengthened."""
        try:
            current = self.client.get_object_lock_config(self.bucket)
        except S3Error as exc:
            raise StoreError(f"bucket {self.bucket} has no object lock (it must be created with it): "
                             f"use a new bucket for records with retention ({exc.code})") from exc
        days = (current.duration or 0) * (365 if current.duration_unit == YEARS else 1)
        weaker_mode = current.mode == GOVERNANCE and self.object_lock_mode == COMPLIANCE
        if current.mode is None or weaker_mode or days < self.object_lock_days:
            mode = COMPLIANCE if COMPLIANCE in (current.mode, self.object_lock_mode) else GOVERNANCE
            self.client.set_object_lock_config(
                self.bucket, ObjectLockConfig(mode, max(days, self.object_lock_days), DAYS))

    # -- writing ----------------------------------------------------------------------------

    def put_file(self, key: str, path: Path, *, content_type: str = "application/octet-stream",
                 metadata: dict[str, str] | None = None, sha256: str | None = None) -> StoredObject:
        self.ensure_bucket()
        size = path.stat().st_size
        if size > self.part_size:
            return self._put_parts(key, path, size, content_type, metadata, sha256)
        # One part: the SDK would hold the part's bytes in memory to sign and send them anyway.
        with path.open("rb") as fh:
            data = _read_exactly(fh, size, path)
        return self._put_one_part(key, data, content_type, metadata, sha256, source=str(path))

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
                  metadata: dict[str, str] | None = None) -> StoredObject:
        self.ensure_bucket()
        if len(data) <= self.part_size:
            return self._put_one_part(key, data, content_type, metadata, None, source=key)
        with tempfile.TemporaryDirectory(prefix="saraban-put-") as tmp:
            path = Path(tmp) / "object"
            path.write_bytes(data)
            return self.put_file(key, path, content_type=content_type, metadata=metadata,
                                 sha256=hashlib.sha256(data).hexdigest())

    def _put_one_part(self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None,
                      sha256: str | None, *, source: str) -> StoredObject:
        """One conditional PUT carrying the sha256 as `x-amz-checksum-sha256`: the server hashes the
        body as it arrives, refuses one that does not match (BadDigest: nothing stored) and answers
        with the checksum it stored. With the fingerprint given, that is the check of these bytes
        (intake hashed the file once already); without it, we hash them here first."""
        claimed = sha256 or hashlib.sha256(data).hexdigest()
        headers = {"Content-Type": content_type, **self._headers(metadata, claimed),
                   "x-amz-checksum-sha256": _checksum_b64(claimed)}
        try:
            result = self._put_if_absent(key, data, headers, claimed)
        except S3Error as exc:
            if exc.code != "BadDigest":
                raise
            actual = hashlib.sha256(data).hexdigest()
            problem = f"changed: sha256 {actual} != {claimed}" if actual != claimed else "arrived damaged"
            raise StoreError(f"{source} was not stored, it {problem}") from exc
        if isinstance(result, StoredObject):
            return result  # the same bytes were there already
        confirmed = result.http_headers.get("x-amz-checksum-sha256") if result.http_headers else None
        if confirmed == _checksum_b64(claimed):
            return StoredObject(key, len(data), claimed, content_type, _plain(metadata))
        # A server that does not check checksums: check the bytes here, then look at what it keeps.
        if sha256 is not None and (actual := hashlib.sha256(data).hexdigest()) != claimed:
            self._discard(key, result.version_id)
            raise StoreError(f"{source} changed while it was stored: sha256 {actual} != {claimed}")
        return self._verified(key, len(data), claimed, result.version_id)

    def _put_if_absent(self, key: str, data: bytes, headers: dict[str, str],
                       sha256: str) -> ObjectWriteResult | StoredObject:
        """Write only if the key is free (`If-None-Match: *`): the same bytes twice, from a retry or
        two stations at once, stay one object with one version, without a HEAD before every upload.
        A taken key: the object there when it holds these bytes, else these bytes replace it."""
        try:
            try:
                return self._put(key, data, {**headers, "If-None-Match": "*"})
            except S3Error as exc:
                if exc.code != "PreconditionFailed":
                    raise
            existing = self.stat(key)
            if existing is not None and existing.sha256 == sha256 and existing.size == len(data):
                return existing
            return self._put(key, data, headers)  # versioning keeps the old bytes
        except UNREACHABLE as exc:
            raise StoreError(f"S3 at {self.endpoint} unreachable while storing {key}: {exc}") from exc

    def _put(self, key: str, data: bytes, headers: dict[str, str]) -> ObjectWriteResult:
        """One PUT with our own headers. The SDK's put_object turns any header it does not know
        (If-None-Match) into user metadata; _put_object is the single request under it."""
        return self.client._put_object(self.bucket, key, data, cast(dict, headers))

    def _put_parts(self, key: str, path: Path, size: int, content_type: str, metadata: dict[str, str] | None,
                   sha256: str | None) -> StoredObject:
        """A large scan, streamed part by part; verified by a HEAD afterwards."""
        existing = self.stat(key)
        if existing is not None:
            if sha256 is None:
                sha256, size = sha256_of(path)
            if existing.sha256 == sha256 and existing.size == size:
                return existing
        if sha256 is None:  # the headers carry it, so it is known before the first byte goes out
            sha256, size = sha256_of(path)
        headers = self._headers(metadata, sha256)
        try:
            with path.open("rb") as fh:
                result = self.client.put_object(
                    self.bucket, key, cast(BinaryIO, _VerifyingReader(fh, path, size, sha256)), size,
                    content_type=content_type, metadata=cast(dict, headers), part_size=self.part_size,
                    num_parallel_uploads=self.parallel_parts)
        except _SourceError as exc:
            raise exc.error from exc
        except UNREACHABLE as exc:
            raise StoreError(f"S3 at {self.endpoint} unreachable while storing {key}: {exc}") from exc
        return self._verified(key, size, sha256, result.version_id)

    @staticmethod
    def _headers(metadata: dict[str, str] | None, sha256: str) -> dict[str, str]:
        headers = {META_PREFIX + k: v for k, v in encode_metadata(_plain(metadata)).items()}
        headers[META_PREFIX + SHA256_META] = sha256
        return headers

    def _verified(self, key: str, size: int, sha256: str, version_id: str | None) -> StoredObject:
        """Read back what the server says it keeps; a mismatch is removed and reported."""
        try:
            response = self.client.stat_object(self.bucket, key, version_id=version_id,
                                               extra_headers={"x-amz-checksum-mode": "ENABLED"})
        except S3Error as exc:
            raise StoreError(f"{key} is not visible after upload ({exc.code})") from exc
        except UNREACHABLE as exc:
            raise StoreError(f"S3 at {self.endpoint} unreachable while verifying {key}: {exc}") from exc
        stored = self._stored(key, response.size or 0, response.content_type or "", response.metadata)
        checksum = (response.metadata or {}).get("x-amz-checksum-sha256")
        problems = []
        if stored.size != size:
            problems.append(f"size {stored.size} != {size}")
        if stored.sha256 != sha256:
            problems.append(f"sha256 {stored.sha256} != {sha256}")
        # A multipart upload has a composite checksum ("…-N"); size and our sha256 cover it.
        if checksum and "-" not in checksum and checksum != _checksum_b64(sha256):
            problems.append(f"stored checksum {checksum} != {_checksum_b64(sha256)}")
        if problems:
            self._discard(key, version_id)
            raise StoreError(f"verification failed for {key}: {'; '.join(problems)}")
        return stored

    def _discard(self, key: str, version_id: str | None) -> None:
        try:
            self.client.remove_object(self.bucket, key, version_id=version_id)
        except (S3Error, *UNREACHABLE) as exc:  # retention may forbid it; the caller still gets the error
            log.error("could not remove a bad upload", extra={"key": key, "error": str(exc)})

    # -- reading ----------------------------------------------------------------------------

    def stat(self, key: str) -> StoredObject | None:
        self.ensure_bucket()
        try:
            response = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in MISSING:
                return None
            raise
        except UNREACHABLE as exc:
            raise StoreError(f"S3 at {self.endpoint} unreachable: {exc}") from exc
        return self._stored(key, response.size or 0, response.content_type or "", response.metadata)

    @staticmethod
    def _stored(key: str, size: int, content_type: str, headers: object) -> StoredObject:
        items = cast("urllib3.HTTPHeaderDict", headers).items()
        user = {k.lower()[len(META_PREFIX):]: v for k, v in items if k.lower().startswith(META_PREFIX)}
        sha256 = user.pop(SHA256_META, "")
        return StoredObject(key, size, sha256, content_type, decode_metadata(user))

    def open(self, key: str) -> BinaryIO:
        self.ensure_bucket()
        try:
            return cast(BinaryIO, _ObjectReader(self.client.get_object(self.bucket, key)))
        except UNREACHABLE as exc:
            raise StoreError(f"S3 at {self.endpoint} unreachable: {exc}") from exc

    def get(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def url(self, key: str, expires: dt.timedelta = dt.timedelta(minutes=15)) -> str:
        """A presigned GET, valid for `expires` (computed locally: no request to the server)."""
        return self.client.presigned_get_object(self.bucket, key, expires=expires)

    def keys(self, prefix: str = "") -> Iterator[str]:
        self.ensure_bucket()
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if obj.object_name and not obj.is_dir:
                    yield obj.object_name
        except UNREACHABLE as exc:
            raise StoreError(f"S3 at {self.endpoint} unreachable: {exc}") from exc
