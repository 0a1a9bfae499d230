"""Language detection for short, noisy, mixed-script posts.

lingua restricted to the configured languages (restricting is what keeps it fast and small: all
75 languages cost about 1 GB of memory), in low-accuracy mode, after script shortcuts that need
no model: Hangul means Korean, kana means Japanese, Han alone means Chinese. URLs, mentions,
cashtags and emoji are stripped first; too little text left gives "und".
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Iterable

from .text import script_counts, strip_for_detection

UNKNOWN = "und"

# ISO 639-1 code -> lingua Language name (the 75 languages lingua knows)
SUPPORTED: dict[str, str] = {
    "af": "AFRIKAANS", "ar": "ARABIC", "az": "AZERBAIJANI", "be": "BELARUSIAN", "bg": "BULGARIAN",
    "bn": "BENGALI", "bs": "BOSNIAN", "ca": "CATALAN", "cs": "CZECH", "cy": "WELSH", "da": "DANISH",
    "de": "GERMAN", "el": "GREEK", "en": "ENGLISH", "eo": "ESPERANTO", "es": "SPANISH", "et": "ESTONIAN",
    "eu": "BASQUE", "fa": "PERSIAN", "fi": "FINNISH", "fr": "FRENCH", "ga": "IRISH", "gu": "GUJARATI",
    "he": "HEBREW", "hi": "HINDI", "hr": "CROATIAN", "hu": "HUNGARIAN", "hy": "ARMENIAN", "id": "INDONESIAN",
    "is": "ICELANDIC", "it": "ITALIAN", "ja": "JAPANESE", "ka": "GEORGIAN", "kk": "KAZAKH", "ko": "KOREAN",
    "la": "LATIN", "lg": "GANDA", "lt": "LITHUANIAN", "lv": "LATVIAN", "mi": "MAORI", "mk": "MACEDONIAN",
    "mn": "MONGOLIAN", "mr": "MARATHI", "ms": "MALAY", "nb": "BOKMAL", "nl": "DUTCH", "nn": "NYNORSK",
    "pa": "PUNJABI", "pl": "POLISH", "pt": "PORTUGUESE", "ro": "ROMANIAN", "ru": "RUSSIAN", "sk": "SLOVAK",
    "sl": "SLOVENE", "sn": "SHONA", "so": "SOMALI", "sq": "ALBANIAN", "sr": "SERBIAN", "st": "SOTHO",
    "sv": "SWEDISH", "sw": "SWAHILI", "ta": "TAMIL", "te": "TELUGU", "th": "THAI", "tl": "TAGALOG",
    "tn": "TSWANA", "tr": "TURKISH", "ts": "TSONGA", "uk": "UKRAINIAN", "ur": "URDU", "vi": "VIETNAMESE",
    "xh": "XHOSA", "yo": "YORUBA", "zh": "CHINESE", "zu": "ZULU",
}  # fmt: skip

# Function words that are English and nothing else among the default languages (no "a", "i",
# "me", "no", "on", "an", "die"...): two of them, making up a quarter of the words of an ASCII
# text, settle it as English without asking lingua (4x faster on English-heavy feeds).
_ENGLISH_ONLY = frozenset(
    """the is are was were and to of it for this that my you your with have has be not but just what
    i'm it's don't can't didn't doesn't isn't they we our from will would been there their what's
    about how when why who which than then so if or by he she his her him them was were do does did
    get got at all any some been being into out up like""".split()
)
_WORDS = re.compile(r"[a-z']+")

# a source's hint may be a locale ("pt-BR", "zh_Hant", "en_US"); these aliases map to our codes
_ALIASES = {"iw": "he", "in": "id", "no": "nb", "jp": "ja", "kr": "ko", "cn": "zh", "tw": "zh", "fil": "tl"}


def normalise_hint(hint: str | None) -> str | None:
    """A source's language hint as an ISO 639-1 code, or None when it is empty or unusable."""
    if not hint or not isinstance(hint, str):
        return None
    code = hint.strip().replace("_", "-").split("-")[0].lower()
    code = _ALIASES.get(code, code)
    if code in ("", "und", "unknown", "zxx", "mul", "auto"):
        return None
    return code if (len(code) in (2, 3) and code.isalpha() and code.isascii()) else None


class LanguageDetector:
    """Detects the language of a text among `languages`. Thread-safe; build once per process."""

    def __init__(self, languages: Iterable[str], min_chars: int = 3) -> None:
        self.languages = [code for code in languages if code in SUPPORTED]
        self.min_chars = min_chars
        self._detector = None
        self._lock = threading.Lock()

    def _lingua(self):  # noqa: ANN202 - lingua types are optional at import time
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = _build_lingua(tuple(sorted(self.languages)))
        return self._detector

    def detect(self, text: str, hint: str | None = None) -> str:
        hinted = normalise_hint(hint)
        if hinted:
            return hinted
        cleaned = strip_for_detection(text)  # letters, spaces, apostrophes and hyphens remain
        letters = len(cleaned) - cleaned.count(" ") - cleaned.count("'") - cleaned.count("-")
        if letters <= 0:
            return UNKNOWN
        if cleaned.isascii():
            han = kana = hangul = 0
            if "en" in self.languages and _looks_english(cleaned):
                return "en"
        else:
            han, kana, hangul, _other = script_counts(cleaned)
        cjk = han + kana + hangul
        other = letters - cjk
        # script shortcuts: decisive when the text is mostly in that script
        if cjk and cjk >= other * 0.5:
            if hangul and hangul >= kana and "ko" in self.languages:
                return "ko"
            if kana and "ja" in self.languages:
                return "ja"
            if han and not hangul and "zh" in self.languages:
                # Han only: Chinese, unless only Japanese is configured
                return "zh"
            if han and "ja" in self.languages and "zh" not in self.languages:
                return "ja"
        if letters < self.min_chars:
            return UNKNOWN
        if len(self.languages) == 1:
            return self.languages[0]
        detector = self._lingua()
        if detector is None:
            return UNKNOWN
        try:
            found = detector.detect_language_of(cleaned)
        except Exception:  # noqa: BLE001 - a detector failure must never stop a batch
            return UNKNOWN
        if found is None:
            return UNKNOWN
        return _code_of(found)

    def detect_many(self, texts: list[str], hints: list[str | None] | None = None) -> list[str]:
        hints = hints or [None] * len(texts)
        return [self.detect(t, h) for t, h in zip(texts, hints)]


def _looks_english(ascii_text: str) -> bool:
    words = _WORDS.findall(ascii_text.lower())
    if len(words) < 3:
        return False
    hits = sum(1 for w in words if w in _ENGLISH_ONLY)
    return hits >= 2 and hits * 4 >= len(words)


@lru_cache(maxsize=8)
def _build_lingua(codes: tuple[str, ...]):  # noqa: ANN202
    """One lingua detector per distinct language set and process (they are costly to build)."""
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, SUPPORTED[c]) for c in codes]
    if len(languages) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def _code_of(language) -> str:  # noqa: ANN001
    try:
        return language.iso_code_639_1.name.lower()
    except AttributeError:
        return UNKNOWN
