"""Virtual hold: rules (pure), the request table (models), its queries, the AGI route and
the daemon's runner."""

from ivr.callback.rules import TWILIO_DIAL

__all__ = ["TWILIO_DIAL"]  # kept for ``from ivr import callback as cb`` (ivr/twilio_callbacks.py)
