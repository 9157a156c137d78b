"""What pjsip.conf and extensions.conf are rendered from for the carrier trunk: the trunk's
settings turned into sections, DIDs in the forms a carrier sends, and the dial rules with
the administrator's allowances applied."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from foundation.phone_numbers import e164
from foundation.settings import Settings, TrunkSettings
from telephony.trunk.dial_policy import RULES, Allowances, Rule, allowed

ENDPOINT = "carrier"  # the pjsip.conf endpoint (and AOR, auth, registration prefix)
INBOUND_CONTEXT = "civic311-carrier"
OUTBOUND_CONTEXT = "civic311-outbound"


@dataclass(frozen=True)
class DidRoute:
    did: str  # E.164
    forms: tuple[str, ...]  # how the carrier may write it in the request URI
    line: str  # "311", "express" or a queue name

    @property
    def extension(self) -> str:
        """The civic311-inbound extension of the line."""
        if self.line == "311":
            return "311"
        if self.line == "express":
            return "3111"
        return f"queue-{self.line}"


@dataclass(frozen=True)
class OutboundRule:
    rule: Rule
    allowed: bool


@dataclass(frozen=True)
class TrunkView:
    t: TrunkSettings
    caller_id: str  # E.164
    matches: tuple[str, ...]  # identify match
    dids: tuple[DidRoute, ...]
    rules: tuple[OutboundRule, ...]
    # "host:port" of the front door's trunk socket when the trunk goes through the front
    # door (frontdoor_trunk): the one address this node takes as the carrier and calls out to
    door: str | None = None

    @property
    def contact(self) -> str:
        """Where this node sends its calls to the carrier: the carrier, or the front door."""
        return f"sip:{self.door}" if self.door else self.server_uri

    @property
    def registers(self) -> bool:
        return self.t.auth == "register"

    @property
    def server_uri(self) -> str:
        return f"sip:{self.t.host}:{self.t.port}"

    @property
    def client_uri(self) -> str:
        return f"sip:{self.t.username}@{self.t.from_domain or self.t.host}"


def did_forms(number: str) -> tuple[str, ...]:
    """E.164 ``+14105550311`` as carriers send it: ``+14105550311``, ``14105550311``,
    ``4105550311``."""
    return (number, number[1:], number[2:]) if number.startswith("+1") else (
        number, number[1:])


def view(settings: Settings) -> TrunkView | None:
    t = settings.trunk
    if t is None:
        return None
    caller_id = e164(t.caller_id)
    assert caller_id is not None  # validated with the settings
    dids = []
    for raw, line in t.dids.items():
        number = e164(raw)
        assert number is not None
        dids.append(DidRoute(number, did_forms(number), line))
    allow = Allowances(international=t.allow_international, premium=t.allow_premium)
    door = door_socket(settings) if settings.frontdoor_trunk else None
    return TrunkView(t=t, caller_id=caller_id,
                     matches=(door,) if door else tuple(t.match or [t.host]),
                     dids=tuple(dids),
                     rules=tuple(OutboundRule(r, allowed(r.kind, allow)) for r in RULES),
                     door=door)


def door_socket(settings: Settings) -> str:
    """The front door's trunk socket, ``host:port``: only the front door sends from it, and
    only the carrier's calls, so a node's identify can match it (port included)."""
    return f"{settings.frontdoor_host}:{settings.frontdoor_trunk_port}"


def carrier_networks(settings: Settings) -> list[str]:
    """The carrier's addresses as CIDRs (the front door tells the carrier's requests by
    them); [] without a trunk through the front door."""
    t = settings.trunk
    if t is None or not settings.frontdoor_trunk:
        return []
    return [str(ipaddress.ip_network(a, strict=False)) for a in (t.match or [t.host])]


def allowances(settings: Settings) -> Allowances:
    t = settings.trunk
    return Allowances() if t is None else Allowances(international=t.allow_international,
                                                     premium=t.allow_premium)
