"""`monitor spikes`: output shape and order, no look-ahead, error messages."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from monitor.cli.spikes import spikes

T0 = datetime(2024, 3, 4, tzinfo=timezone.utc)


def series_csv(n: int = 700, burst_at: int | None = 600, naive: bool = True, seed: int = 3) -> str:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(4.0, n)
    if burst_at is not None:
        counts[burst_at] = 60
    lines = ["timestamp,value"]
    for i, c in enumerate(counts):
        t = T0 + timedelta(minutes=5 * i)
        stamp = t.strftime("%Y-%m-%d %H:%M:%S") if naive else t.isoformat()
        lines.append(f"{stamp},{c}")
    return "\n".join(lines) + "\n"


def run_cli(args, stdin: str | None = None):
    return CliRunner().invoke(spikes, args, input=stdin, catch_exceptions=False)


def rows(output: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(output)))


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text(series_csv())
    return path


def test_one_row_per_input_row_in_order(csv_file):
    result = run_cli(["--input", str(csv_file)])
    assert result.exit_code == 0, result.output
    out = rows(result.output)
    assert out[0] == ["timestamp", "value", "anomaly_score", "is_spike"]
    source = rows(csv_file.read_text())[1:]
    assert [r[:2] for r in out[1:]] == source  # timestamps and values echoed as given, in order
    scores = [float(r[2]) for r in out[1:]]
    assert all(0.0 <= s <= 1.0 for s in scores)
    spiking = [i for i, r in enumerate(out[1:]) if r[3] == "1"]
    assert spiking == [600]
    assert scores[600] >= 0.5


def test_stdin_and_extra_columns():
    result = run_cli(["--input", "-", "--extra"], stdin=series_csv(n=400, burst_at=None))
    assert result.exit_code == 0, result.output
    out = rows(result.output)
    assert out[0][4:] == ["expected", "p_value", "evidence", "back_to_baseline", "baseline"]
    assert len(out) == 401
    assert out[1][4] == ""  # the first row has no baseline yet
    assert float(out[-1][4]) == pytest.approx(4.0, abs=1.5)


def test_no_look_ahead_prefix_invariance(tmp_path):
    text = series_csv(n=650)
    lines = text.splitlines()
    full = rows(run_cli(["--input", "-"], stdin=text).output)
    for k in (1, 2, 3, 300, 600, 601, 640):
        prefix = "\n".join(lines[: k + 1]) + "\n"  # header and the first k rows
        out = rows(run_cli(["--input", "-"], stdin=prefix).output)
        assert out == full[: k + 1], f"output of the first {k} rows changed when later rows exist"


def test_timezones_and_naive_times_agree():
    naive = rows(run_cli(["--input", "-"], stdin=series_csv(n=350, burst_at=None, naive=True)).output)
    aware = rows(run_cli(["--input", "-"], stdin=series_csv(n=350, burst_at=None, naive=False)).output)
    assert [r[2:] for r in naive] == [r[2:] for r in aware]


def test_custom_columns_bucket_and_settings():
    text = "when,posts,who\n" + "".join(
        f"2024-03-04T{h:02d}:{m:02d}:00Z,{3 + (m % 2)},{2}\n" for h in range(24) for m in range(0, 60, 10)
    )
    result = run_cli(
        ["--input", "-", "--time-col", "when", "--value-col", "posts", "--authors-col", "who",
         "--bucket", "10m", "--set", "threshold=6", "--set", "min_count=2"],
        stdin=text,
    )
    assert result.exit_code == 0, result.output
    assert len(rows(result.output)) == 24 * 6 + 1


def test_missing_column_is_named(csv_file):
    result = CliRunner().invoke(spikes, ["--input", str(csv_file), "--value-col", "count"])
    assert result.exit_code == 2
    assert f"{csv_file}: line 1: no column 'count' (columns: timestamp, value)" in result.output


def test_bad_time_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2024-03-04 00:00:00,1\n2024-03-04 00:05:00,2\nyesterday,3\n")
    result = CliRunner().invoke(spikes, ["--input", str(path)])
    assert result.exit_code == 2
    assert f"{path}: line 4: column 'timestamp': cannot parse 'yesterday' as a time" in result.output


def test_bad_value_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2024-03-04 00:00:00,1\n2024-03-04 00:05:00,n/a\n")
    result = CliRunner().invoke(spikes, ["--input", str(path)])
    assert result.exit_code == 2
    assert f"{path}: line 3: column 'value': cannot parse 'n/a' as a number" in result.output
    nan = CliRunner().invoke(spikes, ["--input", "-"], input="timestamp,value\n2024-03-04,nan\n")
    assert nan.exit_code == 2 and "<stdin>: line 2: column 'value': 'nan' is not a finite number" in nan.output


def test_rows_before_a_bad_row_are_written_even_before_the_spacing_is_known(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2024-03-04 00:00:00,1\n2024-03-04 00:05:00,n/a\n")
    result = CliRunner().invoke(spikes, ["--input", str(path)])  # no --bucket: row 1 waits for row 2's time
    assert result.exit_code == 2 and "line 3: column 'value'" in result.stderr
    assert rows(result.stdout) == [["timestamp", "value", "anomaly_score", "is_spike"],
                                   ["2024-03-04 00:00:00", "1", "0.000000", "0"]]


def test_short_row_and_unknown_setting_and_missing_file(tmp_path):
    short = CliRunner().invoke(spikes, ["--input", "-"], input="timestamp,value\n2024-03-04 00:00:00\n")
    assert short.exit_code == 2 and "<stdin>: line 2: 1 fields, the header has 2" in short.output
    typo = CliRunner().invoke(spikes, ["--input", "-", "--set", "treshold=3"], input="timestamp,value\n")
    assert typo.exit_code == 2 and "treshold" in typo.output
    missing = CliRunner().invoke(spikes, ["--input", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output


def test_empty_input_and_header_only():
    empty = CliRunner().invoke(spikes, ["--input", "-"], input="")
    assert empty.exit_code == 2 and "empty input" in empty.output
    header = run_cli(["--input", "-"], stdin="timestamp,value\n")
    assert header.exit_code == 0 and rows(header.output) == [["timestamp", "value", "anomaly_score", "is_spike"]]
