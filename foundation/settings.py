"""One typed settings object: defaults in code < TOML file < environment < CLI.

Loaded once in ``main()`` and passed down; nothing reads the environment elsewhere.
Secrets (AMI password, web session key, every agent phone's SIP password) have no defaults:
when unset they are generated once per installation into ``<data_dir>/secrets.toml`` (mode
600) and read back from there (``foundation.secret_store``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from foundation.phone_numbers import e164
from foundation.secret_store import SECRETS, load_secrets, stored_secret

# The node of a single-node center (``Settings.node``); a node's name is also a prefix of its
# Asterisk's uniqueids, so: lower-case letters, digits and hyphens, 1 to 16 of them.
DEFAULT_NODE = "main"
NODE_NAME = r"^[a-z][a-z0-9-]{0,15}$"
HOST_PORT = re.compile(r"[A-Za-z0-9.-]+:[0-9]{1,5}")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "civic311"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "civic311"


_TOML_FILE: ContextVar[str | None] = ContextVar("civic311_toml_file", default=None)


class GoalSettings(BaseModel):
    """The center's service goals (``acd.goals``): ``service_level`` of callers answered within
    ``answer_s`` seconds, abandon rate at most ``abandon_rate``, ASA at most ``asa_s`` seconds."""

    service_level: float = Field(default=0.90, gt=0, le=1)
    answer_s: int = Field(default=30, gt=0)
    abandon_rate: float = Field(default=0.05, ge=0, le=1)
    asa_s: float = Field(default=30.0, gt=0)


class QueueGoalSettings(BaseModel):
    """One queue's own goals; a goal left out (None) is the center's. The queue's answer time
    is its ``sl_threshold_s``."""

    service_level: float | None = Field(default=None, gt=0, le=1)
    abandon_rate: float | None = Field(default=None, ge=0, le=1)
    asa_s: float | None = Field(default=None, gt=0)


class QueueDef(BaseModel):
    """One ACD queue: a phone line of an agency, or the general line."""

    name: str
    title: str
    agency: str | None = None
    # The answer time T of the queue's service-level goal (and Asterisk's ``servicelevel``);
    # left out, it is the center's ``goals.answer_s``.
    sl_threshold_s: int = Field(default=30, gt=0)
    goals: QueueGoalSettings = Field(default_factory=QueueGoalSettings)
    timeout_s: int = 600
    wrapup_s: int = 15
    survey: bool = False  # after the agent hangs up, the caller rates the call 1-5 by keypad
    # "This call may be recorded" before the caller joins (all-party-consent states need it)
    recording_notice: bool = True


CODECS = ("ulaw", "alaw", "gsm")  # what the rendered modules.conf loads
SIP_TOKEN = re.compile(r"[A-Za-z0-9._~+-]{1,128}")  # user names, written into pjsip.conf


class TrunkSettings(BaseModel):
    """A SIP trunk to a carrier (telephony/trunk): how Asterisk reaches it and knows it, the
    numbers (DIDs) it delivers and the city's caller ID on calls out. North American
    numbering. ``auth``: ``register`` (digest credentials; civic311 registers and answers
    the carrier's challenges) or ``ip`` (the carrier knows our address; no credentials)."""

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:-]+$")
    port: int = Field(default=5060, gt=0, le=65535)
    auth: Literal["register", "ip"] = "register"
    username: str | None = None
    # the carrier's password: never in the config file; secrets.toml ``trunk_password`` or
    # the environment (CIVIC311_TRUNK_PASSWORD); required with auth = "register"
    password: str | None = Field(default=None, exclude=True)
    from_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]+$")
    # the carrier's addresses (IPs or CIDRs) whose INVITEs are the carrier's; default: host
    match: list[str] = Field(default_factory=list)
    # DID (any format; E.164 after normalisation) -> line: "311", "express" or a queue name
    dids: dict[str, str] = Field(default_factory=dict)
    caller_id: str  # the city's number shown on calls out (E.164 after normalisation)
    caller_name: str = Field(default="City 311", pattern=r"^[A-Za-z0-9 .'&-]{1,40}$")
    codecs: list[str] = Field(default_factory=lambda: ["ulaw", "alaw"])
    register_expiry_s: int = Field(default=3600, ge=60)
    retry_interval_s: int = Field(default=60, ge=5)
    qualify_s: int = Field(default=0, ge=0)  # 0: never OPTIONS the carrier
    ring_s: int = Field(default=45, gt=0, le=300)  # how long a number called out may ring
    # the dial policy (telephony/trunk/dial_policy.py): local, toll-free and N11 (911
    # always) are allowed; international (011...) and premium (900, NXX-976) only if these
    allow_international: bool = False
    allow_premium: bool = False

    @field_validator("codecs")
    @classmethod
    def _codecs(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if c not in CODECS]
        if bad or not value:
            raise ValueError(f"trunk codecs must be some of {', '.join(CODECS)}; not {bad}")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None and not SIP_TOKEN.fullmatch(value):
            raise ValueError("trunk username: letters, digits and ._~+- only")
        return value

    @model_validator(mode="after")
    def _numbers(self) -> TrunkSettings:
        if e164(self.caller_id) is None:
            raise ValueError(f"trunk caller_id {self.caller_id!r} is not a North American "
                             "phone number")
        for did in self.dids:
            if e164(did) is None:
                raise ValueError(f"trunk DID {did!r} is not a North American phone number")
        for cidr in self.match:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"trunk match: {cidr!r} is not an address or network"
                                 ) from exc
        if self.auth == "register" and not self.username:
            raise ValueError("trunk auth = register needs a username")
        if self.password is not None and not SIP_PASSWORD.fullmatch(self.password):
            raise ValueError("trunk password: 12 to 128 letters, digits or ._~- "
                             "(it is written into pjsip.conf, where ; starts a comment)")
        return self


