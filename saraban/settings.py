"""All configuration, from environment variables with embedded defaults (contracts.md).

Nothing else reads `os.environ`: every part receives what it needs from `Settings`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SARABAN_", extra="ignore")

    home: Path = Field(default=Path(".saraban"), description="data folder: database, local store, reports")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    storage: str | None = Field(default=None, description="file://… (default under home) or s3://bucket")
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_secure: bool = False
    s3_region: str | None = None
    s3_object_lock_days: int = 0  # >0: records bucket with retention (bucket created with object lock)
    station: str = "default"  # the station name recorded when a file does not come from a station folder
    # A field below its threshold sends the letter to review.
    review_threshold: float = 0.8
    # The web app
    secret_key: str = ""  # signs session cookies; generated into home when empty
    cookie_secure: bool = False  # True behind HTTPS
    # The watched folder
    stable_seconds: float = 3.0
    rescan_seconds: float = 60.0
    delete_after_ingest: bool = False
    max_file_mb: int = 200

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home / 'saraban.db'}"

    @property
    def resolved_storage(self) -> str:
        if self.storage:
            return self.storage
        return (self.resolved_home / "objects").as_uri()


@cache
def get_settings() -> Settings:
    return Settings()
