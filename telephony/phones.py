"""Agent phone accounts: what a desk phone, a softphone or a SIPp phone registers with.

Each agent extension ``EXT`` has one PJSIP account named ``agentEXT`` (endpoint, digest auth
and a dynamic AOR holding the one registered contact), rendered into pjsip.conf from the
settings; its password is ``settings.agent_sip_passwords[EXT]`` (generated into
secrets.toml when not configured).

The same agent also has a browser phone (the desktop's WebRTC phone): its own endpoint and
AOR ``agentEXT-webrtc`` with the same password, reached over SIP on a WebSocket through
Asterisk's HTTP server. A WebRTC endpoint cannot also serve a plain RTP desk phone (DTLS-SRTP,
ICE and AVPF are per endpoint), so each device has its own endpoint and the agent's queue
membership names whichever device the agent uses (``acd.agent_actions``).

With ``frontdoor_agents`` the desk phone and the browser phone register with the SIP front
door instead (``telephony.frontdoor``; the browser over its WebSocket), with the same
accounts, and every node dials them there.
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


WEBRTC_SUFFIX = "-webrtc"


def webrtc_user(ext: str) -> str:
    """The browser phone's SIP user (endpoint, AOR and digest user) of agent ``ext``."""
    return f"{sip_user(ext)}{WEBRTC_SUFFIX}"


def devices(ext: str) -> tuple[str, str]:
    """Agent ``ext``'s two dialable devices: (desk phone, browser phone)."""
    return f"PJSIP/{sip_user(ext)}", f"PJSIP/{webrtc_user(ext)}"


# the browser training phone ("call 311 from the browser"): a resident account on WebRTC
TRAINING_PHONE_USER = "resident-webrtc"


def websocket_url(settings: Settings) -> str:
    """Where a browser phone connects: wss on ``https_port`` once the TLS certificate and key
    are set, else ws on ``http_port`` (browsers allow that from 127.0.0.1/localhost only).
    With ``frontdoor_agents`` an agent's browser phone connects to the front door instead
    (``agent_websocket_url``); the training phone, a resident, stays on this node."""
    if settings.sip_tls:
        return f"wss://{settings.sip_server_name}:{settings.https_port}/ws"
    return f"ws://{settings.sip_server or settings.http_host}:{settings.http_port}/ws"


def agent_websocket_url(settings: Settings) -> str:
    """Where an agent's browser phone connects: the front door's WebSocket with
    ``frontdoor_agents`` (wss under the center's TLS name once its certificate is set, so
    that name must lead to the front door), else this node's (``websocket_url``)."""
    if not settings.frontdoor_agents:
        return websocket_url(settings)
    if settings.sip_tls:
        return f"wss://{settings.sip_server_name}:{settings.frontdoor_wss_port}/ws"
    return f"ws://{settings.frontdoor_host}:{settings.frontdoor_ws_port}/ws"


@dataclass(frozen=True)
class BrowserPhone:
    """What the desktop's browser phone registers with (handed to its own page only)."""

    user: str
    password: str
    domain: str
    websocket: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def browser_phone(settings: Settings, ext: str) -> BrowserPhone:
    acct = account(settings, ext)
    return BrowserPhone(webrtc_user(ext), acct.password, settings.sip_server_name,
                        agent_websocket_url(settings))


def training_phone(settings: Settings) -> BrowserPhone:
    """The resident training phone's account (password: the resident account's ``sip_secret``)."""
    return BrowserPhone(TRAINING_PHONE_USER, settings.sip_secret or "", settings.sip_server_name,
                        websocket_url(settings))


def transports(settings: Settings) -> tuple[Transport, ...]:
    """UDP and TCP on ``sip_port``; TLS on ``sip_tls_port`` when a certificate and key are set."""
    out = [Transport(Protocol.UDP, settings.sip_port), Transport(Protocol.TCP, settings.sip_port)]
    if settings.sip_tls:
        out.append(Transport(Protocol.TLS, settings.sip_tls_port))
    return tuple(out)


def frontdoor_transports(settings: Settings) -> tuple[Transport, ...]:
    """UDP and TCP on ``frontdoor_port``; TLS on ``frontdoor_tls_port`` with the center's
    SIP TLS certificate and key (the front door's listeners, telephony.frontdoor)."""
    out = [Transport(Protocol.UDP, settings.frontdoor_port),
           Transport(Protocol.TCP, settings.frontdoor_port)]
    if settings.sip_tls:
        out.append(Transport(Protocol.TLS, settings.frontdoor_tls_port))
    return tuple(out)


def account(settings: Settings, ext: str) -> PhoneAccount:
    if ext not in settings.agent_extensions:
        seats = settings.agent_extensions
        raise UnknownAgent(f"no agent seat {ext!r}; the agents are {seats[0]}..{seats[-1]}"
                           if seats else f"no agent seat {ext!r}; there are no agent seats")
    if settings.frontdoor_agents:  # the phone registers with the front door
        return PhoneAccount(ext=ext, server=settings.frontdoor_host, user=sip_user(ext),
                            password=settings.agent_sip_passwords[ext],
                            transports=frontdoor_transports(settings))
    return PhoneAccount(ext=ext, server=settings.sip_server_name, user=sip_user(ext),
                        password=settings.agent_sip_passwords[ext],
                        transports=transports(settings))


def accounts(settings: Settings) -> list[PhoneAccount]:
    return [account(settings, ext) for ext in settings.agent_extensions]
