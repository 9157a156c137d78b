"""Short AMI sessions for processes that hold no AMI connection (web requests, worker jobs).

The daemon keeps the long-lived connection; a supervisor's click or a policy push opens one
through the same ``AmiBridge`` (with its panoramisk 1.4 defences), does one thing, closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from foundation.settings import Settings
from telephony.ami import AmiBridge, AmiError

T = TypeVar("T")
CONNECT_TIMEOUT_S = 5.0


async def with_bridge(settings: Settings, work: Callable[[AmiBridge], Awaitable[T]],
                      connect_timeout_s: float | None = None) -> T:
    bridge = AmiBridge(settings.ami_host, settings.ami_port, settings.ami_user,
                       settings.ami_secret or "", ping_interval_s=3600)
    async with bridge:
        try:
            await asyncio.wait_for(bridge.connected.wait(),
                                   connect_timeout_s or CONNECT_TIMEOUT_S)
        except TimeoutError as exc:
            raise AmiError(f"Asterisk's AMI is not reachable at {settings.ami_host}:"
                           f"{settings.ami_port}") from exc
        return await work(bridge)


def run(settings: Settings, work: Callable[[AmiBridge], Awaitable[T]]) -> T:
    """Run ``work`` with a fresh AMI connection from synchronous code (no loop running)."""
    return asyncio.run(with_bridge(settings, work))
