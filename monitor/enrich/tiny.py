"""A tiny random BERT sequence classifier and WordPiece tokenizer, built offline.

For tests and benchmarks of the transformers backend: it exercises exactly the loading and
inference path of a real hub model (config id2label, tokenizer files, safetensors) in 0.2 s and
about 100 KB, with no download. Its predictions are meaningless (random weights).
"""

from __future__ import annotations

import os
from pathlib import Path

WORDS = (
    "the a an is was great good bad terrible app crash crashes login update love hate slow fast battery ads "
    "refund bug fix please why not works broken thanks awesome worst best withdrawal deposit stuck support"
).split()


def build_tiny_classifier(
    path: Path, id2label: dict[int, str] | None = None, hidden: int = 32, layers: int = 2, seed: int = 0
) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    id2label = id2label or {0: "negative", 1: "neutral", 2: "positive"}
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)] + list(".,!?'")
    vocab = specials + sorted(set(WORDS)) + letters + ["##" + ch for ch in letters]
    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    try:  # transformers 5: tokenizers-backed BertTokenizer takes the vocabulary as a dict
        tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    except TypeError:  # transformers 4
        tokenizer = BertTokenizer(os.fspath(path / "vocab.txt"))
    tokenizer.model_max_length = 128
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
