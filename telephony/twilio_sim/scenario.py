"""Scenarios of the Twilio simulator as data: who calls when and does what, and the agents.

A scenario file (YAML or JSON) has ``agents`` (each: ``id``, ``queues``, ``login_at``,
optional ``logout_at``, ``pauses`` of ``{at, until, reason}``, ``ring_s`` before they answer,
``null`` for never, and ``talk_s``), ``callers`` (each: ``sid``, ``at``, ``from``, the IVR
``keys`` one per menu, the ``queue`` they lead to (``null``: the IVR serves the caller),
``patience_s`` in line before they hang up, ``queue_key`` ``[after_s,
key]`` pressed while waiting, ``talk_s`` after which they hang up on the agent, and the
callbacks Twilio sends twice, ``duplicate``, or late, ``late`` (``leg``: the answered
callback after the Dial action; ``conference``: each participant-hold after the event that
follows it); ``transfer`` ``[after_s,
"queue:noise"]``: the agent transfers them, as the desktop does; ``survey_keys``: when the
agent hangs up first and civic311 asks on (a ``<Gather>``, the post-call survey), the key
they press at each, ``""`` silence, ``"hangup"`` they hang up there; without it they hang
up when the agent does), ``hold`` ``[[after_s, for_s], ...]``: the agent's desktop holds them
``after_s`` into the talk and resumes ``for_s`` later, ``consult`` ``{after: s, to:
"referral:+1..." | "agent:102", talk: s, then: complete | cancel | hangup}``: the agent's
attended transfer, talking ``talk`` seconds with the target once they answer, then the
desktop's Complete or Cancel, or the agent hangs up (which completes it), and for the demo a stream
of callers, ``demo: {calls_per_minute, mix: [{weight, keys, patience_s, ...}]}``. Times are
seconds from the scenario's start; a duration may be ``[low, high]`` (drawn uniformly).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CALLBACKS = frozenset({"status", "leg", "dial", "enqueue", "recording", "conference"})
CONSULT_ENDS = ("complete", "cancel", "hangup")
Span = tuple[float, float]  # a duration drawn uniformly between the two (seconds)


class ScenarioError(ValueError):
    """A scenario file that does not say what the simulator can do."""


@dataclass(frozen=True)
class Pause:
    at: float
    until: float
    reason: str = ""


@dataclass(frozen=True)
class Consult:
    """The agent's attended transfer (seconds from the answer; ``talk`` once the target
    answered; ``then`` complete | cancel | hangup)."""

    after: float
    to: str
    talk: float = 5.0
    then: str = "complete"


@dataclass(frozen=True)
class AgentPlan:
    agent: str
    queues: tuple[str, ...]
    login_at: float = 0.0
    logout_at: float | None = None
    pauses: tuple[Pause, ...] = ()
    ring_s: Span | None = (3.0, 3.0)  # None: lets every call ring out
    talk_s: Span = (30.0, 30.0)
    number: str = ""  # rings here for a <Number> (a PSTN device), else <Client>agent<id>

    @property
    def identity(self) -> str:
        return f"agent{self.agent}"


@dataclass(frozen=True)
class CallerPlan:
    sid: str
    at: float
    from_number: str = "+12125550100"
    keys: tuple[str, ...] = ("1", "0")  # one answer per IVR <Gather>
    queue: str | None = "citywide"  # where the keys lead (None: the IVR serves them)
    patience_s: float | None = None  # in line (and ringing) before they hang up
    queue_key: tuple[float, str] | None = None  # (seconds after entering the queue, key)
    talk_s: float | None = None  # they hang up on the agent after this long (else the agent)
    duplicate: frozenset[str] = frozenset()  # callbacks Twilio sends twice
    late: frozenset[str] = frozenset()  # "leg": the answered callback after the Dial action
    transfer: tuple[float, str] | None = None  # the agent transfers, talk_s in: "queue:noise"
    expect: str | None = None  # what the scenario's author expects (documentation only)
    survey_keys: tuple[str, ...] | None = None  # after the agent hung up: "" silent, "hangup"
    hold: tuple[tuple[float, float], ...] = ()  # (after the answer, for) seconds
    consult: Consult | None = None


@dataclass(frozen=True)
class Mix:
    weight: float
    keys: tuple[str, ...]
    queue: str | None = "citywide"
    patience_s: Span | None = None
    queue_key: tuple[Span, str] | None = None
    talk_s: Span | None = None


@dataclass(frozen=True)
class Demo:
    calls_per_minute: float
    mix: tuple[Mix, ...]


@dataclass(frozen=True)
class Scenario:
    agents: tuple[AgentPlan, ...] = ()
    callers: tuple[CallerPlan, ...] = ()
    demo: Demo | None = None
    name: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


def draw(span: Span, rng: random.Random) -> float:
    """A duration in ``span`` (seconds): its one value, or uniform between low and high."""
    low, high = span
    return low if low == high else rng.uniform(low, high)


def load(path: Path) -> Scenario:
    """Read a scenario file (``.json``, else YAML)."""
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{path}: a scenario is a mapping")
    return parse(raw, path.stem)


def parse(raw: Mapping[str, Any], name: str = "") -> Scenario:
    """A scenario from its plain data; ScenarioError names what is wrong."""
    unknown = set(raw) - {"agents", "callers", "demo", "notes"}
    if unknown:
        raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
    agents = tuple(_agent(a) for a in _list(raw.get("agents"), "agents"))
    callers = tuple(_caller(c) for c in _list(raw.get("callers"), "callers"))
    sids = [c.sid for c in callers]
    if len(set(sids)) != len(sids):
        raise ScenarioError("two callers share a sid")
    demo = raw.get("demo")
    return Scenario(agents, callers, _demo(demo) if demo is not None else None, name,
                    dict(raw.get("notes") or {}))


def _list(value: Any, what: str) -> Sequence[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ScenarioError(f"{what} is a list of mappings")
    return value


def _span(value: Any, what: str) -> Span:
    if isinstance(value, int | float) and value >= 0:
        return (float(value), float(value))
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float)
                                                            for v in value)
            and 0 <= value[0] <= value[1]):
        return (float(value[0]), float(value[1]))
    raise ScenarioError(f"{what}: seconds, or [low, high], not {value!r}")


def _keys(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str | int) for k in value):
        raise ScenarioError(f"{what}: keys is a list of digit strings")
    return tuple(str(k) for k in value)


def _queue(c: Mapping[str, Any]) -> str | None:
    queue = c.get("queue", "citywide")
    return None if queue is None else str(queue)


def _agent(a: Mapping[str, Any]) -> AgentPlan:
    agent = str(a.get("id", ""))
    if not agent.isdigit():
        raise ScenarioError(f"agent id {agent!r}: an extension (digits)")
    queues = a.get("queues")
    if not isinstance(queues, list) or not queues:
        raise ScenarioError(f"agent {agent}: queues is a non-empty list")
    pauses = tuple(Pause(float(p["at"]), float(p["until"]), str(p.get("reason", "")))
                   for p in _list(a.get("pauses"), f"agent {agent} pauses"))
    ring = a.get("ring_s", 3)
    logout = a.get("logout_at")
    return AgentPlan(agent, tuple(str(q) for q in queues), float(a.get("login_at", 0)),
                     None if logout is None else float(logout), pauses,
                     None if ring is None else _span(ring, f"agent {agent} ring_s"),
                     _span(a.get("talk_s", 30), f"agent {agent} talk_s"),
                     str(a.get("number", "")))


def _caller(c: Mapping[str, Any]) -> CallerPlan:
    sid = str(c.get("sid", ""))
    if not sid.startswith("CA"):
        raise ScenarioError(f"caller sid {sid!r}: a CallSid starts with CA")
    qk = c.get("queue_key")
    if qk is not None and not (isinstance(qk, list) and len(qk) == 2):
        raise ScenarioError(f"caller {sid}: queue_key is [after_s, key]")
    flags = {k: frozenset(str(x) for x in c.get(k) or []) for k in ("duplicate", "late")}
    for k, got in flags.items():
        if not got <= CALLBACKS:
            raise ScenarioError(f"caller {sid}: {k} names {sorted(got - CALLBACKS)}, "
                                f"not among {sorted(CALLBACKS)}")
    xfer = c.get("transfer")
    if xfer is not None and not (isinstance(xfer, list) and len(xfer) == 2
                                 and str(xfer[1]).partition(":")[0] in (
                                     "queue", "agent", "referral")):
        raise ScenarioError(f"caller {sid}: transfer is [after_s, queue:|agent:|referral:...]")
    patience, talk = c.get("patience_s"), c.get("talk_s")
    return CallerPlan(sid, float(c.get("at", 0)), str(c.get("from", "+12125550100")),
                      _keys(c.get("keys", ["1", "0"]), sid),
                      _queue(c),
                      None if patience is None else float(patience),
                      None if qk is None else (float(qk[0]), str(qk[1])),
                      None if talk is None else float(talk),
                      flags["duplicate"], flags["late"],
                      None if xfer is None else (float(xfer[0]), str(xfer[1])),
                      None if c.get("expect") is None else str(c["expect"]),
                      None if c.get("survey_keys") is None else _survey_keys(c, sid),
                      _holds(c.get("hold"), sid), _consult(c.get("consult"), sid))


def _holds(value: Any, sid: str) -> tuple[tuple[float, float], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(x, int | float) and x >= 0
                                                        for x in h) for h in value):
        raise ScenarioError(f"caller {sid}: hold is a list of [after_s, for_s]")
    return tuple((float(a), float(f)) for a, f in value)


def _consult(value: Any, sid: str) -> Consult | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"after", "to", "talk", "then"}:
        raise ScenarioError(f"caller {sid}: consult is {{after, to, talk, then}}")
    to, then = str(value.get("to", "")), str(value.get("then", "complete"))
    if to.partition(":")[0] not in ("agent", "referral") or then not in CONSULT_ENDS:
        raise ScenarioError(f"caller {sid}: consult goes to agent:|referral:..., then one of "
                            f"{', '.join(CONSULT_ENDS)}")
    return Consult(float(value.get("after", 5)), to, float(value.get("talk", 5)), then)


def _survey_keys(c: Mapping[str, Any], sid: str) -> tuple[str, ...]:
    keys = _keys(c["survey_keys"], sid)
    if not all(k == "hangup" or len(k) <= 1 for k in keys):
        raise ScenarioError(f"caller {sid}: survey_keys are one key each, \"\" or \"hangup\"")
    return keys


def _demo(d: Any) -> Demo:
    if not isinstance(d, Mapping):
        raise ScenarioError("demo is a mapping")
    mix = []
    for m in _list(d.get("mix"), "demo mix"):
        qk = m.get("queue_key")
        mix.append(Mix(float(m.get("weight", 1)), _keys(m.get("keys", ["1", "0"]), "mix"),
                       _queue(m),
                       None if m.get("patience_s") is None else _span(m["patience_s"], "mix"),
                       None if qk is None else (_span(qk[0], "mix"), str(qk[1])),
                       None if m.get("talk_s") is None else _span(m["talk_s"], "mix")))
    if not mix:
        raise ScenarioError("demo mix is empty")
    return Demo(float(d.get("calls_per_minute", 6)), tuple(mix))


def demo_caller(demo: Demo, sid: str, at: float, rng: random.Random) -> CallerPlan:
    """One caller of the demo's stream, drawn from its mix."""
    m = rng.choices(demo.mix, [x.weight for x in demo.mix])[0]
    number = f"+1718{rng.randrange(10**6, 10**7)}"
    return CallerPlan(sid, at, number, m.keys, m.queue,
                      None if m.patience_s is None else draw(m.patience_s, rng),
                      None if m.queue_key is None else (draw(m.queue_key[0], rng),
                                                        m.queue_key[1]),
                      None if m.talk_s is None else draw(m.talk_s, rng))
