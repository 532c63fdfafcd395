"""saraban watch / backfill / status: scanning stations and paper archives (issue 7)."""

from __future__ import annotations

from saraban.cli import app  # noqa: F401  (commands are added to it here)