DEFAULT_QUEUES = [
    QueueDef(name="citywide", title="311 General", survey=True),
    QueueDef(name="sanitation", title="Sanitation", agency="DSNY"),
    QueueDef(name="transportation", title="Streets & Transportation", agency="DOT"),
    QueueDef(name="environment", title="Environmental Protection", agency="DEP"),
    QueueDef(name="buildings", title="Buildings & Housing", agency="DOB"),
    QueueDef(name="noise", title="Noise & Quality of Life", agency="NYPD"),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CIVIC311_", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    cache_dir: Path = Field(default_factory=default_cache_dir)
    config_file: Path | None = None
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CIVIC311_DATABASE_URL")
    )
    log_level: str = "INFO"
    # Several workers on one database: the standbys try the worker lock this often, and the
    # active one checks it holds it this often (foundation/leader.py); seconds.
    worker_lock_retry_s: float = Field(default=1.0, gt=0, le=60)

    city_name: str = "Civic City"
    timezone: str = "America/New_York"

    web_host: str = "127.0.0.1"
    web_port: int = 8311
    web_workers: int = 2
    web_threads: int = 64  # per worker; every open wallboard stream holds one
    secret_key: str | None = None
    # ---- sessions and log-in (foundation/auth.py, foundation/throttle.py) -----------------
    # The session cookie carries ``Secure`` when this is true; left unset, it is true when
    # PUBLIC_BASE_URL is https.
    session_cookie_secure: bool | None = None
    # Proxies in front of the web server whose X-Forwarded-For/-Proto are believed (werkzeug
    # ProxyFix); 0: none, the headers are ignored (a client could forge them).
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    max_request_bytes: int = Field(default=10 * 1024 * 1024, gt=0)  # larger bodies get a 413
    login_max_failures: int = Field(default=5, gt=0)  # per account within the window
    login_max_failures_per_address: int = Field(default=20, gt=0)  # per client address
    login_window_s: int = Field(default=900, gt=0)
    login_lockout_s: int = Field(default=900, gt=0)  # the first lock; each next one doubles
    login_lockout_max_s: int = Field(default=86400, gt=0)
    # Roles that must pass a TOTP second factor (e.g. ["admin", "supervisor"]); anyone who
    # enrolled is asked for it too. Enrol with ``civic311 user totp NAME``.
    totp_roles: list[str] = Field(default_factory=list)
    # Single sign-on with OpenID Connect (foundation/sso.py); off while oidc_issuer is unset.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_roles: dict[str, str] = Field(default_factory=dict)  # group -> role, first match wins

    # ---- nodes (docs/nodes.md) -----------------------------------------------------------
    # This telephony node (one Asterisk and its daemon) among several sharing one database.
    # Rendered as Asterisk's ``systemname`` (so its uniqueids never collide with another
    # node's) and stored on its call records, log cursors and live-board row. The default
    # node renders no systemname and keys everything as a single-node center always has.
    node: str = Field(default=DEFAULT_NODE, pattern=NODE_NAME)
    # A node whose daemon has not beaten (or has beaten without reaching its Asterisk) for
    # this long (seconds) is lost: the worker closes its open calls as cut off from then
    # (acd/node_lost.py); its queue_log corrects them if it comes back. Far above the 30 s
    # after which the board shows a node down, so a daemon restart or a short network cut
    # never closes a live call.
    node_lost_after_s: int = Field(default=600, ge=120, le=7 * 86400)
    # The SIP front door (Kamailio, telephony/frontdoor): where it listens, and the Asterisk
    # nodes it dispatches calls to ("host:port" of each node's SIP transport).
    frontdoor_host: str = "127.0.0.1"
    frontdoor_port: int = Field(default=5070, ge=1, le=65535)
    frontdoor_nodes: list[str] = Field(default_factory=list)
    frontdoor_probe_s: int = Field(default=2, ge=1)  # OPTIONS to every node this often
    # A node the front door has had down (its OPTIONS unanswered) this long (seconds) is dead
    # to the agents' device state: the front door tells the other nodes, in that node's name,
    # that its states no longer count (an agent it had on a call is free again), and asks it
    # to publish them again when it answers again (telephony/frontdoor.py, docs/nodes.md).
    frontdoor_node_dead_s: int = Field(default=10, ge=1, le=3600)
    # Agent desk phones register with the front door, not with one node: the front door is
    # their registrar (same accounts and passwords) and every node dials an agent there, so
    # any node's queue can ring any agent. Off: phones register straight to this Asterisk.
    frontdoor_agents: bool = False
    # The carrier trunk reaches the front door, not one node (on every node and where the
    # front door is rendered): the carrier's calls come in at frontdoor_port and go out to a
    # healthy node from the front door's trunk socket (frontdoor_trunk_port), the one
    # address each node takes as the carrier; the nodes' calls out to the carrier go to
    # that socket and leave from frontdoor_port, so the carrier sees one address. Needs
    # trunk auth = "ip" and the carrier's addresses as IPs (trunk match, or host).
    frontdoor_trunk: bool = False
    frontdoor_trunk_port: int = Field(default=5072, ge=1, le=65535)
    # With frontdoor_agents the front door also takes phones over TCP (on frontdoor_port)
    # and, once sip_tls_cert_file and sip_tls_key_file are set, over TLS on this port, with
    # the same certificate as the nodes' own TLS transport.
    frontdoor_tls_port: int = Field(default=5071, ge=1, le=65535)
    # A phone registered from behind NAT is sent an OPTIONS this often, keeping its NAT's
    # binding open so the front door can still reach it there.
    frontdoor_natping_s: int = Field(default=20, ge=1)
    # With frontdoor_agents, the agents' browser phones (WebRTC) register with the front door
    # too, over SIP on a WebSocket on this port (ws; wss on frontdoor_wss_port once the
    # center's TLS certificate and key are set); media still flows straight to the node.
    frontdoor_ws_port: int = Field(default=5076, ge=1, le=65535)
    frontdoor_wss_port: int = Field(default=5077, ge=1, le=65535)
    # The other nodes this node shares device state with (Asterisk's PJSIP PUBLISH,
    # res_pjsip_publish_asterisk): node name -> "host:port" of its SIP transport. An agent
    # on a call on one node then shows in use on every node, whose queues do not ring it.
    devstate_peers: dict[str, str] = Field(default_factory=dict)

    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "civic311"
    ami_secret: str | None = None
    sip_secret: str | None = None  # the "resident" softphone account's password
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    sip_host: str = "127.0.0.1"  # the address Asterisk's SIP transports bind to
    sip_port: int = 5060  # UDP and TCP
    sip_server: str | None = None  # what phones are told to register to (default: sip_host)
    # SIP over TLS for desk phones and softphones: rendered only when both files are set
    sip_tls_port: int = 5061
    sip_tls_cert_file: Path | None = None
    sip_tls_key_file: Path | None = None
    # Calls from 127.0.0.1 enter as residents without authentication (SIPp callers of the demo
    # and the tests). Off by default: then a resident call authenticates like any endpoint.
    resident_trust_local: bool = False
    # extension -> SIP digest password of that agent's phone account; any extension not
    # given here gets a generated one in secrets.toml
    agent_sip_passwords: dict[str, str] = Field(default_factory=dict)
    # ``civic311 up`` stopping: calls still up this long after new calls are refused are cut
    stop_grace_s: float = Field(default=30.0, ge=0)
    agent_qualify_s: int = 30  # Asterisk checks each registered phone this often (OPTIONS)
    # Referrals (a caller transferred to an outside number) leave through the trunk's
    # civic311-outbound context; without one, through this SIP URI when set (a PBX or test
    # phone, e.g. sip:127.0.0.1:5090), else the caller hears that the call cannot be made.
    referral_uri: str = ""
    agent_count: int = 8
    agent_first_ext: int = 100
    agent_phone_base_port: int = 5080
    # The carrier trunk (telephony/trunk); None: no trunk, no calls in from or out to the
    # phone network except through Twilio. Its password: secrets.toml ``trunk_password``.
    trunk: TrunkSettings | None = None
    trunk_password: str | None = Field(default=None, exclude=True)
    # "If this is an emergency, hang up and dial 911" before anything else on 311 and on the
    # carrier's DIDs (ivr/announcements.py)
    emergency_announcement: bool = False
    # ---- browser phones (WebRTC): SIP over WebSocket through Asterisk's HTTP server ----------
    # ws on http_host:http_port (a browser allows this on 127.0.0.1/localhost only); wss on
    # https_port as well once the sip_tls certificate and key are set (a city's host name).
    http_host: str = "127.0.0.1"
    http_port: int = 8088
    https_port: int = 8089
    rtp_start: int = 10000
    rtp_end: int = 20000

    # "chroot" forces the provisioned root; "external" means Asterisk runs elsewhere (docker
    # compose) and shares its config and log directories with us at the paths below.
    asterisk_binary: str | None = None
    asterisk_etc_dir: Path | None = None
    asterisk_log_dir: Path | None = None
    asterisk_sounds_dir: Path | None = None
    asterisk_root_dir: Path | None = None  # default: <cache_dir>/asterisk-root
    # copies: the validator below fills in each queue's answer time from this center's goals
    queues: list[QueueDef] = Field(
        default_factory=lambda: [q.model_copy(deep=True) for q in DEFAULT_QUEUES])
    short_abandon_s: int = Field(default=5, ge=0)
    # Service level is reported at each of these answer times; every goal's answer time is
    # added when missing (so a goal can always be judged).
    sl_thresholds_s: list[int] = Field(default_factory=lambda: [30, 60])
    # Which definition the figures follow (acd/definitions.py names and documents each):
    # service level over "entered_queue" (every caller who entered a queue, short abandons
    # out), "answered_abandoned" (answered + abandoned) or "answered" (answered only);
    # abandon rate counting every caller "not_served" or "abandoned_only".
    service_level_definition: Literal["entered_queue", "answered_abandoned",
                                      "answered"] = "entered_queue"
    abandon_rate_definition: Literal["not_served", "abandoned_only"] = "not_served"
    goals: GoalSettings = Field(default_factory=GoalSettings)
    pause_reasons: list[str] = Field(default_factory=lambda: [
        "break", "lunch", "training", "meeting", "coaching", "technical", "outbound"])
    # Wallboard alarms: a tile turns amber at the first figure and red at the second.
    alarm_waiting: tuple[int, int] = (5, 15)
    alarm_longest_wait_s: tuple[int, int] = (60, 180)
    alarm_paused_s: tuple[int, int] = (900, 1800)
    # ... and amber as soon as a goal is missed today; red when service level is more than
    # ``alarm_sl_red_points`` below its goal, or abandon rate / ASA above
    # ``alarm_red_over_goal`` times theirs.
    alarm_sl_red_points: float = Field(default=0.10, ge=0, le=1)
    alarm_red_over_goal: float = Field(default=2.0, ge=1)

    # ---- Prometheus ---------------------------------------------------------------------
    # The ``node`` label of every series: this telephony node's name (one node today; the
    # host name unless set, so several hosts scraping one database should set it).
    node_name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=64)
    # ``/metrics`` answers a request bearing ``Authorization: Bearer <metrics_token>``, or one
    # from an address inside ``metrics_allow`` (CIDRs; default loopback only); else 401/403.
    metrics_token: str | None = None
    metrics_allow: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    # The daemon's own exposition (FastAGI latency); 0 turns it off. Plain HTTP without
    # authentication: keep it on loopback or a private network.
    daemon_metrics_host: str = "127.0.0.1"
    daemon_metrics_port: int = Field(default=0, ge=0, le=65535)

    twilio_auth_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "CIVIC311_TWILIO_AUTH_TOKEN"),
    )
    public_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PUBLIC_BASE_URL", "CIVIC311_PUBLIC_BASE_URL")
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    mail_from: str = "311@civic.example"
    # ---- e-mail in (crm_bridge/mail_in; docs/email-in.md) ---------------------------------
    # "smtp": the worker listens on mail_in_host:mail_in_port (the city's MX or relay forwards
    # the 311 address to it); "imap": the worker polls a mailbox; "off": no mail is read.
    mail_in: Literal["off", "smtp", "imap"] = "off"
    mail_in_address: str | None = None  # the 311 address residents write to (else mail_from)
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = Field(default=2525, ge=1, le=65535)
    mail_in_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)  # a whole message
    mail_in_per_sender_hour: int = Field(default=10, ge=1)  # more from one address: refused
    mail_in_service_code: str = "general-request"  # the type when no keyword matches
    mail_in_poll_s: int = Field(default=60, ge=5)
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    imap_done_folder: str | None = None  # processed mail moves here; else it is marked seen
    imap_ca_file: Path | None = None  # a private CA for the IMAP server (else the system's)

    # ---- crm_bridge -------------------------------------------------------------------------
    reopen_window_days: float = 14.0  # a resident may reopen ("work not done") this long after
    min_resolution_chars: int = 5
    business_hours: str = "08:00-17:00"  # the city's working day, for business-hour SLAs
    city_holidays: list[str] = Field(default_factory=list)  # ISO dates besides federal holidays
    duplicate_radius_m: float = 150.0
    duplicate_window_days: float = 30.0
    open311_jurisdiction: str | None = None  # e.g. "civic.example"; None = single jurisdiction
    open311_contact: str = "311 Open Data team, opendata@civic.example"
    twilio_account_sid: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "CIVIC311_TWILIO_ACCOUNT_SID"),
    )
    twilio_from_number: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    # Twilio keeps every recording until it is deleted: civic311 deletes its copy of a call
    # recording once catalogued and of a voicemail at retention (foundation/twilio_deletions.py).
    # True keeps Twilio's copies (a city whose archive Twilio is); Twilio's retention applies.
    twilio_keep_recordings: bool = False
    # ---- Twilio as the whole backend (acd/twilio_acd): civic311 dispatches Twilio's queues --
    # "twilio": callers are queued on Twilio and the worker connects them to agents (the
    # Asterisk daemon is not needed); "asterisk": Twilio, if used, only runs the IVR.
    telephony_backend: Literal["asterisk", "twilio"] = "asterisk"
    # An API key (Console > API keys) signs the agents' Voice SDK tokens and the REST calls;
    # the TwiML App's Voice URL is <PUBLIC_BASE_URL>/twilio/acd/outbound (agents' calls out).
    twilio_api_key_sid: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_API_KEY_SID",
                                                    "CIVIC311_TWILIO_API_KEY_SID"))
    twilio_api_key_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_API_KEY_SECRET",
                                                    "CIVIC311_TWILIO_API_KEY_SECRET"))
    twilio_twiml_app_sid: str | None = None
    twilio_token_ttl_s: int = Field(default=600, ge=60, le=3600)  # an agent's access token
    notify_max_attempts: int = 10
    # ---- places, maps and the resident portal ------------------------------------------------
    # Map tiles (Leaflet's URL template); a city points it at its own tile server. Pages work
    # with addresses alone when the tiles cannot be reached; "" shows no map at all.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "&copy; OpenStreetMap contributors"
    map_center: list[float] = Field(default_factory=lambda: [39.7990, -89.6440])  # lat, long
    map_zoom: int = Field(default=15, ge=1, le=20)
    portal_photo_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    portal_nearby_radius_m: float = Field(default=400.0, gt=0)
    # scheduled reports go out at this hour of the city's day (daily; Mondays; the 1st)
    report_send_hour: int = Field(default=7, ge=0, le=23)
    report_max_attempts: int = Field(default=8, ge=1)

    # ---- personal data (docs/security.md: what is public, what is kept and for how long) --
    # Public lat/long (Open311 GETs, open data) are rounded to this many decimals (3: ~100 m).
    public_coordinate_decimals: int = Field(default=3, ge=0, le=6)
    # The worker erases personal data older than these (foundation/erasure.py); recordings
    # keep their own per-queue retention (/recordings/policies).
    retention_caller_number_days: int = Field(default=180, ge=1, le=3650)  # caller ID
    retention_ticket_contact_days: int = Field(default=365, ge=1, le=3650)  # after closure
    retention_voicemail_days: int = Field(default=90, ge=1, le=3650)  # message audio

    @field_validator("devstate_peers")
    @classmethod
    def _peers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            # both go into pjsip.conf section names and URIs
            if not re.fullmatch(NODE_NAME, name) or not HOST_PORT.fullmatch(target):
                raise ValueError(f"devstate_peers: {name!r} = {target!r}: a node name (1-16 "
                                 "lower-case letters, digits, hyphens) = \"host:port\"")
        return value

    @field_validator("agent_sip_passwords")
    @classmethod
    def _plain_passwords(cls, value: dict[str, str]) -> dict[str, str]:
        for ext, password in value.items():
            if not SIP_PASSWORD.fullmatch(password):
                raise ValueError(
                    f"agent {ext}'s SIP password must be 12 to 128 letters, digits or "
                    "._~- (it is written into pjsip.conf, where ; starts a comment)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _TOML_FILE.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path:  # several files (a node's over the center's): joined by os.pathsep
            sources.append(TomlConfigSettingsSource(settings_cls,
                                                    toml_file=toml_path.split(os.pathsep)))
        return tuple(sources)

    @model_validator(mode="after")
    def _goal_thresholds(self) -> Settings:
        """A queue without its own answer time takes the center's; every goal's answer time
        is one of ``sl_thresholds_s`` (added at the end when missing)."""
        for q in self.queues:
            if "sl_threshold_s" not in q.model_fields_set:
                q.sl_threshold_s = self.goals.answer_s
        for t in [self.goals.answer_s, *(q.sl_threshold_s for q in self.queues)]:
            if t not in self.sl_thresholds_s:
                self.sl_thresholds_s.append(t)
        if not self.sl_thresholds_s or min(self.sl_thresholds_s) <= 0:
            raise ValueError("sl_thresholds_s: answer times must be positive seconds")
        for cidr in self.metrics_allow:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"metrics_allow: {cidr!r} is not a network (CIDR): {exc}"
                                 ) from exc
        if self.trunk is not None:
            lines = {"311", "express", *self.queue_names()}
            for did, line in self.trunk.dids.items():
                if line not in lines:
                    raise ValueError(f"trunk DID {did} goes to {line!r}: a line is 311, "
                                     f"express or a queue ({', '.join(self.queue_names())})")
        if self.frontdoor_trunk:
            self._check_frontdoor_trunk()
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ValueError("metrics_token: use at least 16 characters (or leave it unset)")
        return self

    def _check_frontdoor_trunk(self) -> None:
        """The trunk through the front door: the carrier knows the front door by address
        (a registration from each node would hand the carrier the nodes' own addresses),
        and the front door tells the carrier's requests by source IP."""
        if self.trunk is None:
            raise ValueError("frontdoor_trunk: there is no trunk to put behind the front door")
        if self.trunk.auth != "ip":
            raise ValueError("frontdoor_trunk needs trunk auth = \"ip\": a registration "
                             "would give the carrier each node's address, not the front "
                             "door's")
        if self.frontdoor_trunk_port == self.frontdoor_port:
            raise ValueError("frontdoor_trunk_port must differ from frontdoor_port: the nodes "
                             "tell the carrier's calls by the port they come from")
        if self.frontdoor_agents and self.frontdoor_trunk_port == self.frontdoor_tls_port:
            raise ValueError("frontdoor_trunk_port must differ from frontdoor_tls_port: the "
                             "front door listens for phones over TLS there")
        for addr in self.trunk.match or [self.trunk.host]:
            try:
                ipaddress.ip_network(addr, strict=False)
            except ValueError:
                raise ValueError(f"frontdoor_trunk: the carrier's address {addr!r} is not an "
                                 "IP or network; list them in trunk match") from None

    def queue(self, name: str) -> QueueDef | None:
        return next((q for q in self.queues if q.name == name), None)

    # ---- derived values -------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'civic311.db'}"

    @property
    def asterisk_root(self) -> Path:
        """The provisioned root; a node other than the default has its own (a clone)."""
        if self.asterisk_root_dir:
            return self.asterisk_root_dir
        return self.cache_dir / ("asterisk-root" if self.node == DEFAULT_NODE
                                 else f"asterisk-root-{self.node}")

    @property
    def agent_extensions(self) -> list[str]:
        return [str(self.agent_first_ext + i) for i in range(self.agent_count)]

    @property
    def sip_server_name(self) -> str:
        return self.sip_server or self.sip_host

    @property
    def sip_tls(self) -> bool:
        return bool(self.sip_tls_cert_file and self.sip_tls_key_file)

    def agent_phone_port(self, ext: str) -> int:
        """Where the simulated (SIPp) phone of agent ``ext`` listens."""
        return self.agent_phone_base_port + int(ext) - self.agent_first_ext

    def queue_names(self) -> list[str]:
        return [q.name for q in self.queues]

    @property
    def cookie_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return (self.public_base_url or "").lower().startswith("https://")


