"""The simulator's records of a call: the caller's call, the agent's leg, the truth of each
queue entry, and how webhooks reach civic311 (``Transport``)."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Protocol

from telephony.twilio_sim.scenario import AgentPlan, CallerPlan
from telephony.twilio_sim.twiml import Verb

log = logging.getLogger(__name__)


class Transport(Protocol):
    def post(self, path: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        """POST a webhook (``path`` with its query); (status, body), status 0 unreachable."""


class HttpTransport:
    """Webhooks over HTTP to a running civic311 (``base``: where it listens)."""

    def __init__(self, base: str, timeout_s: float = 15) -> None:
        import requests

        self.base, self.timeout_s = base.rstrip("/"), timeout_s
        self.session = requests.Session()
        self.errors: tuple[type[BaseException], ...] = (requests.RequestException,)

    def post(self, path: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        try:
            resp = self.session.post(self.base + path, data=params, timeout=self.timeout_s,
                                     headers={"X-Twilio-Signature": signature})
        except self.errors as exc:
            log.warning("twilio sim: %s unreachable: %s", path, exc)
            return 0, ""
        return resp.status_code, resp.text


@dataclass
class Truth:
    """One queue entry as the simulator saw it (seconds from the scenario's start)."""

    uniqueid: str
    leg: int
    queue: str
    entered_at: float
    outcome: str = ""  # answered abandoned timeout exit_key exit_empty refused
    wait_s: float = 0.0
    talk_s: float | None = None
    agent: str | None = None
    exit_key: str | None = None
    hangup_side: str | None = None  # caller | agent | transfer
    transfer_target: str | None = None
    transfer_kind: str | None = None  # blind | attended
    hold_s: float = 0.0  # on hold in the conference (Twilio's participant-hold to -unhold)
    rang: list[tuple[str, float]] = field(default_factory=list)  # let it ring: agent, s
    survey: list[str] | None = None  # asked on after the agent hung up: each key ("" none)


@dataclass
class Leg:
    """The agent's (or an outside number's) side of a ``<Dial>``."""

    sid: str
    to: str
    agent: AgentPlan | None
    attrs: dict[str, str]
    noun: dict[str, str]
    started: float
    answered: float | None = None
    ended: float | None = None
    hangup_at: float | None = None  # when the agent hangs up by their plan (talk_s)


@dataclass
class Call:
    sid: str
    plan: CallerPlan
    started: float
    direction: str = "inbound"  # or outbound-api: civic311 called the resident back
    status_url: str = ""  # the Call's own StatusCallback (else the number's)
    dialed_from: str = ""  # an outbound call's caller ID
    status: str = "ringing"
    program: list[Verb] = field(default_factory=list)
    pc: int = 0
    keys: list[str] = field(default_factory=list)
    phase: str = "ivr"  # ivr | queue | ringing | bridged | after (the agent hung up) | ended
    queue: str | None = None
    queued_at: float = 0.0  # this membership (Twilio's QueueTime counts from here)
    enqueue: Verb | None = None
    after_enqueue: list[Verb] = field(default_factory=list)
    in_wait: bool = False  # running the waitUrl's TwiML
    leg: Leg | None = None
    truth: Truth | None = None
    truths: list[Truth] = field(default_factory=list)
    pressed: str | None = None  # the key pressed while waiting
    after_keys: list[str] | None = None  # the survey keys still to press (plan.survey_keys)
    ended: float | None = None
    epoch: int = 0  # bumped whenever the call leaves a verb; older timers are stale
    transferred_to: str | None = None  # the queue an agent transferred the caller to
    room: str | None = None  # the conference the call is in (rooms.py)
    held_at: float | None = None  # on hold in it since
    consult_done: bool = True  # False while the plan's attended transfer is under way
    sequence: itertools.count[int] = field(default_factory=itertools.count)
