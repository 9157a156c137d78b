"""Drive SIPp: simulated residents calling 311 and simulated agent phones.

Scenario templates live in ``tests/sipp/`` (the same files the tests, the benchmarks and
``civic311 up --demo`` use); ``@NAME@`` placeholders are filled per run.
"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "sipp"
DTMF_PCAP = Path("/usr/share/sip-tester")
DTMF_NAMES = {"#": "pound", "*": "star"}
# Real audio for the demo's phones: about 7 s of speech as G.711 A-law RTP (payload 8), the
# capture Debian's sip-tester ships. A phone that plays it offers A-law in its SDP.
SPEECH_PCAP = DTMF_PCAP / "g711a.pcap"


class SippMissing(RuntimeError):
    pass


def sipp_binary() -> str:
    exe = shutil.which("sipp")
    if exe is None:
        raise SippMissing("SIPp is not installed: apt-get install sip-tester")
    return exe


def stock_pcap(digit: str) -> Path:
    """SIPp's own RFC 4733 capture of one key."""
    return DTMF_PCAP / f"dtmf_2833_{DTMF_NAMES.get(digit, digit)}.pcap"


def dtmf_block(digits: str, first_pause_ms: int, gap_ms: int = 400,
               pcap: Callable[[str], Path] = stock_pcap) -> str:
    """SIPp actions that send RFC 4733 digits as RTP, with pauses between them.

    Every pause listens for Asterisk's BYE: a caller whose call ends before the last key (an
    agent who hangs up first, an IVR that is done) completes normally instead of failing on
    an unexpected message. The caller template answers that BYE at ``asterisk_hangs_up``.
    """
    parts: list[str] = []
    waits = 0

    def pause(ms: int) -> None:
        nonlocal waits
        waits += 1
        parts.extend([f'  <recv request="BYE" timeout="{ms}" ontimeout="key{waits}"/>',
                      '  <nop next="asterisk_hangs_up"/>', f'  <label id="key{waits}"/>'])

    if first_pause_ms and digits:
        pause(first_pause_ms)
    for d in digits:
        if d == ",":
            pause(gap_ms * 3)
            continue
        parts.append(f'  <nop><action><exec play_pcap_audio="{pcap(d)}"/></action></nop>')
        pause(gap_ms)
    return "\n".join(parts)


def play(pcap: Path) -> str:
    """A SIPp action that starts sending ``pcap``'s RTP (in the background) to the far end."""
    return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'


def speaking_alaw(scenario: Path) -> Path:
    """The scenario's SDP offers/answers G.711 A-law (what SPEECH_PCAP carries), not µ-law."""
    text = scenario.read_text()
    text = text.replace("RTP/AVP 0 101", "RTP/AVP 8 101").replace("a=rtpmap:0 PCMU/8000",
                                                                  "a=rtpmap:8 PCMA/8000")
    scenario.write_text(text)
    return scenario


