"""Digests and reports for community managers: what happened in a period, in English or Chinese.

    build.py    store -> Digest (model.py)        charts.py  PNG charts (matplotlib, lazy)
    render.py   Digest -> HTML / Markdown / text / JSON (Jinja2 templates, i18n.py + catalog.py)
    service.py  produce, write, send through the outbox    jobs.py  the daemon's cron jobs
    mime.py     the e-mail message (text + HTML with inline images)
"""

# The config model embeds DigestSettings and this package's settings use the config's value
# types: importing the config first lets `import monitor.digest.settings` work on its own.
from .. import config as _config  # noqa: F401
