"""Agent phone accounts: what a desk phone, a softphone or a SIPp phone registers with.

Each agent extension ``EXT`` has one PJSIP account named ``agentEXT`` (endpoint, digest auth
and a dynamic AOR holding the one registered contact), rendered into pjsip.conf from the
settings; its password is ``settings.agent_sip_passwords[EXT]`` (generated into
secrets.toml when not configured).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from foundation.settings import Settings


class Protocol(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


@dataclass(frozen=True)
class Transport:
    protocol: Protocol
    port: int

    @property
    def name(self) -> str:
        """The pjsip.conf section of this transport."""
        return f"transport-{self.protocol}"


@dataclass(frozen=True)
class PhoneAccount:
    ext: str
    server: str
    user: str  # SIP user and digest user name alike
    password: str
    transports: tuple[Transport, ...]

    def as_dict(self) -> dict[str, Any]:
        first = self.transports[0]
        return {"ext": self.ext, "server": self.server, "port": first.port,
                "transport": str(first.protocol), "user": self.user,
                "auth_user": self.user, "password": self.password,
                "transports": [{**asdict(t), "protocol": str(t.protocol)}
                               for t in self.transports]}


class UnknownAgent(LookupError):
    """No agent seat has this extension."""


def sip_user(ext: str) -> str:
    return f"agent{ext}"


def transports(settings: Settings) -> tuple[Transport, ...]:
    """UDP and TCP on ``sip_port``; TLS on ``sip_tls_port`` when a certificate and key are set."""
    out = [Transport(Protocol.UDP, settings.sip_port), Transport(Protocol.TCP, settings.sip_port)]
    if settings.sip_tls:
        out.append(Transport(Protocol.TLS, settings.sip_tls_port))
    return tuple(out)


def account(settings: Settings, ext: str) -> PhoneAccount:
    if ext not in settings.agent_extensions:
        seats = settings.agent_extensions
        raise UnknownAgent(f"no agent seat {ext!r}; the agents are {seats[0]}..{seats[-1]}"
                           if seats else f"no agent seat {ext!r}; there are no agent seats")
    return PhoneAccount(ext=ext, server=settings.sip_server_name, user=sip_user(ext),
                        password=settings.agent_sip_passwords[ext],
                        transports=transports(settings))


def accounts(settings: Settings) -> list[PhoneAccount]:
    return [account(settings, ext) for ext in settings.agent_extensions]
