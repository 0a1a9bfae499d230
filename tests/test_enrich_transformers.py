"""The transformers backend, through the same loading path as a hub model, on a tiny local BERT."""

from __future__ import annotations

from pathlib import Path

import pytest
from enrich_helpers import post

from monitor.errors import EnrichmentError
from monitor.models import Sentiment


torch = pytest.importorskip("torch", reason="torch not installed (pip install '.[transformers]')")
transformers = pytest.importorskip("transformers", reason="transformers not installed (pip install '.[transformers]')")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.enrich.tiny import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture(scope="module")
def backend(tiny_model: Path):  # noqa: ANN201
    from monitor.enrich.hf import TransformersBackend
    from monitor.enrich.settings import SentimentSettings

    return TransformersBackend(
        SentimentSettings(backend="transformers", model=str(tiny_model), batch_size=4, max_length=16)
    )


def test_loads_local_model_and_maps_labels(backend, tiny_model: Path) -> None:  # noqa: ANN001
    assert backend.description == f"transformers:{tiny_model}"
    assert set(backend.label_map.values()) == set(Sentiment)
    assert backend.device == ("cuda" if torch.cuda.is_available() else "cpu")


def test_batches_truncation_and_results(backend) -> None:  # noqa: ANN001
    texts = ["great app", "", "crash " * 500, "提现不到账", "😂", "bad update"] * 3
    results = backend.analyse(texts, ["en"] * len(texts))
    assert len(results) == len(texts)
    for r in results:
        assert r.label in set(Sentiment)
        assert -1.0 <= r.score <= 1.0
    assert backend.analyse([], []) == []


def test_enricher_uses_transformers_backend(tiny_model: Path) -> None:
    from monitor.enrich import EnrichmentSettings, build_enricher

    settings = EnrichmentSettings.model_validate({"sentiment": {"backend": "transformers", "model": str(tiny_model)}})
    enricher = build_enricher(settings)
    results = enricher.enrich([post("great app"), post("")])
    assert [r.backend for r in results] == [f"transformers:{tiny_model}"] * 2


def test_missing_model_error_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.enrich.hf import TransformersBackend
    from monitor.enrich.settings import SentimentSettings

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never reach for the network in tests
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(EnrichmentError, match="no-such-org/no-such-model"):
        TransformersBackend(SentimentSettings(backend="transformers", model="no-such-org/no-such-model"))
    with pytest.raises(EnrichmentError, match="not a model directory"):
        TransformersBackend(SentimentSettings(backend="transformers", model=str(tmp_path / "nothing-here")))


CACHED_LOAD = """
import os, sys
from monitor.enrich.hf import TransformersBackend
from monitor.enrich.settings import SentimentSettings
backend = TransformersBackend(SentimentSettings(backend="transformers", model="tiny-org/tiny-sentiment"))
results = backend.analyse(["great app", "bad update"], ["en", "en"])
print(backend.description, os.environ.get("HF_HUB_OFFLINE"), len(results))
"""


def test_hub_id_loads_offline_from_the_hugging_face_cache(tiny_model: Path, tmp_path: Path) -> None:
    """A hub id already in the cache loads with no network (in a fresh process: the hub reads
    HF_HOME when imported, and the backend sets HF_HUB_OFFLINE for the process)."""
    import os
    import shutil
    import subprocess
    import sys

    repo = tmp_path / "hf-home" / "hub" / "models--tiny-org--tiny-sentiment"
    shutil.copytree(tiny_model, repo / "snapshots" / "0123456789abcdef")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123456789abcdef")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    # any attempt to reach the hub fails at once on a closed loopback port instead of going out
    env.update(HF_HOME=str(tmp_path / "hf-home"), HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-c", CACHED_LOAD], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["transformers:tiny-org/tiny-sentiment", "1", "2"]
