"""SIPp helpers for the recordings tests: callers that talk (a tone as RTP) for the whole call."""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path

from telephony import sipp
from tests.support.pbx import EXPRESS_LINE


def ulaw(sample: int) -> int:
    """G.711 mu-law encoding of one 16-bit linear sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = max(0, sample.bit_length() - 8)
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone_file(path: Path, hz: float = 440.0, seconds: float = 1.0) -> Path:
    """Raw mu-law audio (8 kHz) of a sine tone, what SIPp's rtp_stream sends as PCMU."""
    n = int(8000 * seconds)
    path.write_bytes(bytes(ulaw(int(12000 * math.sin(2 * math.pi * hz * i / 8000)))
                           for i in range(n)))
    return path


def talking_caller(target: str, *, hold_ms: int, number: str = EXPRESS_LINE,
                   caller: str = "+12125550199", calls: int = 1,
                   rate: float = 1) -> sipp.SippProcess:
    """SIPp callers (one by default) that stream a tone from answer to hang-up."""
    workdir = Path(tempfile.mkdtemp(prefix="civic311-rec-"))
    audio = tone_file(workdir / "tone.ulaw")
    stream = f'  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>'
    scenario = sipp.render("caller.xml", workdir, number=number, hold_ms=hold_ms, dtmf=stream)
    inf = workdir / "callers.csv"
    inf.write_text(f"SEQUENTIAL\n{caller}\n")
    argv = [target, "-sf", str(scenario), "-inf", str(inf), "-m", str(calls), "-r", str(rate),
            "-l", str(max(calls, 1)),
            "-i", "127.0.0.1", "-mi", "127.0.0.1", "-timeout", "120s", "-timeout_error",
            "-mp", str(30000 + 4 * random.randrange(2000))]
    return sipp._start(argv, workdir)
