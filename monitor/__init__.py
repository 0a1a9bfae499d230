"""Feedback monitor: hears users complain in public before they file a ticket."""

__version__ = "0.1.0"
