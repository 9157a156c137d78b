"""The trunk route of the FastAGI server: ``AGI(agi://.../trunk)`` on a call the carrier
delivered. Sets CIVIC311_CALLER_E164 to the caller's number in E.164
(``foundation.phone_numbers``), or leaves it empty when the caller ID is no number
(anonymous, withheld); the dialplan then writes it into CALLERID(num), before the call
reaches the IVR, the queue, its call record and any callback."""

from __future__ import annotations

import logging

from foundation.phone_numbers import e164
from telephony.fastagi import AgiChannel

log = logging.getLogger(__name__)


class TrunkAgi:
    async def __call__(self, channel: AgiChannel) -> None:
        number = e164(channel.caller_number)
        if number is None:
            log.info("carrier call %s: caller ID is not a phone number; left as it came",
                     channel.uniqueid)
        await channel.set_variable("CIVIC311_CALLER_E164", number or "")
