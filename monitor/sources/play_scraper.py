"""Safe access to google-play-scraper.

Importing google_play_scraper runs `ssl._create_default_https_context =
ssl._create_unverified_context`, switching off certificate checks for every urllib HTTPS call
in the process. `load()` imports it lazily and puts the original context back at once (or the
verifying default, when other code imported the library first).

We use its request formats, response regex and review field map, but not its `reviews()`
function: that one swallows every error (a failure looks like "no more reviews"), sets no
timeout and returns naive local-time datetimes. The page request goes through our HttpClient.
"""

from __future__ import annotations

import ssl
import threading
from types import SimpleNamespace

_lock = threading.Lock()
_modules: SimpleNamespace | None = None


def load() -> SimpleNamespace:
    """google_play_scraper's Formats, Regex, ElementSpecs and Sort, imported without the TLS side effect."""
    global _modules
    with _lock:
        if _modules is None:
            original = ssl._create_default_https_context
            try:
                from google_play_scraper import Sort
                from google_play_scraper.constants.element import ElementSpecs
                from google_play_scraper.constants.regex import Regex
                from google_play_scraper.constants.request import Formats
            finally:
                ssl._create_default_https_context = original
            if ssl._create_default_https_context is ssl._create_unverified_context:
                # The library was imported before us (by other code), so "original" was already
                # its unverified context: turn certificate checks back on.
                ssl._create_default_https_context = ssl.create_default_context
            _modules = SimpleNamespace(Formats=Formats, Regex=Regex, ElementSpecs=ElementSpecs, Sort=Sort)
        return _modules