SIP_PASSWORD = re.compile(r"[A-Za-z0-9._~-]{12,128}")


def private_dir(path: Path) -> None:
    """Create ``path`` as a directory only its owner may enter (0700); an existing one we own
    is narrowed to 0700 (recordings, voicemail, the SQLite file and secrets live in it)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        path.chmod(0o700)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings: ``overrides`` are the CLI layer (highest precedence)."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    token = _TOML_FILE.set(str(config_file or os.environ.get("CIVIC311_CONFIG_FILE") or "") or None)
    try:
        settings = Settings(**overrides)
    finally:
        _TOML_FILE.reset(token)
    private_dir(settings.data_dir)
    missing = {k for k in SECRETS if not getattr(settings, k)}
    agents = [e for e in settings.agent_extensions if e not in settings.agent_sip_passwords]
    if missing or agents:
        stored = load_secrets(settings.data_dir, agents)
        for key in missing:
            setattr(settings, key, stored.values[key])
        bad = [e for e in agents if not SIP_PASSWORD.fullmatch(stored.agents[e])]
        if bad:
            raise ValueError(f"{settings.data_dir / 'secrets.toml'}: the SIP password of agent "
                             f"{bad[0]} must be 12 to 128 letters, digits or ._~-")
        settings.agent_sip_passwords = {**{e: stored.agents[e] for e in agents},
                                        **settings.agent_sip_passwords}
    if settings.trunk is not None and settings.trunk.auth == "register":
        password = settings.trunk.password or settings.trunk_password or stored_secret(
            settings.data_dir, "trunk_password")
        if not password:
            raise ValueError(f"the carrier trunk registers with a password: set trunk_password "
                             f"in {settings.data_dir / 'secrets.toml'} (or "
                             "CIVIC311_TRUNK_PASSWORD)")
        if not SIP_PASSWORD.fullmatch(password):
            raise ValueError("trunk_password: 12 to 128 letters, digits or ._~-")
        settings.trunk.password = password
    return settings


# Libraries that log routine work at INFO (APScheduler: every job run, every 5 seconds):
# WARNING unless the log level asks for DEBUG, so a person reads one line per event.
CHATTY_LOGGERS = ("alembic", "panoramisk", "apscheduler", "urllib3", "asyncio", "multipart")


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.root.setLevel(level)  # basicConfig leaves the level alone when handlers exist
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.DEBUG if level == logging.DEBUG
                                           else max(logging.WARNING, logging.root.level))
