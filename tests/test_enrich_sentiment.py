from __future__ import annotations

import pytest
from enrich_helpers import post

from monitor.enrich import SENTIMENT_BACKENDS, SentimentBackend, SentimentSettings, build_enricher
from monitor.enrich.backends import EmbeddedBackend, SentimentResult
from monitor.enrich.hf import map_labels
from monitor.enrich.settings import EnrichmentSettings
from monitor.errors import EnrichmentError
from monitor.models import Sentiment


@pytest.fixture(scope="module")
def embedded() -> EmbeddedBackend:
    return EmbeddedBackend(SentimentSettings())


def test_registry_lists_builtin_backends() -> None:
    assert {"embedded", "transformers", "vader", "snownlp"} <= set(SENTIMENT_BACKENDS.names())
    assert SENTIMENT_BACKENDS.get("embedded") is EmbeddedBackend
    with pytest.raises(LookupError, match="unknown sentiment_backend type 'nope'"):
        SENTIMENT_BACKENDS.get("nope")


def test_interface_contract(embedded: EmbeddedBackend) -> None:
    texts = ["I love this exchange, withdrawals are instant!", "Worst app ever, my funds are stuck", "The BTC price is 60k"]
    results = embedded.analyse(texts, ["en", "en", "en"])
    assert len(results) == 3
    assert all(isinstance(r, SentimentResult) and -1.0 <= r.score <= 1.0 for r in results)
    assert [r.label for r in results] == [Sentiment.POSITIVE, Sentiment.NEGATIVE, Sentiment.NEUTRAL]
    assert results[0].score > 0.3 > -0.3 > results[1].score
    assert embedded.analyse([], []) == []


@pytest.mark.parametrize(
    "text, lang, label",
    [
        ("太好用了，到账很快，非常满意", "zh", Sentiment.POSITIVE),
        ("垃圾平台，提现一直不到账，客服也不理人", "zh", Sentiment.NEGATIVE),
        ("Excelente app, muy rápida y confiable", "es", Sentiment.POSITIVE),
        ("Péssimo, golpe, não consigo sacar meu dinheiro", "pt", Sentiment.NEGATIVE),
        ("Ужасно, мошенники, деньги украли", "ru", Sentiment.NEGATIVE),
        ("최악의 거래소, 출금도 안되고 사기", "ko", Sentiment.NEGATIVE),
        ("最高のアプリ、ありがとう", "ja", Sentiment.POSITIVE),
        ("Berbat, dolandırıcı, param çalındı", "tr", Sentiment.NEGATIVE),
        ("Tuyệt vời, cảm ơn, rút tiền nhanh", "vi", Sentiment.POSITIVE),
        ("😡😡😡", "und", Sentiment.NEGATIVE),
        ("🚀🚀🔥", "und", Sentiment.POSITIVE),
    ],
)
def test_multilingual_and_emoji(embedded: EmbeddedBackend, text: str, lang: str, label: Sentiment) -> None:
    assert embedded.analyse([text], [lang])[0].label == label


def test_rating_is_a_strong_signal() -> None:
    enricher = build_enricher()
    text = "It is an app for trading"
    five, one, none = enricher.enrich([post(text, rating=5), post(text, rating=1), post(text)])
    assert five.sentiment == Sentiment.POSITIVE and five.sentiment_score > 0.5
    assert one.sentiment == Sentiment.NEGATIVE and one.sentiment_score < -0.5
    assert none.sentiment == Sentiment.NEUTRAL
    # a glowing text with one star is still negative: the stars say what the user meant
    glowing = enricher.enrich([post("great app love it", rating=1)])[0]
    assert glowing.sentiment == Sentiment.NEGATIVE


def test_custom_backend_plugs_in() -> None:
    @SENTIMENT_BACKENDS.register("always_positive_test")
    class AlwaysPositive(SentimentBackend):
        name = "always_positive_test"

        def analyse(self, texts, langs):  # noqa: ANN001, ANN201
            return [SentimentResult(Sentiment.POSITIVE, 1.0) for _ in texts]

    settings = EnrichmentSettings(sentiment=SentimentSettings(backend="always_positive_test"))
    enricher = build_enricher(settings)
    result = enricher.enrich([post("terrible")])[0]
    assert result.sentiment == Sentiment.POSITIVE
    assert result.backend == enricher.name == "always_positive_test"


