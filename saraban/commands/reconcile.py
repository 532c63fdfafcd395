"""saraban reconcile: the register against what actually arrived (issue 4)."""

from __future__ import annotations

from saraban.cli import app  # noqa: F401  (commands are added to it here)
