"""Shared helpers for the collector tests: a fake sleep that moves a manual clock, contexts,
and drivers that run a source's fetch like the pipeline does (commit cursor per batch)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from loopback_http import LoopbackServer

from monitor.clock import ManualClock
from monitor.sources.base import Batch, Source, SourceContext
from monitor.sources.http import HostPacer

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 3, 2, 0, 0, tzinfo=timezone.utc)


def fixture_text(*parts: str) -> str:
    return FIXTURES.joinpath(*parts).read_text(encoding="utf-8")


def fixture_bytes(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def fixture_json(*parts: str) -> Any:
    return json.loads(fixture_text(*parts))


class FakeSleep:
    """Records requested sleeps and advances the manual clock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance_to(self.clock.now() + timedelta(seconds=seconds))


def make_context(now: datetime = NOW) -> tuple[SourceContext, FakeSleep]:
    clock = ManualClock(now)
    sleep = FakeSleep(clock)
    context = SourceContext(
        clock=clock,
        user_agent="feedback-monitor-tests/1.0",
        extra={"sleep": sleep, "pacer": HostPacer(), "rng": random.Random(7)},
    )
    return context, sleep


def run(source: Source, cursor: dict[str, Any] | None = None) -> tuple[list[Batch], dict[str, Any], Exception | None]:
    """Drain one fetch like the pipeline: returns (batches, last committed cursor, error)."""
    committed = dict(cursor or {})
    batches: list[Batch] = []
    try:
        for batch in source.fetch(committed):
            # What the store does: the cursor must survive a JSON round trip.
            committed = json.loads(json.dumps(batch.cursor))
            batches.append(batch)
    except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
        return batches, committed, exc
    return batches, committed, None


def posts_of(batches: list[Batch]) -> list:
    return [p for b in batches for p in b.posts]


def take_batches(source: Source, cursor: dict[str, Any], k: int) -> tuple[list[Batch], dict[str, Any]]:
    """Commit only the first k batches, then 'crash' (stop iterating)."""
    committed = dict(cursor)
    batches: list[Batch] = []
    gen: Iterator[Batch] = iter(source.fetch(committed))
    for _ in range(k):
        batch = next(gen)
        committed = json.loads(json.dumps(batch.cursor))
        batches.append(batch)
    gen.close()  # type: ignore[attr-defined]
    return batches, committed


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


MULTILINGUAL = {
    "en": "Withdrawal pending for 3 days, support is not responding. Where is my USDT?",
    "zh": "提现一直在审核中，客服不回复，太坑了！",
    "ko": "출금이 계속 지연되고 있어요. 고객센터 답변이 없습니다.",
    "ja": "ログインできません。2段階認証のコードが届かない。",
    "ru": "Приложение вылетает при открытии графика, верните старую версию.",
    "vi": "Không thể rút tiền về ví, lệnh cứ treo mãi.",
    "tr": "Uygulama çok yavaş, emir girerken sürekli donuyor.",
    "es": "Excelente app, pero las comisiones de P2P son muy altas. 🚀",
}
