"""Logging setup, with a filter that scrubs secrets from every record.

Secrets are the values substituted from environment variables into the config (tokens,
routing keys, passwords). Whatever a library puts in a log line, they never reach the output.
"""

from __future__ import annotations

import logging
import sys
import threading

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
MASK = "********"


def register_secrets(values: set[str] | list[str]) -> None:
    with _LOCK:
        # very short values would mask ordinary words; they are not meaningful secrets anyway
        _SECRETS.update(v for v in values if v and len(v) >= 6)


def scrub(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            cleaned = scrub(message)
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = scrub(record.exc_text)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler narrates every job run at INFO; its warnings and errors still come through
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
