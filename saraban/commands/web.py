"""saraban serve / user: the operator and unit web app (issue 8)."""

from __future__ import annotations

from saraban.cli import app  # noqa: F401  (commands are added to it here)
