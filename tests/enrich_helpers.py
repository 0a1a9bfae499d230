"""Helpers for the enrichment tests (posts, the shared data folder)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor.models import Post

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def post(text: str, ext_id: str = "1", **kwargs: Any) -> Post:
    return Post(source_type="file", source="test", external_id=ext_id, text=text, created_at=T0, **kwargs)


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"public development data not found at {path}")
    return path
