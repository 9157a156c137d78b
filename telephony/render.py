"""Render every config file Asterisk reads from the templates in ``asterisk_conf/templates``.

Nothing is edited by hand: ``write_config`` rewrites the whole set from the settings.
"""

from __future__ import annotations

import subprocess
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from foundation.settings import DEFAULT_NODE, Settings
from telephony import devstate, phones
from telephony.install import Install, write_atomic
from telephony.trunk import config as trunk_config

TEMPLATES = Path(str(resources.files("asterisk_conf") / "templates"))

# AMI event classes the bridge needs: queue/agent, channel lifecycle, DTMF, user events,
# and system (FullyBooted). Everything else is cut at the source by the event filter.
AMI_EVENTS = [
    "FullyBooted", "Shutdown", "Reload",
    "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "Hold", "Unhold",
    "AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "AgentDump",
    "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberStatus",
    "QueueMemberRinginuse", "QueueMemberPenalty",
    "QueueParams", "QueueMember", "QueueEntry", "QueueStatusComplete",
    "Hangup", "DTMFEnd", "UserEvent", "BlindTransfer", "AttendedTransfer",
    "OriginateResponse", "CoreShowChannel", "CoreShowChannelsComplete",
    "MusicOnHoldStart", "MusicOnHoldStop",
]
# with agents at the front door: their phones' contacts turning unreachable (acd.phone_reach)
FRONTDOOR_AGENT_EVENTS = ["ContactStatus"]


def tls_files(settings: Settings, install: Install) -> tuple[Path, Path] | None:
    """Where Asterisk reads the SIP TLS certificate and key: the configured files, or for a
    chroot their copies under ``<etc>/keys`` (a chroot cannot see the host's paths)."""
    if not (settings.sip_tls_cert_file and settings.sip_tls_key_file):
        return None
    if install.root is None:
        return settings.sip_tls_cert_file, settings.sip_tls_key_file
    keys = install.etc_dir / "keys"
    return keys / "sip-tls.crt", keys / "sip-tls.key"


def copy_tls_files(settings: Settings, install: Install) -> None:
    target = tls_files(settings, install)
    if target is None or install.root is None:
        return
    target[0].parent.mkdir(parents=True, exist_ok=True)
    for src, dest in zip((settings.sip_tls_cert_file, settings.sip_tls_key_file), target,
                         strict=True):
        assert src is not None
        write_atomic(dest, src.read_text(), 0o600)


def context(settings: Settings, install: Install) -> dict[str, Any]:
    tls = tls_files(settings, install)
    return {
        "tls": {"cert": install.inner(tls[0]), "key": install.inner(tls[1])} if tls else None,
        "s": settings,
        "default_node": DEFAULT_NODE,
        "accounts": phones.accounts(settings),
        "transports": phones.transports(settings),
        "queues": settings.queues,
        "ami_events": AMI_EVENTS + (FRONTDOOR_AGENT_EVENTS if settings.frontdoor_agents
                                    else []),
        "install": install,
        # a system Asterisk we start ourselves reads our directories; an external one
        # (docker compose) keeps its standard layout and shares the same paths by volume
        "own_directories": install.root is None and settings.asterisk_binary != "external",
        "sounds_dir": install.inner(install.sounds_dir),
        "moh_dir": install.inner(moh_dir(install)),
        "trunk": trunk_config.view(settings),  # None: no carrier trunk
        "trunk_endpoint": trunk_config.ENDPOINT,
        "devstate": devstate.sharing(settings),  # None: one node, or no peers named
    }


def render_all(settings: Settings, install: Install) -> dict[str, str]:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    ctx = context(settings, install)
    out = {}
    for tpl in sorted(TEMPLATES.glob("*.conf.j2")):
        name = tpl.name.removesuffix(".j2")
        out[name] = env.get_template(tpl.name).render(**ctx)
    return out


# Hold music: a calm chord loop (C, A minor, F, G) synthesized by sox, so a waiting caller
# never hears dead air and no third-party audio is shipped. (semitones above middle C)
HOLD_CHORDS = ((0, 4, 7), (-3, 0, 4), (-7, -3, 0), (-5, -1, 2))
HOLD_CHORD_S = 4


def moh_dir(install: Install) -> Path:
    return install.sounds_dir / "moh"


def write_hold_music(install: Install) -> Path:
    """``<sounds>/moh/hold.wav`` (8 kHz mono 16-bit), made once."""
    target = moh_dir(install) / "hold.wav"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="civic311-moh-") as tmp:
        parts = []
        for i, chord in enumerate(HOLD_CHORDS):
            part = Path(tmp) / f"{i}.wav"
            tones = [arg for semi in chord
                     for arg in ("sine", f"{261.63 * 2 ** (semi / 12):.2f}")]
            subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(part),
                            "synth", str(HOLD_CHORD_S), *tones, "remix", "-", "gain", "-22",
                            "fade", "0.4", str(HOLD_CHORD_S), "0.6"], check=True,
                           capture_output=True, timeout=60)
            parts.append(str(part))
        partial = target.with_suffix(".part.wav")
        subprocess.run(["sox", *parts, str(partial)], check=True, capture_output=True,
                       timeout=60)
        partial.replace(target)
    return target



def write_config(settings: Settings, install: Install) -> list[Path]:
    install.etc_dir.mkdir(parents=True, exist_ok=True)
    write_hold_music(install)
    copy_tls_files(settings, install)
    written = []
    files = render_all(settings, install)
    for stale in install.etc_dir.glob("*.conf"):
        if stale.name not in files:
            stale.unlink()  # only what we render is read: no stock config left behind
    for name, text in files.items():
        path = install.etc_dir / name
        # 0640: pjsip.conf and manager.conf hold the SIP and AMI secrets, and nothing here
        # is for other users of the machine (Asterisk runs as us, or as root in compose)
        write_atomic(path, text, 0o640)
        written.append(path)
    return written
