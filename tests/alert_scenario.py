"""A real incident shape for alerting tests: a quiet baseline, a surge of withdrawal complaints
in several languages, and the return to normal; plus a small windowed threshold detector (what
a YAML `threshold` rule with a recovery does) that the tests pass to App(detectors=[...]).

Also runnable as a script, for kill -9 tests in a subprocess:

    python tests/alert_scenario.py CONFIG DB POSTS.jsonl   # replays POSTS through the pipeline
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.alerts.grouping import RuleMeta  # noqa: E402
from monitor.detect.base import DetectBatch, DetectContext, Detector  # noqa: E402
from monitor.detect.counting import author_of, bucket_of  # noqa: E402
from monitor.models import Finding, Recovery, Severity  # noqa: E402
from monitor.store import SeriesPoint  # noqa: E402
from monitor.store.timefmt import epoch, from_epoch  # noqa: E402

START = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)
SURGE_START = START + timedelta(hours=40)
SURGE_END = SURGE_START + timedelta(hours=2)
END = START + timedelta(hours=60)

COMPLAINTS = [
    "My withdrawal has been pending for 3 hours, where is my USDT?",
    "my withdrawal has been pending for three hours where is my usdt??",
    "Withdrawal stuck in processing since this morning, support not answering",
    "withdrawal stuck in processing since this morning. support is not answering!",
    "提现一直在处理中，已经三个小时了",
    "提现一直在处理中 已经3个小时了 怎么回事",
    "출금이 3시간째 처리 중입니다",
    "Вывод средств завис уже три часа",
    "Retiro pendiente desde hace horas, ¿qué pasa?",
    "Can't withdraw BTC, it says network busy. Contact me at victim@example.com",
]
CHATTER = ["Great app, fast trades", "How do I change the UI language?", "Nice new listing today",
           "Fees are fine for me", "Love the P2P market", "When is the next campaign?"]
WORDS = ("withdraw", "提现", "출금", "вывод", "retiro")


def scenario_lines(seed: int = 7) -> list[str]:
    """About 900 posts over 60 hours: ~12 an hour, 1 in 12 about withdrawals; ~60 an hour of
    withdrawal complaints during the 2-hour surge."""
    rng = random.Random(seed)
    lines, n = [], 0
    t = START
    while t < END:
        surge = SURGE_START <= t < SURGE_END
        step = timedelta(minutes=1) if surge else timedelta(minutes=5)
        n += 1
        if surge or rng.random() < 1 / 12:
            text = rng.choice(COMPLAINTS)
        else:
            text = rng.choice(CHATTER)
        post = {"source": "play-okx", "id": f"p{n}", "text": text, "author": f"user{rng.randrange(10_000)}",
                "url": f"https://play.example.com/review/p{n}",
                "created_at": (t + timedelta(seconds=rng.randrange(50))).strftime("%Y-%m-%dT%H:%M:%SZ")}
        lines.append(json.dumps(post, ensure_ascii=False))
        t += step
    return lines


class WithdrawalSurgeDetector(Detector):
    """At least `threshold` withdrawal complaints in the trailing `window`, judged once per closed
    bucket; a Recovery once the count falls to `recover_at` or below."""

    name = "withdrawal-surge"
    rule_id = "withdrawals-stuck"
    group = {"category": "deposit_withdrawal"}

    def __init__(self, threshold: int = 15, recover_at: int = 4, window: timedelta = timedelta(minutes=30),
                 severity: Severity = Severity.HIGH, resolve_after: timedelta = timedelta(hours=3)) -> None:
        self.threshold, self.recover_at, self.window = threshold, recover_at, window
        self.severity, self.resolve_after = severity, resolve_after
        self.series = f"rule:{self.rule_id}"
        self.state_key = f"test-detector:{self.rule_id}"

    def rule_meta(self, rule_id: str) -> RuleMeta | None:
        if rule_id != self.rule_id:
            return None
        return RuleMeta(title="Withdrawal complaints surge", description="Users report stuck withdrawals.",
                        severity=self.severity, tags=("funds", "oncall"), owner="payments",
                        resolve_after=self.resolve_after)

    def _state(self, ctx: DetectContext) -> dict:
        raw = ctx.store.get_blobs(self.state_key).get(self.state_key)
        return json.loads(raw) if raw else {"last": None, "firing": False, "posts": {}}

    def _save(self, ctx: DetectContext, state: dict) -> None:
        ctx.store.put_blobs([(self.state_key, json.dumps(state).encode())], ctx.clock.now())

    def observe(self, batch: DetectBatch, ctx: DetectContext) -> list:
        hits = [item for item in batch.posts if item.post.id in batch.fresh
                and any(w in item.post.text.lower() for w in WORDS)]
        if not hits:
            return []
        state = self._state(ctx)
        points = []
        for item in hits:
            b = bucket_of(epoch(item.post.created_at), ctx.bucket)
            points.append(SeriesPoint(self.series, b, author_of(item)))
            state["posts"].setdefault(str(b), []).append(item.post.id)
        ctx.store.add_series_points(points)
        self._save(ctx, state)
        return []

    def tick(self, now: datetime, ctx: DetectContext) -> list:
        size, window = int(ctx.bucket.total_seconds()), int(self.window.total_seconds())
        state = self._state(ctx)
        limit = epoch(now - ctx.lateness)
        b = state["last"] + size if state["last"] is not None else None
        if b is None:
            first = ctx.store.series_buckets(self.series, 0, limit)
            b = first[0].bucket if first else None
        signals: list = []
        while b is not None and b + size <= limit:
            end = b + size
            count = sum(c.count for c in ctx.store.series_buckets(self.series, end - window, end))
            day = ctx.store.series_buckets(self.series, end - 86400, end - window)
            expected = round(sum(c.count for c in day) / max(1, (86400 - window) // window), 2)
            if count >= self.threshold:
                posts = [i for k, ids in state["posts"].items() if end - window <= int(k) < end for i in ids]
                signals.append(Finding(rule_id=self.rule_id, event_time=from_epoch(end), severity=self.severity,
                                       group=self.group, post_ids=tuple(posts), fingerprint=f"w:{end}",
                                       evidence={"observed": count, "expected": expected, "window": "30m"},
                                       title="Withdrawal complaints surge"))
                state["firing"] = True
            elif state["firing"] and count <= self.recover_at:
                signals.append(Recovery(self.rule_id, self.group, from_epoch(end)))
                state["firing"] = False
            state["last"] = b
            b += size
        state["posts"] = {k: v for k, v in state["posts"].items() if int(k) >= limit - window - 2 * size}
        self._save(ctx, state)
        return signals


def main(argv: list[str]) -> int:
    """Replay POSTS with the scenario detector, as `monitor replay` would (exit 0 when done)."""
    from monitor.app import App
    from monitor.clock import ManualClock
    from monitor.config import load_config
    from monitor.replay import replay

    config_path, db_path, posts = argv
    app = App(load_config(config_path, explicit=True), db_path=db_path, clock=ManualClock(),
              detectors=[WithdrawalSurgeDetector()])
    with app.store.writer_lock(), open(posts, encoding="utf-8") as stream:
        summary = replay(app, stream, chunk_size=100)
    print(json.dumps({"posts": summary.ingest.inserted, "findings": summary.findings,
                      "opened": summary.incidents_opened, "resolved": summary.incidents_resolved}))
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
