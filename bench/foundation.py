"""Foundation benchmarks: store insert rate vs raw executemany, replay throughput and peak RSS,
`monitor score` throughput vs the bare enrichment and sentiment calls.

    python -m bench.foundation [--posts 100000]

Writes the `foundation` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench._report import write_section
from monitor.jsonl import post_from_object
from monitor.store import open_store
from monitor.store.timefmt import to_db
from monitor.synthetic import generate

CHUNK = 2000


def make_posts(n: int) -> list:
    return [post_from_object(obj, lambda s: "file") for obj in generate(n, seed=3)]


ROUNDS = 3  # store and raw take turns, fresh databases each round; the best round of each counts


def store_seconds(by_source: dict[str, list], path: Path, now: datetime) -> float:
    store = open_store(path)
    started = time.perf_counter()
    for source, items in by_source.items():
        for i in range(0, len(items), CHUNK):
            store.save_batch(source, items[i : i + CHUNK], now)
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def raw_seconds(by_source: dict[str, list], path: Path, now: datetime) -> float:
    open_store(path).close()  # same schema, written by hand below
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    started = time.perf_counter()
    next_id = 1
    stamp = to_db(now)
    for items in by_source.values():
        for i in range(0, len(items), CHUNK):
            chunk = items[i : i + CHUNK]
            rows, fts = [], []
            for p in chunk:
                rows.append((next_id, p.source, p.source_type, p.external_id, p.url, p.author, p.title, p.text, p.lang,
                             p.rating, p.app_version, to_db(p.created_at), None, stamp, json.dumps(dict(p.meta)),
                             "h", "m"))
                fts.append((next_id, p.text))
                next_id += 1
            con.execute("BEGIN IMMEDIATE")
            con.executemany("INSERT INTO posts (id, source, source_type, external_id, url, author, title, text, "
                            "lang_hint, rating, app_version, created_at, fetched_at, stored_at, meta, content_hash, "
                            "meta_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            con.executemany("INSERT INTO posts_fts (rowid, body) VALUES (?, ?)", fts)
            con.execute("COMMIT")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def bench_store(posts: list, tmp: Path) -> dict:
    """Store.save_batch against hand-written executemany into the same schema (posts + FTS rows).

    Disk and WAL checkpoints make single runs of either vary by a quarter on a shared machine, so
    they take turns for ROUNDS rounds and each keeps its best."""
    now = datetime.now(timezone.utc)
    by_source: dict[str, list] = {}
    for p in posts:
        by_source.setdefault(p.source, []).append(p)
    store_runs, raw_runs = [], []
    for r in range(ROUNDS):
        store_runs.append(store_seconds(by_source, tmp / f"store{r}.db", now))
        raw_runs.append(raw_seconds(by_source, tmp / f"raw{r}.db", now))
        print(f"store round {r + 1}: {len(posts) / store_runs[-1]:,.0f} posts/s, raw {len(posts) / raw_runs[-1]:,.0f}/s",
              file=sys.stderr)
    return {"store": len(posts) / min(store_runs), "raw": len(posts) / min(raw_runs)}


def bench_replay(jsonl: Path, tmp: Path) -> dict:
    cmd = [sys.executable, "-m", "monitor", "--log-level", "WARNING", "replay", str(jsonl), "--db", str(tmp / "replay.db")]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 2):
        raise SystemExit(proc.stderr)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": elapsed, "rate": sum(1 for _ in jsonl.open()) / elapsed, "rss_mb": rss_mb,
            "summary": proc.stdout.strip().splitlines()}


def bench_score(jsonl: Path, posts: list) -> dict:
    """`monitor score` (a subprocess) against the bare calls in this process; they take turns for
    2 rounds and each keeps its best, so a busy moment of the machine does not decide the ratio."""
    from monitor.enrich import build_enricher

    enricher = build_enricher()
    enricher.enrich(posts[:100])  # load models outside the timing
    texts, langs = [p.text for p in posts], [p.lang for p in posts]
    enrich_runs, sentiment_runs, score_runs = [], [], []
    for _ in range(2):
        started = time.perf_counter()
        for i in range(0, len(posts), 512):
            enricher.enrich(posts[i : i + 512])
        enrich_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(0, len(posts), 512):
            enricher.backend.analyse(texts[i : i + 512], langs[i : i + 512])  # the bare sentiment function
        sentiment_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        with jsonl.open() as stdin:
            proc = subprocess.run([sys.executable, "-m", "monitor", "score", "--no-rules"], stdin=stdin,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        score_runs.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
    n = len(posts)
    return {"score": n / min(score_runs), "bare_enrich": n / min(enrich_runs), "bare_sentiment": n / min(sentiment_runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        jsonl = tmp / "posts.jsonl"
        with jsonl.open("w") as f:
            for obj in generate(args.posts, seed=3):
                f.write(json.dumps(obj, ensure_ascii=False) + "\n")
        posts = make_posts(args.posts)
        store = bench_store(posts, tmp)
        print(f"store: {store['store']:,.0f} posts/s, raw executemany: {store['raw']:,.0f}/s", file=sys.stderr)
        replay = bench_replay(jsonl, tmp)
        print(f"replay: {replay['rate']:,.0f} posts/s, peak RSS {replay['rss_mb']:,.0f} MB", file=sys.stderr)
        score = bench_score(jsonl, posts)
        print(f"score: {score}", file=sys.stderr)
    ratio = store["store"] / store["raw"]
    lines = [
        f"{args.posts:,} synthetic multilingual posts (`monitor.synthetic`, seed 3). Run: `python -m bench.foundation`.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| store insert (`save_batch`, {CHUNK}-post batches: dedup lookup, hashing, CJK index text, FTS; best of {ROUNDS} rounds) | "
        f"{store['store']:,.0f} posts/s | |",
        f"| raw `sqlite3.executemany` of the same rows into the same tables, taking turns with the store (best of {ROUNDS}) | {store['raw']:,.0f} posts/s | |",
        f"| store / raw | **{ratio:.0%}** | at least 70% |",
        f"| `monitor replay` end to end (store, embedded enrichment, detection, delivery) | "
        f"**{replay['rate']:,.0f} posts/s** ({replay['seconds']:.0f} s) | |",
        f"| peak RSS of that replay | {replay['rss_mb']:,.0f} MB | |",
        f"| `monitor score --no-rules` (a subprocess: JSON in/out, model load included; best of 2, taking turns with the bare calls) | {score['score']:,.0f} posts/s | |",
        f"| bare `Enricher.enrich` on the same posts, in process | {score['bare_enrich']:,.0f} posts/s | |",
        f"| score / bare enrichment | **{score['score'] / score['bare_enrich']:.0%}** | at least 80% |",
    ]
    if score["bare_sentiment"]:
        lines.append(f"| bare sentiment function alone (no language or categories) | {score['bare_sentiment']:,.0f} posts/s | |")
        lines.append(f"| score / bare sentiment | {score['score'] / score['bare_sentiment']:.0%} | |")
    lines += ["", "Replay summary: " + " / ".join(replay["summary"])]
    write_section("foundation", "Foundation: store, replay, score", "\n".join(lines))


if __name__ == "__main__":
    main()
