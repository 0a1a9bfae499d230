"""Text clean-up shared by every enrichment step: safe Unicode, tweet normalisation, scripts.

Text from the internet is hostile: lone surrogates, literal `\\uXXXX` escapes, HTML entities,
100 KB pastes. Everything here is total (never raises) and cheap.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_CHARS = 4000  # enrichment looks at the head of very long posts; the rest adds cost, not signal

_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_URL = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b(?:\s*:\s*/*)?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+:?")
_CASHTAG = re.compile(r"(?<!\w)\$[A-Za-z][A-Za-z0-9._]{0,11}\b")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_SPACES = re.compile(r"\s+")
_QUOTE_JUNK = re.compile(r'\\?"{2,}|\\"')


def safe_text(text: object, limit: int = MAX_CHARS) -> str:
    """Return `text` as a well-formed str of at most `limit` characters.

    Lone surrogates (from bad JSON) become U+FFFD; bytes are decoded as UTF-8 with replacement;
    anything else that is not a str becomes its `str()` or "" for None.
    """
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = str(text)
    if len(text) > limit:
        text = text[:limit]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # pair up surrogate halves that belong together, replace the lone ones
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def decode_escapes(text: str) -> str:
    """Decode literal `\\uXXXX` escapes and HTML entities left in scraped tweets."""
    if "\\u" in text:
        text = _U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        text = safe_text(text, limit=len(text) + 1)  # escaped surrogate pairs -> real characters
    if "&" in text:
        text = html.unescape(text)
    if '"' in text:
        text = _QUOTE_JUNK.sub('"', text)
    return text


def normalise_tweet(text: str) -> str:
    """TweetEval's normalisation: mentions become @user, URLs are removed; escapes decoded."""
    text = decode_escapes(text)
    if "@" in text:
        text = _MENTION.sub("@user", text)
    if "http" in text or "www." in text or "HTTP" in text:
        text = _URL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


_NOT_LETTERS = re.compile(r"[^\w\s'-]|[\d_]")


def strip_for_detection(text: str) -> str:
    """Remove what carries no language: URLs, mentions, cashtags, hashtag marks, emoji, digits."""
    text = _URL.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "$" in text:
        text = _CASHTAG.sub(" ", text)
    text = _NOT_LETTERS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Case and width folding for matching: NFKC then casefold (full-width Ａ -> a, ß -> ss).

    Turkish İ and ı both become a plain i: casefold turns İ into i + a combining dot and keeps
    ı, so "GİRİŞ" and "HESABIM" would never meet the keywords "giriş" and "hesabım" (and users
    without a Turkish keyboard type "hesabim" anyway)."""
    text = unicodedata.normalize("NFKC", text)
    if "\u0130" in text or "\u0131" in text:
        text = text.replace("\u0130", "i").replace("\u0131", "i")
    return text.casefold()


# --- scripts -------------------------------------------------------------------------------

def is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


def is_kana(ch: str) -> bool:
    o = ord(ch)
    return 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D


def is_hangul(ch: str) -> bool:
    o = ord(ch)
    return 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F


def is_cjk(ch: str) -> bool:
    """Scripts written without spaces between words (matched by substring, featurised by chars)."""
    o = ord(ch)
    if o < 0x1100:
        return False
    return is_han(ch) or is_kana(ch) or is_hangul(ch) or 0x0E00 <= o <= 0x0E7F  # + Thai


def script_counts(text: str) -> tuple[int, int, int, int]:
    """Counts of (Han, kana, Hangul, other letters) in `text`."""
    if text.isascii():
        return 0, 0, 0, sum(1 for ch in text if ch.isalpha())
    han = kana = hangul = other = 0
    for ch in text:
        if ord(ch) < 0x80:
            if ch.isalpha():
                other += 1
            continue
        if is_han(ch):
            han += 1
        elif is_kana(ch):
            kana += 1
        elif is_hangul(ch):
            hangul += 1
        elif ch.isalpha():
            other += 1
    return han, kana, hangul, other
