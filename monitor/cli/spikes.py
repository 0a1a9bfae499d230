"""`monitor spikes`: run the spike detector over any time series in a CSV file (or stdin).

Each input row is one observation, processed in order with the same detector code as the
daemon; each output row uses only that row and the rows before it (no look-ahead).
"""

from __future__ import annotations

import csv
import gc
import io
import math
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator, TextIO

import click
import yaml
from pydantic import ValidationError

from ..detect.spike import SeriesState, SpikeParams, SpikeResult, update
from ..detect.spike.params import parse_duration
from .common import UNUSED_HELP, common_options

# Defaults of the command line: the settings measured on NAB (docs/benchmarks.md). They differ
# from SpikeParams only where offline analysis of an arbitrary file needs it (docs/spikes.md):
# one alert a day at most, a missing row is missing data, a fall is as notable as a rise (spike
# rules in the daemon watch surges of posts; a silent source is the flatline rules' job), and
# nothing being known about the series, it is taken to be somewhat more erratic than its law
# until its own history says otherwise.
CLI_DEFAULTS = {"cooldown": "1d", "gaps": "skip", "direction": "both", "tail_prior": 1.5}


class InputError(click.ClickException):
    exit_code = 2


@dataclass
class Row:
    line: int
    time_text: str
    value_text: str
    when: datetime
    value: float
    authors: int | None


def parse_time(text: str) -> datetime:
    """ISO 8601 (a space or T between date and time, optional Z or offset) or Unix seconds; naive is UTC."""
    s = text.strip()
    try:
        when = datetime.fromisoformat(s)
    except ValueError:
        try:
            seconds = float(s)
        except ValueError:
            raise ValueError(f"cannot parse {text!r} as a time") from None
        if not math.isfinite(seconds):
            raise ValueError(f"cannot parse {text!r} as a time") from None
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def parse_number(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"cannot parse {text!r} as a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def read_rows(stream: TextIO, name: str, time_col: str, value_col: str, authors_col: str | None) -> Iterator[Row]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: line 1: empty input, expected a header with {time_col!r} and {value_col!r}")
    except csv.Error as exc:
        raise InputError(f"{name}: line {reader.line_num}: {exc}")
    header = [h.strip() for h in header]
    wanted = [time_col, value_col] + ([authors_col] if authors_col else [])
    for col in wanted:
        if col not in header:
            raise InputError(f"{name}: line 1: no column {col!r} (columns: {', '.join(header) or 'none'})")
    ti, vi = header.index(time_col), header.index(value_col)
    ai = header.index(authors_col) if authors_col else None
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{name}: line {reader.line_num}: {exc}")
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line
        if len(fields) != len(header):
            raise InputError(f"{name}: line {line}: {len(fields)} fields, the header has {len(header)}")
        try:
            when = parse_time(fields[ti])
        except ValueError as exc:
            raise InputError(f"{name}: line {line}: column {time_col!r}: {exc}")
        try:
            value = parse_number(fields[vi])
        except ValueError as exc:
            raise InputError(f"{name}: line {line}: column {value_col!r}: {exc}")
        authors = None
        if ai is not None and fields[ai].strip():
            try:
                a = parse_number(fields[ai])
            except ValueError as exc:
                raise InputError(f"{name}: line {line}: column {authors_col!r}: {exc}")
            if a < 0 or a != int(a):
                raise InputError(f"{name}: line {line}: column {authors_col!r}: {fields[ai]!r} is not a count")
            authors = int(a)
        yield Row(line, fields[ti], fields[vi], when, value, authors)


def build_params(bucket: str | None, mode: str, direction: str, gaps: str, cooldown: str, overrides: tuple[str, ...]) -> dict:
    settings: dict[str, object] = {"mode": mode, "direction": direction, "gaps": gaps, "cooldown": cooldown,
                                   "tail_prior": CLI_DEFAULTS["tail_prior"]}
    if bucket:
        settings["bucket"] = bucket
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        settings[key.strip()] = yaml.safe_load(raw) if raw.strip() else raw
    try:
        SpikeParams(**settings)  # validate early, with the user's own names
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise click.BadParameter(problems, param_hint="settings")
    return settings


@click.command("spikes")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="CSV file with a header row, or - for stdin.")
@click.option("--time-col", default="timestamp", show_default=True, help="Column with the time of each row.")
@click.option("--value-col", default="value", show_default=True, help="Column with the count or value.")
@click.option("--authors-col", default=None, help="Optional column with distinct authors per row.")
@click.option("--bucket", default=None,
              help="Nominal spacing of the rows (e.g. 5m, 1h). Default: the first positive spacing in the file.")
