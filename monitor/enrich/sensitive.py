"""Masking of sensitive data that users expose in public posts (minimal version).

Digests and tickets quote posts; a user who pasted a seed phrase, a private key, a 2FA code, an
e-mail address or a phone number must not have it copied further. `mask_sensitive` replaces
each with a bracketed marker. This is the small version the digest needs; the enrichment
package owns detection of these kinds (Enrichment.sensitive) and may extend the patterns here.
"""

from __future__ import annotations

import re

_B58 = "1-9A-HJ-NP-Za-km-z"
_KEY_WORDS = r"(?:private\s*key|priv\s*key|secret\s*key|privkey|私钥|私鑰|개인\s*키|秘密鍵|приватн\w*\s+ключ)"
_SEED_WORDS = r"(?:seed|mnemonic|recovery\s+phrase|secret\s+phrase|phrase|助记词|助記詞|니모닉|シードフレーズ|сид)"
_OTP_WORDS = r"(?:code|otp|2fa|verification|验证码|驗證碼|인증\s*번호|認証コード|код)"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # extended private keys and WIF keys are secret wherever they appear
    (re.compile(rf"\b[xyzt]prv[{_B58}]{{100,}}"), "[private key]"),
    (re.compile(rf"(?<![{_B58}])[5KL][{_B58}]{{50,51}}(?![{_B58}])"), "[private key]"),
    # a 64-hex string is a private key after a key word (elsewhere it is usually a tx hash, kept)
    (re.compile(rf"(?i)({_KEY_WORDS}[^0-9a-fA-F\n]{{0,30}})(?:0x)?[0-9a-fA-F]{{64}}(?![0-9a-fA-F])"),
     r"\1[private key]"),
    # a run of 12 to 24 lowercase words after a seed word
    (re.compile(rf"(?i)({_SEED_WORDS}\W{{0,20}})(?:[a-z]{{3,8}}[\s,]+){{11,23}}[a-z]{{3,8}}\b"), r"\1[seed phrase]"),
    (re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[email]"),
    (re.compile(r"(?<![\w+])\+\d[\d\s-]{7,16}\d(?!\w)"), "[phone]"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[phone]"),  # mainland China mobile
    (re.compile(r"(?<!\d)\(?\d{3}\)?[-.\s]\d{3,4}[-.\s]\d{4}(?!\d)"), "[phone]"),
    (re.compile(rf"(?i)({_OTP_WORDS}\D{{0,12}})\d{{6,8}}(?!\d)"), r"\1[code]"),
]


def mask_sensitive(text: str) -> str:
    """`text` with seed phrases, private keys, one-time codes, e-mails and phone numbers masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
