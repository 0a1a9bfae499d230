"""Sensitive data in public posts: find it (to flag the post) and mask it (before digests/tickets).

Kinds: seed_phrase (12+ consecutive BIP39 words), private_key (WIF, xprv, or 64 hex digits next to
words such as "private key"; a bare 64-hex string is usually a transaction hash and is left alone),
otp (4-8 digit codes next to 2FA / OTP / verification-code words, in the supported languages),
email, phone (international "+" numbers, or 8+ digits next to phone words).
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib import resources

from .text import safe_text

SEED_PHRASE, PRIVATE_KEY, OTP, EMAIL, PHONE = "seed_phrase", "private_key", "otp", "email", "phone"
KINDS = (SEED_PHRASE, PRIVATE_KEY, OTP, EMAIL, PHONE)
MIN_SEED_WORDS = 12

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[A-Za-z]{2,24}(?![\w-])")
_WIF = re.compile(r"(?<![1-9A-HJ-NP-Za-km-z])[5KL][1-9A-HJ-NP-Za-km-z]{50,51}(?![1-9A-HJ-NP-Za-km-z])")
_XPRV = re.compile(r"\b[xyzt]prv[1-9A-HJ-NP-Za-km-z]{100,112}\b")
_HEX64 = re.compile(r"(?<![0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_KEY_CONTEXT = re.compile(
    r"private\s*key|priv\s*key|secret\s*key|privkey|私钥|私鑰|秘密鍵|秘密キー|개인\s*키|приватн\w*\s+ключ|"
    r"секретн\w*\s+ключ|khóa\s+riêng|özel\s+anahtar|clave\s+privada|chave\s+privada",
    re.IGNORECASE,
)
_OTP_CONTEXT = (
    r"2fa|otp|one[-\s]?time|verification\s+code|auth(?:entication|enticator)?\s+code|security\s+code|"
    r"sms\s+code|(?:login|email|my|the)\s+code|google\s+auth\w*|验证码|驗證碼|动态码|校验码|인증\s*번호|인증\s*코드|認証コード|確認コード|"
    r"ワンタイム|код\w*|mã\s+(?:xác\s+(?:thực|nhận)|otp)|doğrulama\s+kodu|código|codigo"
)
_OTP = re.compile(
    rf"(?:{_OTP_CONTEXT})\W{{0,3}}(?:\w+\W+){{0,3}}?(?<!\d)(\d{{4,8}}|\d{{3}}[ -]\d{{3}})(?!\d)"
    # the code word after a code is only looked at, not consumed: it may introduce the next code
    rf"|(?<!\d)(\d{{6}}|\d{{3}}[ -]\d{{3}})(?!\d)(?=\W{{0,3}}(?:is\s+(?:my|the)\s+)?(?:{_OTP_CONTEXT}))",
    re.IGNORECASE,
)
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){2,5}\d{2,4}(?!\d)")
_PHONE_CONTEXT = re.compile(
    r"(?:phone|tel|mobile|cell|whatsapp|call\s+me|电话|手机|電話|携帯|전화|핸드폰|телефон|số\s+điện\s+thoại|sđt|"
    r"telefon|teléfono|telefone|celular)\W{0,4}((?:\d[\s.-]?){8,14}\d)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z]+")

_PLACEHOLDER = {
    SEED_PHRASE: "[seed phrase]",
    PRIVATE_KEY: "[private key]",
    OTP: "[code]",
    EMAIL: "[email]",
    PHONE: "[phone]",
}


@lru_cache(maxsize=1)
def bip39_words() -> frozenset[str]:
    """The English BIP39 word list (2,048 words; from python-mnemonic, MIT licence)."""
    ref = resources.files("monitor.enrich") / "data" / "bip39_english.txt.gz"
    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return frozenset(w.strip() for w in f if w.strip())


def _seed_spans(text: str) -> list[tuple[int, int]]:
    words = bip39_words()
    spans = []
    run_start = run_end = -1
    count = 0
    last_end = 0
    for m in _WORD.finditer(text):
        gap = text[last_end : m.start()]
        joined = count and all(c in " \t\r\n,.;:-|/()0123456789" for c in gap)
        if m.group().lower() in words and len(m.group()) >= 3:
            if not joined:
                if count >= MIN_SEED_WORDS:
                    spans.append((run_start, run_end))
                run_start, count = m.start(), 0
            count += 1
            run_end = m.end()
        else:
            if count >= MIN_SEED_WORDS:
                spans.append((run_start, run_end))
            count = 0
        last_end = m.end()
    if count >= MIN_SEED_WORDS:
        spans.append((run_start, run_end))
    return spans


_DIGITS4 = re.compile(r"\d[\d\s.-]{3,}")
_LONG_TOKEN = re.compile(r"[0-9A-Za-z]{50,}")


def _enough_bip39_words(text: str) -> bool:
    words = bip39_words()
    return sum(map(words.__contains__, _WORD.findall(text.lower()))) >= MIN_SEED_WORDS


def _spans(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    # cheap guards first: most posts have no long token, no run of digits, no "@"
    if _enough_bip39_words(text):
        found += [(s, e, SEED_PHRASE) for s, e in _seed_spans(text)]
    if _LONG_TOKEN.search(text):
        for pattern in (_WIF, _XPRV):
            found += [(m.start(), m.end(), PRIVATE_KEY) for m in pattern.finditer(text)]
        if _KEY_CONTEXT.search(text):
            found += [(m.start(), m.end(), PRIVATE_KEY) for m in _HEX64.finditer(text)]
    if "@" in text:
        found += [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    if _DIGITS4.search(text):
        for m in _OTP.finditer(text):
            group = 1 if m.group(1) else 2
            found.append((m.start(group), m.end(group), OTP))
        found += [(m.start(), m.end(), PHONE) for m in _PHONE_INTL.finditer(text)]
        found += [(m.start(1), m.end(1), PHONE) for m in _PHONE_CONTEXT.finditer(text)]
    # keep the earliest, then longest, span where spans overlap
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str]] = []
    for span in found:
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    return kept


# Invisible format characters (zero-width, soft hyphen, bidi controls): one inside an address or
# a key would hide it from every pattern below, so they are dropped before looking.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def find_sensitive(text: str) -> tuple[str, ...]:
    """The kinds of sensitive data in `text`, in KINDS order (empty when none)."""
    text = _INVISIBLE.sub("", safe_text(text, limit=100_000))
    kinds = {kind for _s, _e, kind in _spans(text)}
    return tuple(k for k in KINDS if k in kinds)


def mask_sensitive(text: str) -> str:
    """`text` with every sensitive span replaced by a placeholder such as "[email]"."""
    text = _INVISIBLE.sub("", safe_text(text, limit=len(text) + 1 if isinstance(text, str) else 100_000))
    spans = _spans(text)
    if not spans:
        return text
    out = []
    pos = 0
    for start, end, kind in spans:
        out.append(text[pos:start])
        out.append(_PLACEHOLDER[kind])
        pos = end
    out.append(text[pos:])
    return "".join(out)
