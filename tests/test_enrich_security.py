"""Security signals: high recall on takeover, theft, phishing and fake support in every language."""

from __future__ import annotations

import pytest

from monitor.enrich.categories import Categorizer, builtin_lexicon

SECURITY_POSTS = {
    "en": [
        "My account got hacked and all my USDT is gone",
        "Someone withdrew my funds, I didn't authorize this withdrawal",
        "Fake support on Telegram asked for my seed phrase",
        "Beware of this phishing site pretending to be the exchange",
        "SIM swap attack, they took over my account",
    ],
    "zh": ["我的账号被盗了，币全被转走", "遇到假客服诈骗", "钓鱼网站冒充官方", "非本人操作的提现", "我的币被人转走了"],
    "ko": ["계정이 해킹당했어요", "가짜 고객센터 사칭 사기", "무단 출금이 발생했습니다", "누가 내 계정에 로그인했어요",
           "코인 다 털렸어요"],
    "ja": ["アカウントが乗っ取られた", "不正出金されました", "偽サポートの詐欺に注意"],
    "ru": ["Аккаунт взломали и вывели все деньги", "Мошенники из фейковой поддержки", "Украли средства с биржи"],
    "vi": ["Tài khoản bị hack, mất hết tiền", "Bị lừa đảo bởi hỗ trợ giả mạo", "Rút tiền trái phép khỏi tài khoản"],
    "tr": ["Hesabım hacklendi", "Sahte destek dolandırıcılığı", "Param çalındı"],
    "es": ["Me hackearon la cuenta", "Estafa de soporte falso", "Me robaron los fondos sin autorización",
           "Me vaciaron la cuenta", "Alguien entró a mi cuenta"],
    "pt": ["Minha conta foi hackeada", "Golpe de suporte falso", "Roubaram meus fundos sem autorização",
           "Esvaziaram minha conta", "Entraram na minha conta"],
}
NOT_SECURITY = [
    "The app is slow today",
    "提现什么时候到账",
    "Please add dark mode",
    "Great exchange, thanks",
]


@pytest.fixture(scope="module")
def cat() -> Categorizer:
    return Categorizer([builtin_lexicon()])


@pytest.mark.parametrize("lang", sorted(SECURITY_POSTS))
def test_security_recall_per_language(cat: Categorizer, lang: str) -> None:
    for text in SECURITY_POSTS[lang]:
        scores = cat.scores(text)
        assert scores.get("security", 0.0) >= 0.3, f"{lang}: {text}"


def test_ordinary_complaints_are_not_security(cat: Categorizer) -> None:
    for text in NOT_SECURITY:
        assert cat.scores(text).get("security", 0.0) < 0.3, text
