"""Calls per second with zero failures through the SIP front door: one node vs two, as a ratio.

One run starts Kamailio (``telephony.frontdoor``) and two Asterisk nodes, east and west,
each with its own daemon (FastAGI IVR, AMI bridge, call records; one PostgreSQL) and its
own ``--agents`` registered SIPp agent phones (ringing 1 ms, talking ``--talk-ms``, straight
to their node as in tests/integration/test_frontdoor_pbx.py). Then it measures, with
``bench.rate_search``, the highest rate of SIPp callers to the front door at which every
call passes:

(a) one node: the dispatcher's list holds east only (reloaded with ``kamcmd``);
(b) two nodes: the list holds both, and the front door spreads the calls round robin.

The call flow is the 311 express line (3111) as the nodes run it: Answer, the FastAGI IVR
(the daemon's keypad pick: 1 s of ``silence/1`` played, 2 s waiting for a key that never
comes), ``UserEvent``, ``Queue(citywide)``, an agent rung and answering, the call recorded
(MixMonitor, the default policy), the agent hanging up: about 4 s a call. A rate passes
when SIPp counts zero failed calls and every call of the step is answered by an agent in
its node's queue_log (no abandon, no queue timeout; callers hang up themselves 10 s after
being answered, which fails the step). A step lasts ``--seconds`` (15): several call
lifetimes, so the rate is one the nodes sustain; 5-s steps, shorter than the calls' CPU
tail, let about twice the rate pass as a burst (bench/RESULTS.md). The two searches
alternate in order between repeats, so the drift of a shared machine falls on both sides;
the ratio two/one is per repeat, reported with its spread. The peak of Asterisk's ``active
calls`` per node during the highest passing step is the concurrency at that rate with these
short calls, not the most concurrent calls a node could hold with long ones.

On a machine whose cores are shared by Kamailio, both Asterisks, both daemons, PostgreSQL
and SIPp (this 2-core one), a second node adds no CPU: the ratio then measures what the
front door and a second node cost (about 1 = no overhead), not what a second server gains.
Each step also reads from /proc the CPU seconds of every process under test
(``bench.cpu_use``) and of the rest of the machine (PostgreSQL, other people's work), and
the run ends with the CPU per call at the highest passing rates: Kamailio's share of a
call's CPU is the front door's overhead, whatever the other load on the machine did to
the rates.

Ports: the test ports of the front-door tests at ``CIVIC311_TEST_PORT_OFFSET`` (``node3_*``
east, ``node2_*`` west, ``frontdoor_port``; do not run it beside those tests at the same
offset) and agent phones on ``20000 + offset`` (east) and ``+ 50`` (west).

Run as root: ``nice -n 10 .venv/bin/python -m bench.bench_frontdoor [--repeat 2]``
(about 10 minutes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import cpu_use
from bench.rate_search import Trial, highest_passing
from foundation.settings import default_cache_dir
from telephony import frontdoor, runtime, sipp
from tests.conftest import make_database
from tests.support import ports, processes
from tests.support.pbx import EXPRESS_LINE, DaemonProc, Pbx, make_pbx, running_daemons, wait_until
from tests.support.truth import truth

EAST, WEST = "east", "west"
NODES = {EAST: ("node3", 25000, 0), WEST: ("node2", 24000, 50)}  # ports, RTP, phones' step
PORT_NAMES = ("sip_port", "ami_port", "agi_port", "http_port", "https_port")
PHONE_BASE = 20000  # + offset: the agents' SIPp phones, above every fixed test port
QUEUE = "citywide"
# SIPp reads a ring time of 0 as "wait for the CANCEL for ever": the phones answer after 1 ms
RING_MS = 1
HOLD_MS = 10000  # a caller not hung up by then (answered, talked, agent gone) has failed


@dataclass
class Cluster:
    """The running front door and its nodes."""

    nodes: dict[str, Pbx]
    door: frontdoor.FrontDoor
    door_proc: subprocess.Popen[bytes]
    daemons: dict[str, DaemonProc] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{ports.port('frontdoor_port')}"

    def cpu_roots(self) -> dict[str, list[int]]:
        """The processes under test, by what they are (each with its descendants)."""
        roots = {f"asterisk {n}": [p.proc.pid] for n, p in self.nodes.items() if p.proc}
        roots |= {f"daemon {n}": [d.proc.pid] for n, d in self.daemons.items()}
        roots["kamailio"] = [self.door_proc.pid]
        roots["agent phones"] = [ph.proc.pid for p in self.nodes.values() for ph in p.phones]
        return roots

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds so far of each process under test, and ``machine``: all cores."""
        return {**cpu_use.tree_cpu_s(self.cpu_roots()), **cpu_use.own_cpu_s(),
                "machine": cpu_use.machine_busy_s()}

    def use(self, names: list[str]) -> None:
        """Dispatch to ``names`` only (the list rewritten and reloaded), once all answer."""
        self.door.list_file.write_text(frontdoor.dispatcher_list(
            [self.nodes[n].sip_target for n in names]))
        if frontdoor.kamcmd(self.door, "dispatcher.reload") is None:
            raise RuntimeError("the front door refused dispatcher.reload")
        self.wait_dispatching(names)

    def wait_dispatching(self, names: list[str]) -> None:
        """Until the front door dispatches to exactly ``names``, each answering OPTIONS."""
        wanted = {f"sip:{self.nodes[n].sip_target}" for n in names}

        def active() -> bool:
            if self.door_proc.poll() is not None:
                raise RuntimeError(f"Kamailio exited: see {self.door.run_dir.parent}")
            state = frontdoor.destinations(self.door)
            return set(state) == wanted and all(f.startswith("A") for f in state.values())

        wait_until(active, 10, what=f"the front door to dispatch to {names}")