@click.option("--mode", type=click.Choice(["auto", "count", "value"]), default="auto", show_default=True)
@click.option("--direction", type=click.Choice(["auto", "up", "down", "both"]), default=CLI_DEFAULTS["direction"],
              show_default=True, help="Deviations that count (auto: up for counts, both for other values).")
@click.option("--gaps", type=click.Choice(["skip", "zero"]), default=CLI_DEFAULTS["gaps"], show_default=True,
              help="Missing rows: no data (skip) or a count of zero (zero).")
@click.option("--cooldown", default=CLI_DEFAULTS["cooldown"], show_default=True,
              help="No new spike sooner than this after the last one.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Any other detector setting (see docs/spikes.md), e.g. --set threshold=6.")
@click.option("--extra", is_flag=True, help="Also write expected, p_value, evidence, back_to_baseline, baseline.")
@common_options(config_help=UNUSED_HELP, db_help=UNUSED_HELP)
def spikes(input_path, time_col, value_col, authors_col, bucket, mode, direction, gaps, cooldown, overrides, extra):
    """Score a time series for spikes: writes timestamp,value,anomaly_score,is_spike to stdout.

    One output row per input row, in order. Times without a timezone are UTC. --bucket is the
    expected spacing of the rows, not an aggregation: every row is one observation; a jump of
    more than 1.5 buckets is missing data. The daily and weekly profiles have one slot per bucket
    (at most 288 a day and 168 a week).
    """
    settings = build_params(bucket, mode, direction, gaps, cooldown, overrides)
    name = "<stdin>" if input_path == "-" else input_path
    if input_path == "-":
        raw = getattr(sys.stdin, "buffer", None)
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") if raw is not None else sys.stdin
        _run(stream, name, time_col, value_col, authors_col, settings, extra)
    else:
        try:
            stream = open(input_path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise InputError(f"{name}: {exc.strerror}")
        with stream:
            _run(stream, name, time_col, value_col, authors_col, settings, extra)


def detect_rows(rows: Iterable[Row], settings: dict) -> Iterator[tuple[Row, SpikeResult | None]]:
    """The detector over parsed rows, in order: (row, result), result None for an unjudged row.

    Without a bucket in `settings`, the spacing is the first positive step between rows; rows
    read before it is known (normally just the first) are fed to the detector but reported
    unjudged, so that no row's output depends on a later row.
    """
    state: SeriesState | None = None
    pending: list[Row] = []
    try:
        for row in rows:
            if state is None:
                pending.append(row)
                spacing = _first_spacing(pending)
                if "bucket" not in settings and spacing is None:
                    continue
                state = SeriesState(SpikeParams(**({"bucket": spacing} | settings if spacing else settings)))
                for i, early in enumerate(pending):
                    result = update(state, early.when, early.value, early.authors)
                    yield early, result if ("bucket" in settings or i == len(pending) - 1) else None
                pending = []
                continue
            yield row, update(state, row.when, row.value, row.authors)
    except Exception:
        # a bad row: the good rows before it are still written (unjudged when the spacing was not known)
        for row in pending:
            yield row, None
        raise
    for row in pending:  # the input ended before two distinct times: nothing to judge
        yield row, None


def _run(stream, name, time_col, value_col, authors_col, settings, extra) -> None:
    # The loop allocates a few objects per row; freezing what the imports left on the heap keeps
    # the garbage collector's passes short (about 10% of the time on a long file).
    gc.freeze()
    out = csv.writer(sys.stdout, lineterminator="\n")
    columns = ["timestamp", "value", "anomaly_score", "is_spike"]
    if extra:
        columns += ["expected", "p_value", "evidence", "back_to_baseline", "baseline"]
    out.writerow(columns)
    for row, result in detect_rows(read_rows(stream, name, time_col, value_col, authors_col), settings):
        if result is None:
            fields = [row.time_text, row.value_text, "0.000000", "0"]
            if extra:
                fields += ["", "1", "0", "0", ""]
        else:
            fields = [row.time_text, row.value_text, f"{result.anomaly_score:.6f}", "1" if result.is_spike else "0"]
            if extra:
                expected = "" if result.expected is None else f"{result.expected:.6g}"
                fields += [expected, f"{result.p_value:.6g}", f"{result.evidence:.4f}",
                           "1" if result.back_to_baseline else "0", result.baseline or ""]
        out.writerow(fields)
    sys.stdout.flush()


def _first_spacing(rows: list[Row]):
    for a, b in zip(rows, rows[1:]):
        delta = b.when - a.when
        if delta.total_seconds() > 0:
            return delta
    return None


__all__ = ["CLI_DEFAULTS", "Row", "build_params", "detect_rows", "parse_duration", "parse_time", "read_rows", "spikes"]
