"""Helpers for the enrichment tests: a post from its text (conftest's factory, text first)."""

from __future__ import annotations

from typing import Any

from conftest import make_post, shared_data  # noqa: F401 - shared_data is re-exported for the enrichment tests
from monitor.models import Post


def post(text: str, ext_id: str = "1", **kwargs: Any) -> Post:
    return make_post(ext_id, text, **kwargs)