@dataclass
class Step:
    """One rate tried on one set of nodes."""

    mode: str
    rate: int
    calls: int
    ok: int
    failed: int
    answered: dict[str, int]
    peak_calls: dict[str, int]
    max_wait_s: int
    elapsed_s: float
    cpu_s: dict[str, float]  # by process; "rest": the machine's other busy time (PostgreSQL,
    # other people's work)
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.passed = (self.failed == 0 and self.ok == self.calls
                       and sum(self.answered.values()) == self.calls)


def node_pbx(tmp: Path, name: str, agents: int) -> Pbx:
    prefix, rtp, step = NODES[name]
    first, last = ports.rtp_range(first=rtp, size=1000)
    return make_pbx(
        tmp / name, default_cache_dir(), NODE=name, AGENT_COUNT=str(agents),
        AGENT_PHONE_BASE_PORT=str(PHONE_BASE + ports.OFFSET + step), LOG_LEVEL="WARNING",
        RTP_START=str(first), RTP_END=str(last),
        **{k.upper(): str(ports.port(f"{prefix}_{k}")) for k in PORT_NAMES})


@contextmanager
def front_door(nodes: dict[str, Pbx], tmp: Path) -> Iterator[Cluster]:
    settings = nodes[EAST].settings.model_copy(update={
        "frontdoor_port": ports.port("frontdoor_port"), "frontdoor_probe_s": 1})
    door = frontdoor.write(settings, tmp / "frontdoor", [n.sip_target for n in nodes.values()])
    log = (tmp / "kamailio.log").open("wb")
    proc = subprocess.Popen(door.command(), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        cluster = Cluster(nodes, door, proc)
        cluster.wait_dispatching(list(nodes))
        yield cluster
    finally:
        processes.stop(proc, 10)


@contextmanager
def cluster(tmp: Path, agents: int, talk_ms: int) -> Iterator[Cluster]:
    """Both nodes with their daemons and agents, one database, the front door."""
    nodes = {name: node_pbx(tmp, name, agents) for name in NODES}
    with contextmanager(make_database)("postgres", tmp) as db:
        try:
            with ThreadPoolExecutor(2) as pool:
                for started in [pool.submit(n.start) for n in nodes.values()]:
                    started.result()
            with running_daemons([(n, tmp / f"{name}.log") for name, n in nodes.items()],
                                 db.url) as daemons, front_door(nodes, tmp) as door:
                door.daemons = dict(zip(nodes, daemons, strict=True))
                with ThreadPoolExecutor(2) as pool:
                    for done in [pool.submit(log_in, n, talk_ms) for n in nodes.values()]:
                        done.result()
                yield door
        finally:
            for node in nodes.values():
                node.stop_phones()
                node.stop()


def log_in(node: Pbx, talk_ms: int) -> None:
    for ext in node.settings.agent_extensions:
        node.add_agent(ext, [QUEUE], ring_ms=RING_MS, talk_ms=talk_ms)


def sample_peaks(nodes: dict[str, Pbx], stop: threading.Event) -> dict[str, int]:
    """Each node's most ``active calls`` seen, polled every second until ``stop``."""
    peaks = dict.fromkeys(nodes, 0)
    while not stop.wait(1):
        for name, node in nodes.items():
            peaks[name] = max(peaks[name], runtime.active_calls(node.install))
    return peaks


def settled(node: Pbx) -> dict[str, dict[str, object]]:
    """The node's queue_log calls, once every one of them has ended."""
    def ended() -> list[dict[str, dict[str, object]]]:
        calls = truth(node.queue_log)
        return [calls] if all(c["outcome"] for c in calls.values()) else []

    found: list[dict[str, dict[str, object]]] = wait_until(
        ended, 15, what=f"{node.settings.node}'s queue_log to settle")
    return found[0]


def drained(nodes: dict[str, Pbx], hang_up: bool) -> None:
    """No call left on any node (``hang_up``: after a failed step, cut what is left)."""
    for node in nodes.values():
        if hang_up:
            node.rx("channel request hangup all")
        def idle(node: Pbx = node) -> bool:
            return runtime.active_calls(node.install) == 0

        wait_until(idle, 15, what=f"{node.settings.node}'s calls to drain")


def trial(cluster: Cluster, mode: str, rate: int, seconds: int) -> Step:
    """``rate`` calls/s for ``seconds`` to the front door; the step once its calls ended."""
    nodes = cluster.nodes
    drained(nodes, hang_up=False)
    for node in nodes.values():
        node.queue_log.write_text("")
    calls = rate * seconds
    stop = threading.Event()
    cpu_before = cluster.cpu_s()
    t0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        peaks = pool.submit(sample_peaks, nodes, stop)
        run = sipp.callers(cluster.target, calls=calls, rate=rate, hold_ms=HOLD_MS,
                           number=EXPRESS_LINE, limit=5000)
        try:
            result = run.wait(seconds + HOLD_MS / 1000 + 120)
        finally:
            run.stop()
            stop.set()
    elapsed = time.monotonic() - t0
    cpu_after = cluster.cpu_s()
    cpu = {k: round(cpu_after[k] - cpu_before.get(k, 0), 2) for k in cpu_after}
    cpu["rest"] = round(cpu.pop("machine") - sum(cpu.values()), 2)
    sipp_ok = result.failed == 0 and result.successful == calls
    if not sipp_ok:  # no need to wait for the rest: the step has failed
        drained(nodes, hang_up=True)
    logged = {n: settled(node) if sipp_ok else truth(node.queue_log)
              for n, node in nodes.items()}
    answered = {n: sum(c["outcome"] == "answered" for c in v.values()) for n, v in logged.items()}
    waits = [int(str(c["wait_s"] or 0)) for v in logged.values() for c in v.values()]
    step = Step(mode, rate, calls, result.successful, result.failed, answered, peaks.result(),
                max(waits, default=0), round(elapsed, 1), cpu)
    print(json.dumps(step.__dict__), flush=True)
    return step


def search(cluster: Cluster, mode: str, first: int, cap: int, seconds: int,
           steps: list[Step]) -> tuple[int, list[Trial]]:
    cluster.use([EAST] if mode == "one" else [EAST, WEST])

    def passes(rate: int) -> bool:
        steps.append(trial(cluster, mode, rate, seconds))
        return steps[-1].passed

    return highest_passing(passes, first, cap)


def spread(values: list[float]) -> str:
    """median (min-max)"""
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


@dataclass(frozen=True)
class Repeat:
    """One repeat: the highest passing rate (calls/s) through the front door to one node
    and to two, with the step that passed at each (None: no rate passed)."""

    number: int
    one: int
    two: int
    one_step: Step | None
    two_step: Step | None

    @property
    def ratio(self) -> float | None:
        return self.two / self.one if self.one else None


def passed_at(steps: list[Step], mode: str, rate: int) -> Step | None:
    """The newest step of ``mode`` that passed at ``rate``."""
    return next((s for s in reversed(steps) if s.mode == mode and s.rate == rate
                 and s.passed), None)


def peaks(step: Step | None) -> dict[str, int]:
    return step.peak_calls if step else {}


def table(rows: list[Repeat]) -> str:
    """The run as markdown: one row per repeat, then the medians and ranges."""
    out = ["| repeat | one node: cps | two nodes: cps | ratio two/one | peak active calls, "
           "one node (east) | peak active calls, two nodes (east / west) |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        one, two = peaks(r.one_step), peaks(r.two_step)
        out.append(f"| {r.number} | {r.one} | {r.two} | {ratio} | {one.get(EAST, '-')} | "
                   f"{two.get(EAST, '-')} / {two.get(WEST, '-')} |")
    ratios = [r.ratio for r in rows if r.ratio is not None]
    out.append(f"\nratio two/one, median (min-max) over {len(ratios)} repeats: "
               f"{spread(ratios)}; one node {spread([float(r.one) for r in rows])} cps, "
               f"two nodes {spread([float(r.two) for r in rows])} cps")
    return "\n".join(out)


def cpu_table(rows: list[Repeat]) -> str:
    """Where a call's CPU went at each repeat's highest passing rate (ms per call, median
    over the repeats), and how many of the machine's cores were busy meanwhile."""
    at = {"one": [r.one_step for r in rows if r.one_step],
          "two": [r.two_step for r in rows if r.two_step]}
    names = list(dict.fromkeys(k for v in at.values() for s in v for k in s.cpu_s))

    def median(mode: str, value: Callable[[Step], float], digits: int) -> str:
        got = [value(s) for s in at[mode]]
        return f"{statistics.median(got):.{digits}f}" if got else "-"

    out = ["| CPU at the highest passing rate | one node | two nodes |", "|---|---|---|"]
    for name in names:
        def per_call(s: Step, name: str = name) -> float:
            return 1000 * s.cpu_s.get(name, 0) / s.calls

        out.append(f"| {name}, ms per call | " + " | ".join(
            median(m, per_call, 1) for m in at) + " |")
    out.append("| cores busy, whole machine (2 cores) | " + " | ".join(
        median(m, lambda s: sum(s.cpu_s.values()) / s.elapsed_s, 2) for m in at) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=15, help="of calls per step")
    ap.add_argument("--first", type=int, default=20, help="calls/s of the first step")
    ap.add_argument("--cap", type=int, default=320, help="calls/s never tried above")
    ap.add_argument("--agents", type=int, default=40, help="per node")
    ap.add_argument("--talk-ms", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="civic311-bench-frontdoor-"))
    started = time.monotonic()
    rows: list[Repeat] = []
    steps: list[Step] = []
    with cluster(tmp, args.agents, args.talk_ms) as door:
        print(f"# set up in {time.monotonic() - started:.0f} s ({tmp})", flush=True)
        for i in range(args.repeat):
            order = ["one", "two"] if i % 2 == 0 else ["two", "one"]
            best = {m: search(door, m, args.first, args.cap, args.seconds, steps)[0]
                    for m in order}
            rows.append(Repeat(i + 1, best["one"], best["two"],
                               passed_at(steps, "one", best["one"]),
                               passed_at(steps, "two", best["two"])))
            print(json.dumps({"repeat": i + 1, **best, "ratio": rows[-1].ratio}), flush=True)
    print(f"\n{table(rows)}\n\n{cpu_table(rows)}\n\n{args.seconds} s of calls per step, "
          f"{args.agents} agents per node talking {args.talk_ms} ms; run took "
          f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
