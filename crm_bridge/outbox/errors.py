"""The outbox's one domain error."""

from __future__ import annotations


class SendError(Exception):
    """The destination did not take the ticket this time (retry later)."""
