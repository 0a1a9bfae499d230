"""Built-in channels, one module each; registered lazily in monitor.alerts.base.CHANNELS."""