def render(template: str, out_dir: Path, **values: object) -> Path:
    text = (SCENARIOS / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", str(value))
    path = out_dir / template
    path.write_text(text)
    return path


@dataclass
class SippResult:
    successful: int
    failed: int
    returncode: int


@dataclass
class SippProcess:
    proc: subprocess.Popen[bytes]
    workdir: Path
    stat_file: Path
    log: Path
    argv: list[str] = field(default_factory=list)
    line: str = ""  # an agent phone's unique Contact parameter (see register.xml)
    log_off: list[str] | None = None  # an agent phone's unregistration (SIPp arguments)

    def wait(self, timeout: float | None = None) -> SippResult:
        rc = self.proc.wait(timeout)
        return SippResult(*self.counts(), rc)

    def counts(self) -> tuple[int, int]:
        if not self.stat_file.exists():
            return 0, 0
        rows = list(csv.reader(self.stat_file.open(), delimiter=";"))
        if len(rows) < 2:
            return 0, 0
        head, last = rows[0], rows[-1]
        return int(last[head.index("SuccessfulCall(C)")]), int(last[head.index("FailedCall(C)")])

    def running(self) -> bool:
        return self.proc.poll() is None

    def events(self) -> list[str]:
        """What an agent phone logged: "registered", "registration refused", "rung"."""
        path = self.workdir / "phone.log"
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _start(argv: list[str], workdir: Path) -> SippProcess:
    stat = workdir / "stat.csv"
    log = workdir / "sipp.log"
    full = [sipp_binary(), *argv, "-trace_stat", "-stf", str(stat), "-fd", "1",
            "-trace_err", "-error_file", str(workdir / "errors.log"), "-nostdin"]
    with log.open("wb") as out:
        proc = subprocess.Popen(full, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    return SippProcess(proc, workdir, stat, log, full)


def callers(target: str, *, calls: int, rate: float, digits: str = "", hold_ms: int = 5000,
            first_digit_ms: int = 1500, caller_numbers: list[str] | None = None,
            local_port: int = 0, limit: int = 500, number: str = "311",
            workdir: Path | None = None, speech: Path | None = None) -> SippProcess:
    """Start ``calls`` SIPp callers at ``rate`` calls/s against ``target`` (host:port); with
    ``speech`` (an A-law RTP capture, SPEECH_PCAP) each caller talks after its keys."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="civic311-sipp-"))
    actions = dtmf_block(digits, first_digit_ms) + ("\n" + play(speech) if speech else "")
    scenario = render("caller.xml", workdir, number=number, hold_ms=hold_ms, dtmf=actions)
    if speech:
        speaking_alaw(scenario)
    numbers = caller_numbers or [f"+1212555{i:04d}" for i in range(max(calls, 1))]
    inf = workdir / "callers.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{n}\n" for n in numbers))
    argv = [target, "-sf", str(scenario), "-inf", str(inf), "-m", str(calls), "-r", str(rate),
            "-rp", "1000", "-l", str(limit), "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-timeout", "600s", "-timeout_error", "-max_recv_loops", "10000"]
    if local_port:
        argv += ["-p", str(local_port)]
    argv += ["-mp", str(30000 + 4 * random.randrange(2000))]
    return _start(argv, workdir)


# a phone asks for this registration lifetime and refreshes a little before it runs out
REGISTER_EXPIRES_S = 300
REGISTER_REFRESH_MS = 240_000


@dataclass(frozen=True)
class Attended:
    """A desk phone's attended transfer (attended.xml): ``after_ms`` into the call, consult
    ``target`` (an extension of the phone's context) for ``consult_ms``, then REFER with
    Replaces. The phone's second call authenticates as ``user``."""

    after_ms: int
    target: str
    consult_ms: int
    user: str = ""
    password: str = ""


def answering(workdir: Path, ring_ms: int, talk_ms: int,
              hold: tuple[int, int] | None = None,
              refer: tuple[int, str] | None = None, speech: Path | None = None,
              attended: Attended | None = None) -> Path:
    """agent.xml, the answering side of a phone; with ``hold`` = (after_ms, for_ms) it puts
    each call on hold once (hold.xml spliced in); with ``refer`` = (after_ms, extension) it
    transfers each call blind by REFER (refer.xml) instead of hanging up; with ``attended``
    it transfers it attended (attended.xml: a consultation, then REFER with Replaces); with
    ``speech`` (SPEECH_PCAP) it talks once it has answered."""
    block = "" if hold is None else (SCENARIOS / "hold.xml").read_text().replace(
        "@HOLD_AFTER_MS@", str(hold[0])).replace("@HOLD_MS@", str(hold[1]))
    if refer is not None:
        block += (SCENARIOS / "refer.xml").read_text().replace(
            "@REFER_AFTER_MS@", str(refer[0])).replace("@REFER_TO@", refer[1])
    if attended is not None:
        block += (SCENARIOS / "attended.xml").read_text()
        for key, value in (("ATXFER_AFTER_MS", attended.after_ms),
                           ("ATXFER_TO", attended.target), ("CONSULT_MS", attended.consult_ms),
                           ("USER", attended.user), ("PASSWORD", attended.password)):
            block = block.replace(f"@{key}@", str(value))
    if speech:
        block = play(speech) + "\n" + block
    # SIPp refuses an optional message right before a pause: the ACK is awaited when holding
    # (or talking: the audio starts once the call is set up)
    # SIPp reads a recv timeout of 0 as none: a phone told to ring 0 ms would wait for a
    # CANCEL for ever and never answer
    scenario = render("agent.xml", workdir, ring_ms=max(1, ring_ms), talk_ms=talk_ms,
                      hold_block=block,
                      ack_optional="true" if not block else "false")
    return speaking_alaw(scenario) if speech else scenario


def natted(scenario: Path, private: str) -> Path:
    """The phone's Via and Contact name ``private`` (host:port) instead of its own address,
    as a phone behind NAT writes its private address: only a proxy that answers and rings
    it at the packets' source reaches it (the Via asks for that: ``rport``)."""
    text = scenario.read_text()
    own = "[local_ip]:[local_port]"
    if own not in text:
        raise ValueError(f"{scenario}: no address of the phone's own to replace")
    text = text.replace(f"SIP/2.0/[transport] {own};", f"SIP/2.0/[transport] {private};rport;")
    scenario.write_text(text.replace(f"<sip:{own}", f"<sip:{private}").replace(
        f"@{own};", f"@{private};"))
    return scenario


def routed(scenario: Path) -> Path:
    """The phone's own BYE follows the call's Record-Route (a proxy between the phone and
    Asterisk, such as the front door, must see it), as RFC 3261 12.2.1.1 has every phone do;
    and its 180 and 200 to the INVITE copy the Record-Route (12.1.1), so that Asterisk's BYE
    (the caller hung up, the desktop transferred the call) goes through the proxy too."""
    text = scenario.read_text()
    bye = "      CSeq: 9 BYE\n"
    if bye not in text:
        raise ValueError(f"{scenario}: no phone BYE to route")
    text = text.replace(bye, bye + "      [routes]\n")
    cseq, label = "      [last_CSeq:]\n", '<label id="answer"/>'
    ringing, answer = text.find(cseq), text.find(cseq, text.find(label))
    if not 0 <= ringing < text.find(label) < answer:
        raise ValueError(f"{scenario}: no 180 and answer to the INVITE")
    for at in (answer, ringing):  # the later first: the earlier offset stays right
        at += len(cseq)
        text = text[:at] + "      [last_Record-Route:]\n" + text[at:]
    scenario.write_text(text)
    return scenario


def agent_phone(port: int, registrar: str, user: str, password: str, *, ring_ms: int = 1000,
                talk_ms: int = 3000, bind_ip: str = "127.0.0.1",
                hold: tuple[int, int] | None = None, refer: tuple[int, str] | None = None,
                workdir: Path | None = None, speech: Path | None = None,
                attended: Attended | None = None, proxied: bool = False,
                transport: str = "u1", behind_nat: str | None = None) -> SippProcess:
    """A SIPp agent phone on ``bind_ip:port``: registers as ``user`` at ``registrar``
    (host:port) with digest auth, then for each call rings, answers, talks and hangs up;
    with ``hold`` = (after_ms, for_ms) it also puts each call on hold once (hold.xml), and
    talks ``talk_ms`` after taking it off; ``proxied``: its calls come through a
    record-routing proxy (the front door), and its BYE follows the route (``routed``);
    ``transport``: SIPp's ``-t`` (``u1`` UDP, ``t1`` one TCP connection); ``behind_nat``
    (``host:port``, a private address): its Via and Contact name that address instead of
    the one it listens on, as a phone behind NAT does (``natted``).

    The password goes into the scenario in the private work directory (mkdtemp: mode 700),
    never onto the command line where any local user could read it.
    """
    workdir = workdir or Path(tempfile.mkdtemp(prefix=f"civic311-agent{port}-"))
    line = f"{port}x{random.randrange(16**8):08x}"
    register = render("register.xml", workdir, user=user, password=password, line=line,
                      expires_s=REGISTER_EXPIRES_S, refresh_ms=REGISTER_REFRESH_MS)
    if attended is not None:  # its consultation authenticates as this phone
        attended = replace(attended, user=user, password=password)
    answer = answering(workdir, ring_ms, talk_ms, hold, refer, speech, attended)
    if proxied:  # registered with a proxy (the front door) that record-routes its calls
        routed(answer)
    if behind_nat:
        natted(register, behind_nat)
        natted(answer, behind_nat)
    argv = [registrar, "-sf", str(register), "-oocsf", str(answer), "-m", "1", "-p", str(port),
            "-t", transport,
            "-i", bind_ip, "-mi", bind_ip, "-mp", str(40000 + 4 * (port % 6000)),
            "-trace_logs", "-log_file", str(workdir / "phone.log"), "-max_recv_loops", "10000"]
    phone = _start(argv, workdir)
    phone.line = line
    off = render("unregister.xml", workdir, user=user, password=password)
    phone.log_off = [registrar, "-sf", str(off), "-m", "1", "-i", bind_ip, "-t", transport,
                     "-timeout", "10s", "-timeout_error"]
    return phone


def agent_phone_uas(port: int, *, ring_ms: int = 500, talk_ms: int = 2000,
                    bind_ip: str = "127.0.0.1") -> SippProcess:
    """A phone that answers calls sent to ``bind_ip:port`` without registering (an outside
    number, a trunk's far end): agent.xml alone; its log says "rung" per call."""
    workdir = Path(tempfile.mkdtemp(prefix=f"civic311-uas{port}-"))
    answer = answering(workdir, ring_ms, talk_ms)
    argv = ["-sf", str(answer), "-p", str(port), "-i", bind_ip, "-mi", bind_ip,
            "-mp", str(40000 + 4 * (port % 6000)), "-trace_logs",
            "-log_file", str(workdir / "phone.log"), "-max_recv_loops", "10000"]
    return _start(argv, workdir)


def log_off(phones: list[SippProcess], timeout: float = 15) -> None:
    """Stop phones; the agent phones among them then unregister (all at once), as a desk
    phone does when it is switched off, so Asterisk marks the agents unavailable at once
    instead of at their next qualify (and no stale contact points at a port another phone
    may listen on next)."""
    for phone in phones:
        phone.stop()
    offs = []
    for phone in phones:
        if phone.log_off:
            workdir = Path(tempfile.mkdtemp(prefix="civic311-logoff-", dir=phone.workdir))
            offs.append(_start(phone.log_off, workdir))
    for off in offs:
        try:
            off.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            off.stop()


def resident_phone(port: int, *, ring_ms: int = 1000, talk_ms: int = 3000,
                   workdir: Path | None = None) -> SippProcess:
    """A phone that registers nowhere and answers on ``port`` (a resident Asterisk calls
    back through the trunk): rings, answers, talks, hangs up."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix=f"civic311-resident{port}-"))
    scenario = answering(workdir, ring_ms, talk_ms)
    argv = ["-sf", str(scenario), "-p", str(port), "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-mp", str(40000 + 4 * (port % 6000)), "-trace_logs", "-log_file",
            str(workdir / "phone.log")]
    return _start(argv, workdir)


def stranger(target: str, *, number: str, user: str, bind_ip: str,
             workdir: Path | None = None) -> SippProcess:
    """One INVITE from ``bind_ip`` with no credentials; its ``events()`` say "refused"
    (401/403) or "answered"."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="civic311-stranger-"))
    scenario = render("stranger.xml", workdir, number=number, user=user)
    argv = [target, "-sf", str(scenario), "-m", "1", "-i", bind_ip, "-mi", bind_ip,
            "-mp", str(30000 + 4 * random.randrange(2000)), "-timeout", "30s",
            "-timeout_error", "-trace_logs", "-log_file", str(workdir / "phone.log")]
    return _start(argv, workdir)