def test_failing_backend_never_stops_the_batch() -> None:
    class Flaky(SentimentBackend):
        name = "flaky"

        def analyse(self, texts, langs):  # noqa: ANN001, ANN201
            if len(texts) > 1 or "boom" in texts[0]:
                raise RuntimeError("backend exploded")
            return [SentimentResult(Sentiment.POSITIVE, 0.9)]

    enricher = build_enricher()
    enricher.backend = Flaky(SentimentSettings())
    results = enricher.enrich([post("fine", "1"), post("boom", "2"), post("fine", "3")])
    assert [r.sentiment for r in results] == [Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE]


def test_settings_defaults_and_validation() -> None:
    settings = EnrichmentSettings.model_validate({})
    assert settings.sentiment.backend == "embedded"
    assert "en" in settings.languages and "zh" in settings.languages
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        EnrichmentSettings.model_validate({"languages": ["en", "xx"]})
    with pytest.raises(ValueError, match="extra"):
        EnrichmentSettings.model_validate({"sentiment": {"backnd": "embedded"}})


def test_label_mapping_from_config_names() -> None:
    assert map_labels({0: "Negative", 1: "Neutral", 2: "Positive"}) == {
        "Negative": Sentiment.NEGATIVE, "Neutral": Sentiment.NEUTRAL, "Positive": Sentiment.POSITIVE,
    }  # fmt: skip
    assert map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})["LABEL_1"] == Sentiment.NEUTRAL
    assert map_labels({0: "LABEL_0", 1: "LABEL_1"})["LABEL_1"] == Sentiment.POSITIVE
    assert map_labels({0: "NEG", 1: "NEU", 2: "POS"})["NEG"] == Sentiment.NEGATIVE
    stars = map_labels({i: f"{i + 1} star{'s' if i else ''}" for i in range(5)})
    assert [stars[k] for k in ("1 star", "3 stars", "5 stars")] == [
        Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE,
    ]  # fmt: skip
    with pytest.raises(EnrichmentError, match="joy"):
        map_labels({0: "joy", 1: "anger"})


def test_serving_features_agree_with_the_training_vectorizer() -> None:
    """Training vectorises one post at a time (`Vectorizer.vector`); serving builds the same
    features for a whole batch at once (`_head_proba`). Both must give the same probabilities,
    or the shipped weights would be applied to other features than they were fitted on."""
    import numpy as np

    from monitor.enrich.embedded import head_for, shared_model

    model = shared_model()
    cases = [
        ("Withdrawal stuck for 3 days!!! support ignores me 😡😡", "en"),
        ("love love love this app", "en"),  # a repeated n-gram: term counts above 1
        ("", None),
        ("提现一直不到账，客服也不理人", "zh"),
        ("출금이 안 돼요 ㅠㅠ 고객센터 연락 없음", "ko"),
        ("Не могу войти в аккаунт уже два дня", "ru"),
        ("Para çekme işlemi İPTAL edildi", "tr"),
        ("Rút tiền quá chậm, thất vọng", "vi"),
        ("la app funciona genial 👍", "es"),
        ("出金できない、サポート最悪", "ja"),
    ]
    texts, langs = [t for t, _ in cases], [lang for _, lang in cases]
    served = model.predict_proba(texts, langs)
    for i, (text, lang) in enumerate(cases):
        head = model.heads[head_for(lang)]
        vec = model.vectorizer.vector(text, lang)
        z = (head.w_text[vec.indices].astype(np.float64) * vec.values[:, None]).sum(axis=0) + head.bias
        z = z + (np.asarray(vec.dense) * model.alpha) @ head.w_dense
        if vec.lang >= 0:
            z = z + head.w_lang[vec.lang]
        if head.neutral_band > 0:
            p_pos = 1 / (1 + np.exp(-(z[2] - z[0])))
            expected = [1 - p_pos, 0.0, p_pos]
            if abs(p_pos - 0.5) < head.neutral_band:
                expected = [(1 - p_pos) * 0.5, 0.5, p_pos * 0.5]
        else:
            e = np.exp(z - z.max())
            expected = e / e.sum()
        assert served[i] == pytest.approx(np.asarray(expected), abs=1e-5), (text, lang)
