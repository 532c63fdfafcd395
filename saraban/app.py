"""The composition root: settings, database and object store, made once per process."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from saraban.settings import Settings, get_settings
from storage.database import Database
from storage.objects import ObjectStore, open_store


def secret_key(settings: Settings) -> str:
    """The key that signs sessions and file links: from settings, else made once and kept in home."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.resolved_home / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class App:
    settings: Settings
    db: Database
    store: ObjectStore

    @classmethod
    def create(cls, settings: Settings | None = None) -> App:
        settings = settings or get_settings()
        settings.resolved_home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        store = open_store(
            settings.resolved_storage,
            url_secret=secret_key(settings),
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
            object_lock_days=settings.s3_object_lock_days,
        )
        return cls(settings, db, store)


@cache
def current_app() -> App:
    """One App per process (Prefect task runners and workers call this)."""
    return App.create()
