"""IVR: the menu as data, the pure step machine and its two renderers (Asterisk, Twilio)."""

from __future__ import annotations

import importlib
from types import ModuleType

# old module names still imported by code another branch is converting
# (ivr/twilio_callbacks.py); remove once nothing imports them
_MOVED = {"callback_store": "ivr.callback.queries"}


def __getattr__(name: str) -> ModuleType:
    if name in _MOVED:
        return importlib.import_module(_MOVED[name])
    raise AttributeError(f"module 'ivr' has no attribute {name!r}")
