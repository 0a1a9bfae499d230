from __future__ import annotations

import pytest

from monitor.enrich.language import LanguageDetector, normalise_hint

LANGS = ["en", "zh", "ko", "ja", "ru", "vi", "tr", "es", "pt", "ar", "fr", "de", "hi", "it"]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(LANGS)


@pytest.mark.parametrize(
    "text, lang",
    [
        ("My withdrawal has been pending for three days, support does not answer", "en"),
        ("提现三天了还没到账，客服也不回复", "zh"),
        ("출금이 3일째 안 되고 있어요 고객센터 답변도 없어요", "ko"),
        ("出金が三日間も反映されない、サポートも返事がない", "ja"),
        ("Вывод средств висит уже три дня, поддержка молчит", "ru"),
        ("Rút tiền ba ngày rồi vẫn chưa về, hỗ trợ không trả lời", "vi"),
        ("Üç gündür para çekme işlemim bekliyor, destek cevap vermiyor", "tr"),
        ("Mi retiro lleva tres días pendiente y soporte no responde", "es"),
        ("Meu saque está pendente há três dias e o suporte não responde", "pt"),
    ],
)
def test_detects_supported_languages(detector: LanguageDetector, text: str, lang: str) -> None:
    assert detector.detect(text) == lang


def test_strips_urls_mentions_cashtags_and_emoji(detector: LanguageDetector) -> None:
    text = "@binance_support https://t.co/abc $BTC 😡😡 提现一直不到账"
    assert detector.detect(text) == "zh"
    assert detector.detect("@user https://example.com $ETH 🚀🚀🚀") == "und"


def test_mixed_script_uses_dominant_script(detector: LanguageDetector) -> None:
    assert detector.detect("MEXC 提现 USDT 一直不到账 help") == "zh"
    assert detector.detect("MEXC 앱 출금 오류 USDT") == "ko"
    assert detector.detect("MEXCの出金がエラーになる USDT") == "ja"


def test_too_short_or_empty_is_unknown(detector: LanguageDetector) -> None:
    for text in ["", "   ", "ok", "😂", "12345 !!!", "https://x.co"]:
        assert detector.detect(text) == "und", text


def test_hint_wins_over_detection(detector: LanguageDetector) -> None:
    assert detector.detect("this is clearly english text", hint="pt-BR") == "pt"
    assert detector.detect("this is clearly english text", hint="zh_Hant") == "zh"
    # unusable hints are ignored
    assert detector.detect("this is clearly english text", hint="und") == "en"
    assert detector.detect("this is clearly english text", hint="") == "en"


def test_normalise_hint() -> None:
    assert normalise_hint("en_US") == "en"
    assert normalise_hint("JA") == "ja"
    assert normalise_hint("iw") == "he"
    assert normalise_hint("auto") is None
    assert normalise_hint(None) is None
    assert normalise_hint("12") is None


def test_restricted_language_set() -> None:
    only = LanguageDetector(["en", "es"])
    assert only.detect("Mi retiro lleva tres días pendiente") == "es"
    single = LanguageDetector(["de"])
    assert single.detect("whatever text comes") == "de"
