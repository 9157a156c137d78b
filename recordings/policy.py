"""Per-queue recording policy (pure): all, a sample percentage, or none; retention in days.

The sampling decision is a deterministic function of the caller's uniqueid, computed the
same way by the dialplan (``civic311-record`` in extensions.conf) and by the catalog, so a
call the policy meant to record but that has no file is reported as missing, never mistaken
for one the sample left out.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("all", "sample", "none")
DEFAULT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 3650
# Knuth's multiplicative hash (16-bit) spreads the uniqueid sequence numbers (which grow by
# the number of channels per call) evenly over 0..99; the dialplan computes the same numbers,
# small enough to stay exact in Asterisk's floating-point expressions.
HASH_MULT = 40503
HASH_MOD = 2**16


class PolicyError(ValueError):
    """A policy that cannot be applied; the message says which field and why."""


@dataclass(frozen=True)
class RecordingPolicy:
    queue: str
    mode: str = "all"
    sample_pct: int = 100
    retention_days: int = DEFAULT_RETENTION_DAYS
    beep: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PolicyError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not 0 <= self.sample_pct <= 100:
            raise PolicyError("sample_pct must be between 0 and 100")
        if not 1 <= self.retention_days <= MAX_RETENTION_DAYS:
            raise PolicyError(f"retention_days must be between 1 and {MAX_RETENTION_DAYS}")

    @property
    def record_pct(self) -> int:
        """The share of answered calls recorded, in percent (what Asterisk is told)."""
        return {"all": 100, "none": 0}.get(self.mode, self.sample_pct)


def bucket(uniqueid: str) -> int:
    """0..99 for an Asterisk uniqueid ("1700000000.42"): the hash of its sequence number."""
    try:
        seq = int(uniqueid.rsplit(".", 1)[-1])
    except ValueError:
        return 0
    return (seq * HASH_MULT % HASH_MOD) * 100 // HASH_MOD


def should_record(policy: RecordingPolicy, uniqueid: str) -> bool:
    return bucket(uniqueid) < policy.record_pct


def parse_form(queue: str, form: dict[str, str]) -> RecordingPolicy:
    """A policy from a submitted form (strings); raises PolicyError on bad input."""
    def number(name: str, default: int) -> int:
        raw = (form.get(name) or "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise PolicyError(f"{name} must be a whole number, not {raw!r}") from exc

    return RecordingPolicy(queue=queue, mode=(form.get("mode") or "").strip(),
                           sample_pct=number("sample_pct", 100),
                           retention_days=number("retention_days", DEFAULT_RETENTION_DAYS),
                           beep=form.get("beep") in {"on", "1", "true", "yes"})
