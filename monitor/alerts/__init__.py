"""Alerting: incidents, notification policy, delivery and channels.

The config schema embeds this package's settings, so the config package is loaded first:
importing an alerts module before monitor.config would otherwise be a circular import.
"""

from .. import config as _config  # noqa: F401  (import order, see above)
