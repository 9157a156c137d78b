"""A real SIP phone with a TLS stack of its own: baresip (Debian's ``baresip-core``), headless.

It registers over TLS (checking the registrar's certificate against ``cafile``), answers
every call at once (``answermode=auto``) and plays a tone (a WAV file); what it did is in its log.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

MODULES = "/usr/lib/baresip/modules"


def available() -> bool:
    return shutil.which("baresip") is not None and Path(MODULES, "account.so").exists()


@dataclass
class Baresip:
    proc: subprocess.Popen[bytes]
    log: Path

    def said(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def tls_phone(workdir: Path, *, user: str, password: str, registrar: str, cafile: Path,
              port: int, tone_s: int = 30) -> Baresip:
    """``user``'s phone on 127.0.0.1:``port``, registered over TLS at ``registrar``
    (host:port); it talks ``tone_s`` seconds into a call, then hangs up."""
    workdir.mkdir(parents=True, exist_ok=True)
    tone = workdir / "tone.wav"  # what the phone says: 440 Hz, 8 kHz mono (PCMU's rate)
    with wave.open(str(tone), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i
                                                                        / 8000)))
                               for i in range(8000 * tone_s)))
    (workdir / "config").write_text("\n".join([
        f"sip_listen 127.0.0.1:{port}", f"sip_cafile {cafile}", "sip_trans_def tls",
        "net_interface 127.0.0.1", f"audio_source aufile,{tone}", "audio_player aufile,/dev/null",
        "audio_alert aufile,/dev/null", f"module_path {MODULES}", "module g711.so",
        "module aufile.so", "module_app account.so", "module_app menu.so",
    ]) + "\n")
    (workdir / "accounts").write_text(
        f"<sip:{user}@{registrar};transport=tls>;auth_pass={password};regint=600;"
        "answermode=auto\n")
    log = workdir / "baresip.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["baresip", "-f", str(workdir), "-v"], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=workdir)
    return Baresip(proc, log)
