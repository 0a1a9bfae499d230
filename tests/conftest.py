"""Shared fixtures: temporary stores, post factories, paths to the shared data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor.models import Post

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # a Monday


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test when the public data is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"public development data not found at {path} (see README: Development data)")
    return path


def make_post(ext_id: str | int, text: str = "hello", source: str = "test", minutes: float = 0,
              **kwargs: Any) -> Post:
    return Post(source_type=kwargs.pop("source_type", "file"), source=source, external_id=str(ext_id), text=text,
                created_at=kwargs.pop("created_at", T0 + timedelta(minutes=minutes)), **kwargs)


def post_line(ext_id: str | int, text: str, minutes: float = 0, source: str = "file-a", **extra: Any) -> str:
    obj = {"source": source, "id": ext_id, "text": text,
           "created_at": (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"), **extra}
    return json.dumps(obj, ensure_ascii=False)


@pytest.fixture
def store(tmp_path):
    from monitor.store import open_store

    s = open_store(tmp_path / "test.db")
    yield s
    s.close()
