"""Mask sensitive data that users expose in public posts before it is shown anywhere else.

A minimal version for the alerting summaries: e-mail addresses, phone numbers, 64-hex-digit
private keys (transaction hashes introduced as such are kept), seed-phrase-like word runs and
one-time codes next to "code", "2FA", "OTP" or "验证码".
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d\s().-]{7,17}\d|\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4})(?!\w)")
_HEX_KEY = re.compile(r"(?<![0-9A-Za-z])(?:0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_TX_CONTEXT = re.compile(r"(?i)(tx|txid|txn|hash|transaction)\W{0,12}$")
_SEED_KEYWORD = re.compile(
    r"(?i)(seed|phrase|mnemonic|recovery|secret words|助记词|시드|シード)[^\n]{0,30}?"
    r"((?:\b[a-z]{3,8}\b[\s,]+){11,23}\b[a-z]{3,8}\b)")
_SEED_LINE = re.compile(r"(?m)^\s*((?:[a-z]{3,8}\s+){11}(?:(?:[a-z]{3,8}\s+){12})?[a-z]{3,8})\s*$")
_OTP = re.compile(r"(?i)(code|2fa|otp|verification|验证码|인증|認証)(\D{0,20}?)(?<!\d)(\d{6})(?!\d)")


def mask_sensitive(text: str) -> str:
    """Return `text` with sensitive values replaced by placeholders such as [email] or [seed phrase]."""
    if not text:
        return text
    text = _SEED_KEYWORD.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)] + "[seed phrase]", text)
    text = _SEED_LINE.sub(lambda m: m.group(0).replace(m.group(1), "[seed phrase]"), text)
    text = _HEX_KEY.sub(lambda m: m.group(0) if _TX_CONTEXT.search(text[: m.start()]) else "[private key]", text)
    text = _EMAIL.sub("[email]", text)
    text = _OTP.sub(lambda m: f"{m.group(1)}{m.group(2)}[code]", text)
    return _PHONE.sub("[phone]", text)
