"""Persistence. `open_store(path)` returns the SQLite store; see base.py for the interface."""

from __future__ import annotations

from pathlib import Path

from .base import Store
from .detection import BucketCount, SeriesPoint, StoredFinding
from .posts import IngestResult, PostQuery, SourceHealth
from .sqlite import SqliteStore


def open_store(path: str | Path) -> SqliteStore:
    return SqliteStore(path)


__all__ = ["Store", "SqliteStore", "open_store", "IngestResult", "PostQuery", "SourceHealth", "SeriesPoint",
           "BucketCount", "StoredFinding"]
