from __future__ import annotations

from pathlib import Path

import pytest

from monitor.enrich.categories import Categorizer, builtin_lexicon, load_lexicon_file
from monitor.errors import ConfigError


@pytest.fixture(scope="module")
def cat() -> Categorizer:
    return Categorizer([builtin_lexicon()])


def names(c: Categorizer, text: str) -> list[str]:
    return [s.name for s in c.categorize(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The app keeps crashing since the update, site is down", "outage"),
        ("服务器又崩了，app一直闪退", "outage"),
        ("앱이 먹통이에요 서버 다운", "outage"),
        ("アプリが落ちた、障害ですか", "outage"),
        ("Приложение не работает, постоянно вылетает", "outage"),
        ("Can't log in, 2FA code never arrives", "account"),
        ("实名认证一直不通过，账户被冻结了", "account"),
        ("로그인이 안 되고 계정 정지 당했어요", "account"),
        ("Hesabım kilitlendi, giriş yapamıyorum", "account"),
        ("My withdrawal has been pending for 3 days", "deposit_withdrawal"),
        ("提现三天了还没到账", "deposit_withdrawal"),
        ("출금이 안 돼요", "deposit_withdrawal"),
        ("Rút tiền mãi chưa nhận được", "deposit_withdrawal"),
        ("Meu saque não caiu ainda", "deposit_withdrawal"),
        ("No puedo retirar, mi retiro sigue pendiente", "deposit_withdrawal"),
        ("Got liquidated by a fake wick, fees are insane", "trading"),
        ("合约插针爆仓了，手续费太高", "trading"),
        ("Ликвидировали позицию, комиссия огромная", "trading"),
        ("Please add dark mode, it would be great", "suggestion"),
        ("建议增加夜间模式", "suggestion"),
        ("Best exchange ever, thank you for the fast withdrawal support!", "praise"),
    ],
)
def test_categories_in_several_languages(cat: Categorizer, text: str, expected: str) -> None:
    assert expected in names(cat, text)


def test_other_when_nothing_applies(cat: Categorizer) -> None:
    assert cat.categorize("what time is it in Singapore") == (cat.categorize("")[0],)
    assert names(cat, "what time is it in Singapore") == ["other"]


def test_scores_are_sorted_and_bounded(cat: Categorizer) -> None:
    result = cat.categorize("hacked account, stolen funds, withdrawal i didn't make, login from unknown device")
    scores = [c.score for c in result]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert result[0].name == "security"


def test_word_boundaries_and_case_width_folding(cat: Categorizer) -> None:
    # "down" must not fire inside "download"; full-width and upper case still match
    assert "outage" not in names(cat, "where can I download the statement")
    assert "outage" in names(cat, "ＡＰＰ IS DOWN again")
    # prefix keywords ("hack*") match inflections
    assert "security" in names(cat, "my account was HACKED")



def test_turkish_capitals_fold_like_lower_case(cat: Categorizer) -> None:
    # casefold keeps dotless ı and turns İ into i + a combining dot: both fold to a plain i here
    assert names(cat, "PARA ÇEKEMİYORUM")[0] == names(cat, "para çekemiyorum")[0] == "deposit_withdrawal"
    assert "account" in names(cat, "GİRİŞ YAPAMIYORUM")
    assert "security" in names(cat, "HESABIM HACKLENDİ")


def test_negative_sentiment_suppresses_sarcastic_praise(cat: Categorizer) -> None:
    assert "praise" in names(cat, "great job, thanks for nothing")  # the lexicon alone is fooled
    result = cat.categorize("great job, thanks for nothing", sentiment_score=-0.8)
    assert "praise" not in [c.name for c in result]


def test_user_lexicon_extends_and_adds_categories(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(
        "categories:\n"
        "  outage:\n"
        "    en: [kaboom]\n"
        "  listing_request:\n"
        "    en: ['list $PEPE', {'please list': 1.0}]\n"
        "    zh: [上币]\n"
        "sentiment:\n"
        "  en: {negative: [kaboom]}\n",
        encoding="utf-8",
    )
    user = load_lexicon_file(path)
    c = Categorizer([builtin_lexicon(), user])
    assert "outage" in names(c, "kaboom, everything broke")
    assert "listing_request" in names(c, "Please list my token")
    assert "listing_request" in names(c, "求上币")
    assert user.sentiment["en"]["negative"] == ["kaboom"]


def test_bad_user_lexicon_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("categories:\n  outage:\n    en: [1.5, {a: -1}]\ncolours: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_lexicon_file(path)
    message = str(err.value)
    assert "bad.yaml" in message
    assert "categories.outage.en[1]" in message
    assert "colours" in message
    broken = tmp_path / "broken.yaml"
    broken.write_text("categories: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.yaml:"):
        load_lexicon_file(broken)
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_lexicon_file(tmp_path / "missing.yaml")
